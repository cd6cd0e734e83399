"""Office hours and the on-duty roster over HTTP (thin): read by the estate's office, edited by its
supervisor or team lead."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated

import msgspec
from litestar import Router, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Role
from server.accounts.scope import Actor
from server.clock import CHINA
from server.duty import service
from server.errors import DomainError
from server.sites.models import Estate
from server.web import dates
from server.web.context import AppContext
from server.wire import Wire

EDITORS = (Role.admin, Role.supervisor, Role.team_lead)
READERS = (*EDITORS, Role.front_desk)
DAYS = 14
HM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class OfficeHoursIn(Wire):
    opens: HM
    closes: HM
    workdays: Annotated[str, msgspec.Meta(min_length=1, max_length=7, pattern=r"^[1-7]+$")]
    accept_minutes: Annotated[int, msgspec.Meta(ge=1, le=240)]


class ShiftIn(Wire):
    staff_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=service.MAX_ON_SHIFT)]


async def _estate(session: AsyncSession, actor: Actor, estate_id: uuid.UUID, roles) -> None:
    await guard.in_scope(session, actor, Estate, estate_id)
    actor.require_role(*roles)


def _today(ctx: AppContext) -> date:
    return ctx.clock.now().astimezone(CHINA).date()


@get("/{estate_id:uuid}/duty")
async def get_duty(
    estate_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    start: Annotated[date | None, dates.day_query("start")] = None,
) -> dict:
    """Office hours, who is on duty now (outside office hours) and the roster for 14 days from ``start``
    (today, China time, by default; the night of the day before is included for the small hours)."""
    await _estate(db, actor, estate_id, READERS)
    first = dates.day(start, "start") or _today(ctx) - timedelta(days=1)
    return await service.overview(db, estate_id, first, DAYS, ctx.clock.now())


@put("/{estate_id:uuid}/office-hours", status_code=200)
async def put_office_hours(
    estate_id: FromPath[uuid.UUID],
    data: JSONBody[OfficeHoursIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    await _estate(tx, actor, estate_id, EDITORS)
    hours = await service.set_hours(
        tx,
        estate_id,
        opens=data.opens,
        closes=data.closes,
        workdays=data.workdays,
        accept_minutes=data.accept_minutes,
        now=ctx.clock.now(),
    )
    await tx.commit()
    return service.hours_dict(hours)


@put("/{estate_id:uuid}/duty/{day:str}/{shift:str}", status_code=200)
async def put_shift(
    estate_id: FromPath[uuid.UUID],
    day: FromPath[str],
    shift: FromPath[str],
    data: JSONBody[ShiftIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    """Who is on duty that date (YYYY-MM-DD, China) and shift (``day`` | ``night``), in calling order."""
    await _estate(tx, actor, estate_id, EDITORS)
    try:
        duty_date = date.fromisoformat(day) if len(day) == 10 else None
    except ValueError:
        duty_date = None
    if duty_date is None:
        raise DomainError("validation_error", "the date is YYYY-MM-DD", status=400, details={"field": "date"})
    today = _today(ctx)
    if not today - timedelta(days=1) <= duty_date <= today + timedelta(days=366):
        raise DomainError(
            "validation_error", "a roster is kept from yesterday to a year ahead", status=422, details={"field": "date"}
        )
    await service.set_shift(tx, estate_id, duty_date, shift, data.staff_ids)
    await tx.commit()
    return {"date": duty_date.isoformat(), "shift": shift, "people": [str(s) for s in data.staff_ids]}


duty_router = Router(path="/api/estates", route_handlers=[get_duty, put_office_hours, put_shift], tags=["duty"])
