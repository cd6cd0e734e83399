from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Integer, Select, String, bindparam, select
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


class Blob(Base):
    """A photo that arrived complete and verified (content-addressed: the sha256 is the name)."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime]


class PhotoRef(Base):
    """A record that references a photo: ``(sha256, record_table, record_id)``.

    Written by database triggers (migration 0008) whenever a step, finding or checkpoint visit is
    inserted or its photos change, so no code path can forget it. When a photo arrives, the records
    to send again (their "uploading" badge clears) are one index lookup instead of a scan of every
    step's JSON, which used to cost ~100 ms per photo with 100,000 steps while holding the write
    lock. Rows are never deleted: a stale reference only re-sends a record that no longer needs it.
    """

    __tablename__ = "photo_refs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_table: Mapped[str] = mapped_column(String(30), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


def photo_refs(record_table: str) -> Select[tuple[uuid.UUID]]:
    """The ids of the ``record_table`` records that reference the photo bound as ``sha`` (for ``IN``;
    callers build their statement once and run it with ``{"sha": …}``)."""
    return select(PhotoRef.record_id).where(PhotoRef.sha256 == bindparam("sha"), PhotoRef.record_table == record_table)


def photo_refs_any(record_table: str) -> Select[tuple[uuid.UUID]]:
    """:func:`photo_refs` for several photos at once, bound as the list ``shas``."""
    return select(PhotoRef.record_id).where(
        PhotoRef.sha256.in_(bindparam("shas", expanding=True)), PhotoRef.record_table == record_table
    )
