"""Human-friendly order numbers: ``<estate code>-<yyyymmdd, China time>-<4-digit daily counter>``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.orders.models import OrderCounter
from server.sites.models import Estate

CHINA = timezone(timedelta(hours=8))


async def next_number(session: AsyncSession, estate: Estate, now: datetime) -> str:
    day = now.astimezone(CHINA).strftime("%Y%m%d")
    counter = await session.scalar(
        select(OrderCounter).where(OrderCounter.estate_id == estate.id, OrderCounter.day == day).with_for_update()
    )
    if counter is None:
        counter = OrderCounter(estate_id=estate.id, day=day, last=0)
        session.add(counter)
    counter.last += 1
    await session.flush()
    return f"{estate.code}-{day}-{counter.last:04d}"
