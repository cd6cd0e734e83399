"""Walk-abouts (巡查): routes of checkpoints per grid, a steward's walks, her checkpoint visits and
findings. Visits and findings are append-only; photos are sha256 references like repair steps."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class WalkRoute(Base):
    """A named round through a grid (日常巡查), holding ordered checkpoints."""

    __tablename__ = "walk_routes"
    id: Mapped[uuid.UUID] = id_column()
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"))
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grids.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime]


class Checkpoint(Base):
    """巡检点: a place with a printed QR label (``code``), a checklist and an expected frequency."""

    __tablename__ = "walk_checkpoints"
    id: Mapped[uuid.UUID] = id_column()
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"))
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grids.id"), index=True)
    route_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("walk_routes.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    location: Mapped[str] = mapped_column(String(100), default="")
    code: Mapped[str] = mapped_column(String(10), unique=True)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{key, label}]
    checklist_type: Mapped[str] = mapped_column(String(12))  # standard | renovation
    frequency: Mapped[dict[str, Any]] = mapped_column(JSON)  # {kind, hours | by_hour | weekday}
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Walk(Base):
    """One walk-about by one staff member in one grid: started and ended on the device."""

    __tablename__ = "walks"
    __table_args__ = (Index("ix_walks_steward_started", "steward_id", "started_at"),)
    id: Mapped[uuid.UUID] = id_column()
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"))
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grids.id"), index=True)
    steward_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[str] = mapped_column(String(10))  # active | ended
    started_at: Mapped[datetime]  # device time
    ended_at: Mapped[datetime | None]  # device time
    received_at: Mapped[datetime]  # server time of walk.start
    ended_received_at: Mapped[datetime | None]
    clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger)
    skew_flag: Mapped[bool] = mapped_column(Boolean, default=False)


class CheckpointVisit(Base):
    """A checkpoint visited on a walk, with the checklist answers (append-only)."""

    __tablename__ = "walk_visits"
    __table_args__ = (Index("ix_walk_visits_checkpoint_counted", "checkpoint_id", "counted_at"),)
    id: Mapped[uuid.UUID] = id_column()
    walk_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("walks.id"), index=True)
    checkpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("walk_checkpoints.id"))
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"))
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grids.id"))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    method: Mapped[str] = mapped_column(String(10))  # scan | manual
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{item, ok, note, photos}]
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    visited_at: Mapped[datetime]  # device time, as sent
    received_at: Mapped[datetime]  # server time
    counted_at: Mapped[datetime]  # the time coverage uses (see coverage.py)
    clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger)
    skew_flag: Mapped[bool] = mapped_column(Boolean, default=False)


class Finding(Base):
    """发现问题: something noticed on (or off) a walk; may be raised as a work order in one tap."""

    __tablename__ = "walk_findings"
    __table_args__ = (Index("ix_walk_findings_author_received", "author_id", "received_at"),)
    id: Mapped[uuid.UUID] = id_column()
    walk_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("walks.id"), index=True)
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"))
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grids.id"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    category: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    location: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    captured_at: Mapped[datetime]
    received_at: Mapped[datetime]
    clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger)
    skew_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"), unique=True)
