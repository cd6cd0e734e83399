"""One bulletin per estate and week; what it shows publicly is frozen into ``published`` on publish."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class Bulletin(Base):
    """``week_start`` is the Monday (China time) of the week whose repairs it reports; its plans are
    for the week after. ``plans`` and ``highlights`` are the team lead's draft (JSON lists checked by
    the service); ``published`` holds the owner-safe content frozen at publication (None while a
    draft). ``share_key`` enters the public token: a new key revokes every link shared so far."""

    __tablename__ = "bulletins"
    __table_args__ = (UniqueConstraint("estate_id", "week_start"),)
    id: Mapped[uuid.UUID] = id_column()
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"), index=True)
    week_start: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | published
    note: Mapped[str] = mapped_column(Text, default="")
    plans: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    highlights: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    published: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    share_key: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime]
    published_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    published_at: Mapped[datetime | None]
