"""KPI drill-down: the orders behind a figure of ``server.orders.kpi``.

For each metric, ``all`` is the population the ratio is computed over and ``bad`` the part that
pulls it away from its target, so for the same scope ``count(bad)`` is exactly what the KPI implies:

=====================  ==========================================  =========================================
metric                 all                                         bad
=====================  ==========================================  =========================================
complaint_timeliness   complaints whose outcome is known (judged)  judged and late (judged − timely)
repeat_complaint_rate  complaints                                  repeats
satisfaction           ratings (one row per rating)                neither very_satisfied nor satisfied
callback_rate          completed complaint/repair/emergency        without any callback
response               orders accepted (created → accepted)        first contact late
resolution             orders completed (created → completed)      resolution late
volume                 every order                                 (no bad outcome: ``bad`` = ``all``)
interaction_rate       orders raised for a household (not 回访)     (``bad`` = ``all``: the orders behind it)
convenience_coverage   便民 orders with a household, 365 days        (``bad`` = ``all``)
                       up to the period's end (the route widens
                       the period)
response_speedup       as ``response``                             as ``response``
=====================  ==========================================  =========================================

``shift`` (office / after_hours) narrows any metric to the orders created in those hours.

The clauses repeat those inside ``kpi.compute`` (which keeps them local); the tests hold the two
to the same numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.board.summaries import summaries
from server.orders import kpi
from server.orders.models import Callback, Category, Kind, Order, Rating, RatingLevel

METRICS = (
    "complaint_timeliness",
    "repeat_complaint_rate",
    "satisfaction",
    "callback_rate",
    "response",
    "resolution",
    "volume",
    "interaction_rate",
    "convenience_coverage",
    "response_speedup",
)
GOOD_RATINGS = (RatingLevel.very_satisfied, RatingLevel.satisfied)


def scope_where(
    estate_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    grid_ids: Sequence[uuid.UUID] | None = None,
    department: str | None = None,
):
    """Orders created in [start, end) in the estate (optionally some grids, one department): kpi's scope."""
    clauses = [Order.estate_id == estate_id, Order.created_at >= start, Order.created_at < end]
    if grid_ids is not None:
        clauses.append(Order.grid_id.in_(list(grid_ids)))
    if department is not None:
        clauses.append(Order.department == department)
    return and_(*clauses)


def from_scope(scope: kpi.Scope):
    return scope_where(
        scope.estate_id,
        scope.start,
        scope.end,
        grid_ids=None if scope.grid_id is None else [scope.grid_id],
        department=scope.department,
    )


def complaint_clauses(now: datetime):
    """(judged, late) exactly as kpi.compute counts complaint timeliness."""
    overdue_open = and_(Order.resolve_late.is_(None), Order.due_at.is_not(None), Order.due_at < now)
    late = or_(Order.contact_late.is_(True), Order.resolve_late.is_(True), overdue_open)
    judged = or_(Order.resolve_late.is_not(None), Order.contact_late.is_(True), overdue_open)
    return judged, late


def _population(metric: str, bad: bool, now: datetime) -> list:
    """WHERE clauses over ``orders`` (plus a joined ``ratings`` row for satisfaction)."""
    if metric == "complaint_timeliness":
        judged, late = complaint_clauses(now)
        return [Order.kind == Kind.complaint, judged, *([late] if bad else [])]
    if metric == "repeat_complaint_rate":
        return [Order.kind == Kind.complaint, *([Order.repeat_of_id.is_not(None)] if bad else [])]
    if metric == "satisfaction":
        return [Rating.level.not_in(GOOD_RATINGS)] if bad else []
    if metric == "callback_rate":
        called = exists().where(Callback.order_id == Order.id)
        return [Order.kind.in_(kpi.CALLBACK_KINDS), Order.status.in_(kpi.DONE), *([~called] if bad else [])]
    if metric == "interaction_rate":
        return [Order.household_id.is_not(None), Order.kind != Kind.callback]
    if metric == "convenience_coverage":
        return [Order.household_id.is_not(None), Order.kind == Kind.convenience]
    if metric in ("response", "response_speedup"):
        return [Order.accepted_at.is_not(None), *([Order.contact_late.is_(True)] if bad else [])]
    if metric == "resolution":
        return [Order.completed_at.is_not(None), *([Order.resolve_late.is_(True)] if bad else [])]
    if metric == "volume":
        return []
    raise ValueError(f"unknown metric {metric!r}")


async def orders_behind(
    session: AsyncSession,
    where,
    metric: str,
    *,
    bad: bool,
    now: datetime,
    kind: Kind | None = None,
    category: Category | None = None,
    limit: int = 500,
) -> dict[str, Any]:
    clauses = [where, *_population(metric, bad, now)]
    if kind is not None:
        clauses.append(Order.kind == kind)
    if category is not None:
        clauses.append(Order.category == category)
    if metric == "satisfaction":  # one row per rating, as the ratio counts them
        joined = select(Order, Rating).join(Rating, Rating.order_id == Order.id).where(*clauses)
        total = (
            await session.scalar(
                select(func.count()).select_from(Order).join(Rating, Rating.order_id == Order.id).where(*clauses)
            )
            or 0
        )
        rows = list(
            (
                await session.execute(
                    joined.order_by(Order.created_at.desc(), Order.id, Rating.completion_no).limit(limit)
                )
            ).all()
        )
    else:
        total = await session.scalar(select(func.count()).select_from(Order).where(*clauses)) or 0
        rows = [
            (o, None)
            for o in (
                await session.scalars(
                    select(Order).where(*clauses).order_by(Order.created_at.desc(), Order.id).limit(limit)
                )
            ).all()
        ]
    cards = await summaries(session, [o for o, _ in rows], now)
    for card, (o, rating) in zip(cards, rows, strict=True):
        card.update(_detail(metric, o, rating))
    return {
        "metric": metric,
        "outcome": "bad" if bad else "all",
        "count": total,
        "orders": cards,
        "truncated": total > len(cards),
    }


def _minutes(a: datetime | None, b: datetime | None) -> float | None:
    return round((b - a).total_seconds() / 60, 1) if a and b else None


def _detail(metric: str, o: Order, rating: Rating | None) -> dict[str, Any]:
    if metric == "satisfaction" and rating is not None:
        return {"rating": str(rating.level), "rating_comment": rating.comment, "completion_no": rating.completion_no}
    if metric == "complaint_timeliness":
        return {"contact_late": o.contact_late, "resolve_late": o.resolve_late}
    if metric in ("response", "response_speedup"):
        return {"response_min": _minutes(o.created_at, o.accepted_at), "contact_late": o.contact_late}
    if metric == "resolution":
        return {"resolution_min": _minutes(o.created_at, o.completed_at), "resolve_late": o.resolve_late}
    if metric == "callback_rate":
        return {
            "completed_at": o.completed_at.isoformat() if o.completed_at else None,
            "callback_due_at": o.callback_due_at.isoformat() if o.callback_due_at else None,
        }
    if metric == "repeat_complaint_rate":
        return {"repeat_of_id": str(o.repeat_of_id) if o.repeat_of_id else None}
    return {}
