"""The standard answer library (话术库) as data: ``library.zh-CN.json`` beside this file holds the
scenes and the entries every new company gets, company-wide (同问同答 across its estates).

The file is what a supervisor or the company edits between releases; this module only reads it and
checks it (a broken file fails at import, in the tests, not on a customer's first day).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.answers.models import Answer, AnswerCategory, AnswerStatus
from server.ids import uuid7

LIBRARY = Path(__file__).with_name("library.zh-CN.json")


class Scene(msgspec.Struct, frozen=True):
    key: AnswerCategory
    label: str
    source: str


class Entry(msgspec.Struct, frozen=True):
    key: str
    scene: AnswerCategory
    question: str
    answer: str
    keywords: list[str]


class Library(msgspec.Struct, frozen=True):
    about: str
    scenes: list[Scene]
    entries: list[Entry]


@cache
def library(path: Path = LIBRARY) -> Library:
    """The parsed file; keys and questions unique, every entry in a listed scene."""
    lib = msgspec.json.decode(path.read_bytes(), type=Library)
    scenes = {s.key for s in lib.scenes}
    seen_keys: set[str] = set()
    seen_questions: set[str] = set()
    for e in lib.entries:
        problems = [
            e.key in seen_keys and "duplicate key",
            e.question in seen_questions and "duplicate question",
            e.scene not in scenes and "scene not listed",
            not (0 < len(e.key) <= 40) and "key length",
            not (0 < len(e.question) <= 200) and "question length",
            len(keywords_of(e)) > 300 and "keywords too long",
        ]
        if any(problems):
            raise ValueError(f"{path.name}: {e.key}: {', '.join(p for p in problems if p)}")
        seen_keys.add(e.key)
        seen_questions.add(e.question)
    return lib


def keywords_of(entry: Entry) -> str:
    return " ".join(entry.keywords)


async def load_library(session: AsyncSession, company_id: uuid.UUID, *, now: datetime | None = None) -> int:
    """Add the library entries this company does not have yet, company-wide; returns how many were added.

    Idempotent: entries are matched by their stable key, so a second run adds nothing, and an entry
    a supervisor edited or deleted is neither duplicated nor restored. The caller commits.
    """
    now = now or datetime.now(UTC)
    have = set(
        (
            await session.scalars(
                select(Answer.starter_key).where(Answer.company_id == company_id, Answer.starter_key.is_not(None))
            )
        ).all()
    )
    rows = [
        Answer(
            id=uuid7(),
            company_id=company_id,
            estate_id=None,
            category=e.scene,
            question=e.question,
            answer=e.answer,
            keywords=keywords_of(e),
            updated_by=None,
            updated_at=now,
            active=True,
            starter_key=e.key,
            status=AnswerStatus.approved,
            review_note="",
        )
        for e in library().entries
        if e.key not in have
    ]
    session.add_all(rows)
    await session.flush()
    return len(rows)
