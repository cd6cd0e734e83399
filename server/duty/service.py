"""After-hours duty rules (no HTTP).

Office hours are per estate (China time): ``opens``–``closes`` on ``workdays``. Outside them the
roster applies: the **night** shift of date D runs from closing time on D to opening time on D+1
(also on rest days); the **day** shift of D covers a rest day's office hours. Each shift lists people
in the order they are called.

The rule (see ``server/orders/lifecycle.py`` ``create_order``): a complaint or an emergency created
outside office hours without a chosen assignee is **dispatched** to the first person on duty (the
dispatch notifies them, urgently for emergencies) instead of the routing rule's queue or handler.
If they have not accepted within the estate's ``accept_minutes``, the scanner (``server/duty/scan.py``)
reassigns it to the next on the roster, and so on; after the last, the team leads are notified and
the order stays with the last person called. An estate without office hours, or a shift without
anyone on it, routes as in office hours.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Role, Staff
from server.clock import CHINA
from server.duty.models import DutyPage, DutyShift, OfficeHours
from server.errors import DomainError, NotFound
from server.orders.models import Kind, Order

DUTY_KINDS = (Kind.complaint, Kind.emergency)
SHIFTS = ("day", "night")
SHIFT_LABEL = {"day": "白班", "night": "夜班"}
DUTY_ROLES = (Role.technician, Role.steward, Role.team_lead)  # who can take both complaints and emergencies
MAX_ON_SHIFT = 6
_HM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _time(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def slot_at(hours: OfficeHours, now: datetime) -> tuple[date, str] | None:
    """The (duty date, shift) covering ``now``, or None during office hours."""
    local = now.astimezone(CHINA)
    at, day = local.time(), local.date()
    if _time(hours.opens) <= at < _time(hours.closes):
        return None if str(local.isoweekday()) in hours.workdays else (day, "day")
    return (day - timedelta(days=1), "night") if at < _time(hours.opens) else (day, "night")


async def on_duty(session: AsyncSession, estate_id: uuid.UUID, duty_date: date, shift: str) -> list[Staff]:
    """The active people on the roster for that date and shift, in calling order."""
    rows = await session.execute(
        select(Staff)
        .join(DutyShift, DutyShift.staff_id == Staff.id)
        .where(
            DutyShift.estate_id == estate_id,
            DutyShift.duty_date == duty_date,
            DutyShift.shift == shift,
            Staff.active.is_(True),
        )
        .order_by(DutyShift.position)
    )
    return list(rows.scalars().all())


async def first_on_duty(session: AsyncSession, order: Order, now: datetime) -> Staff | None:
    """Outside office hours, the first person on duty for a new complaint or emergency (its first
    page recorded); None when the rule does not apply."""
    if order.kind not in DUTY_KINDS:
        return None
    hours = await session.get(OfficeHours, order.estate_id)
    slot = slot_at(hours, now) if hours is not None else None
    if slot is None:
        return None
    people = await on_duty(session, order.estate_id, *slot)
    if not people:
        return None
    session.add(
        DutyPage(
            order_id=order.id,
            attempt=1,
            staff_id=people[0].id,
            duty_date=slot[0],
            shift=slot[1],
            offered_at=now,
            due_at=now + timedelta(minutes=hours.accept_minutes),
            closed_at=None,
        )
    )
    return people[0]


# --- the console screen ----------------------------------------------------------------------------------


def hours_dict(hours: OfficeHours | None) -> dict | None:
    if hours is None:
        return None
    return {
        "opens": hours.opens,
        "closes": hours.closes,
        "workdays": hours.workdays,
        "accept_minutes": hours.accept_minutes,
    }


async def overview(session: AsyncSession, estate_id: uuid.UUID, start: date, days: int, now: datetime) -> dict:
    hours = await session.get(OfficeHours, estate_id)
    end = start + timedelta(days=days)
    rows = (
        await session.execute(
            select(DutyShift, Staff)
            .join(Staff, Staff.id == DutyShift.staff_id)
            .where(DutyShift.estate_id == estate_id, DutyShift.duty_date >= start, DutyShift.duty_date < end)
            .order_by(DutyShift.duty_date, DutyShift.shift, DutyShift.position)
        )
    ).all()
    by_slot: dict[tuple[date, str], list[dict]] = {}
    for shift, person in rows:
        by_slot.setdefault((shift.duty_date, shift.shift), []).append(
            {"id": str(person.id), "name": person.name, "role": str(person.role), "active": person.active}
        )
    # A day shift is only kept on rest days (or where someone is on it already).
    workdays = hours.workdays if hours is not None else "1234567"
    days_shown = [start + timedelta(days=i) for i in range(days)]
    roster = [
        {"date": d.isoformat(), "shift": s, "people": by_slot.get((d, s), [])}
        for d in days_shown
        for s in SHIFTS
        if s == "night" or str(d.isoweekday()) not in workdays or (d, s) in by_slot
    ]
    slot = slot_at(hours, now) if hours is not None else None
    current = None
    if slot is not None:
        current = {
            "date": slot[0].isoformat(),
            "shift": slot[1],
            "people": [{"id": str(p.id), "name": p.name} for p in await on_duty(session, estate_id, *slot)],
        }
    candidates = (
        await session.scalars(
            select(Staff)
            .where(Staff.estate_id == estate_id, Staff.active.is_(True), Staff.role.in_(DUTY_ROLES))
            .order_by(Staff.role, Staff.name)
        )
    ).all()
    return {
        "office_hours": hours_dict(hours),
        "after_hours_now": current,
        "roster": roster,
        "candidates": [
            {"id": str(p.id), "name": p.name, "role": str(p.role), "department": str(p.department)} for p in candidates
        ],
    }


def _invalid(message: str, field: str) -> DomainError:
    return DomainError("validation_error", message, status=422, details={"field": field})


async def set_hours(
    session: AsyncSession, estate_id: uuid.UUID, *, opens: str, closes: str, workdays: str, accept_minutes: int, now
) -> OfficeHours:
    for name, value in (("opens", opens), ("closes", closes)):
        if not _HM.match(value):
            raise _invalid(f"{name} is a time of day HH:MM (24 h)", name)
    if _time(opens) >= _time(closes):
        raise _invalid("the office closes after it opens (a night office is not supported)", "closes")
    if not workdays or any(c not in "1234567" for c in workdays) or len(set(workdays)) != len(workdays):
        raise _invalid("workdays are ISO weekday digits 1 (Monday) to 7, each once", "workdays")
    hours = await session.get(OfficeHours, estate_id)
    if hours is None:
        hours = OfficeHours(estate_id=estate_id)
        session.add(hours)
    hours.opens, hours.closes = opens, closes
    hours.workdays = "".join(sorted(workdays))
    hours.accept_minutes, hours.updated_at = accept_minutes, now
    return hours


async def set_shift(
    session: AsyncSession, estate_id: uuid.UUID, duty_date: date, shift: str, staff_ids: list[uuid.UUID]
) -> None:
    """The people on duty for that date and shift, in calling order (an empty list clears it)."""
    if shift not in SHIFTS:
        raise _invalid("shift is day or night", "shift")
    if len(staff_ids) > MAX_ON_SHIFT:
        raise _invalid(f"at most {MAX_ON_SHIFT} people per shift", "staff_ids")
    if len(set(staff_ids)) != len(staff_ids):
        raise _invalid("each person once per shift", "staff_ids")
    for sid in staff_ids:
        person = await session.get(Staff, sid)
        if person is None or person.estate_id != estate_id:
            raise NotFound("staff")
        if not person.active or person.role not in DUTY_ROLES:
            raise DomainError("invalid_assignee", "on duty are active technicians, stewards and team leads", status=422)
    await session.execute(
        delete(DutyShift).where(
            DutyShift.estate_id == estate_id, DutyShift.duty_date == duty_date, DutyShift.shift == shift
        )
    )
    for position, sid in enumerate(staff_ids, start=1):
        session.add(DutyShift(estate_id=estate_id, duty_date=duty_date, shift=shift, position=position, staff_id=sid))
