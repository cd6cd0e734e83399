from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class Notification(Base):
    """One message to one staff member, written in the same transaction as the event causing it."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_staff_created", "staff_id", "created_at"),)
    id: Mapped[uuid.UUID] = id_column()
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # assigned | unassigned | sla_near | sla_breach | …
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    # The text's parameters (number, kind, stage, due_at, ...): the phone writes title and body in
    # the reader's language from ``kind`` and these; title/body are the Chinese rendering (push, old apps).
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"))
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    topic: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
