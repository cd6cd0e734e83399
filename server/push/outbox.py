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
from sqlalchemy import and_, bindparam, delete, func, or_, select, update
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
    subscription_id: uuid.UUID | None = None
    endpoint: str | None = None
    p256dh: str | None = None
    auth: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    urgency: str = "normal"
    topic: str | None = None
    # The channels of server/notify (SMS, WeCom): whom, for which estate, order and event, what.
    estate_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    audience: str = "staff"
    event: str | None = None
    recipient: str | None = None
    provider: str | None = None
    message: dict | None = None
    # Tried before without a recorded answer (a lapsed lease) or with one: a channel whose provider
    # can be asked (Alibaba's QuerySendDetails by OutId) asks before sending again.
    maybe_sent: bool = False


def payload(note: Notification) -> dict:
    """What a lock screen may show: the order number and kind are in the title, the building in the
    body — no owner names or phones. A body's first line is its lock-screen part (an assignment's
    second line, the room and the problem, shows in the app's feed only)."""
    return {
        "id": str(note.id),
        "kind": note.kind,
        "title": note.title,
        "body": note.body.split("\n", 1)[0],
        "order_id": str(note.order_id) if note.order_id else None,
        "url": f"/app/#/orders/{note.order_id}" if note.order_id else "/app/#/notifications",
    }


DELIVERIES = Delivery.__table__
SUBSCRIPTIONS = PushSubscription.__table__


async def claim(session: AsyncSession, now: datetime, limit: int = 50) -> list[Job]:
    """Take due deliveries (pending, retry due, or a lapsed lease) for this process; commit after.
    Three statements per round whatever its size; rows come back as columns, not ORM objects (a
    fan-out of one notification to a thousand devices made the object loading the sender's cost)."""
    due = or_(
        and_(Delivery.state.in_(("pending", "retry")), Delivery.next_attempt_at <= now),
        and_(Delivery.state == "sending", Delivery.lease_until < now),
    )
    stmt = select(Delivery.id, Delivery.state).where(due).order_by(Delivery.next_attempt_at).limit(limit)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    found = (await session.execute(stmt)).all()
    ids = [r.id for r in found]
    # A lapsed lease: its sender died somewhere between claiming and recording; it may have sent.
    lapsed = {r.id for r in found if r.state == "sending"}
    if not ids:
        return []
    # The state guard makes a race between two claimers harmless: only one UPDATE matches a row.
    await session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.id.in_(ids), due)
        .values(state="sending", lease_until=now + LEASE, claimed_by=WORKER)
    )
    rows = await session.execute(
        select(
            Delivery.id,
            Delivery.channel,
            Delivery.attempts,
            Delivery.subscription_id,
            Notification,
            PushSubscription.id.label("sub_id"),
            PushSubscription.endpoint,
            PushSubscription.p256dh,
            PushSubscription.auth,
            Webhook.url,
            Webhook.secret,
            Delivery.estate_id,
            Delivery.order_id,
            Delivery.audience,
            Delivery.event,
            Delivery.recipient,
            Delivery.provider,
            Delivery.message,
            Delivery.unless_read,
        )
        .outerjoin(Notification, Notification.id == Delivery.notification_id)
        .outerjoin(PushSubscription, PushSubscription.id == Delivery.subscription_id)
        .outerjoin(Webhook, Webhook.id == Delivery.webhook_id)
        .where(Delivery.id.in_(ids), Delivery.claimed_by == WORKER, Delivery.state == "sending")
    )
    jobs, removed, read, payloads = [], [], [], {}
    for r in rows:
        if r.channel == "webpush" and r.sub_id is None:
            removed.append(r.id)
            continue
        note = r.Notification
        if r.unless_read and note is not None and note.read_at is not None:
            read.append(r.id)  # a fallback whose notification was read in the app meanwhile
            continue
        if note is not None and note.id not in payloads:
            payloads[note.id] = payload(note)
        jobs.append(
            Job(
                delivery_id=r.id,
                channel=r.channel,
                attempts=r.attempts,
                notification=payloads[note.id] if note is not None else {},
                subscription_id=r.subscription_id,
                endpoint=r.endpoint,
                p256dh=r.p256dh,
                auth=r.auth,
                webhook_url=r.url,
                webhook_secret=r.secret,
                urgency=note.urgency if note is not None else "normal",
                topic=note.topic if note is not None else None,
                estate_id=r.estate_id,
                order_id=r.order_id,
                audience=r.audience,
                event=r.event,
                recipient=r.recipient,
                provider=r.provider,
                message=r.message,
                maybe_sent=r.id in lapsed or r.attempts > 0,
            )
        )
    for ids, values in (
        (removed, dict(state="gone", last_error="subscription removed")),
        (read, dict(state="skipped", reason="已在应用内阅读，无需补发")),
    ):
        if ids:
            await session.execute(
                update(DELIVERIES).where(DELIVERIES.c.id.in_(ids)).values(lease_until=None, **values)
            )
    return jobs


_record_delivery = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id == bindparam("did"))
    .values(
        state=bindparam("state"),
        attempts=DELIVERIES.c.attempts + 1,
        last_status=bindparam("status"),
        last_error=bindparam("error"),
        answer=bindparam("answer"),
        reason=bindparam("reason"),
        lease_until=None,
        next_attempt_at=func.coalesce(
            bindparam("next", type_=DELIVERIES.c.next_attempt_at.type), DELIVERIES.c.next_attempt_at
        ),
        delivered_at=func.coalesce(
            bindparam("delivered", type_=DELIVERIES.c.delivered_at.type), DELIVERIES.c.delivered_at
        ),
    )
)


def _outcome_row(job: Job, o: Outcome, now: datetime) -> dict:
    attempts = job.attempts + 1  # the row's count as claimed: nobody else touches it under our lease
    row = {
        "did": job.delivery_id,
        "status": o.status,
        "error": o.detail or None,
        "answer": o.answer or None,
        "reason": o.reason or None,
        "next": None,
        "delivered": None,
    }
    if o.kind == "delivered":
        return row | {"state": "delivered", "delivered": now}
    if o.kind == "retry" and attempts < MAX_ATTEMPTS:
        return row | {"state": "retry", "next": now + timedelta(seconds=backoff(attempts, o.retry_after))}
    if o.kind == "gone" and job.subscription_id is not None:
        return row | {"state": "gone"}
    return row | {"state": "failed"}


async def record(session: AsyncSession, results: Sequence[tuple[Job, Outcome]], now: datetime) -> None:
    """Write the outcomes of one round of attempts: delivered, retry (with backoff), gone (404/410),
    failed. One executemany for the deliveries and one UPDATE per kind for their subscriptions,
    whatever the round's size; only a gone subscription costs statements of its own."""
    if not results:
        return
    rows = [_outcome_row(job, o, now) for job, o in results]
    await session.execute(_record_delivery, rows)
    touched: dict[str, list[uuid.UUID]] = {"delivered": [], "retry": [], "gone": []}
    for (job, _), row in zip(results, rows, strict=True):
        if job.subscription_id is not None and row["state"] in touched:
            touched[row["state"]].append(job.subscription_id)
    for column, state in (("last_success_at", "delivered"), ("last_failure_at", "retry")):
        if touched[state]:
            await session.execute(
                update(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id.in_(touched[state])).values({column: now})
            )
    for sub_id in touched["gone"]:
        # The device unsubscribed or the browser was reset: stop all its deliveries.
        await session.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.subscription_id == sub_id, DELIVERIES.c.state.in_(("pending", "retry")))
            .values(state="gone", last_error="subscription gone")
        )
        await session.execute(delete(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == sub_id))


webhook_encoder = msgspec.json.Encoder(order="sorted")
