"""The delivery outbox. A notification row and its delivery rows commit together with the event that
caused them (``notify`` runs in the caller's transaction), so a crash can lose nothing: a sender in
any process claims due rows with a lease, sends, and records the outcome. A process killed after
claiming leaves a lease that expires, and the row is sent again.

Delivery is at least once; the Topic header makes a push service replace a repeated message with
the same topic rather than show it twice, and the phone's feed deduplicates by notification id.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Staff
from server.accounts.service import LOGOUT_HOOKS
from server.notifications.models import Notification
from server.notifications.service import ENQUEUE_HOOKS
from server.push.delivery import Outcome
from server.push.models import Delivery, PushSubscription, Webhook

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 12
BACKOFF_BASE = 2.0  # seconds; doubles per attempt, capped, with jitter
BACKOFF_CAP = 15 * 60
WORKER = f"{os.uname().nodename}:{os.getpid()}"


async def enqueue_deliveries(session: AsyncSession, note: Notification) -> None:
    """ENQUEUE_HOOKS entry: one delivery per device of the recipient and per webhook of their estate."""
    subs = (await session.scalars(select(PushSubscription.id).where(PushSubscription.staff_id == note.staff_id))).all()
    estate_id = await session.scalar(select(Staff.estate_id).where(Staff.id == note.staff_id))
    hooks = (
        (await session.scalars(select(Webhook.id).where(Webhook.estate_id == estate_id, Webhook.active))).all()
        if estate_id
        else []
    )
    rows = [dict(channel="webpush", subscription_id=s) for s in subs] + [
        dict(channel="webhook", webhook_id=h) for h in hooks
    ]
    for row in rows:
        session.add(
            Delivery(
                id=uuid.uuid4(),
                notification_id=note.id,
                state="pending",
                attempts=0,
                next_attempt_at=note.created_at,
                created_at=note.created_at,
                **row,
            )
        )


async def forget_device(session: AsyncSession, token_id: uuid.UUID) -> None:
    """Logging a device out stops pushes to it."""
    await session.execute(delete(PushSubscription).where(PushSubscription.token_id == token_id))


ENQUEUE_HOOKS.append(enqueue_deliveries)
LOGOUT_HOOKS.append(forget_device)


def backoff(attempts: int, retry_after: float | None) -> float:
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    delay = delay * (0.5 + random.random() / 2)
    return max(delay, retry_after or 0.0)


@dataclass(frozen=True)
class Job:
    delivery_id: uuid.UUID
    channel: str
    attempts: int
    notification: dict
    endpoint: str | None = None
    p256dh: str | None = None
    auth: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    urgency: str = "normal"
    topic: str | None = None


def payload(note: Notification) -> dict:
    """What a lock screen may show: the order number and kind are in the title, the building in the
    body — no owner names or phones."""
    return {
        "id": str(note.id),
        "kind": note.kind,
        "title": note.title,
        "body": note.body,
        "order_id": str(note.order_id) if note.order_id else None,
        "url": f"/app/#/orders/{note.order_id}" if note.order_id else "/app/#/notifications",
    }


async def claim(session: AsyncSession, now: datetime, limit: int = 50) -> list[Job]:
    """Take due deliveries (pending, retry due, or a lapsed lease) for this process; commit after."""
    due = or_(
        and_(Delivery.state.in_(("pending", "retry")), Delivery.next_attempt_at <= now),
        and_(Delivery.state == "sending", Delivery.lease_until < now),
    )
    stmt = select(Delivery.id).where(due).order_by(Delivery.next_attempt_at).limit(limit)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list((await session.scalars(stmt)).all())
    if not ids:
        return []
    # The state guard makes a race between two claimers harmless: only one UPDATE matches a row.
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), due)
        .values(state="sending", lease_until=now + LEASE, claimed_by=WORKER)
    )
    rows = (
        await session.execute(
            select(Delivery, Notification, PushSubscription, Webhook)
            .join(Notification, Notification.id == Delivery.notification_id)
            .outerjoin(PushSubscription, PushSubscription.id == Delivery.subscription_id)
            .outerjoin(Webhook, Webhook.id == Delivery.webhook_id)
            .where(Delivery.id.in_(ids), Delivery.claimed_by == WORKER, Delivery.state == "sending")
        )
    ).all()
    jobs = []
    for d, note, sub, hook in rows:
        if d.channel == "webpush" and sub is None:
            d.state, d.last_error = "gone", "subscription removed"
            continue
        jobs.append(
            Job(
                delivery_id=d.id,
                channel=d.channel,
                attempts=d.attempts,
                notification=payload(note),
                endpoint=sub.endpoint if sub else None,
                p256dh=sub.p256dh if sub else None,
                auth=sub.auth if sub else None,
                webhook_url=hook.url if hook else None,
                webhook_secret=hook.secret if hook else None,
                urgency=note.urgency,
                topic=note.topic,
            )
        )
    return jobs


async def record(session: AsyncSession, results: Sequence[tuple[Job, Outcome]], now: datetime) -> None:
    """Write the outcomes of one round of attempts: delivered, retry (with backoff), gone (404/410),
    failed. A round costs two SELECTs (its deliveries, their subscriptions) and batched UPDATEs at
    flush, whatever its size; only a gone subscription costs statements of its own."""
    rows = {
        d.id: d
        for d in (await session.scalars(select(Delivery).where(Delivery.id.in_([j.delivery_id for j, _ in results]))))
    }
    sub_ids = {d.subscription_id for d in rows.values() if d.subscription_id}
    subs = (
        {s.id: s for s in await session.scalars(select(PushSubscription).where(PushSubscription.id.in_(sub_ids)))}
        if sub_ids
        else {}
    )
    for job, outcome in results:
        if (d := rows.get(job.delivery_id)) is not None:
            await _record_one(session, d, subs, outcome, now)


async def _record_one(
    session: AsyncSession, d: Delivery, subs: dict[uuid.UUID, PushSubscription], o: Outcome, now: datetime
) -> None:
    d.attempts += 1
    d.last_status, d.last_error, d.lease_until = o.status, (o.detail or None), None
    sub = subs.get(d.subscription_id) if d.subscription_id else None
    if o.kind == "delivered":
        d.state, d.delivered_at = "delivered", now
        if sub:
            sub.last_success_at = now
    elif o.kind == "retry" and d.attempts < MAX_ATTEMPTS:
        d.state = "retry"
        d.next_attempt_at = now + timedelta(seconds=backoff(d.attempts, o.retry_after))
        if sub:
            sub.last_failure_at = now
    elif o.kind == "gone" and sub is not None:
        d.state = "gone"
        # The device unsubscribed or the browser was reset: stop all its deliveries.
        await session.execute(
            update(Delivery)
            .where(Delivery.subscription_id == sub.id, Delivery.id != d.id, Delivery.state.in_(("pending", "retry")))
            .values(state="gone", last_error="subscription gone")
        )
        await session.execute(delete(PushSubscription).where(PushSubscription.id == sub.id))
        del subs[sub.id]  # later outcomes in this round for the same device see it gone
    else:
        d.state = "failed"


webhook_encoder = msgspec.json.Encoder(order="sorted")
