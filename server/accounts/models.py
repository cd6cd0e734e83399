from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class Role(enum.StrEnum):
    admin = "admin"
    supervisor = "supervisor"  # 客服主管
    team_lead = "team_lead"  # 组长
    front_desk = "front_desk"  # 前台
    steward = "steward"  # 管家
    technician = "technician"  # 维修工


class Department(enum.StrEnum):
    service = "service"
    engineering = "engineering"
    cleaning = "cleaning"
    security = "security"
    landscaping = "landscaping"


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[uuid.UUID] = id_column()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"), index=True)
    # None for company-wide accounts (admin); everyone else works in one estate.
    estate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("estates.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    department: Mapped[Department] = mapped_column(Enum(Department, native_enum=False, length=20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    gold: Mapped[bool] = mapped_column(Boolean, default=False)  # 金牌管家
    created_at: Mapped[datetime]


class StaffGrid(Base):
    """The grids a steward owns."""

    __tablename__ = "staff_grids"
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grids.id"), primary_key=True, index=True)


class AuthToken(Base):
    """An opaque bearer token; only its sha256 is stored."""

    __tablename__ = "auth_tokens"
    id: Mapped[uuid.UUID] = id_column()
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    device_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """Failed password checks (sign-in and the old password of a change), counted over a window per
    (phone, source), per IP and per phone for throttling (``throttle.py``). ``source`` is
    ``ip:<address>``, or ``device:<sha256>`` for a device that has signed in to that account before."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_phone_at", "phone", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
        Index("ix_login_attempts_phone_source_at", "phone", "source", "at"),
    )
    id: Mapped[uuid.UUID] = id_column()
    phone: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(80), default="", server_default="")
    at: Mapped[datetime]


class KnownDevice(Base):
    """A browser (its ``wuye_device`` cookie, hashed) that has signed in to this account: the per-phone
    ceiling slows it but does not lock it out, so strangers guessing a public phone number cannot
    keep the account's owner out."""

    __tablename__ = "known_devices"
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    device_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_login_at: Mapped[datetime]
