from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from server.answers.models import AnswerCategory, AnswerStatus
from server.wire import Out, Wire

Question = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
Reply = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]
Keywords = Annotated[str, msgspec.Meta(max_length=300)]


class AnswerIn(Wire):
    """The whole editable entry (PUT replaces it). ``estate_id`` None: company-wide when an admin
    sends it, the supervisor's own estate when a supervisor does."""

    category: AnswerCategory
    question: Question
    answer: Reply
    keywords: Keywords = ""
    estate_id: uuid.UUID | None = None
    active: bool = True


class ProposalIn(Wire):
    """The desk's proposal: a new entry, or (``replaces_id``) a better version of an existing one."""

    category: AnswerCategory
    question: Question
    answer: Reply
    keywords: Keywords = ""
    replaces_id: uuid.UUID | None = None


class RejectIn(Wire):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]


class AnswerOut(Out):
    id: uuid.UUID
    estate_id: uuid.UUID | None
    category: AnswerCategory
    question: str
    answer: str
    keywords: str
    updated_by: uuid.UUID | None
    updated_by_name: str
    updated_at: datetime
    active: bool
    starter: bool
    status: AnswerStatus = AnswerStatus.approved
    matched_in: str | None = None  # question | keywords | answer, when searched with q
    score: float | None = None  # when suggested
    # Proposals only:
    proposed_by_name: str = ""
    replaces_id: uuid.UUID | None = None
    replaces_question: str = ""
    reviewed_by_name: str = ""
    reviewed_at: datetime | None = None
    review_note: str = ""
