"""A steward's monthly scorecard (客服主管 reviews each 管家 monthly, per the source documents).

Grid figures follow the KPI definitions of ``server.orders.kpi`` over the orders raised in the
steward's grids during the China-time month; personal figures count what she did herself
(callbacks made, follow-ups handled, problems she reported from her walks).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Role, Staff, StaffGrid
from server.accounts.scope import Actor
from server.board.drilldown import GOOD_RATINGS, complaint_clauses, scope_where
from server.errors import NotFound
from server.orders import kpi
from server.orders.models import Callback, Kind, Order, Rating, Status
from server.sites.models import Grid, Household
from server.walks.coverage import month_figures

REVIEWERS = (Role.admin, Role.supervisor, Role.team_lead)
HANDLED = (Status.completed, Status.rated, Status.called_back, Status.closed)


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    return kpi.period_bounds("month", datetime(year, month, 15, 12, tzinfo=kpi.CHINA))


async def _steward(session: AsyncSession, actor: Actor, steward_id: uuid.UUID) -> Staff:
    """The steward, if the actor may review her: herself, or a reviewer of her estate; else 404."""
    staff = await session.get(Staff, steward_id)
    if staff is None or staff.role is not Role.steward or staff.company_id != actor.company_id:
        raise NotFound("steward")
    if actor.staff_id == staff.id:
        return staff
    if actor.role not in REVIEWERS or staff.estate_id is None or not actor.sees_estate(staff.estate_id):
        raise NotFound("steward")
    return staff


async def scorecard(
    session: AsyncSession, actor: Actor, steward_id: uuid.UUID, year: int, month: int, now: datetime
) -> dict[str, Any]:
    staff = await _steward(session, actor, steward_id)
    start, end = month_bounds(year, month)
    grids = (
        await session.execute(
            select(Grid.id, Grid.name, func.count(Household.id))
            .join(StaffGrid, StaffGrid.grid_id == Grid.id)
            .outerjoin(Household, Household.grid_id == Grid.id)
            .where(StaffGrid.staff_id == staff.id)
            .group_by(Grid.id, Grid.name)
            .order_by(Grid.name)
        )
    ).all()
    grid_ids = [g for g, _, _ in grids]
    where = scope_where(staff.estate_id, start, end, grid_ids=grid_ids)

    by_kind = dict((await session.execute(select(Order.kind, func.count()).where(where).group_by(Order.kind))).all())
    judged, late = complaint_clauses(now)
    complaints, repeats, n_judged, n_late = (
        await session.execute(
            select(
                func.count(),
                func.count(Order.repeat_of_id),
                func.count().filter(judged),
                func.count().filter(and_(judged, late)),
            ).where(where, Order.kind == Kind.complaint)
        )
    ).one()
    ratings, satisfied = (
        await session.execute(
            select(func.count(), func.count().filter(Rating.level.in_(GOOD_RATINGS)))
            .select_from(Rating)
            .join(Order, Order.id == Rating.order_id)
            .where(where)
        )
    ).one()
    done = and_(where, Order.kind.in_(kpi.CALLBACK_KINDS), Order.status.in_(kpi.DONE))
    callbacks_due = await session.scalar(select(func.count()).select_from(Order).where(done)) or 0
    called = (
        await session.scalar(
            select(func.count(func.distinct(Callback.order_id)))
            .join(Order, Order.id == Callback.order_id)
            .where(done, Callback.result != "unreachable")  # an attempt that reached nobody is no callback
        )
        or 0
    )
    callbacks_done = (
        await session.scalar(
            select(func.count())
            .select_from(Callback)
            .where(Callback.staff_id == staff.id, Callback.created_at >= start, Callback.created_at < end)
        )
        or 0
    )

    follow_up = and_(Order.follow_up_of_id.is_not(None), Order.assignee_id == staff.id)
    assigned, handled = (
        await session.execute(
            select(
                func.count().filter(and_(Order.created_at >= start, Order.created_at < end)),
                func.count().filter(
                    and_(Order.status.in_(HANDLED), Order.completed_at >= start, Order.completed_at < end)
                ),
            ).where(follow_up)
        )
    ).one()
    still_open = (
        await session.scalar(
            select(func.count()).select_from(Order).where(follow_up, Order.status.not_in((*HANDLED, Status.cancelled)))
        )
        or 0
    )
    reported = (
        await session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.created_by == staff.id, Order.created_at >= start, Order.created_at < end)
        )
        or 0
    )

    def ratio(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    return {
        "steward": {
            "id": str(staff.id),
            "name": staff.name,
            "gold": staff.gold,
            "estate_id": str(staff.estate_id) if staff.estate_id else None,
        },
        "month": f"{year:04d}-{month:02d}",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "grids": [{"id": str(g), "name": name, "households": n} for g, name, n in grids],
        "orders_raised": sum(by_kind.values()),
        "by_kind": {str(k): n for k, n in by_kind.items()},
        "complaints": complaints,
        "complaints_judged": n_judged,
        "complaint_timeliness": ratio(n_judged - n_late, n_judged),
        "repeat_complaints": repeats,
        "repeat_complaint_rate": ratio(repeats, complaints),
        "ratings": ratings,
        "satisfied_ratings": satisfied,
        "satisfaction": ratio(satisfied, ratings),
        "callbacks_due": callbacks_due,
        "callback_rate": ratio(called, callbacks_due),
        "callbacks_done": callbacks_done,  # made by her, for any order
        "follow_ups_assigned": assigned,  # opened this month by an unsatisfied rating and given to her
        "follow_ups_handled": handled,  # completed by her this month
        "follow_ups_open": still_open,  # as of now
        "orders_reported": reported,  # raised by her (管家发现), e.g. from her walks
        # Walk-abouts (巡查): her walks this month and the on-time share of her grids' checkpoint slots.
        "walks": await month_figures(session, actor, staff, start, end, now),
        "targets": kpi.TARGETS,
    }
