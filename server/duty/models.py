"""Office hours, the roster (值班表) and the pages that walk an after-hours order down it."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class OfficeHours(Base):
    """When the office is staffed (China time). Without a row an estate has no after-hours duty."""

    __tablename__ = "office_hours"
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"), primary_key=True)
    opens: Mapped[str] = mapped_column(String(5))  # "08:30"
    closes: Mapped[str] = mapped_column(String(5))  # "17:30"
    workdays: Mapped[str] = mapped_column(String(7))  # ISO weekdays open, "12345" = Monday to Friday
    accept_minutes: Mapped[int] = mapped_column(Integer)  # then the next on the roster
    updated_at: Mapped[datetime]


class DutyShift(Base):
    """One person on duty for one date and shift, at a position in the order they are called."""

    __tablename__ = "duty_shifts"
    __table_args__ = (UniqueConstraint("estate_id", "duty_date", "shift", "position"),)
    id: Mapped[uuid.UUID] = id_column()
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"))
    duty_date: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(10))  # day (a rest day's office hours) | night
    position: Mapped[int] = mapped_column(Integer)  # 1 is called first
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))


class DutyPage(Base):
    """An after-hours order offered to one person on the roster (attempt 1, 2, …), or to the team
    leads once the roster is exhausted (``staff_id`` None). The unique attempt per order is the claim:
    of several scanners, one records the next step."""

    __tablename__ = "duty_pages"
    __table_args__ = (UniqueConstraint("order_id", "attempt"), Index("ix_duty_pages_open_due", "closed_at", "due_at"))
    id: Mapped[uuid.UUID] = id_column()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    duty_date: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(10))
    offered_at: Mapped[datetime]
    due_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))  # accepted | passed_on | handled | exhausted
