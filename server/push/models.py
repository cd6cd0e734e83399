"""Push subscriptions per staff device, outbound webhooks per estate, and the delivery outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class PushSubscription(Base):
    __tablename__ = "push_subscriptions"
    id: Mapped[uuid.UUID] = id_column()
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    # The session (device) that subscribed: logging that session out removes the subscription.
    token_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_tokens.id", ondelete="SET NULL"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]


class Webhook(Base):
    """An estate's outbound channel to an SMS or enterprise-chat gateway (HMAC-signed JSON)."""

    __tablename__ = "webhooks"
    id: Mapped[uuid.UUID] = id_column()
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Delivery(Base):
    """One notification to one subscription or webhook: written in the same transaction as the
    notification, claimed by a sender with a lease, and finished with its outcome."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_state_next", "state", "next_attempt_at"),)
    id: Mapped[uuid.UUID] = id_column()
    # None for a message to an owner (they have no in-app feed); staff messages hang off their feed entry.
    notification_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10))  # webpush | webhook | sms | wecom | wecom_bot
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="SET NULL"), index=True
    )
    webhook_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("webhooks.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(10))  # pending | sending | retry | delivered | gone | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(50))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    # The channels of server/notify: who, for which order and event, through which provider, and
    # what the provider answered (its own code, and the reason in Chinese that staff are shown).
    estate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("estates.id"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"), index=True)
    audience: Mapped[str] = mapped_column(String(10), default="staff")  # staff | owner | team
    event: Mapped[str | None] = mapped_column(String(30))
    recipient: Mapped[str | None] = mapped_column(String(100))  # phone, WeCom user id, robot name
    provider: Mapped[str | None] = mapped_column(String(20))  # aliyun | tencent | wecom | wecom_bot
    message: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # text, template, params
    # A fallback: sent only if the notification is still unread when it comes due.
    unless_read: Mapped[bool] = mapped_column(Boolean, default=False)
    answer: Mapped[str | None] = mapped_column(Text)  # the provider's code and message, verbatim
    reason: Mapped[str | None] = mapped_column(Text)  # why it failed or waits, in Chinese
    clicked_at: Mapped[datetime | None]
