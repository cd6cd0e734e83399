"""The demo estate's notification policy: every channel switched on, pointing at no real provider.

No keys are configured, so the deliveries the demo's orders cause show, on the order page and in
通知记录, that they failed and why (未配置短信服务商 / 未配置企业微信) — nothing leaves the machine.
A supervisor enters real keys on 通知设置 to go live.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import Clock
from server.notify import policy as P
from server.notify import service
from server.notify.models import NotifyPolicy


def demo_policy() -> P.Policy:
    staff = {e: P.EventRule(channels=["webpush", "wecom", "sms"], fallback_minutes=5) for e in P.STAFF_EVENTS}
    for e in ("breach", "escalation"):
        staff[e] = P.EventRule(channels=["webpush", "wecom", "sms"], fallback_minutes=5, team=True)
    return P.Policy(
        staff=staff,
        owner={e: True for e in P.OWNER_EVENTS},
        sms=P.SmsConfig(provider="", sign_name="翠湖花园物业", templates={}),
        wecom=P.WecomConfig(),
    )


async def seed_demo_policy(session: AsyncSession, clock: Clock, estate_id: uuid.UUID) -> None:
    service.register()
    if await session.get(NotifyPolicy, estate_id) is None:
        session.add(NotifyPolicy(estate_id=estate_id, config=P.encode(demo_policy()), updated_at=clock.now()))
        await session.flush()
