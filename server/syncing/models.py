"""Sync bookkeeping tables.

``sync_clock`` is a single row. Every transaction that records changes first bumps it with
``UPDATE … SET version = version + 1``; the row lock is held to commit, so change rows are inserted
by one transaction at a time and their ids become visible strictly in id order. That makes
``sync_changes.id`` a safe pull cursor on SQLite and PostgreSQL alike (a bare sequence or a
timestamp is not: a lower number can commit after a higher one).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


class SyncClock(Base):
    __tablename__ = "sync_clock"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    # Changes below this id were pruned; a cursor older than it must reset.
    horizon: Mapped[int] = mapped_column(BigInteger, default=0)
    # Changes when the database is replaced, so cursors from the old one reset.
    epoch: Mapped[str] = mapped_column(String(16))


class SyncChange(Base):
    """One change of one record, addressed to one audience (``staff:<id>``, ``grid:<id>``,
    ``estate:<id>``, ``dept:<estate>:<department>``)."""

    __tablename__ = "sync_changes"
    __table_args__ = (Index("ix_sync_changes_audience_id", "audience", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(BigInteger)
    audience: Mapped[str] = mapped_column(String(80))
    table: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[uuid.UUID]
    op: Mapped[str] = mapped_column(String(8))  # upsert | delete | leave


class SyncDevice(Base):
    """A device installation (``client_id``) and the last mutation seq applied for it."""

    __tablename__ = "sync_devices"
    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"), index=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    clock_offset_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seen_at: Mapped[datetime]


class SyncReceipt(Base):
    """What happened to each mutation: lets a resend be acknowledged instead of re-applied."""

    __tablename__ = "sync_receipts"
    # At most one *original* receipt per mutation id (a resend under another seq adds a non-original).
    __table_args__ = (
        Index(
            "uq_sync_receipts_original_mutation",
            "mutation_id",
            unique=True,
            sqlite_where=text("original"),
            postgresql_where=text("original"),
        ),
    )
    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mutation_id: Mapped[uuid.UUID]
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))
    code: Mapped[str | None] = mapped_column(String(50))
    message: Mapped[str | None] = mapped_column(Text)
    original: Mapped[bool] = mapped_column(Boolean, default=True)
    applied_at: Mapped[datetime]
