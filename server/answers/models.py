"""One standard reply (话术) per row: company-wide (``estate_id`` NULL) or for one estate."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class AnswerCategory(enum.StrEnum):
    fees = "fees"  # 物业费
    parking = "parking"  # 停车
    renovation = "renovation"  # 装修
    outage = "outage"  # 停水停电、电梯停运
    pets = "pets"  # 宠物
    noise = "noise"  # 噪音
    parcels = "parcels"  # 快递
    access_cards = "access_cards"  # 门禁卡、人脸
    greeting = "greeting"  # 标准问候语、结束语
    repair = "repair"  # 报修
    security = "security"  # 安全
    other = "other"


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (
        # A starter entry is loaded once per company; a NULL key (hand-written entries) never collides.
        UniqueConstraint("company_id", "starter_key"),
        Index("ix_answers_company_category", "company_id", "category"),
    )
    id: Mapped[uuid.UUID] = id_column()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id"))
    estate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("estates.id"), index=True)
    category: Mapped[AnswerCategory] = mapped_column(Enum(AnswerCategory, native_enum=False, length=20))
    question: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(300), default="")
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    starter_key: Mapped[str | None] = mapped_column(String(40))
