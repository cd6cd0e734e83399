"""Sending one SMS / WeCom / group-robot delivery with the estate's provider settings."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import httpx
from sqlalchemy import select

from server.notify import policy as P
from server.notify import sms, wecom
from server.notify.models import NotifyPolicy
from server.outbound import Outbound
from server.push.delivery import Outcome
from server.push.outbox import Job
from server.web.context import AppContext

CHANNELS = ("sms", "wecom", "wecom_bot")
PER_PROVIDER = 8  # requests in flight per provider endpoint (they throttle bursts per account anyway)


def _unset(reason: str) -> Outcome:
    return Outcome("failed", None, None, "not configured", answer="", reason=reason)


async def policies(ctx: AppContext, estate_ids: set[uuid.UUID]) -> dict[uuid.UUID, P.Policy]:
    if not estate_ids:
        return {}
    async with ctx.db.reader() as session:
        rows = await session.execute(
            select(NotifyPolicy.estate_id, NotifyPolicy.config).where(NotifyPolicy.estate_id.in_(estate_ids))
        )
        return {estate_id: P.decode(config) for estate_id, config in rows}


def sms_base(settings) -> str:
    """``<origin>/s/``: the fixed part of the link in the templates submitted to the provider."""
    return P.short_base(settings.sms_link_base or settings.base_url)


def sms_text(job: Job, policy: P.Policy, base: str) -> str:
    """The SMS as the phone shows it (the provider renders its approved template the same way)."""
    texts = P.OWNER_TEXTS if job.audience == "owner" else P.STAFF_TEXTS
    params = (job.message or {}).get("params") or {}
    return P.render(texts.get(job.event or "", ""), params, policy.sms.sign_name, base)


async def send(ctx: AppContext, job: Job, policy: P.Policy | None, now: datetime) -> Outcome:
    """One delivery, with at most ``PER_PROVIDER`` in flight to any one provider endpoint."""
    cfg = policy.sms if policy is not None and job.channel == "sms" else policy.wecom if policy is not None else None
    key = (cfg.endpoint if cfg is not None else "") or job.channel
    slots = ctx.services.setdefault("provider_slots", {})
    async with slots.setdefault(key, asyncio.Semaphore(PER_PROVIDER)):
        return await _send(ctx, job, policy, now)


async def _send(ctx: AppContext, job: Job, policy: P.Policy | None, now: datetime) -> Outcome:
    client: httpx.AsyncClient = ctx.services["http"]
    outbound: Outbound = ctx.services.get("outbound") or Outbound()
    if policy is None:
        return _unset("本小区未配置通知渠道")
    message = job.message or {}
    if job.channel == "sms":
        cfg = policy.sms
        if not cfg.provider or not cfg.access_key_id or not cfg.sign_name:
            return _unset("未配置短信服务商（签名、密钥）")
        template = cfg.templates.get(job.event or "")
        if not template:
            return _unset("未配置该事件的短信模板")
        if not job.recipient:
            return _unset("没有手机号码")
        url = cfg.endpoint or (sms.ALIYUN_ENDPOINT if cfg.provider == "aliyun" else sms.TENCENT_ENDPOINT)
        if (refused := sms.check_endpoint(outbound, url)) is not None:
            return refused
        params = {k: str(v) for k, v in (message.get("params") or {}).items()}
        if cfg.provider == "aliyun":
            return await sms.send_aliyun(
                client, cfg, job.recipient, template, params, out_id=str(job.delivery_id), maybe_sent=job.maybe_sent
            )
        values = [params.get(name, "") for name in P.PARAM_NAMES.get(job.event or "", [])]
        return await sms.send_tencent(client, cfg, job.recipient, template, values)
    cfg = policy.wecom
    if not cfg.corp_id or not cfg.secret:
        return _unset("未配置企业微信（CorpID、Secret）")
    if (refused := sms.check_endpoint(outbound, cfg.endpoint or wecom.WECOM_ENDPOINT)) is not None:
        return refused
    if job.channel == "wecom_bot":
        key = cfg.robots.get(job.recipient or "", "")
        if not key:
            return _unset("该部门未配置企业微信群机器人")
        return await wecom.send_robot(client, cfg, key, message.get("text", ""))
    if not cfg.agent_id:
        return _unset("未配置企业微信应用 AgentId")
    if not job.recipient:
        return _unset("该员工未绑定企业微信账号")
    url = ctx.settings.base_url + message.get("url", "/app/")
    card = wecom.textcard(cfg, job.recipient, message.get("title", ""), message.get("body", "") or "点击查看", url)
    return await wecom.send_app(
        client, ctx.services.setdefault("wecom_tokens", wecom.TokenCache()), cfg, job.recipient, card
    )
