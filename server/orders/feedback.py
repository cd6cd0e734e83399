"""After completion: the owner's rating (an unsatisfied one opens a follow-up for the grid steward),
and the staff callback (回访)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.accounts.models import Role, Staff, StaffGrid
from server.accounts.scope import Actor
from server.errors import Conflict, DomainError
from server.ids import uuid7
from server.notifications.service import notify
from server.orders import evidence, routing, sla
from server.orders.access import can_see, where_visible
from server.orders.lifecycle import (
    HTTP_ORIGIN,
    NewOrder,
    Origin,
    add_event,
    check,
    check_ahead,
    create_order,
    dispatch_routed,
    load_for_update,
    publish,
    transition,
)
from server.orders.models import Callback, Channel, Kind, Order, Rating, RatingLevel, Status
from server.orders.transitions import OPEN

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


# The acts of a visit: what a 返修 order goes back to (a callback or an inquiry is re-done as a repair).
REWORK_KINDS = (Kind.repair, Kind.emergency, Kind.complaint)


async def record_callback(
    session: AsyncSession,
    actor: Actor,
    order_id: uuid.UUID,
    result: str,
    note: str,
    *,
    now: datetime,
    origin: Origin = HTTP_ORIGIN,
    retry_at: datetime | None = None,
) -> Callback:
    """One call to the owner (回访), on a completed order (the 48 h callback) or on a callback order.

    已联系·满意 / 已联系·不满意 finish the callback (status ``called_back``); 不满意 also opens a 返修
    order (:func:`open_rework`). 未联系上 is an attempt: the status stays, the worklist moves the order
    to ``retry_at``, and the 48 h deadline (``callback_due_at``) stays what the KPI measures.
    Done offline, every time is the act's effective time (server/clock.py)."""
    if result not in CALLBACK_RESULTS:
        raise DomainError("invalid_result", f"result must be one of {', '.join(CALLBACK_RESULTS)}", status=422)
    if retry_at is not None and result != "unreachable":
        raise DomainError(
            "validation_error", "a retry time goes with 未联系上 only", status=422, details={"field": "retry_at"}
        )
    order = await load_for_update(session, order_id)
    if order is None or not can_see(actor, order):
        raise DomainError("not_found", "order not found", status=404)
    check(actor, order, "callback")  # the same status, kind and role rule for an attempt as for a call
    at, skewed = origin.effective(now, order.last_update_at or order.created_at)
    check_ahead(retry_at, at, field="retry_at", what="the retry time")
    note = note.strip()[:1000]
    callback = Callback(id=uuid7(), order_id=order.id, staff_id=actor.staff_id, result=result, note=note, created_at=at)
    evidence.append(order, callback)
    session.add(callback)
    await session.flush()
    if result == "unreachable":
        order.callback_retry_at = retry_at
        if order.kind is Kind.callback:
            sla.on_contact(order, at)  # the steward has acted on it: its response is on time or late now
        data = {"result": result, "retry_at": retry_at.isoformat() if retry_at else None}
        event = await add_event(
            session,
            order,
            action="callback",
            actor_id=actor.staff_id,
            actor_kind="staff",
            origin=origin,
            now=now,
            from_status=order.status.value,
            to_status=order.status.value,
            note=note,
            data=data,
            at=(at, skewed),
        )
        await publish(session, order, ("order_events", [event.id]), ("callbacks", [callback.id]))
        return callback
    await transition(
        session, actor, order.id, "callback", now=now, origin=origin, order=order, note=note, data={"result": result}
    )
    await publish(session, order, ("callbacks", [callback.id]))
    if order.kind is Kind.callback and order.follow_up_of_id is not None:
        # The owner of the rated order was reached about it: its own callback is made.
        original = await load_for_update(session, order.follow_up_of_id)
        if original is not None and original.callback_due_at is not None:
            sla.on_callback(original, at)
            await publish(session, original)
    if result == "reached_unsatisfied":
        await open_rework(session, actor, order, note, now=now, origin=origin)
    return callback


async def open_rework(
    session: AsyncSession, actor: Actor, called: Order, note: str, *, now: datetime, origin: Origin
) -> Order:
    """已联系·不满意: a linked 返修 order, not a reopen. The first repair keeps its record (its completion,
    rating and KPI times, which a reopen would erase, and reopen is a lead's act); the 返修 gets its own
    number and SLA clock, goes to whoever did the first repair (their category), and both orders, and
    the callback order it came from, say so on their timelines."""
    original = called
    if called.kind is Kind.callback and called.follow_up_of_id is not None:
        original = await load_for_update(session, called.follow_up_of_id) or called
    rework = await create_order(
        session,
        None,
        NewOrder(
            kind=original.kind if original.kind in REWORK_KINDS else Kind.repair,
            category=original.category,
            channel=original.channel,
            household_id=original.household_id,
            estate_id=original.estate_id,
            location=original.location,
            description=f"返修：回访时业主仍不满意（原工单 {original.number}）。{note or original.description}",
            reporter_name=original.reporter_name,
            reporter_phone=original.reporter_phone,
            rework_of_id=original.id,
        ),
        now=now,
        origin=Origin(source="system"),
    )
    handler = await session.get(Staff, original.assignee_id) if original.assignee_id else None
    if handler is not None and handler.active and handler.role in (Role.technician, Role.steward, Role.team_lead):
        await transition(
            session,
            None,
            rework.id,
            "dispatch",
            now=now,
            origin=Origin(source="system"),
            system=True,
            note="返修，派给原处理人",
            data={"assignee_id": handler.id},
        )
    else:
        routed = await routing.route(session, rework.estate_id, rework.category)
        if routed.assignee_id:
            await dispatch_routed(session, rework, routed, now=now, origin=Origin(source="system"))
    link = {"rework_id": str(rework.id), "rework_number": rework.number, "rework_of_number": original.number}
    for order in dict.fromkeys((original, called, rework)):
        event = await add_event(
            session,
            order,
            action="rework",
            actor_id=actor.staff_id,
            actor_kind="staff",
            origin=origin,
            now=now,
            data={**link, "rework_of_id": str(original.id)},
            at=origin.effective(now, order.last_update_at or order.created_at),
        )
        await publish(session, order, ("order_events", [event.id]))
    return rework


async def due_callbacks(session: AsyncSession, actor: Actor, *, now: datetime, limit: int = 200) -> list[dict]:
    """待回访: completed orders whose callback is still to be made and open callback orders, within the
    caller's scope, earliest due first (a 未联系上 waits until its retry time)."""
    from server.orders import views

    due = func.coalesce(Order.callback_retry_at, Order.callback_due_at, Order.due_at)
    follow_up = aliased(Order)
    open_follow_up = (
        select(follow_up.id)
        .where(follow_up.follow_up_of_id == Order.id, follow_up.kind == Kind.callback, follow_up.status.in_(OPEN))
        .exists()
    )
    stmt = (
        select(Order.id, due)
        .where(
            where_visible(actor),
            or_(
                and_(
                    Order.kind != Kind.callback,
                    Order.status.in_((Status.completed, Status.rated)),
                    Order.callback_due_at.is_not(None),
                    ~open_follow_up,  # its callback order is the call to make
                ),
                and_(Order.kind == Kind.callback, Order.status.in_(OPEN)),
            ),
        )
        .order_by(due.is_(None), due, Order.number)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    by_id = {r["id"]: r for r in await views.orders_by_id(session, [i for i, _ in rows])}
    out = []
    for order_id, at in rows:
        item = by_id[str(order_id)]
        item["worklist_due_at"] = at.isoformat() if at else None
        item["overdue"] = at is not None and at < now
        out.append(item)
    return out
