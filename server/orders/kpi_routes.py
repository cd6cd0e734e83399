"""KPI endpoints: JSON with comparison to the previous period and the targets, and CSV."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Literal

from litestar import Response, Router, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Role
from server.accounts.scope import Actor
from server.errors import NotFound
from server.orders import kpi
from server.web import dates
from server.web.context import AppContext

Period = Literal["day", "week", "month"]


async def _scopes(db: AsyncSession, actor: Actor, ctx: AppContext, estate_id, grid_id, department, period, day):
    estate = await guard.estate_asked(db, actor, estate_id)
    if actor.role is Role.steward:
        if grid_id is None or grid_id not in actor.grid_ids:
            raise NotFound("grid")
    else:
        actor.require_role(Role.admin, Role.supervisor, Role.team_lead, Role.front_desk)
    when = datetime.combine(day, time(12), tzinfo=kpi.CHINA) if day else ctx.clock.now()
    start, end = kpi.period_bounds(period, when)
    p_start, p_end = kpi.previous_bounds(period, start)
    return (kpi.Scope(estate, start, end, grid_id, department), kpi.Scope(estate, p_start, p_end, grid_id, department))


Q = QueryParameter


async def provide_scopes(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    estate_id: Annotated[uuid.UUID | None, Q(name="estate_id")] = None,
    grid_id: Annotated[uuid.UUID | None, Q(name="grid_id")] = None,
    department: Annotated[str | None, Q(name="department", max_length=20)] = None,
    period: Annotated[Period, Q(name="period")] = "month",
    day: Annotated[date | None, dates.day_query("date")] = None,
) -> tuple[str, kpi.Scope, kpi.Scope]:
    """The query parameters both KPI endpoints share, resolved into the two periods to compare."""
    current, previous = await _scopes(db, actor, ctx, estate_id, grid_id, department, period, dates.day(day, "date"))
    return period, current, previous


@get("/")
async def kpis(
    scopes: NamedDependency[tuple], db: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext]
) -> dict:
    period, current, previous = scopes
    now = ctx.clock.now()
    return {
        "period": period,
        "current": (await kpi.compute(db, current, now)).as_dict(),
        "previous": (await kpi.compute(db, previous, now)).as_dict(),
        "targets": kpi.TARGETS,
    }


@get("/csv", media_type="text/csv")
async def kpis_csv(
    scopes: NamedDependency[tuple], db: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext]
) -> Response:
    period, current, previous = scopes
    now = ctx.clock.now()
    text = kpi.to_csv(await kpi.compute(db, current, now), await kpi.compute(db, previous, now))
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kpi-{period}.csv"'},
    )


kpi_router = Router(
    path="/api/kpi", route_handlers=[kpis, kpis_csv], tags=["kpi"], dependencies={"scopes": Provide(provide_scopes)}
)
