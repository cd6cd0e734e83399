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
from server.answers.models import Answer, AnswerCategory
from server.answers.schemas import AnswerIn, AnswerOut
from server.web.context import AppContext


async def _render(session: AsyncSession, rows: list[tuple[Answer, str | None]]) -> list[AnswerOut]:
    editors = {a.updated_by for a, _ in rows if a.updated_by is not None}
    names = (
        dict((await session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(editors)))).all())
        if editors
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
            matched_in=where,
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


answers_router = Router(
    path="/api/answers",
    route_handlers=[search_answers, get_answer, create_answer, update_answer, delete_answer],
    tags=["answers"],
)
