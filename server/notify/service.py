"""Writing the deliveries the policy asks for, in the transaction of the event that causes them.

Staff: a notification (server/notifications) gets, besides its Web Push rows, one row per further
channel of its event's rule: the first channel goes at once, each next one ``fallback_minutes``
later and only if the notification is still unread by then (``unless_read``: the sender skips it).

Owners: an order event the policy names gets one SMS row to the reporter's phone, unless the owner
opted out, the order already had one for this event within ``dedupe_minutes``, or the per-order or
per-estate daily limits are reached — those are written as ``skipped`` rows with the reason, so the
timeline shows what was not sent and why. In the quiet hours it waits for their end (emergencies
excepted).
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Staff
from server.clock import CHINA
from server.ids import uuid7
from server.notifications.models import Notification
from server.notifications.service import ENQUEUE_HOOKS
from server.notify import policy as P
from server.notify.models import NotifyPolicy, OwnerOptOut, ShortLink
from server.orders.models import Kind, Order
from server.push.models import Delivery

MOBILE = re.compile(r"^1[3-9]\d{9}$")
_ALPHABET = string.ascii_letters + string.digits
SKIPPED = "skipped"


async def policy_of(session: AsyncSession, estate_id: uuid.UUID | None) -> P.Policy | None:
    """The estate's policy, or None when it never configured one (Web Push and webhooks only).

    Read once per session: a push of a hundred steps asks for every step, and a statement per step
    was most of a push's cost on PostgreSQL. A policy saved later is seen by the next request."""
    if estate_id is None:
        return None
    known: dict = session.info.setdefault("notify_policies", {})
    if estate_id not in known:
        raw = await session.scalar(select(NotifyPolicy.config).where(NotifyPolicy.estate_id == estate_id))
        known[estate_id] = P.decode(raw) if raw else None
    return known[estate_id]


def _row(**kw) -> Delivery:
    now = kw.pop("now")
    kw.setdefault("state", "pending")
    kw.setdefault("next_attempt_at", now)
    return Delivery(id=uuid7(), attempts=0, created_at=now, **kw)  # time-ordered: the timeline sorts by it


def staff_event(note: Notification, order: Order | None) -> str | None:
    event = P.KIND_EVENT.get(note.kind)
    if event in ("near_breach", "breach") and order is not None and str(order.kind) == Kind.callback:
        return "callback_due"
    return event


async def enqueue_staff_channels(session: AsyncSession, note: Notification) -> None:
    """ENQUEUE_HOOKS entry (after the Web Push one): WeCom, SMS and the team robot per the policy."""
    staff = await session.get(Staff, note.staff_id)
    if staff is None:
        return
    policy = await policy_of(session, staff.estate_id)
    if policy is None:
        return
    order = await session.get(Order, note.order_id) if note.order_id else None
    event = staff_event(note, order)
    if event is None:
        return
    rule = policy.rule(event)
    now = note.created_at
    common = dict(
        notification_id=note.id, estate_id=staff.estate_id, order_id=note.order_id, audience="staff", event=event
    )
    first = note.title.split("\n")[0]
    building = note.body.split("\n", 1)[0]
    data = note.data or {}
    for i, channel in enumerate(rule.channels):
        if channel == "webpush":  # written by server/push/outbox.py for every device
            continue
        at = now + timedelta(minutes=rule.fallback_minutes * i)
        message = {
            "title": first,
            "body": building,
            "url": f"/app/#/orders/{note.order_id}" if note.order_id else "/app/#/notifications",
        }
        if channel == "wecom":
            recipient = policy.wecom.users.get(str(staff.id), "")
            provider = "wecom"
        else:
            recipient, provider = staff.phone, policy.sms.provider or None
            message["params"] = {
                "kind": P.fit({"kind": _kind_label(order)})["kind"],
                "number": str(data.get("number") or (order.number if order else "")),
                "building": P.fit({"building": building})["building"],
            }
        session.add(
            _row(
                now=now,
                channel=channel,
                recipient=recipient,
                provider=provider,
                message=message,
                unless_read=i > 0,
                next_attempt_at=at,
                **common,
            )  # fmt: skip
        )
    if rule.team and order is not None:
        if not await _recent(session, order.id, event, "wecom_bot", str(order.department), now, policy):
            text = f"**{first}**\n> {building}\n> {note.body.split(chr(10), 1)[-1] if chr(10) in note.body else ''}"
            session.add(
                _row(
                    now=now,
                    channel="wecom_bot",
                    recipient=str(order.department),
                    provider="wecom_bot",
                    message={"text": text.strip()},
                    **{**common, "audience": "team", "notification_id": None},
                )  # fmt: skip
            )


def _kind_label(order: Order | None) -> str:
    from server.orders.lifecycle import KIND_LABEL

    return KIND_LABEL.get(str(order.kind), "") if order is not None else ""


async def _recent(
    session: AsyncSession,
    order_id: uuid.UUID,
    event: str,
    channel: str,
    recipient: str,
    now: datetime,
    policy: P.Policy,
) -> bool:
    if policy.dedupe_minutes == 0:
        return False
    found = await session.scalar(
        select(Delivery.id)
        .where(
            Delivery.order_id == order_id,
            Delivery.event == event,
            Delivery.channel == channel,
            Delivery.recipient == recipient,
            Delivery.state != SKIPPED,
            Delivery.created_at > now - timedelta(minutes=policy.dedupe_minutes),
        )
        .limit(1)
    )
    return found is not None


def china_day_start(now: datetime) -> datetime:
    local = now.astimezone(CHINA)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)


async def sms_used_today(session: AsyncSession, estate_id: uuid.UUID, now: datetime) -> int:
    return (
        await session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.estate_id == estate_id,
                Delivery.channel == "sms",
                Delivery.state != SKIPPED,
                Delivery.created_at >= china_day_start(now),
            )
        )
        or 0
    )


def _eta_text(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "尽快"
    local, today = at.astimezone(CHINA), now.astimezone(CHINA).date()
    return local.strftime("%H:%M") if local.date() == today else f"{local.day}日{local:%H:%M}"


async def notify_owner(
    session: AsyncSession, order: Order, event: str, now: datetime, *, step: str = "", name: str = ""
) -> Delivery | None:
    """One owner event of ``order``: the SMS row (or the skipped row saying why none goes)."""
    policy = await policy_of(session, order.estate_id)
    if policy is None or not policy.owner.get(event):
        return None
    phone = (order.reporter_phone or "").replace(" ", "").replace("-", "")
    if not phone:
        return None
    if name == "" and order.assignee_id is not None:
        name = await session.scalar(select(Staff.name).where(Staff.id == order.assignee_id)) or ""
    code = "".join(secrets.choice(_ALPHABET) for _ in range(P.CODE_LENGTH))
    params = P.fit({"name": name[:1] if name else "", "eta": _eta_text(order.eta, now), "step": step, "code": code})
    params = {k: params[k] for k in P.PARAM_NAMES[event]}
    row = _row(
        now=now, channel="sms", estate_id=order.estate_id, order_id=order.id, audience="owner", event=event,
        recipient=phone, provider=policy.sms.provider or None, message={"params": params},
    )  # fmt: skip
    reason = await _refusal(session, policy, order, event, phone, now)
    if reason:
        row.state, row.reason = SKIPPED, reason
    elif str(order.kind) != Kind.emergency and (until := P.quiet_until(policy, now)) is not None:
        row.next_attempt_at = until
        row.reason = f"免打扰时段（{policy.quiet_start}–{policy.quiet_end}），{policy.quiet_end} 发送"
    session.add(row)
    await session.flush()
    if row.state != SKIPPED:
        session.add(ShortLink(code=code, order_id=order.id, delivery_id=row.id, created_at=now))
    return row


async def _refusal(
    session: AsyncSession, policy: P.Policy, order: Order, event: str, phone: str, now: datetime
) -> str | None:
    if not MOBILE.match(phone.removeprefix("+86")):
        return "报修电话不是手机号码，未发短信"
    if await session.scalar(
        select(OwnerOptOut.id).where(OwnerOptOut.estate_id == order.estate_id, OwnerOptOut.phone == phone)
    ):
        return "业主已退订短信通知"
    if await _recent(session, order.id, event, "sms", phone, now, policy):
        return f"{policy.dedupe_minutes} 分钟内已发过同类短信，未重复发送"
    sent_for_order = await session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.order_id == order.id,
            Delivery.audience == "owner",
            Delivery.state != SKIPPED,
            Delivery.created_at > now - timedelta(days=1),
        )
    )
    if (sent_for_order or 0) >= policy.owner_sms_per_order_per_day:
        return f"本工单 24 小时内短信已达上限（{policy.owner_sms_per_order_per_day} 条）"
    if await sms_used_today(session, order.estate_id, now) >= policy.sms.daily_cap:
        return f"本小区今日短信已达上限（{policy.sms.daily_cap} 条）"
    return None


# --- the order's owner events ------------------------------------------------------------------------

OWNER_ACTIONS = {"accept": "accepted", "take": "accepted", "depart": "on_the_way", "complete": "completed"}


async def on_transition(session: AsyncSession, order: Order, action: str, now: datetime) -> None:
    event = OWNER_ACTIONS.get(action)
    if event is not None and str(order.kind) != Kind.callback:
        await notify_owner(session, order, event, now)


async def on_step(session: AsyncSession, order: Order, note: str, now: datetime) -> None:
    await notify_owner(session, order, "step_done", now, step=note)


async def on_follow_up(session: AsyncSession, order: Order, now: datetime) -> None:
    await notify_owner(session, order, "follow_up", now)


def register() -> None:
    """Hook into notifications, order transitions, steps and follow-ups (once per process)."""
    from server.orders import feedback, lifecycle, steps

    if enqueue_staff_channels not in ENQUEUE_HOOKS:
        ENQUEUE_HOOKS.append(enqueue_staff_channels)
        lifecycle.TRANSITION_HOOKS.append(on_transition)
        steps.STEP_HOOKS.append(on_step)
        feedback.FOLLOW_UP_HOOKS.append(on_follow_up)
