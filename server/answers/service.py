"""Reading and keeping the answer library.

Who sees what: every staff member of the company reads the company-wide entries and those of their
own estate (admin: every entry of the company). Who writes: an admin anything in the company; a
supervisor the entries of their own estate. Company-wide entries are the company's standard (同问同答
across estates), so a supervisor who needs a local variant copies it into the estate library.

Search is a substring match (Chinese has no word breaks, so a substring is the honest unit) over the
question, keywords and answer; every whitespace-separated term must match somewhere, and entries
whose question matches rank first, then keyword matches, then answer-only matches.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import String, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Role
from server.accounts.scope import MANAGERS, Actor
from server.answers.models import Answer, AnswerCategory
from server.answers.starter import STARTER
from server.errors import Forbidden, NotFound
from server.ids import uuid7
from server.sites.models import Estate

MAX_TERMS = 5


@dataclass
class AnswerFields:
    category: AnswerCategory
    question: str
    answer: str
    keywords: str = ""
    estate_id: uuid.UUID | None = None
    active: bool = True


def _visible(actor: Actor):
    mine = Answer.company_id == actor.company_id
    if actor.role is Role.admin:
        return mine
    if actor.estate_id is None:
        return and_(mine, Answer.estate_id.is_(None))
    return and_(mine, or_(Answer.estate_id.is_(None), Answer.estate_id == actor.estate_id))


def terms_of(q: str | None) -> list[str]:
    """The search terms: whitespace-separated (full-width spaces too), lower-cased, at most five."""
    if not q:
        return []
    return [t.lower() for t in q.replace("\u3000", " ").split()][:MAX_TERMS]


async def search(
    session: AsyncSession,
    actor: Actor,
    *,
    q: str | None = None,
    category: AnswerCategory | None = None,
    limit: int = 50,
) -> list[tuple[Answer, str | None]]:
    """Active entries the actor may read, best first, each with where ``q`` matched (None without ``q``)."""
    stmt = select(Answer).where(_visible(actor), Answer.active.is_(True))
    if category is not None:
        stmt = stmt.where(Answer.category == category)
    terms = terms_of(q)
    question, keywords, answer = (
        func.lower(c, type_=String()) for c in (Answer.question, Answer.keywords, Answer.answer)
    )
    rank = None
    if terms:
        for term in terms:
            stmt = stmt.where(
                or_(
                    question.contains(term, autoescape=True),
                    keywords.contains(term, autoescape=True),
                    answer.contains(term, autoescape=True),
                )
            )
        in_question = and_(*[question.contains(t, autoescape=True) for t in terms])
        any_question = or_(*[question.contains(t, autoescape=True) for t in terms])
        any_keyword = or_(*[keywords.contains(t, autoescape=True) for t in terms])
        rank = case((in_question, 0), (any_question, 1), (any_keyword, 2), else_=3)
        stmt = stmt.order_by(rank)
    # An estate's own entry before the company-wide one on the same footing: it is the local variant.
    stmt = stmt.order_by(Answer.estate_id.is_(None), Answer.category, Answer.question).limit(limit)
    rows = list((await session.scalars(stmt)).all())
    return [(a, _matched_in(a, terms)) for a in rows]


def _matched_in(a: Answer, terms: list[str]) -> str | None:
    if not terms:
        return None
    if any(t in a.question.lower() for t in terms):
        return "question"
    if any(t in a.keywords.lower() for t in terms):
        return "keywords"
    return "answer"


async def get(session: AsyncSession, actor: Actor, answer_id: uuid.UUID) -> Answer:
    row = await session.scalar(select(Answer).where(Answer.id == answer_id, _visible(actor)))
    if row is None:
        raise NotFound("answer")
    return row


async def _check_target(session: AsyncSession, actor: Actor, estate_id: uuid.UUID | None) -> None:
    """May the actor write an entry for this estate (None: company-wide)?"""
    actor.require_role(*MANAGERS)
    if estate_id is None:
        if actor.role is not Role.admin:
            raise Forbidden(
                "company-wide answers are kept by the company admin; add one for your estate instead",
                code="company_wide_admin_only",
            )
        return
    await guard.in_scope(session, actor, Estate, estate_id)


def _clean(actor: Actor, fields: AnswerFields) -> AnswerFields:
    keywords = " ".join(fields.keywords.replace("\u3000", " ").replace(",", " ").replace("，", " ").split())
    # A supervisor only keeps their estate's library: "no estate" from them means their estate.
    estate_id = actor.estate_id if fields.estate_id is None and actor.role is Role.supervisor else fields.estate_id
    return AnswerFields(
        category=fields.category,
        question=fields.question.strip(),
        answer=fields.answer.strip(),
        keywords=keywords,
        estate_id=estate_id,
        active=fields.active,
    )


async def create(session: AsyncSession, actor: Actor, fields: AnswerFields, *, now: datetime) -> Answer:
    fields = _clean(actor, fields)
    await _check_target(session, actor, fields.estate_id)
    row = Answer(
        id=uuid7(),
        company_id=actor.company_id,
        estate_id=fields.estate_id,
        category=fields.category,
        question=fields.question,
        answer=fields.answer,
        keywords=fields.keywords,
        updated_by=actor.staff_id,
        updated_at=now,
        active=fields.active,
        starter_key=None,
    )
    session.add(row)
    await session.flush()
    return row


async def update(
    session: AsyncSession, actor: Actor, answer_id: uuid.UUID, fields: AnswerFields, *, now: datetime
) -> Answer:
    actor.require_role(*MANAGERS)
    row = await get(session, actor, answer_id)
    await _check_target(session, actor, row.estate_id)  # may they touch the entry where it is…
    fields = _clean(actor, fields)
    await _check_target(session, actor, fields.estate_id)  # …and put it where it goes?
    row.category, row.question, row.answer, row.keywords = (
        fields.category,
        fields.question,
        fields.answer,
        fields.keywords,
    )
    row.estate_id, row.active, row.updated_by, row.updated_at = fields.estate_id, fields.active, actor.staff_id, now
    await session.flush()
    return row


async def retire(session: AsyncSession, actor: Actor, answer_id: uuid.UUID, *, now: datetime) -> None:
    """Delete = deactivate: the entry leaves every search, and reloading the starter set keeps it gone."""
    actor.require_role(*MANAGERS)
    row = await get(session, actor, answer_id)
    await _check_target(session, actor, row.estate_id)
    row.active, row.updated_by, row.updated_at = False, actor.staff_id, now
    await session.flush()


async def load_starter(session: AsyncSession, company_id: uuid.UUID, *, now: datetime | None = None) -> int:
    """Add the starter entries this company does not have yet, company-wide; returns how many were added.

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
            category=s.category,
            question=s.question,
            answer=s.answer,
            keywords=s.keywords,
            updated_by=None,
            updated_at=now,
            active=True,
            starter_key=s.key,
        )
        for s in STARTER
        if s.key not in have
    ]
    session.add_all(rows)
    await session.flush()
    return len(rows)
