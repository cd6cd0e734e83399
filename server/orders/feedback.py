"""After completion: the owner's rating (an unsatisfied one opens a follow-up for the grid steward),
and the staff callback (回访)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Role, Staff, StaffGrid
from server.accounts.scope import Actor
from server.errors import Conflict, DomainError
from server.ids import uuid7
from server.notifications.service import notify
from server.orders import evidence
from server.orders.lifecycle import NewOrder, Origin, create_order, load_for_update, publish, transition
from server.orders.models import Callback, Channel, Kind, Order, Rating, RatingLevel, Status

CALLBACK_RESULTS = ("reached_satisfied", "reached_unsatisfied", "unreachable")
RATABLE = (Status.completed, Status.called_back)


async def grid_steward(session: AsyncSession, order: Order) -> Staff | None:
    if order.grid_id is None:
        return None
    return await session.scalar(
        select(Staff)
        .join(StaffGrid, StaffGrid.staff_id == Staff.id)
        .where(StaffGrid.grid_id == order.grid_id, Staff.role == Role.steward, Staff.active)
        .order_by(Staff.created_at)
        .limit(1)
    )


async def rate(
    session: AsyncSession,
    order_id: uuid.UUID,
    level: RatingLevel,
    comment: str,
    *,
    now: datetime,
    source: str = "owner",
) -> Rating:
    """One rating per completion. A second rating of the same completion is refused (409), so an
    unsatisfied rating delivered twice opens exactly one follow-up."""
    order = await load_for_update(session, order_id)
    if order is None:
        raise DomainError("not_found", "order not found", status=404)
    if order.completion_no == 0 or order.status not in RATABLE:
        existing = await session.scalar(
            select(Rating.id).where(Rating.order_id == order.id, Rating.completion_no == order.completion_no)
        )
        if existing:
            raise Conflict("already_rated", "this completion has already been rated")
        raise Conflict("not_ratable", "an order can be rated once it is completed")
    if await session.scalar(
        select(Rating.id).where(Rating.order_id == order.id, Rating.completion_no == order.completion_no)
    ):
        raise Conflict("already_rated", "this completion has already been rated")
    rating = Rating(
        id=uuid7(),
        order_id=order.id,
        completion_no=order.completion_no,
        level=level,
        comment=comment.strip()[:500],
        source=source,
        created_at=now,
        estate_id=order.estate_id,
        order_created_at=order.created_at,
    )
    evidence.append(order, rating)
    session.add(rating)
    await session.flush()
    await transition(
        session,
        None,
        order.id,
        "rate",
        now=now,
        origin=Origin(source="owner"),
        owner=True,
        order=order,
        data={"level": str(level)},
    )
    if level is RatingLevel.unsatisfied:
        rating.follow_up_id = (await open_follow_up(session, order, rating, now)).id
    await publish(session, order, ("ratings", [rating.id]))
    return rating


# Other domains' reactions to a follow-up being opened for an unhappy owner (server/notify: their SMS).
FOLLOW_UP_HOOKS: list[Callable[[AsyncSession, Order, datetime], Awaitable[None]]] = []


async def open_follow_up(session: AsyncSession, order: Order, rating: Rating, now: datetime) -> Order:
    steward = await grid_steward(session, order)
    follow_up = await create_order(
        session,
        None,
        NewOrder(
            kind=Kind.callback,
            category=order.category,
            channel=Channel.qr if order.channel is Channel.qr else order.channel,
            household_id=order.household_id,
            estate_id=order.estate_id,
            description=f"业主对工单 {order.number} 不满意，请跟进回访。评价：{rating.comment or '（无留言）'}",
            reporter_name=order.reporter_name,
            reporter_phone=order.reporter_phone,
            follow_up_of_id=order.id,
        ),
        now=now,
        origin=Origin(source="system"),
    )
    if steward is not None:
        await transition(
            session,
            None,
            follow_up.id,
            "dispatch",
            now=now,
            origin=Origin(source="system"),
            system=True,
            data={"assignee_id": steward.id},
        )
        await notify(
            session,
            staff_id=steward.id,
            kind="unsatisfied",
            title=f"业主不满意：{order.number}",
            body="请尽快回访",
            now=now,
            order_id=follow_up.id,
            urgency="high",
            topic=f"order-{follow_up.number}"[-32:],
            data={"number": order.number, "follow_up": follow_up.number},
        )
    for hook in FOLLOW_UP_HOOKS:
        await hook(session, order, now)
    return follow_up


async def record_callback(
    session: AsyncSession, actor: Actor, order_id: uuid.UUID, result: str, note: str, *, now: datetime
) -> Callback:
    if result not in CALLBACK_RESULTS:
        raise DomainError("invalid_result", f"result must be one of {', '.join(CALLBACK_RESULTS)}", status=422)
    order = await load_for_update(session, order_id)
    from server.orders.access import can_see

    if order is None or not can_see(actor, order):
        raise DomainError("not_found", "order not found", status=404)
    callback = Callback(
        id=uuid7(), order_id=order.id, staff_id=actor.staff_id, result=result, note=note.strip()[:1000], created_at=now
    )
    evidence.append(order, callback)
    session.add(callback)
    await session.flush()
    await transition(session, actor, order.id, "callback", now=now, order=order, data={"result": result})
    await publish(session, order, ("callbacks", [callback.id]))
    return callback
