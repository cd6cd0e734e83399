"""Keys that every node must share, kept in the database rather than on a node's disk.

Precedence for each key: the environment (``WUYE_SECRET``, ``WUYE_VAPID_PRIVATE_KEY``) when set;
else the row in ``server_keys``; else the first node to start writes its candidate there: the key it
already had on its disk (an install that grows from one node to several keeps its tokens, printed
poster codes and push subscriptions) or a fresh one. Every other node then reads that row.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.cluster.models import ServerKey
from server.db.engine import Database
from server.push.delivery import PushSender
from server.push.vapid import VapidKeys
from server.web.context import AppContext


async def shared(db: Database, name: str, candidate: str, now) -> str:
    """The value of ``name`` for every node: ``candidate`` if no node had written one yet."""
    insert = sqlite_insert if db.is_sqlite else pg_insert
    async with db.writer() as session:
        await session.execute(
            insert(ServerKey)
            .values(name=name, value=candidate, created_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        value = (await session.execute(select(ServerKey.value).where(ServerKey.name == name))).scalar_one()
        await session.commit()
    return value


async def adopt_shared_keys(ctx: AppContext) -> None:
    """Replace this node's own keys by the shared ones (called at start-up, before any request)."""
    settings, now = ctx.settings, ctx.clock.now()
    if not settings.secret_from_env:
        secret = await shared(ctx.db, "secret", settings.secret, now)
        if secret != settings.secret:
            ctx.settings = settings.with_(secret=secret)
    if not settings.vapid_private_key:
        mine: VapidKeys = ctx.services["vapid"]
        pem = await shared(ctx.db, "vapid_private_pem", mine.private_pem.decode(), now)
        if pem != mine.private_pem.decode():
            vapid = VapidKeys.from_private_pem(pem.encode())
            old: PushSender = ctx.services["push_sender"]
            ctx.services["vapid"] = vapid
            ctx.services["push_sender"] = PushSender(vapid, contact=old.contact, transport=old.transport)
