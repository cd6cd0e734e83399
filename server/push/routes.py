"""Device subscriptions for Web Push (VAPID public key, subscribe, list, remove) and estate webhooks."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated

import httpcore
import msgspec
from litestar import Request, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import MANAGERS, Actor
from server.errors import DomainError, NotFound
from server.outbound import Outbound, RefusedDestination
from server.push.models import Delivery, PushSubscription, Webhook
from server.web.context import AppContext
from server.wire import Wire


class SubscriptionKeys(Wire):
    p256dh: Annotated[str, msgspec.Meta(min_length=20, max_length=200)]
    auth: Annotated[str, msgspec.Meta(min_length=8, max_length=100)]


class SubscribeIn(Wire):
    endpoint: Annotated[str, msgspec.Meta(pattern="^https?://", max_length=1000)]
    keys: SubscriptionKeys
    expirationTime: float | None = None  # noqa: N815 - the browser's PushSubscription.toJSON() name


class WebhookIn(Wire):
    url: Annotated[str, msgspec.Meta(pattern="^https?://", max_length=500)]


async def _check_destination(ctx: AppContext, url: str, *, push: bool) -> None:
    """The SSRF rule (``server/outbound.py``) at registration; the sender applies it again."""
    outbound: Outbound = ctx.services.get("outbound") or Outbound()
    what = "push endpoint" if push else "webhook URL"
    try:
        await outbound.check(url, push=push)
    except RefusedDestination as exc:
        raise DomainError(
            "destination_refused",
            f"the server does not send to this {what}",
            status=422,
            details={"reason": exc.reason},
        ) from None
    except httpcore.ConnectError as exc:
        raise DomainError(
            "destination_unresolvable", f"the {what}'s host does not resolve", status=422, details={"reason": str(exc)}
        ) from None


def _device(sub: PushSubscription) -> dict:
    return {
        "id": str(sub.id),
        "user_agent": sub.user_agent,
        "created_at": sub.created_at.isoformat(),
        "last_success_at": sub.last_success_at.isoformat() if sub.last_success_at else None,
        "endpoint_origin": sub.endpoint.split("/", 3)[2] if "//" in sub.endpoint else "",
    }


@get("/vapid-public-key")
async def vapid_public_key(ctx: NamedDependency[AppContext]) -> dict:
    return {"key": ctx.services["vapid"].application_server_key}


@post("/subscriptions", status_code=201)
async def subscribe(
    request: Request,
    data: JSONBody[SubscribeIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    await _check_destination(ctx, data.endpoint, push=True)
    sub = await tx.scalar(select(PushSubscription).where(PushSubscription.endpoint == data.endpoint))
    if sub is None:
        sub = PushSubscription(endpoint=data.endpoint, created_at=ctx.clock.now())
        tx.add(sub)
    # Re-subscribing moves the endpoint to whoever is signed in on that browser now.
    sub.staff_id, sub.token_id = actor.staff_id, actor.token_id
    sub.p256dh, sub.auth = data.keys.p256dh, data.keys.auth
    sub.user_agent = request.headers.get("user-agent", "")[:300]
    await tx.commit()
    return _device(sub)


@get("/subscriptions")
async def my_devices(actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]) -> list[dict]:
    rows = (
        await db.scalars(
            select(PushSubscription)
            .where(PushSubscription.staff_id == actor.staff_id)
            .order_by(PushSubscription.created_at)
        )
    ).all()
    return [_device(s) for s in rows]


@delete("/subscriptions/{sub_id:uuid}", status_code=200)
async def remove_device(
    sub_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], tx: NamedDependency[AsyncSession]
) -> dict:
    sub = await tx.get(PushSubscription, sub_id)
    if sub is None or sub.staff_id != actor.staff_id:
        raise NotFound("device")
    await tx.delete(sub)
    await tx.commit()
    return {"ok": True}


@get("/notifications/{notification_id:uuid}/deliveries")
async def delivery_state(
    notification_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]
) -> list[dict]:
    """Delivery state per channel of one notification (its recipient or a manager may look)."""
    from server.notifications.models import Notification

    note = await db.get(Notification, notification_id)
    if note is None or (note.staff_id != actor.staff_id and actor.role not in MANAGERS):
        raise NotFound("notification")
    rows = (await db.scalars(select(Delivery).where(Delivery.notification_id == notification_id))).all()
    return [
        {
            "channel": d.channel,
            "state": d.state,
            "attempts": d.attempts,
            "last_status": d.last_status,
            "last_error": d.last_error,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
        }
        for d in rows
    ]


@post("/webhooks", status_code=201)
async def add_webhook(
    data: JSONBody[WebhookIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    actor.require_role(*MANAGERS)
    if actor.estate_id is None:
        raise DomainError("estate_required", "webhooks belong to an estate", status=422)
    await _check_destination(ctx, data.url, push=False)
    hook = Webhook(
        estate_id=actor.estate_id,
        url=data.url,
        secret=secrets.token_urlsafe(32),
        active=True,
        created_at=ctx.clock.now(),
    )
    tx.add(hook)
    await tx.commit()
    # The secret is shown once, to configure the gateway's signature check.
    return {"id": str(hook.id), "url": hook.url, "secret": hook.secret}


push_router = Router(
    path="/api/push",
    route_handlers=[vapid_public_key, subscribe, my_devices, remove_device, delivery_state, add_webhook],
    tags=["push"],
)
