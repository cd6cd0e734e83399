"""The background sender: claim due deliveries, send them concurrently, record each outcome."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time

import httpx
import msgspec

from server.push import outbox
from server.push.delivery import Outcome, PushSender, Subscription, Urgency, classify, topic_for
from server.web.context import AppContext

_json = msgspec.json.Encoder(order="sorted")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Webhook signature: hex HMAC-SHA256 over ``<timestamp>.<body>`` (the timestamp stops replays)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


async def send_webhook(client: httpx.AsyncClient, job: outbox.Job) -> Outcome:
    body = _json.encode(job.notification)
    ts = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "x-wuye-timestamp": ts,
        "x-wuye-signature": "sha256=" + sign(job.webhook_secret, ts, body),
    }
    try:
        r = await client.post(job.webhook_url, content=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        return Outcome("retry", None, None, f"{type(exc).__name__}: {exc}")
    return classify(r.status_code, r.headers.get("retry-after"))


async def send_push(sender: PushSender, job: outbox.Job) -> Outcome:
    sub = Subscription(endpoint=job.endpoint, p256dh=job.p256dh, auth=job.auth)
    urgency = Urgency.high if job.urgency == "high" else Urgency.normal
    return await sender.send(
        sub, _json.encode(job.notification), urgency=urgency, topic=topic_for(job.topic) if job.topic else None
    )


async def send_due(ctx: AppContext, limit: int = 50) -> int:
    """One round: returns how many deliveries were attempted."""
    now = ctx.clock.now()
    async with ctx.db.writer() as session:
        jobs = await outbox.claim(session, now, limit)
        await session.commit()
    if not jobs:
        return 0
    sender: PushSender = ctx.services["push_sender"]
    client: httpx.AsyncClient = ctx.services["http"]
    outcomes = await asyncio.gather(
        *(send_push(sender, j) if j.channel == "webpush" else send_webhook(client, j) for j in jobs)
    )
    done = ctx.clock.now()
    async with ctx.db.writer() as session:
        await outbox.record(session, list(zip(jobs, outcomes, strict=True)), done)
        await session.commit()
    return len(jobs)


async def sender_job(ctx: AppContext) -> int:
    """Drain everything due now (rounds of 50), so a burst is not spread over many ticks."""
    total = 0
    while (n := await send_due(ctx)) > 0:
        total += n
    return total
