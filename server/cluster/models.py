"""Shared keys and job leases (migration 0016)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


class ServerKey(Base):
    """A key every node must use alike (the token secret, the VAPID key pair): written once, by the
    first node that starts, and read by every node after that."""

    __tablename__ = "server_keys"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class JobLease(Base):
    """Which node runs a background job until when. A node that dies holding it loses it when
    ``until`` passes; nothing needs to release it."""

    __tablename__ = "job_leases"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    until: Mapped[datetime]
