"""The background sender: claim due deliveries, send them concurrently, record each outcome."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time

import httpx
import msgspec

from server.notify import channels
from server.outbound import Outbound, RefusedDestination
from server.push import outbox
from server.push.delivery import Outcome, PushSender, Subscription, Urgency, classify, topic_for
from server.web.context import AppContext

_json = msgspec.json.Encoder(order="sorted")
ROUND = 200  # deliveries claimed at once by drain (more than the transport keeps in flight per origin)
LEASE_MARGIN = 5.0  # seconds between the last moment a message may start and its lease running out


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Webhook signature: hex HMAC-SHA256 over ``<timestamp>.<body>`` (the timestamp stops replays)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


async def send_webhook(client: httpx.AsyncClient, job: outbox.Job, outbound: Outbound | None = None) -> Outcome:
    """POST through ``client`` (made by ``Outbound.client``: public addresses only, no redirects); the
    URL is checked again here, since the rule may be stricter than when the hook was registered."""
    try:
        (outbound or Outbound()).check_webhook_url(job.webhook_url)
    except RefusedDestination as exc:
        return Outcome("failed", None, None, str(exc))
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
    except RefusedDestination as exc:  # the name resolves to a private, loopback, … address now
        return Outcome("failed", None, None, str(exc))
    return classify(r.status_code, r.headers.get("retry-after"))


async def send_push(
    sender: PushSender, job: outbox.Job, start_by: float | None = None, plaintext: bytes | None = None
) -> Outcome:
    sub = Subscription(endpoint=job.endpoint, p256dh=job.p256dh, auth=job.auth)
    urgency = Urgency.high if job.urgency == "high" else Urgency.normal
    try:
        return await sender.send(
            sub,
            plaintext or _json.encode(job.notification),
            urgency=urgency,
            topic=topic_for(job.topic) if job.topic else None,
            start_by=start_by,
        )
    except ValueError as exc:  # payload over one record, bad keys, unsendable endpoint: no retry helps
        return Outcome("failed", None, None, str(exc))


async def _claim(ctx: AppContext, limit: int) -> list[outbox.Job]:
    async with ctx.db.writer() as session:
        jobs = await outbox.claim(session, ctx.clock.now(), limit)
        await session.commit()
    return jobs


async def _send(ctx: AppContext, jobs: list[outbox.Job]) -> list[Outcome]:
    """All of a round's messages at once; the transport bounds how many are in flight per origin. A
    message that could not start well within the lease is left for a later round (as a retry), so
    the lease never lapses under a message still being sent."""
    sender: PushSender = ctx.services["push_sender"]
    client: httpx.AsyncClient = ctx.services["http"]
    timeout = sender.timeout if sender is not None else 10.0
    start_by = asyncio.get_running_loop().time() + outbox.LEASE.total_seconds() - timeout - LEASE_MARGIN
    # A fan-out shares one payload dict per notification (see outbox.claim): encode each once.
    plaintexts = {id(j.notification): _json.encode(j.notification) for j in jobs}
    estates = {j.estate_id for j in jobs if j.channel in channels.CHANNELS and j.estate_id}
    policies = await channels.policies(ctx, estates)
    now = ctx.clock.now()

    def one(j: outbox.Job):
        if j.channel == "webpush":
            return send_push(sender, j, start_by, plaintexts[id(j.notification)])
        if j.channel in channels.CHANNELS:
            return channels.send(ctx, j, policies.get(j.estate_id), now)
        return send_webhook(client, j, ctx.services.get("outbound"))

    return await asyncio.gather(*(one(j) for j in jobs))


async def _record(ctx: AppContext, jobs: list[outbox.Job], outcomes: list[Outcome]) -> None:
    async with ctx.db.writer() as session:
        await outbox.record(session, list(zip(jobs, outcomes, strict=True)), ctx.clock.now())
        await session.commit()


async def send_due(ctx: AppContext, limit: int = 50) -> int:
    """One round (claim, send, record): returns how many deliveries were attempted."""
    jobs = await _claim(ctx, limit)
    if jobs:
        await _record(ctx, jobs, await _send(ctx, jobs))
    return len(jobs)


async def drain(ctx: AppContext, limit: int = ROUND) -> int:
    """Rounds until nothing is due, pipelined: while one round's messages are on the wire, the round
    before it is recorded and the next one claimed, so neither the database nor the push service
    waits for the other. The database work stays in this one coroutine, one transaction at a time;
    a claimed round is still under its lease when the next claim runs, so no row is taken twice."""
    total, done = 0, None
    jobs = await _claim(ctx, limit)
    while jobs:
        sending = asyncio.ensure_future(_send(ctx, jobs))
        try:
            if done:
                await _record(ctx, *done)
            upcoming = await _claim(ctx, limit)
        except BaseException:
            # Unrecorded rows stay leased and are sent again once the lease lapses (at least once).
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
            raise
        done = (jobs, await sending)
        total += len(jobs)
        jobs = upcoming
    if done:
        await _record(ctx, *done)
    return total


async def sender_job(ctx: AppContext) -> int:
    """Drain everything due now, so a burst is not spread over many ticks."""
    return await drain(ctx)
