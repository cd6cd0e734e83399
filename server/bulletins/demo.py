"""Demo bulletins: last week's, published (with this week's plans), and this week's draft holding
next week's plans, so the console and the public page have something real to show."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Staff
from server.accounts.service import actor_for
from server.bulletins import service
from server.bulletins.models import Bulletin
from server.clock import Clock

CAPTION = "师傅及时上门，已修复"


def _plans(monday) -> list[service.Plan]:
    day = lambda n: monday + timedelta(days=n)  # noqa: E731
    return [
        service.Plan("lift_maintenance", day(1), "09:00", "11:00", "1栋、2栋", "电梯季度保养"),
        service.Plan("water_cut", day(2), "09:00", "15:00", "6栋至10栋", "二次供水水箱清洗消毒"),
        service.Plan("pest_control", day(4), "14:00", "17:00", "全园区绿化带", "冬季灭鼠消杀"),
    ]


async def seed_bulletins(session: AsyncSession, clock: Clock, estate_id: uuid.UUID, lead: Staff) -> None:
    """Idempotent: nothing happens once the estate has a bulletin."""
    if await session.scalar(select(Bulletin.id).where(Bulletin.estate_id == estate_id).limit(1)):
        return
    actor = await actor_for(session, lead)
    now = clock.now()
    this_week = service.week_of(now)
    last_week = this_week - timedelta(days=7)

    last, _ = await service.open_week(session, actor, estate_id, last_week, now)
    picked = [c for c in await service.candidates(session, estate_id, last_week)][:2]
    await service.save_draft(
        session,
        actor,
        last,
        note="近期气温骤降，请各位业主关好门窗，室外水管注意防冻保温。感谢大家对物业工作的支持！",
        plans=_plans(this_week),
        highlights=[service.Highlight(c.order_id, c.photos[0] if c.photos else None, CAPTION) for c in picked],
        now=now,
    )
    await service.publish(session, actor, last, now)

    draft, _ = await service.open_week(session, actor, estate_id, this_week, now)
    await service.save_draft(
        session,
        actor,
        draft,
        note="",
        plans=[
            service.Plan("fire_check", this_week + timedelta(days=8), "09:30", "11:30", "地下车库", "消防设施月度检查"),
            service.Plan("power_cut", this_week + timedelta(days=10), "22:00", "23:30", "3栋", "配电柜检修"),
        ],
        highlights=[],
        now=now,
    )
    await session.flush()
