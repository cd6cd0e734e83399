"""An estate's notification policy, owners who opted out of SMS, and the short links SMS carry."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class NotifyPolicy(Base):
    """The estate's policy document (server/notify/policy.py ``Policy``), provider keys included."""

    __tablename__ = "notify_policies"
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))


class OwnerOptOut(Base):
    """An owner's phone that receives no more SMS from the estate (chosen on their progress page)."""

    __tablename__ = "owner_sms_optouts"
    __table_args__ = (UniqueConstraint("estate_id", "phone"),)
    id: Mapped[uuid.UUID] = id_column()
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"))
    phone: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"))  # the page it was chosen on
    created_at: Mapped[datetime]


class ShortLink(Base):
    """``/s/<code>`` in one SMS: opens the order's progress page and marks that SMS clicked."""

    __tablename__ = "sms_short_links"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    delivery_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
