from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from server.answers.models import AnswerCategory
from server.wire import Out, Wire


class AnswerIn(Wire):
    """The whole editable entry (PUT replaces it). ``estate_id`` None: company-wide when an admin
    sends it, the supervisor's own estate when a supervisor does."""

    category: AnswerCategory
    question: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    answer: Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]
    keywords: Annotated[str, msgspec.Meta(max_length=300)] = ""
    estate_id: uuid.UUID | None = None
    active: bool = True


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
    matched_in: str | None = None  # question | keywords | answer, when searched with q
