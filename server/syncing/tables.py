"""Which tables phones replicate and how a record is rendered for pull. Each domain provides a
``<table>: async (session, ids) -> list[dict]`` loader; a record that no longer exists is sent as a
tombstone."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.syncing.models import SyncChange
from sync.protocol import Change

Loader = Callable[[AsyncSession, list[uuid.UUID]], Awaitable[list[dict[str, Any]]]]
# Re-checks scope at read time: (session, actor, table, records) -> ids the actor may still see.
# The change log says who was in the audience when the change happened; this says who is now.
ScopeCheck = Callable[[AsyncSession, Actor, str, list[dict[str, Any]]], Awaitable[set[str]]]

# module path → attribute holding a {table: loader} dict
DOMAIN_TABLES = ("server.orders.sync_tables", "server.notifications.sync_tables", "server.walks.sync_tables")
_loaders: dict[str, Loader] = {}
_checks: dict[str, ScopeCheck] = {}


def loaders() -> dict[str, Loader]:
    if not _loaders:
        for module in DOMAIN_TABLES:
            mod = importlib.import_module(module)
            _loaders.update(mod.SYNC_TABLES)
            _checks.update({table: mod.visible for table in mod.SYNC_TABLES})
    return _loaders


async def hydrate(session: AsyncSession, rows: list[SyncChange], actor: Actor) -> list[Change]:
    # Upsert and leave rows only say "this record changed for this audience": what the device gets is
    # decided now, by the record's current state and the actor's current scope (visible → upsert,
    # not visible → leave, gone → delete). So a stale audience can never leak a record.
    by_table: dict[str, list[uuid.UUID]] = {}
    for row in rows:
        if row.op != "delete":
            by_table.setdefault(row.table, []).append(row.record_id)
    data: dict[tuple[str, str], dict[str, Any]] = {}
    for table, ids in by_table.items():
        load = loaders().get(table)
        if load is None:
            raise LookupError(f"no sync loader for table {table!r}")
        records = await load(session, ids)
        allowed = await _checks[table](session, actor, table, records)
        for record in records:
            data[(table, record["id"])] = record if record["id"] in allowed else None
    out = []
    for row in rows:
        rid = str(row.record_id)
        if row.op != "delete":
            key = (row.table, rid)
            if key not in data:
                out.append(Change(table=row.table, id=rid, op="delete", version=row.id))
            elif data[key] is None:
                out.append(Change(table=row.table, id=rid, op="leave", version=row.id))
            else:
                out.append(Change(table=row.table, id=rid, op="upsert", version=row.id, data=data[key]))
        else:
            out.append(Change(table=row.table, id=rid, op="delete", version=row.id))
    return out
