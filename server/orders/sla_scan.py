"""The SLA scanner: finds near-breaches (80 %), breaches and 2× breaches on server time and
escalates — assignee at near, team lead at breach, supervisor at 2× — exactly once per deadline.
Safe to run in several processes at once: the unique key on ``sla_alerts`` decides who records it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Role, Staff
from server.clock import CHINA
from server.notifications.service import notify
from server.orders import sla
from server.orders.lifecycle import KIND_LABEL, Origin, add_event, publish
from server.orders.models import Order, SlaAlert, Status

# A near-breach fires at 80 % of a stage; the longest default stage is 48 h, so 20 % of it is 9.6 h.
LOOKAHEAD = timedelta(hours=10)
STAGE_LABEL = {"contact": "响应", "update": "进展更新", "resolve": "办结", "callback": "回访"}
LEVEL_LABEL = {"near": "即将超时", "breach": "已超时", "escalated": "严重超时"}


async def _recipients(session: AsyncSession, order: Order, level: str) -> list:
    if level == "near":
        return [order.assignee_id] if order.assignee_id else []
    role = Role.team_lead if level == "breach" else Role.supervisor
    leads = (
        await session.scalars(
            select(Staff.id).where(Staff.estate_id == order.estate_id, Staff.role == role, Staff.active)
        )
    ).all()
    extra = [order.assignee_id] if level == "breach" and order.assignee_id else []
    return [*extra, *leads]


async def scan(session: AsyncSession, now: datetime) -> list[SlaAlert]:
    candidates = (
        await session.scalars(
            select(Order)
            .where(Order.due_at.is_not(None), Order.due_at <= now + LOOKAHEAD, Order.status != Status.paused)
            .order_by(Order.due_at)
            .limit(2000)
        )
    ).all()
    created: list[SlaAlert] = []
    for order in candidates:
        policy = await sla.policy_for(session, order.estate_id, order.kind)
        for alert in sla.alerts_due(order, policy, now):
            if await session.scalar(
                select(SlaAlert.id).where(
                    SlaAlert.order_id == order.id,
                    SlaAlert.stage == alert.stage,
                    SlaAlert.due_at == alert.due_at,
                    SlaAlert.level == alert.level,
                )
            ):
                continue
            row = SlaAlert(order_id=order.id, stage=alert.stage, due_at=alert.due_at, level=alert.level, created_at=now)
            try:
                async with session.begin_nested():
                    session.add(row)
                    await session.flush()
            except IntegrityError:
                continue  # another process recorded it first
            created.append(row)
            await _escalate(session, order, alert, now)
    return created


async def _escalate(session: AsyncSession, order: Order, alert: sla.Alert, now: datetime) -> None:
    title = f"{LEVEL_LABEL[alert.level]}：{KIND_LABEL.get(str(order.kind), '')}工单 {order.number}"
    body = f"{STAGE_LABEL[alert.stage]}时限 {alert.due_at.astimezone(CHINA).strftime('%m-%d %H:%M')}"
    for staff_id in dict.fromkeys(await _recipients(session, order, alert.level)):
        await notify(
            session,
            staff_id=staff_id,
            kind=f"sla_{alert.level}",
            title=title,
            body=body,
            now=now,
            order_id=order.id,
            urgency="high" if alert.level != "near" else "normal",
            topic=f"sla-{order.number}"[-32:],
            data={
                "number": order.number,
                "kind": str(order.kind),
                "level": alert.level,
                "stage": alert.stage,
                "due_at": alert.due_at.isoformat(),
            },
        )
    if alert.level != "near":
        await session.refresh(order, with_for_update=True)  # appending to the chain needs the row lock
        event = await add_event(
            session,
            order,
            action=f"sla_{alert.level}",
            actor_id=None,
            actor_kind="system",
            origin=Origin(source="system"),
            now=now,
            data={"stage": alert.stage, "due_at": alert.due_at.isoformat()},
        )
        await publish(session, order, ("order_events", [event.id]))
