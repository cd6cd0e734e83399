"""Reading and keeping the answer library.

Who sees what: every staff member of the company reads the company-wide entries and those of their
own estate (admin: every entry of the company). Who writes: an admin anything in the company; a
supervisor the entries of their own estate. Company-wide entries are the company's standard (同问同答
across estates), so a supervisor who needs a local variant copies it into the estate library.

Only ``approved`` rows are the library. The desk proposes entries and edits (``propose``); a supervisor
of the proposal's estate, or an admin, approves or rejects them with a reason (``review``). An approved
edit is written onto the entry it replaces where the reviewer may write it; a supervisor approving an
edit of a company-wide entry makes it the estate's local variant instead (the company standard stays).

Search is a substring match (Chinese has no word breaks, so a substring is the honest unit) over the
question, keywords and answer; every whitespace-separated term must match somewhere, and entries
whose question matches rank first, then keyword matches, then answer-only matches.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Role
from server.accounts.scope import MANAGERS, Actor
from server.answers import matching
from server.answers.models import Answer, AnswerCategory, AnswerStatus
from server.errors import Conflict, DomainError, Forbidden, NotFound
from server.ids import uuid7
from server.sites.models import Estate

MAX_TERMS = 5
# Who answers owners' questions and so may propose a better answer (technicians and cleaners do not).
PROPOSERS = (Role.front_desk, Role.team_lead, Role.steward, Role.supervisor)


# The library reads in the scenes' order (接待用语, 物业费, 停车 …), not the codes' alphabet.
SCENE_ORDER = case({c.value: i for i, c in enumerate(AnswerCategory)}, value=Answer.category, else_=len(AnswerCategory))


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
    stmt = select(Answer).where(_visible(actor), Answer.active.is_(True), Answer.status == AnswerStatus.approved)
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
    stmt = stmt.order_by(Answer.estate_id.is_(None), SCENE_ORDER, Answer.question).limit(limit)
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
    """A library entry (approved) the actor may read; proposals are reached through ``proposal``."""
    row = await session.scalar(
        select(Answer).where(Answer.id == answer_id, _visible(actor), Answer.status == AnswerStatus.approved)
    )
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


async def _add(session: AsyncSession, actor: Actor, fields: AnswerFields, *, now: datetime, **extra) -> Answer:
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
        review_note="",
        **extra,
    )
    session.add(row)
    await session.flush()
    return row


async def create(session: AsyncSession, actor: Actor, fields: AnswerFields, *, now: datetime) -> Answer:
    fields = _clean(actor, fields)
    await _check_target(session, actor, fields.estate_id)
    return await _add(session, actor, fields, now=now, status=AnswerStatus.approved)


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


def _in_review_scope(actor: Actor):
    """Proposals a manager reviews: admin the company's, a supervisor their estate's."""
    mine = Answer.company_id == actor.company_id
    return mine if actor.role is Role.admin else and_(mine, Answer.estate_id == actor.estate_id)


async def propose(
    session: AsyncSession, actor: Actor, fields: AnswerFields, *, replaces: uuid.UUID | None, now: datetime
) -> Answer:
    """The desk's proposal of a new entry, or of an edit of ``replaces``; not served until approved."""
    actor.require_role(*PROPOSERS)
    if actor.estate_id is None:
        raise Forbidden(
            "proposals come from an estate's staff; an admin edits the library directly", code="proposal_needs_estate"
        )
    if replaces is not None:
        await get(session, actor, replaces)  # an entry the proposer reads (another estate's: 404)
    fields = _clean(actor, fields)
    fields.estate_id, fields.active = actor.estate_id, True  # reviewed by this estate's supervisor
    return await _add(
        session, actor, fields, now=now, status=AnswerStatus.proposed, proposed_by=actor.staff_id, replaces_id=replaces
    )


async def proposals(
    session: AsyncSession, actor: Actor, *, status: AnswerStatus | None = None, limit: int = 100
) -> list[Answer]:
    """Managers: the proposals they review (waiting ones first). Everyone else: their own, newest first."""
    stmt = select(Answer).where(Answer.proposed_by.is_not(None))
    if actor.role in MANAGERS:
        stmt = stmt.where(_in_review_scope(actor))
    else:
        stmt = stmt.where(Answer.company_id == actor.company_id, Answer.proposed_by == actor.staff_id)
    if status is not None:
        stmt = stmt.where(Answer.status == status)
    waiting_first = case((Answer.status == AnswerStatus.proposed, 0), else_=1)
    stmt = stmt.order_by(waiting_first, Answer.updated_at.desc(), Answer.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


async def proposal(session: AsyncSession, actor: Actor, answer_id: uuid.UUID) -> Answer:
    """A proposal the actor reviews (404 outside their scope, and for a row that is no proposal)."""
    actor.require_role(*MANAGERS)
    row = await session.scalar(
        select(Answer).where(Answer.id == answer_id, Answer.proposed_by.is_not(None), _in_review_scope(actor))
    )
    if row is None:
        raise NotFound("proposal")
    return row


def _still_waiting(row: Answer) -> None:
    if row.status is not AnswerStatus.proposed:
        raise Conflict("proposal_reviewed", "this proposal was already reviewed")


async def approve(session: AsyncSession, actor: Actor, answer_id: uuid.UUID, *, now: datetime) -> Answer:
    """Serve the proposal: a new entry becomes one; an edit is applied onto the entry it replaces."""
    row = await proposal(session, actor, answer_id)
    _still_waiting(row)
    row.reviewed_by, row.reviewed_at = actor.staff_id, now
    target = None
    if row.replaces_id is not None:
        target = await session.scalar(
            select(Answer).where(Answer.id == row.replaces_id, Answer.status == AnswerStatus.approved)
        )
        if target is None or not target.active:
            raise Conflict("proposal_target_gone", "the entry this edit was proposed for was deleted")
    if target is not None and (target.estate_id is not None or actor.role is Role.admin):
        target.category, target.question, target.answer, target.keywords = (
            row.category,
            row.question,
            row.answer,
            row.keywords,
        )
        target.updated_by, target.updated_at = row.proposed_by, now
        row.status = AnswerStatus.applied
    else:
        # A new entry, or a supervisor's approval of an edit of the company standard: the estate's variant.
        row.status = AnswerStatus.approved
        row.updated_at = now
    await session.flush()
    return row


async def reject(session: AsyncSession, actor: Actor, answer_id: uuid.UUID, reason: str, *, now: datetime) -> Answer:
    row = await proposal(session, actor, answer_id)
    _still_waiting(row)
    if not reason.strip():
        raise DomainError("reason_required", "say why the proposal is rejected", status=422)
    row.status, row.review_note, row.reviewed_by, row.reviewed_at = (
        AnswerStatus.rejected,
        reason.strip(),
        actor.staff_id,
        now,
    )
    await session.flush()
    return row


async def suggest(session: AsyncSession, actor: Actor, text: str, *, limit: int = 5) -> list[tuple[Answer, float]]:
    """The served entries that best fit what the desk typed (matching.py), best first.

    The whole readable library is ranked in memory: a few hundred short rows per company, read by
    one indexed query; an estate's variant precedes the company entry on equal scores.
    """
    stmt = (
        select(Answer)
        .where(_visible(actor), Answer.active.is_(True), Answer.status == AnswerStatus.approved)
        .order_by(Answer.estate_id.is_(None), SCENE_ORDER, Answer.question)
    )
    rows = list((await session.scalars(stmt)).all())
    by_id = {a.id: a for a in rows}
    docs = [_doc(a) for a in rows]
    return [(by_id[key], score) for key, score in matching.rank(text, docs, limit=limit)]  # type: ignore[index]


# Splitting an entry into bigrams costs ten times the ranking: keep each entry's, per text of it
# (keyed by the text itself, so an edit is never ranked by its old words, whatever the clock says).
_DOCS: dict[tuple[uuid.UUID, str, str, str], matching.Doc] = {}
MAX_CACHED = 20_000


def _doc(a: Answer) -> matching.Doc:
    key = (a.id, a.question, a.keywords, a.answer)
    doc = _DOCS.get(key)
    if doc is None:
        if len(_DOCS) >= MAX_CACHED:
            _DOCS.clear()
        doc = _DOCS[key] = matching.Doc.of(a.id, a.question, a.keywords, a.answer)
    return doc
