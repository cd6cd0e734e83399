"""Background jobs that run inside each server process. Started by the app's lifespan when
``WUYE_BACKGROUND_JOBS=1``, on every node: each round of a job is claimed through a lease in the
database (server/cluster/leases.py), so one node runs it per interval however many run the loop,
and another takes over when that node dies. Every job is idempotent besides (a round that outlives
its lease and overlaps the next does no harm), and the push sender also claims each delivery."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

import anyio

from server.cluster.leases import claim
from server.orders.sla_scan import scan
from server.push.sender import sender_job
from server.web.context import AppContext

log = logging.getLogger("wuye.jobs")

Job = Callable[[AppContext], Awaitable[object]]


async def sla_scan_job(ctx: AppContext) -> int:
    async with ctx.db.writer() as session:
        alerts = await scan(session, ctx.clock.now())
        await session.commit()
    return len(alerts)


async def duty_scan_job(ctx: AppContext) -> int:
    from server.duty.scan import scan as duty_scan

    async with ctx.db.writer() as session:
        moved = await duty_scan(session, ctx.clock.now())
        await session.commit()
    return moved


COMPACT_SPARE = 100_000  # the newest change rows are left alone (cheap pulls for devices just behind)


async def compact_job(ctx: AppContext) -> int:
    from server.syncing.changelog import compact

    async with ctx.db.writer() as session:
        dropped = await compact(session, COMPACT_SPARE)
        await session.commit()
    return dropped


async def collect_partials_job(ctx: AppContext) -> int:
    from server.photos.backends import PARTIAL_MAX_AGE_S

    return await anyio.to_thread.run_sync(ctx.services["blobs"].collect_partials, PARTIAL_MAX_AGE_S)


# name → (job, interval in seconds); other domains append theirs (push sender, webhooks).
JOBS: dict[str, tuple[Job, float]] = {
    "sla_scan": (sla_scan_job, 30.0),
    "duty_scan": (duty_scan_job, 30.0),
    "push_sender": (sender_job, 2.0),
    "compact_changes": (compact_job, 3600.0),
    "collect_partials": (collect_partials_job, 3600.0),
}


#: This process, as lease holders are named (host, pid and a random part: pids repeat across hosts).
HOLDER = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def run_claimed(name: str, job: Job, every: float, ctx: AppContext, holder: str = HOLDER) -> bool:
    """Run one round of ``job`` if this node wins the round's lease; whether it ran."""
    if not await claim(ctx.db, name, holder, ctx.clock.now(), every):
        return False
    await job(ctx)
    return True


async def _loop(name: str, job: Job, every: float, ctx: AppContext) -> None:
    while True:
        try:
            await run_claimed(name, job, every, ctx)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failing job must not kill the server; it retries next tick
            log.exception("background job %s failed", name)
        await asyncio.sleep(every)


def start(ctx: AppContext) -> list[asyncio.Task]:
    return [
        asyncio.create_task(_loop(name, job, every, ctx), name=f"job:{name}") for name, (job, every) in JOBS.items()
    ]


async def stop(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
