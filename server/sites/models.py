"""Where the work happens. Owners are households' contacts, not accounts."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class Company(Base):
    __tablename__ = "companies"
    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(100))


class Estate(Base):
    """项目 / 小区: one residential community; ``code`` prefixes order numbers (CH-20261122-0042)."""

    __tablename__ = "estates"
    id: Mapped[uuid.UUID] = id_column()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(8), unique=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    hotline: Mapped[str] = mapped_column(String(30), default="", server_default="")  # 物业服务中心电话
    #: The period the response-speed target (服务响应速度提升50%) is measured against, China-time days
    #: [from, to] inclusive; set by the estate's supervisor (server/reports). None until set.
    response_baseline_from: Mapped[date | None] = mapped_column(Date)
    response_baseline_to: Mapped[date | None] = mapped_column(Date)


class Grid(Base):
    """网格: 350–400 households looked after by one steward (a gold steward may own several)."""

    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("estate_id", "name"),)
    id: Mapped[uuid.UUID] = id_column()
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    #: Mixed into the poster token (server.progress.tokens); a new key voids every printed poster.
    #: Empty until the first rotation (the tokens of posters printed before keys existed).
    poster_key: Mapped[str] = mapped_column(String(32), default="", server_default="")


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("estate_id", "name"),)
    id: Mapped[uuid.UUID] = id_column()
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"), index=True)
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grids.id"), index=True)
    name: Mapped[str] = mapped_column(String(20))


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("building_id", "name"),)
    id: Mapped[uuid.UUID] = id_column()
    building_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("buildings.id"), index=True)
    name: Mapped[str] = mapped_column(String(20))


class Household(Base):
    """户: one flat. ``grid_id`` and ``estate_id`` are copied from the building for scope queries."""

    __tablename__ = "households"
    __table_args__ = (
        UniqueConstraint("unit_id", "room"),
        Index("ix_households_owner_phone", "owner_phone"),
    )
    id: Mapped[uuid.UUID] = id_column()
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grids.id"), index=True)
    estate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("estates.id"), index=True)
    room: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(60))
    owner_name: Mapped[str] = mapped_column(String(50), default="")
    owner_phone: Mapped[str] = mapped_column(String(20), default="")
    #: 已入住: someone lives there (sold and moved in) — the 业主月度互动率 denominator.
    occupied: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: 常住户: lived in most of the year (not a holiday flat or let by the week) — the 便民服务覆盖率
    #: denominator. A flat that is not occupied is never resident (the import refuses the pair).
    resident: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
