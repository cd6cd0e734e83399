"""The answer library over HTTP (thin: parse, authorise, call, render)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Router, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Staff
from server.accounts.scope import Actor
from server.answers import service
from server.answers.models import Answer, AnswerCategory, AnswerStatus
from server.answers.schemas import AnswerIn, AnswerOut, ProposalIn, RejectIn
from server.web.context import AppContext


async def _render(
    session: AsyncSession, rows: list[tuple[Answer, str | None]], scores: dict[uuid.UUID, float] | None = None
) -> list[AnswerOut]:
    people = {p for a, _ in rows for p in (a.updated_by, a.proposed_by, a.reviewed_by) if p is not None}
    names = (
        dict((await session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(people)))).all()) if people else {}
    )
    replaced = {a.replaces_id for a, _ in rows if a.replaces_id is not None}
    questions = (
        dict((await session.execute(select(Answer.id, Answer.question).where(Answer.id.in_(replaced)))).all())
        if replaced
        else {}
    )
    return [
        AnswerOut(
            id=a.id,
            estate_id=a.estate_id,
            category=a.category,
            question=a.question,
            answer=a.answer,
            keywords=a.keywords,
            updated_by=a.updated_by,
            updated_by_name=names.get(a.updated_by, ""),
            updated_at=a.updated_at,
            active=a.active,
            starter=a.starter_key is not None,
            status=a.status,
            matched_in=where,
            score=(scores or {}).get(a.id),
            proposed_by_name=names.get(a.proposed_by, ""),
            replaces_id=a.replaces_id,
            replaces_question=questions.get(a.replaces_id, ""),
            reviewed_by_name=names.get(a.reviewed_by, ""),
            reviewed_at=a.reviewed_at,
            review_note=a.review_note,
        )
        for a, where in rows
    ]


def _fields(data: AnswerIn) -> service.AnswerFields:
    return service.AnswerFields(
        category=data.category,
        question=data.question,
        answer=data.answer,
        keywords=data.keywords,
        estate_id=data.estate_id,
        active=data.active,
    )


@get("/")
async def search_answers(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    category: Annotated[AnswerCategory | None, QueryParameter()] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
) -> list[AnswerOut]:
    return await _render(db, await service.search(db, actor, q=q, category=category, limit=limit))


@get("/{answer_id:uuid}")
async def get_answer(
    answer_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]
) -> AnswerOut:
    [out] = await _render(db, [(await service.get(db, actor, answer_id), None)])
    return out


@post("/")
async def create_answer(
    data: JSONBody[AnswerIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> AnswerOut:
    row = await service.create(tx, actor, _fields(data), now=ctx.clock.now())
    await tx.commit()
    [out] = await _render(tx, [(row, None)])
    return out


@put("/{answer_id:uuid}")
async def update_answer(
    answer_id: FromPath[uuid.UUID],
    data: JSONBody[AnswerIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> AnswerOut:
    row = await service.update(tx, actor, answer_id, _fields(data), now=ctx.clock.now())
    await tx.commit()
    [out] = await _render(tx, [(row, None)])
    return out


@delete("/{answer_id:uuid}")
async def delete_answer(
    answer_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> None:
    await service.retire(tx, actor, answer_id, now=ctx.clock.now())
    await tx.commit()


@get("/suggest")
async def suggest_answers(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    q: Annotated[str, QueryParameter(max_length=500)] = "",
    limit: Annotated[int, QueryParameter(ge=1, le=20)] = 5,
) -> list[AnswerOut]:
    """The served entries that fit what the desk is typing (``q``: the problem as typed so far)."""
    found = await service.suggest(db, actor, q, limit=limit)
    return await _render(db, [(a, None) for a, _ in found], {a.id: s for a, s in found})


@get("/proposals")
async def list_proposals(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    status: Annotated[AnswerStatus | None, QueryParameter()] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> list[AnswerOut]:
    """Managers: the proposals they review. Everyone else: their own, with the review's outcome."""
    rows = await service.proposals(db, actor, status=status, limit=limit)
    return await _render(db, [(a, None) for a in rows])


@post("/proposals")
async def propose_answer(
    data: JSONBody[ProposalIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> AnswerOut:
    fields = service.AnswerFields(
        category=data.category, question=data.question, answer=data.answer, keywords=data.keywords
    )
    row = await service.propose(tx, actor, fields, replaces=data.replaces_id, now=ctx.clock.now())
    await tx.commit()
    [out] = await _render(tx, [(row, None)])
    return out


@post("/proposals/{answer_id:uuid}/approve")
async def approve_proposal(
    answer_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> AnswerOut:
    row = await service.approve(tx, actor, answer_id, now=ctx.clock.now())
    await tx.commit()
    [out] = await _render(tx, [(row, None)])
    return out


@post("/proposals/{answer_id:uuid}/reject")
async def reject_proposal(
    answer_id: FromPath[uuid.UUID],
    data: JSONBody[RejectIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> AnswerOut:
    row = await service.reject(tx, actor, answer_id, data.reason, now=ctx.clock.now())
    await tx.commit()
    [out] = await _render(tx, [(row, None)])
    return out


answers_router = Router(
    path="/api/answers",
    route_handlers=[
        search_answers,
        suggest_answers,
        list_proposals,
        propose_answer,
        approve_proposal,
        reject_proposal,
        get_answer,
        create_answer,
        update_answer,
        delete_answer,
    ],
    tags=["answers"],
)
