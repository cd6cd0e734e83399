"""Dependencies every route may ask for by name: ``ctx``, ``db`` (read), ``tx`` (write), ``actor``.

Sessions are not committed implicitly: a route that changes data calls ``await tx.commit()`` before
it answers, so the answer is only sent after the commit is durable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.accounts.service import authenticate
from server.errors import Unauthorized
from server.web.context import AppContext


def provide_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


async def provide_db(ctx: NamedDependency[AppContext]) -> AsyncIterator[AsyncSession]:
    async with ctx.db.reader() as session:
        yield session


async def provide_tx(ctx: NamedDependency[AppContext]) -> AsyncIterator[AsyncSession]:
    async with ctx.db.writer() as session:
        yield session


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("sign in required (Authorization: Bearer <token>)")
    return token.strip()


async def provide_actor(request: Request, ctx: NamedDependency[AppContext]) -> Actor:
    token = bearer_token(request)
    async with ctx.db.reader() as session, ctx.db.short_reads():  # one indexed query, on the loop
        return await authenticate(session, token, ctx.clock)


DEPENDENCIES = {
    "ctx": Provide(provide_ctx, sync_to_thread=False),
    "db": Provide(provide_db),
    "tx": Provide(provide_tx),
    "actor": Provide(provide_actor),
}
