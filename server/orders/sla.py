"""SLA clocks on server time: defaults from DESIGN.md §3, per-estate overrides in ``sla_policies``.

Stages: ``contact`` (first contact / accept), ``update`` (progress visible to the owner, repeating),
``resolve`` (completed) and ``callback`` (回访 after completion). Each pending stage has a due time
on the order; ``due_at`` is the earliest. Pausing stops every clock; resuming shifts the pending
deadlines by the time spent paused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.orders.models import Kind, Order, SlaPolicy, Status

NEAR_FRACTION = 0.8
ESCALATE_FACTOR = 2.0


@dataclass(frozen=True)
class Policy:
    contact: int | None  # minutes
    update: int | None
    resolve: int | None
    callback: int | None


DEFAULTS: dict[Kind, Policy] = {
    Kind.complaint: Policy(contact=15, update=120, resolve=48 * 60, callback=48 * 60),
    # "same day": 24 h after the report; emergencies never stay overnight (急修不过夜).
    Kind.repair: Policy(contact=30, update=None, resolve=24 * 60, callback=48 * 60),
    Kind.emergency: Policy(contact=5, update=30, resolve=4 * 60, callback=48 * 60),
    Kind.inquiry: Policy(contact=None, update=None, resolve=60, callback=None),
    Kind.convenience: Policy(contact=30, update=None, resolve=24 * 60, callback=None),
    Kind.callback: Policy(contact=60, update=None, resolve=48 * 60, callback=None),
}

STAGES = ("contact", "update", "resolve", "callback")


async def policy_for(session: AsyncSession, estate_id, kind: Kind) -> Policy:
    row = await session.scalar(select(SlaPolicy).where(SlaPolicy.estate_id == estate_id, SlaPolicy.kind == kind))
    return merged(row, kind)


def merged(row: SlaPolicy | None, kind: Kind) -> Policy:
    """The estate's override row over the defaults of ``kind`` (a missing row or minute: the default)."""
    base = DEFAULTS[kind]
    if row is None:
        return base
    return Policy(
        contact=row.contact_minutes if row.contact_minutes is not None else base.contact,
        update=row.update_minutes if row.update_minutes is not None else base.update,
        resolve=row.resolve_minutes if row.resolve_minutes is not None else base.resolve,
        callback=row.callback_minutes if row.callback_minutes is not None else base.callback,
    )


def _plus(start: datetime, minutes: int | None) -> datetime | None:
    return None if minutes is None else start + timedelta(minutes=minutes)


def _recompute(order: Order) -> None:
    pending = [(due, stage) for stage in STAGES if (due := getattr(order, f"{stage}_due_at")) is not None]
    if order.status is Status.paused or not pending:
        order.due_at, order.due_stage = None, ("paused" if order.status is Status.paused else None)
        return
    order.due_at, order.due_stage = min(pending)


def minutes_of(policy: Policy, stage: str) -> int | None:
    return getattr(policy, stage)


# Each domain event moves the deadlines it concerns; the rest stay as they are.


def on_create(order: Order, policy: Policy, now: datetime) -> None:
    order.contact_due_at = _plus(now, policy.contact)
    order.update_due_at = _plus(now, policy.update)
    order.resolve_due_at = _plus(now, policy.resolve)
    order.callback_due_at = None
    _recompute(order)


def on_contact(order: Order, now: datetime) -> None:
    if order.contact_due_at is not None:
        order.contact_late = now > order.contact_due_at
    order.contact_due_at = None
    _recompute(order)


def on_progress(order: Order, policy: Policy, now: datetime) -> None:
    if order.update_due_at is not None:
        order.update_due_at = _plus(now, policy.update)
    _recompute(order)


def on_complete(order: Order, policy: Policy, now: datetime) -> None:
    if order.resolve_due_at is not None:
        order.resolve_late = now > order.resolve_due_at
    order.contact_due_at = order.update_due_at = order.resolve_due_at = None
    order.callback_due_at = _plus(now, policy.callback)
    _recompute(order)


def on_callback(order: Order, now: datetime) -> None:
    """The owner was reached. A callback order's call is its work: its clocks stop as at completion."""
    order.callback_due_at = order.callback_retry_at = None
    if order.kind is Kind.callback:
        if order.contact_due_at is not None:
            order.contact_late = now > order.contact_due_at
        if order.resolve_due_at is not None:
            order.resolve_late = now > order.resolve_due_at
        for stage in STAGES:
            setattr(order, f"{stage}_due_at", None)
    _recompute(order)


def on_pause(order: Order) -> None:
    _recompute(order)


def on_resume(order: Order, paused_for: timedelta) -> None:
    """The clocks stood still while paused: every pending deadline moves by the pause."""
    for stage in STAGES:
        due = getattr(order, f"{stage}_due_at")
        if due is not None:
            setattr(order, f"{stage}_due_at", due + paused_for)
    _recompute(order)


def on_reopen(order: Order, policy: Policy, now: datetime) -> None:
    order.contact_due_at = None
    order.update_due_at = _plus(now, policy.update)
    order.resolve_due_at = _plus(now, policy.resolve)
    order.callback_due_at = order.callback_retry_at = None
    _recompute(order)


def on_end(order: Order) -> None:
    """Closed or cancelled: no clock runs."""
    for stage in STAGES:
        setattr(order, f"{stage}_due_at", None)
    order.callback_retry_at = None
    _recompute(order)


def stage_length(policy: Policy, stage: str) -> timedelta:
    return timedelta(minutes=minutes_of(policy, stage) or 1)


@dataclass(frozen=True)
class Alert:
    stage: str
    due_at: datetime
    level: str  # near | breach | escalated


def alerts_due(order: Order, policy: Policy, now: datetime) -> list[Alert]:
    """The alerts an order deserves at ``now``: near (80 % of the stage), breach (due), escalated (2×).
    The scanner inserts them under a unique key, so running it twice changes nothing."""
    if order.status is Status.paused:
        return []
    out: list[Alert] = []
    for stage in STAGES:
        due = getattr(order, f"{stage}_due_at")
        if due is None:
            continue
        length = stage_length(policy, stage)
        start = due - length
        if now >= start + length * NEAR_FRACTION:
            out.append(Alert(stage, due, "near"))
        if now >= due:
            out.append(Alert(stage, due, "breach"))
        if now >= start + length * ESCALATE_FACTOR:
            out.append(Alert(stage, due, "escalated"))
    return out
