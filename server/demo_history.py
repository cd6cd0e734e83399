"""Six weeks of finished work for `wuye demo`, so the supervisor dashboard, the KPIs and the steward
scorecards show real figures on first start (with only today's shift they read "—").

Every order goes through the real service functions with past timestamps, as it would have happened:
created by the front desk, accepted, on site, a repair step with materials, completed, rated by the
owner (most of them), called back (回访) and closed. Closed, so no SLA clock is left running and the
scanner raises nothing about them; their assignment notifications are marked read, so the
technicians' alerts start with today's. No 不满意 rating: each would open a follow-up order that is
still open six weeks later. Deterministic (a seeded random generator).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Staff
from server.accounts.service import actor_for
from server.clock import Clock
from server.notifications.models import Notification
from server.orders import feedback
from server.orders.kpi import CHINA
from server.orders.lifecycle import NewOrder, create_order, transition
from server.orders.models import Category, Channel, Kind, RatingLevel
from server.orders.steps import NewStep, add_step
from server.sites.models import Household

HISTORY_DAYS = 42
REPAIRS = (
    ("water_electric", "厨房水龙头一直滴水", "更换水龙头阀芯", ("阀芯", 1, "个")),
    ("water_electric", "卫生间插座没电", "更换漏电保护开关", ("空气开关", 1, "个")),
    ("water_electric", "阳台地漏堵塞，积水排不掉", "疏通地漏并清理管道", ("疏通剂", 1, "瓶")),
    ("lift", "电梯到8楼有异响", "调整导靴并加注润滑油", ("润滑油", 1, "瓶")),
    ("facilities", "单元门闭门器坏了，门关不上", "更换闭门器", ("闭门器", 1, "个")),
    ("facilities", "楼道声控灯不亮", "更换灯泡", ("LED灯泡", 2, "个")),
)
COMPLAINTS = (
    ("noise", "楼上晚上装修噪音太大"),
    ("cleaning", "楼道垃圾没有及时清运"),
    ("parking", "车位被别人长期占用"),
)
INQUIRIES = (("fees", "咨询物业费缴费方式"), ("other", "咨询快递柜怎么使用"))
# Owners rate most completions; mostly well (no 不满意: see the module docstring).
LEVELS = (RatingLevel.very_satisfied, RatingLevel.satisfied, RatingLevel.neutral)
LEVEL_WEIGHTS = (45, 45, 10)


class _Timeline:
    """An order's next instant: ``low``–``high`` minutes after the last, but never in the future (an
    order of yesterday evening is called back before "now", however early today it is)."""

    def __init__(self, rng: random.Random, start: datetime, limit: datetime):
        self.rng, self.at, self.limit = rng, start, limit

    def next(self, low: float, high: float) -> datetime:
        self.at = max(self.at, min(self.at + timedelta(minutes=self.rng.uniform(low, high)), self.limit))
        return self.at


async def load_history(
    session: AsyncSession, clock: Clock, staff: dict[str, Staff], stewards_by_grid: dict[uuid.UUID, Staff]
) -> int:
    """Create the finished orders of the last :data:`HISTORY_DAYS` days; returns how many."""
    rng = random.Random(20261201)
    households = (await session.scalars(select(Household).order_by(Household.label))).all()
    desk = await actor_for(session, staff["13800000003"])
    technicians = [await actor_for(session, staff[p]) for p in ("13800000021", "13800000022", "13800000023")]
    stewards = {grid_id: await actor_for(session, person) for grid_id, person in stewards_by_grid.items()}
    today = datetime.combine(clock.now().astimezone(CHINA).date(), time(), tzinfo=CHINA)
    created = 0
    for day in range(HISTORY_DAYS, 0, -1):
        for _ in range(rng.randint(1, 3)):
            at = today - timedelta(days=day) + timedelta(hours=rng.uniform(8, 18))
            household = rng.choice(households)
            roll = rng.random()
            if roll < 0.7:
                category, text, work, material = rng.choice(REPAIRS)
                worker, kind = rng.choice(technicians), Kind.repair
            elif roll < 0.9:
                (category, text), work, material = rng.choice(COMPLAINTS), "已上门沟通并处理", None
                worker, kind = stewards[household.grid_id], Kind.complaint
            else:
                (category, text), work, material = rng.choice(INQUIRIES), None, None
                worker, kind = None, Kind.inquiry
            order = await create_order(
                session,
                desk,
                NewOrder(
                    kind=kind,
                    category=Category(category),
                    channel=rng.choice((Channel.phone, Channel.phone, Channel.walk_in)),
                    description=text,
                    household_id=household.id,
                    assignee_id=worker.staff_id if worker else None,
                ),
                now=at,
            )
            timeline = _Timeline(rng, at, clock.now() - timedelta(minutes=1))
            if worker is None:
                await transition(session, desk, order.id, "answer", now=timeline.next(2, 10), note="已电话答复")
            else:
                for action, low, high in (("accept", 3, 25), ("depart", 3, 10), ("arrive", 10, 35)):
                    await transition(session, worker, order.id, action, now=timeline.next(low, high))
                materials = [{"name": material[0], "quantity": material[1], "unit": material[2]}] if material else []
                done = timeline.next(15, 80)
                await add_step(
                    session, worker, order.id, NewStep(note=work, captured_at=done, materials=materials), now=done
                )
                await transition(session, worker, order.id, "complete", now=timeline.next(2, 10))
            if rng.random() < 0.8:
                level = rng.choices(LEVELS, LEVEL_WEIGHTS)[0]
                await feedback.rate(session, order.id, level, "", now=timeline.next(30, 600))
            await feedback.record_callback(
                session, desk, order.id, "reached_satisfied", "业主表示满意", now=timeline.next(60, 30 * 60)
            )
            await transition(session, desk, order.id, "close", now=timeline.next(1, 30))
            created += 1
    # Every notification so far is about this history (today's shift is loaded after it).
    await session.execute(
        update(Notification).where(Notification.read_at.is_(None)).values(read_at=Notification.created_at)
    )
    return created
