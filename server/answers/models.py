"""One standard reply (话术) per row: company-wide (``estate_id`` NULL) or for one estate.

A row is also how a change reaches the library: the desk *proposes* an entry (or an edit of one,
``replaces_id``) and a supervisor approves or rejects it. Only ``approved`` rows are served as
standard answers; ``applied`` is an approved edit that was written onto the entry it replaces (kept
as the record of who proposed what), ``rejected`` carries the reviewer's reason.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, id_column


class AnswerCategory(enum.StrEnum):
    """The scenes of the source documents (library.zh-CN.json says which document each comes from)."""

    greeting = "greeting"  # 接待用语
    fees = "fees"  # 物业费
    parking = "parking"  # 停车
    renovation = "renovation"  # 装修
    public_area = "public_area"  # 公共区域
    repair = "repair"  # 报修
    emergency = "emergency"  # 紧急
    complaint = "complaint"  # 投诉
    convenience = "convenience"  # 便民
    security = "security"  # 安全
    callback = "callback"  # 回访
    other = "other"


class AnswerStatus(enum.StrEnum):
    approved = "approved"  # served
    proposed = "proposed"  # waiting for a supervisor
    applied = "applied"  # an approved edit, written onto the entry it replaces
    rejected = "rejected"


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (
        # A starter entry is loaded once per company; a NULL key (hand-written entries) never collides.
        UniqueConstraint("company_id", "starter_key"),
        Index("ix_answers_company_category", "company_id", "category"),
        Index("ix_answers_company_status", "company_id", "status"),
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
    status: Mapped[AnswerStatus] = mapped_column(
        Enum(AnswerStatus, native_enum=False, length=20), default=AnswerStatus.approved
    )
    proposed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"), index=True)
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("answers.id"))
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str] = mapped_column(Text, default="")
