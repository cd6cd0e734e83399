"""Walking after-hours orders down the roster (a background job beside the SLA scanner).

A page whose time is up is looked at once: if the person accepted (or someone else took the order
over, or it ended) the page closes; otherwise the next page is claimed by inserting it under the
unique ``(order_id, attempt)`` key, so of several processes exactly one reassigns and notifies, and
the order moves to the next person on that shift's roster (or the team leads hear of it when nobody
is left)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Role, Staff
from server.duty.models import DutyPage, OfficeHours
from server.duty.service import SHIFT_LABEL, on_duty
from server.notifications.service import notify
from server.orders.lifecycle import KIND_LABEL, Origin, transition
from server.orders.models import Order, Status

SYSTEM = Origin(source="system")
BATCH = 500


async def scan(session: AsyncSession, now: datetime) -> int:
    """Move on every after-hours order whose person on duty did not accept in time; returns how many."""
    pages = (
        await session.scalars(
            select(DutyPage)
            .where(DutyPage.closed_at.is_(None), DutyPage.due_at <= now)
            .order_by(DutyPage.due_at)
            .limit(BATCH)
        )
    ).all()
    moved = 0
    for page in pages:
        order = await session.get(Order, page.order_id)
        if order is None or order.status is not Status.dispatched or order.assignee_id != page.staff_id:
            accepted = order is not None and order.assignee_id == page.staff_id and order.status is not Status.cancelled
            page.closed_at, page.outcome = now, "accepted" if accepted else "handled"
            continue
        if await _pass_on(session, page, order, now):
            moved += 1
    return moved


async def _pass_on(session: AsyncSession, page: DutyPage, order: Order, now: datetime) -> bool:
    hours = await session.get(OfficeHours, order.estate_id)
    minutes = hours.accept_minutes if hours is not None else 10
    tried = set((await session.scalars(select(DutyPage.staff_id).where(DutyPage.order_id == order.id))).all())
    people = await on_duty(session, order.estate_id, page.duty_date, page.shift)
    nxt = next((p for p in people if p.id not in tried), None)
    claim = DutyPage(
        order_id=order.id,
        attempt=page.attempt + 1,
        staff_id=nxt.id if nxt else None,
        duty_date=page.duty_date,
        shift=page.shift,
        offered_at=now,
        due_at=now + timedelta(minutes=minutes),
        closed_at=None if nxt else now,
        outcome=None if nxt else "exhausted",
    )
    try:
        async with session.begin_nested():
            session.add(claim)
            await session.flush()
    except IntegrityError:
        return False  # another process moved this order on
    page.closed_at, page.outcome = now, "passed_on"
    before = await session.get(Staff, page.staff_id)
    name = before.name if before else ""
    if nxt is not None:
        await transition(
            session,
            None,
            order.id,
            "reassign",
            now=now,
            origin=SYSTEM,
            system=True,
            note=f"值班人{name}{minutes}分钟未接单，转{SHIFT_LABEL[page.shift]}第{claim.attempt}顺位{nxt.name}",
            data={"assignee_id": nxt.id},
        )
        return True
    leads = (
        await session.scalars(
            select(Staff.id).where(Staff.estate_id == order.estate_id, Staff.role == Role.team_lead, Staff.active)
        )
    ).all()
    kind = KIND_LABEL.get(str(order.kind), "")
    for lead in leads:
        await notify(
            session,
            staff_id=lead,
            kind="duty_unanswered",
            title=f"值班无人接单：{kind}工单 {order.number}",
            body=f"值班表上的人员均未在{minutes}分钟内接单，当前在{name}名下",
            now=now,
            order_id=order.id,
            urgency="high",
            topic=f"duty-{order.number}"[-32:],
            data={"number": order.number, "kind": str(order.kind), "assignee_name": name, "minutes": minutes},
        )
    return True
