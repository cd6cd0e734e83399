"""Progress links (one active per order) and report-form attempts (rate limiting across processes)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class ProgressLink(Base):
    """A QR link to an order's progress page. The token is never stored: only its sha256.

    ``expires_at`` is a fixed expiry, set only when the link is made for an order that has already
    ended; otherwise it stays None and expiry follows the order (closed or cancelled + N days),
    computed when the link is read, so a reopened order's link lives again.
    """

    __tablename__ = "progress_links"
    id: Mapped[uuid.UUID] = id_column()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))  # None: the owner's report
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class ReportAttempt(Base):
    """A submission of the owner report form, counted per IP and per phone over a window."""

    __tablename__ = "report_attempts"
    __table_args__ = (
        Index("ix_report_attempts_ip_at", "ip", "at"),
        Index("ix_report_attempts_phone_at", "phone", "at"),
        Index("ix_report_attempts_at", "at"),
    )
    id: Mapped[uuid.UUID] = id_column()
    ip: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(10))  # created | dropped (honeypot)
    at: Mapped[datetime]
