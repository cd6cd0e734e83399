"""Background jobs that run inside each server process (several processes are safe: every job is
idempotent or claims its work). Started by the app's lifespan when ``WUYE_BACKGROUND_JOBS=1``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

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


# name → (job, interval in seconds); other domains append theirs (push sender, webhooks).
JOBS: dict[str, tuple[Job, float]] = {
    "sla_scan": (sla_scan_job, 30.0),
    "duty_scan": (duty_scan_job, 30.0),
    "push_sender": (sender_job, 2.0),
    "compact_changes": (compact_job, 3600.0),
}


async def _loop(name: str, job: Job, every: float, ctx: AppContext) -> None:
    while True:
        try:
            await job(ctx)
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
