"""The estate's channel policy (supervisors), every delivery with its provider answer (the desk),
SMS counts per day, the short links in SMS, and the owner's SMS opt-out page (no login)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

import msgspec
from litestar import Request, Router, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Redirect, Response
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Staff
from server.accounts.scope import ESTATE_STAFF, MANAGERS, Actor
from server.clock import CHINA
from server.errors import DomainError
from server.notifications.models import Notification
from server.notify import policy as P
from server.notify.channels import sms_base, sms_text
from server.notify.models import NotifyPolicy, OwnerOptOut, ShortLink
from server.notify.service import china_day_start
from server.orders import lifecycle
from server.orders.models import Order
from server.outbound import Outbound, RefusedDestination
from server.progress import links
from server.progress.html import Safe, compact, render
from server.progress.layout import csp, document
from server.push.models import Delivery
from server.sites.models import Estate
from server.web.context import AppContext

SECRETS = (("sms", "access_key_secret"), ("wecom", "secret"))


def _masked(policy: P.Policy) -> dict:
    out = P.encode(policy)
    for part, name in SECRETS:
        out[part][f"{name}_set"] = bool(out[part][name])
        out[part][name] = ""
    return out


async def _policy_out(db: AsyncSession, ctx: AppContext, estate_id: uuid.UUID) -> dict:
    raw = await db.scalar(select(NotifyPolicy.config).where(NotifyPolicy.estate_id == estate_id))
    policy = P.decode(raw)
    base = sms_base(ctx.settings)
    texts = {
        e: {
            "submitted": P.submitted_text(t, base),
            "longest": len(P.worst_case(t, policy.sms.sign_name or "物业", base)),
        }
        for e, t in P.OWNER_TEXTS.items()
    }
    return {
        "configured": raw is not None,
        "policy": _masked(policy),
        "owner_texts": texts,
        "staff_texts": P.STAFF_TEXTS,
        "segment": P.SEGMENT,
        "staff_events": list(P.STAFF_EVENTS),
        "owner_events": list(P.OWNER_EVENTS),
    }


@get("/{estate_id:uuid}/policy")
async def get_policy(
    estate_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:  # fmt: skip
    await guard.in_scope(db, actor, Estate, estate_id)
    actor.require_role(*MANAGERS)
    return await _policy_out(db, ctx, estate_id)


def _check(policy: P.Policy, ctx: AppContext, estate_staff: set[str]) -> None:
    bad = [e for e in policy.staff if e not in P.STAFF_EVENTS] + [e for e in policy.owner if e not in P.OWNER_EVENTS]
    bad += [e for e in policy.sms.templates if e not in P.STAFF_EVENTS and e not in P.OWNER_EVENTS]
    if bad:
        raise DomainError("unknown_event", "no such notification event", status=422, details={"events": bad})
    strangers = [s for s in policy.wecom.users if s not in estate_staff]
    if strangers:
        raise DomainError(
            "unknown_staff", "WeCom accounts name staff of another estate", status=422, details={"staff": strangers}
        )
    outbound: Outbound = ctx.services.get("outbound") or Outbound()
    for url in (policy.sms.endpoint, policy.wecom.endpoint):
        if url:
            try:
                outbound.check_webhook_url(url)
            except RefusedDestination as exc:
                raise DomainError("destination_refused", "the server does not send to this address", status=422,
                                  details={"reason": exc.reason}) from None  # fmt: skip
    over = P.too_long(policy.sms.sign_name, sms_base(ctx.settings))
    if over and any(policy.owner.values()):
        raise DomainError(
            "sms_too_long", f"an owner SMS would exceed one {P.SEGMENT}-character segment", status=422, details=over
        )


@put("/{estate_id:uuid}/policy", status_code=200)
async def set_policy(
    estate_id: FromPath[uuid.UUID], data: JSONBody[P.Policy], actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext],
) -> dict:  # fmt: skip
    """Replaces the policy; a secret sent empty keeps the one stored (the screen never sees them)."""
    await guard.in_scope(tx, actor, Estate, estate_id)
    actor.require_role(*MANAGERS)
    row = await tx.get(NotifyPolicy, estate_id)
    old = P.decode(row.config if row else None)
    keep = {}
    for part, name in SECRETS:
        given = getattr(getattr(data, part), name)
        keep[(part, name)] = given or getattr(getattr(old, part), name)
    policy = msgspec.structs.replace(
        data,
        sms=msgspec.structs.replace(data.sms, access_key_secret=keep[("sms", "access_key_secret")]),
        wecom=msgspec.structs.replace(data.wecom, secret=keep[("wecom", "secret")]),
    )
    staff = {str(s) for s in (await tx.scalars(select(Staff.id).where(Staff.estate_id == estate_id))).all()}
    _check(policy, ctx, staff)
    if row is None:
        row = NotifyPolicy(estate_id=estate_id, config={}, updated_at=ctx.clock.now())
        tx.add(row)
    row.config, row.updated_at, row.updated_by = P.encode(policy), ctx.clock.now(), actor.staff_id
    await tx.commit()
    return await _policy_out(tx, ctx, estate_id)


def _phone(text: str | None, audience: str) -> str:
    if audience == "owner" and text and len(text) == 11:
        return text[:3] + "****" + text[7:]
    return text or ""


async def _rows(db: AsyncSession, ctx: AppContext, where, limit: int) -> list[dict]:
    rows = (
        await db.execute(
            select(Delivery, Notification.read_at, Notification.staff_id, Order.number, Staff.name)
            .outerjoin(Notification, Notification.id == Delivery.notification_id)
            .outerjoin(Order, Order.id == Delivery.order_id)
            .outerjoin(Staff, Staff.id == Notification.staff_id)
            .where(*where)
            .order_by(Delivery.created_at.desc(), Delivery.id)
            .limit(limit)
        )
    ).all()
    estates = {d.estate_id for d, *_ in rows if d.channel == "sms"}
    pol = {}
    if estates:
        for e, c in await db.execute(
            select(NotifyPolicy.estate_id, NotifyPolicy.config).where(NotifyPolicy.estate_id.in_(estates))
        ):
            pol[e] = P.decode(c)
    out = []
    for d, read_at, _staff_id, number, staff_name in rows:
        text = ""
        if d.channel == "sms" and d.estate_id in pol:
            from server.push.outbox import Job

            text = sms_text(
                Job(d.id, d.channel, 0, {}, audience=d.audience, event=d.event, message=d.message),
                pol[d.estate_id],
                sms_base(ctx.settings),
            )
        elif d.message:
            text = d.message.get("title") or d.message.get("text", "")
        out.append(
            {
                "id": str(d.id),
                "channel": d.channel,
                "audience": d.audience,
                "event": d.event or "",
                "provider": d.provider or "",
                "recipient": _phone(d.recipient, d.audience) if d.channel != "webpush" else "",
                "recipient_name": staff_name or ("业主" if d.audience == "owner" else d.recipient or ""),
                "order_id": str(d.order_id) if d.order_id else None,
                "order_number": number or "",
                "state": d.state,
                "attempts": d.attempts,
                "created_at": d.created_at.isoformat(),
                "next_attempt_at": d.next_attempt_at.isoformat() if d.state in ("pending", "retry") else None,
                "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
                "read_at": read_at.isoformat() if read_at else None,
                "clicked_at": d.clicked_at.isoformat() if d.clicked_at else None,
                "answer": d.answer or (f"HTTP {d.last_status}" if d.last_status else ""),
                "reason": d.reason or "",
                "error": d.last_error or "",
                "text": text,
            }
        )
    return out


Limit = Annotated[int, QueryParameter(ge=1, le=500)]


@get("/{estate_id:uuid}/deliveries")
async def estate_deliveries(
    estate_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext], channel: Annotated[str | None, QueryParameter(max_length=10)] = None,
    limit: Limit = 200,
) -> list[dict]:  # fmt: skip
    """通知记录: the estate's deliveries, newest first (staff ones through their recipient's estate)."""
    await guard.in_scope(db, actor, Estate, estate_id)
    actor.require_role(*ESTATE_STAFF)
    staff_ids = select(Staff.id).where(Staff.estate_id == estate_id)
    notes = select(Notification.id).where(Notification.staff_id.in_(staff_ids))
    where = [(Delivery.estate_id == estate_id) | Delivery.notification_id.in_(notes)]
    if channel:
        where.append(Delivery.channel == channel)
    return await _rows(db, ctx, where, limit)


@get("/orders/{order_id:uuid}/deliveries")
async def order_deliveries(
    order_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> list[dict]:  # fmt: skip
    """Every message about one order: to staff (feed, push, WeCom, SMS), to the team, to the owner."""
    actor.require_role(*ESTATE_STAFF)
    await lifecycle.visible_order(db, actor, order_id)  # the orders' own rule: 404 if unknown or unseen
    notes = select(Notification.id).where(Notification.order_id == order_id)
    return await _rows(db, ctx, [(Delivery.order_id == order_id) | Delivery.notification_id.in_(notes)], 500)


@get("/{estate_id:uuid}/sms-usage")
async def sms_usage(
    estate_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:  # fmt: skip
    """SMS per day (Asia/Shanghai) over two weeks: sent (the provider accepted it: what is billed) and failed."""
    await guard.in_scope(db, actor, Estate, estate_id)
    actor.require_role(*ESTATE_STAFF)
    now = ctx.clock.now()
    since = china_day_start(now) - timedelta(days=13)
    rows = (
        await db.execute(
            select(Delivery.created_at, Delivery.state).where(
                Delivery.estate_id == estate_id, Delivery.channel == "sms", Delivery.created_at >= since
            )
        )
    ).all()
    days: dict[str, dict[str, int]] = {}
    for at, state in rows:
        key = at.astimezone(CHINA).date().isoformat()
        day = days.setdefault(key, {"sent": 0, "failed": 0, "waiting": 0, "skipped": 0})
        bucket = {"delivered": "sent", "failed": "failed", "skipped": "skipped"}.get(state, "waiting")
        day[bucket] += 1
    policy = P.decode(await db.scalar(select(NotifyPolicy.config).where(NotifyPolicy.estate_id == estate_id)))
    return {"daily_cap": policy.sms.daily_cap, "days": [{"day": k, **v} for k, v in sorted(days.items(), reverse=True)]}


notify_router = Router(
    path="/api/notify",
    route_handlers=[get_policy, set_policy, estate_deliveries, order_deliveries, sms_usage],
    tags=["notify"],
)


# --- the owner's side -------------------------------------------------------------------------------


@get("/s/{code:str}", include_in_schema=False)
async def short_link(
    code: FromPath[str], tx: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext]
) -> Response:
    """The link in an SMS: to the order's progress page; the SMS counts as clicked."""
    row = await tx.get(ShortLink, code) if len(code) == P.CODE_LENGTH and code.isalnum() else None
    if row is None:
        return _page("链接无效", "这个链接不存在或已失效。", status=404)
    order = await tx.get(Order, row.order_id)
    now = ctx.clock.now()
    issued, _ = await links.ensure(
        tx,
        order,
        secret=ctx.settings.secret,
        now=now,
        days=ctx.settings.progress_link_days_after_close,
        created_by=None,
    )
    if row.delivery_id is not None:
        await tx.execute(
            update(Delivery).where(Delivery.id == row.delivery_id, Delivery.clicked_at.is_(None)).values(clicked_at=now)
        )
    await tx.commit()
    return Redirect(
        f"/p/{issued.token}", status_code=302, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


SMS_CSS = "form{margin-top:12px}.btn{width:100%}"
SMS_PAGE = compact(
    """
<main>
<header class="top"><h1>{title}</h1></header>
<section class="card"><p data-test="sms-state">{state}</p>
<form method="post" action="{action}"><input type="hidden" name="choice" value="{choice}">
<button class="btn" type="submit" data-test="sms-toggle">{button}</button></form>
<p><a href="{back}">{back_label}</a></p></section>
</main>
"""
)
SMS_CSP = csp(form_action=True, styles=(SMS_CSS,))
TEXTS = {
    "zh": {
        "title": "短信通知",
        "on": "工单有进展时，我们会发短信到 {phone}。",
        "off": "已退订：不再向 {phone} 发送工单短信。",
        "stop": "退订短信通知",
        "resume": "重新接收短信通知",
        "back": "返回工单进度",
    },
    "en": {
        "title": "Text messages",
        "on": "We text {phone} when your order makes progress.",
        "off": "Unsubscribed: no more order texts to {phone}.",
        "stop": "Stop text messages",
        "resume": "Receive text messages again",
        "back": "Back to the order",
    },
}


def _page(title: str, body: str, status: int = 200) -> Response:
    html = document(
        title=title,
        body=render('<main><section class="card"><h1>{t}</h1><p>{b}</p></section></main>', t=title, b=body),
        lang="zh",
    )
    return Response(
        html,
        status_code=status,
        media_type="text/html",
        headers={"Content-Security-Policy": csp(), "Cache-Control": "no-store"},
    )


async def _owner(tx: AsyncSession, ctx: AppContext, token: str) -> tuple[Order, str] | Response:
    """The order a progress token opens and its reporter's phone, or the page saying the link is dead."""
    resolved = await links.resolve(tx, token, now=ctx.clock.now(), days=ctx.settings.progress_link_days_after_close)
    if resolved is None:
        return _page("链接无效", "这个链接不存在或已失效。", status=404)
    return resolved.order, (resolved.order.reporter_phone or "").replace(" ", "").replace("-", "")


@get("/p/{token:str}/sms", include_in_schema=False)
async def sms_settings(
    request: Request, token: FromPath[str], tx: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext],
    lang: Annotated[str | None, QueryParameter(max_length=5)] = None,
) -> Response:  # fmt: skip
    found = await _owner(tx, ctx, token)
    if isinstance(found, Response):
        return found
    order, phone = found
    lg = "en" if lang == "en" else "zh"
    t = TEXTS[lg]
    off = await tx.scalar(
        select(OwnerOptOut.id).where(OwnerOptOut.estate_id == order.estate_id, OwnerOptOut.phone == phone)
    )
    masked = _phone(phone, "owner")
    body = render(
        SMS_PAGE, title=t["title"], state=(t["off"] if off else t["on"]).format(phone=masked),
        action=f"/p/{token}/sms?lang={lg}", choice="resume" if off else "stop",
        button=t["resume"] if off else t["stop"],
        back=f"/p/{token}?lang={lg}", back_label=t["back"],
    )  # fmt: skip
    html = document(title=t["title"], body=body, lang=lg, css=Safe(SMS_CSS))
    return Response(
        html,
        media_type="text/html",
        headers={"Content-Security-Policy": SMS_CSP, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@post("/p/{token:str}/sms", include_in_schema=False)
async def sms_choice(
    request: Request, token: FromPath[str], tx: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext],
    lang: Annotated[str | None, QueryParameter(max_length=5)] = None,
) -> Response:  # fmt: skip
    """The page's button (a plain form POST, no login: the progress link is the owner's key)."""
    found = await _owner(tx, ctx, token)
    if isinstance(found, Response):
        return found
    order, phone = found
    choice = str((await request.form()).get("choice") or "")
    if phone and choice == "stop":
        exists = await tx.scalar(
            select(func.count(OwnerOptOut.id)).where(
                OwnerOptOut.estate_id == order.estate_id, OwnerOptOut.phone == phone
            )
        )
        if not exists:
            tx.add(OwnerOptOut(estate_id=order.estate_id, phone=phone, order_id=order.id, created_at=ctx.clock.now()))
    elif phone and choice == "resume":
        await tx.execute(
            delete(OwnerOptOut).where(OwnerOptOut.estate_id == order.estate_id, OwnerOptOut.phone == phone)
        )
    await tx.commit()
    lg = "en" if lang == "en" else "zh"
    return Redirect(f"/p/{token}/sms?lang={lg}", status_code=303, headers={"Cache-Control": "no-store"})


owner_sms_router = Router(path="/", route_handlers=[short_link, sms_settings, sms_choice])
