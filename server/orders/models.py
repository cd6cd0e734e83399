from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class Kind(enum.StrEnum):
    inquiry = "inquiry"  # 咨询
    complaint = "complaint"  # 投诉
    repair = "repair"  # 报修
    convenience = "convenience"  # 便民
    emergency = "emergency"  # 紧急
    callback = "callback"  # 回访


class Channel(enum.StrEnum):
    phone = "phone"
    walk_in = "walk_in"
    steward = "steward"
    qr = "qr"
    group_chat = "group_chat"


class Category(enum.StrEnum):
    water_electric = "water_electric"
    lift = "lift"
    cleaning = "cleaning"
    security = "security"
    noise = "noise"
    fees = "fees"
    parking = "parking"
    landscaping = "landscaping"
    renovation = "renovation"
    facilities = "facilities"
    other = "other"


class Status(enum.StrEnum):
    new = "new"
    dispatched = "dispatched"
    accepted = "accepted"
    en_route = "en_route"
    on_site = "on_site"
    paused = "paused"
    completed = "completed"
    rated = "rated"
    called_back = "called_back"
    closed = "closed"
    cancelled = "cancelled"


class RatingLevel(enum.StrEnum):
    very_satisfied = "very_satisfied"  # 非常满意
    satisfied = "satisfied"  # 满意
    neutral = "neutral"  # 一般
    unsatisfied = "unsatisfied"  # 不满意


def _enum(e: type[enum.Enum], length: int = 20):
    from sqlalchemy import Enum

    return Enum(e, native_enum=False, length=length)


KPI_INDEX_COLUMNS = (
    "estate_id",
    "created_at",
    "kind",
    "category",
    "status",
    "grid_id",
    "department",
    "accepted_at",
    "completed_at",
    "repeat_of_id",
    "contact_late",
    "resolve_late",
    "due_at",
    "id",
)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        # The KPI index: every column the KPI queries read, after the (estate, created) range they
        # filter on, so an estate-month is answered from the index alone (no row lookups; orders rows
        # are wide). It also serves every other estate/created range query.
        Index("ix_orders_kpi", *KPI_INDEX_COLUMNS),
        Index("ix_orders_assignee_status", "assignee_id", "status"),
        Index("ix_orders_due", "status", "due_at"),
        Index("ix_orders_household_kind_cat", "household_id", "kind", "category", "created_at"),
    )
    id: Mapped[uuid.UUID] = id_column()
    number: Mapped[str] = mapped_column(String(24), unique=True)
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"))
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("grids.id"), index=True)
    household_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("households.id"))
    kind: Mapped[Kind] = mapped_column(_enum(Kind))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    category: Mapped[Category] = mapped_column(_enum(Category))
    priority: Mapped[str] = mapped_column(String(10), default="normal")  # normal | urgent
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(100), default="")  # public areas: 3栋电梯厅
    reporter_name: Mapped[str] = mapped_column(String(50), default="")
    reporter_phone: Mapped[str] = mapped_column(String(20), default="")
    internal_note: Mapped[str] = mapped_column(Text, default="")  # staff only, never on the owner page
    status: Mapped[Status] = mapped_column(_enum(Status))
    status_before_pause: Mapped[Status | None] = mapped_column(_enum(Status))
    pause_reason: Mapped[str | None] = mapped_column(String(20))
    paused_at: Mapped[datetime | None]
    department: Mapped[str] = mapped_column(String(20))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    eta: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    last_update_at: Mapped[datetime | None]  # last progress visible to the owner (event or step)
    # SLA deadlines on server time; None when the stage does not apply or is done.
    contact_due_at: Mapped[datetime | None]
    update_due_at: Mapped[datetime | None]
    resolve_due_at: Mapped[datetime | None]
    callback_due_at: Mapped[datetime | None]
    # 未联系上: when to try the callback again (the worklist's order; callback_due_at stays the KPI's).
    callback_retry_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]  # earliest pending deadline, indexed for the SLA scanner
    # Facts for KPIs, fixed when the stage is met: was first contact / resolution late?
    contact_late: Mapped[bool | None]
    resolve_late: Mapped[bool | None]
    due_stage: Mapped[str | None] = mapped_column(String(10))
    stage_started_at: Mapped[datetime | None]
    completion_no: Mapped[int] = mapped_column(Integer, default=0)  # bumps on reopen
    repeat_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"))
    follow_up_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"), index=True)
    finding_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    rework_of_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # 返修 of this order (回访 不满意)
    chain_length: Mapped[int] = mapped_column(Integer, default=0)
    chain_head: Mapped[str] = mapped_column(String(64), default="")


class ChainedRecord:
    """Columns of every timeline record: its place and hash in the order's evidence chain."""

    chain_index: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OrderEvent(ChainedRecord, Base):
    """A state transition (or other recorded act) on an order: who, when (server and device), from where."""

    __tablename__ = "order_events"
    __table_args__ = (UniqueConstraint("order_id", "chain_index"), Index("ix_order_events_order", "order_id"))
    id: Mapped[uuid.UUID] = id_column()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    actor_kind: Mapped[str] = mapped_column(String(10))  # staff | owner | system
    source: Mapped[str] = mapped_column(String(10))  # http | sync | system | owner
    server_time: Mapped[datetime]  # when the server received it (evidence)
    client_time: Mapped[datetime | None]  # the device's raw time for it (evidence)
    effective_at: Mapped[datetime | None]  # when it counts: timelines, SLA, KPIs (server/clock.py); always set
    clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger)
    skew_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Step(ChainedRecord, Base):
    """处理步骤: append-only; photos are sha256 references that may arrive later."""

    __tablename__ = "order_steps"
    __table_args__ = (UniqueConstraint("order_id", "position"), UniqueConstraint("order_id", "chain_index"))
    id: Mapped[uuid.UUID] = id_column()
    # Indexed by the unique constraints above, which begin with it (migration 0009).
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    position: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    gps: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    captured_at: Mapped[datetime]  # the device's raw time (evidence)
    received_at: Mapped[datetime]
    effective_at: Mapped[datetime | None]  # when it counts (server/clock.py); always set
    clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger)
    skew_flag: Mapped[bool] = mapped_column(Boolean, default=False)


class Rating(ChainedRecord, Base):
    __tablename__ = "order_ratings"
    __table_args__ = (
        UniqueConstraint("order_id", "completion_no"),
        UniqueConstraint("order_id", "chain_index"),
        Index("ix_order_ratings_kpi", "estate_id", "order_created_at", "level"),
        # 业主月度互动率 counts the ratings *given* in a month (server/orders/kpi.py).
        Index("ix_order_ratings_given", "estate_id", "created_at"),
    )
    id: Mapped[uuid.UUID] = id_column()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    completion_no: Mapped[int] = mapped_column(Integer)
    level: Mapped[RatingLevel] = mapped_column(_enum(RatingLevel))
    comment: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10))  # owner | staff
    created_at: Mapped[datetime]
    follow_up_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"))
    # Copies of the rated order's estate and creation time (neither ever changes), so the satisfaction
    # KPI of an estate and period reads one index range instead of probing ratings order by order.
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"))
    order_created_at: Mapped[datetime]


class Callback(ChainedRecord, Base):
    """回访: a staff call to the owner after completion, with its result."""

    __tablename__ = "order_callbacks"
    __table_args__ = (
        UniqueConstraint("order_id", "chain_index"),
        Index("ix_order_callbacks_created", "created_at"),  # the callbacks of a month (互动率)
    )
    id: Mapped[uuid.UUID] = id_column()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    result: Mapped[str] = mapped_column(String(20))  # reached_satisfied | reached_unsatisfied | unreachable
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class SlaPolicy(Base):
    """Per-estate SLA minutes by kind; missing rows fall back to the defaults in sla.py."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("estate_id", "kind"),)
    id: Mapped[uuid.UUID] = id_column()
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"))
    kind: Mapped[Kind] = mapped_column(_enum(Kind))
    contact_minutes: Mapped[int | None] = mapped_column(Integer)
    update_minutes: Mapped[int | None] = mapped_column(Integer)
    resolve_minutes: Mapped[int | None] = mapped_column(Integer)
    callback_minutes: Mapped[int | None] = mapped_column(Integer)


class SlaAlert(Base):
    """One row per (order, stage, deadline, level): the unique key makes escalation idempotent."""

    __tablename__ = "sla_alerts"
    __table_args__ = (UniqueConstraint("order_id", "stage", "due_at", "level"),)
    id: Mapped[uuid.UUID] = id_column()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime]
    level: Mapped[str] = mapped_column(String(12))  # near | breach | escalated
    created_at: Mapped[datetime]


class OrderCounter(Base):
    """Per estate and day counter for human-friendly numbers (CH-20261122-0042)."""

    __tablename__ = "order_counters"
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class RoutingRule(Base):
    """Who handles a category in an estate: a department queue, or one person (a steward, a team
    lead). Categories without a row use ``DEPARTMENT_OF_CATEGORY`` (server/orders/routing.py)."""

    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("estate_id", "category"),)
    id: Mapped[uuid.UUID] = id_column()
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"))
    category: Mapped[Category] = mapped_column(_enum(Category))
    department: Mapped[str | None] = mapped_column(String(20))
    handler_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
