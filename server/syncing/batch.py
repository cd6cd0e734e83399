"""The unit of work of one push batch: what batch-aware mutation handlers write, collected and written
together, plus the caches they share.

A hundred ``step.add`` through the ORM cost a hundred flushes, a hundred change-log inserts and a few
hundred lookups of the same order. A batch-aware handler instead appends its rows here
(:meth:`PushBatch.insert`, :meth:`PushBatch.record`) and keeps what it looked up in
:attr:`PushBatch.cache`; :meth:`PushBatch.flush` writes the rows with one ``executemany`` per table.

When rows are written (see ``SqlPushStore.optimistic`` and ``savepoint``): at the end of the
optimistic pass and of every savepoint the engine opens, so they are always inside it and roll back
with it; and before any handler that is *not* batch-aware runs (``server/syncing/mutations.py``
wraps those), so such a handler reads the tables exactly as if every earlier mutation had written
directly. On a rollback the pending rows and the caches are dropped (:meth:`discard`): the ORM
expires what the rollback touched, so cached objects are stale.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from server.db.bulk import insert_rows
from server.syncing import changelog
from server.syncing.models import SyncChange

Hook = Callable[[], Awaitable[None]]
_KEY = "wuye_push_batch"


class PushBatch:
    @staticmethod
    def of(session: AsyncSession) -> PushBatch:
        """The batch of this session's transaction (the store and the handlers share it)."""
        batch = session.info.get(_KEY)
        if batch is None:
            batch = session.info[_KEY] = PushBatch(session)
        return batch

    def __init__(self, session: AsyncSession):
        self.session = session
        #: Lookups shared by the handlers of this batch, by domain (e.g. ``"steps"``). Dropped on
        #: rollback and after a handler that is not batch-aware (it may have changed what they hold).
        self.cache: dict[str, Any] = {}
        self._rows: dict[Table, list[dict[str, Any]]] = {}
        # (audience, table, record, op) -> row. A record changed twice in a batch needs one change row:
        # pull serves a record's current state at its latest change, so the earlier rows only cost
        # inserts. Re-inserting a key moves it to the end, so the order of the last changes stays.
        self._changes: dict[tuple[str, str, uuid.UUID, str], None] = {}
        self._hooks: dict[Hashable, Hook] = {}

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """A row to insert at the next flush (Core: no ORM object, no identity map entry)."""
        self._rows.setdefault(table, []).append(row)

    def record(self, table: str, record_ids: Iterable[uuid.UUID], audiences: Iterable[str], op: str = "upsert") -> None:
        """Like :func:`server.syncing.changelog.record`, written at the next flush. A tuple of
        ``audiences`` is taken as sorted and unique already (``publish_batched`` passes one)."""
        targets = audiences if isinstance(audiences, tuple) else sorted(set(audiences))
        for rid in record_ids:
            for audience in targets:
                key = (audience, table, rid, op)
                self._changes.pop(key, None)
                self._changes[key] = None

    def on_flush(self, key: Hashable, hook: Hook) -> None:
        """Run ``hook`` once at the next flush, after the rows (the same key again replaces it)."""
        self._hooks.pop(key, None)
        self._hooks[key] = hook

    @property
    def pending(self) -> bool:
        return bool(self._rows or self._changes or self._hooks)

    async def flush(self) -> None:
        """Write everything pending: the ORM's changes (the cached orders), then the rows, then the
        change log, then the hooks."""
        await self.session.flush()
        if not self.pending:
            return
        rows, changes, hooks = self._rows, self._changes, self._hooks
        self._rows, self._changes, self._hooks = {}, {}, {}
        for table, values in rows.items():
            await insert_rows(self.session, table, values)
        if changes:
            version = await changelog.transaction_version(self.session)
            changelog.note(self.session, {audience for audience, _t, _r, _o in changes})
            await insert_rows(
                self.session,
                SyncChange.__table__,
                [
                    {"version": version, "audience": audience, "table": table, "record_id": rid, "op": op}
                    for audience, table, rid, op in changes
                ],
            )
        for hook in hooks.values():
            await hook()

    def forget(self) -> None:
        """Drop the caches (the pending rows stay)."""
        self.cache.clear()

    def discard(self) -> None:
        """Drop the pending rows and the caches: the savepoint they belonged to rolled back."""
        self._rows.clear()
        self._changes.clear()
        self._hooks.clear()
        self.cache.clear()


@event.listens_for(Session, "after_transaction_end")
def _end(session: Session, transaction: SessionTransaction) -> None:
    # A batch belongs to one database transaction; whatever it still holds must not leak into the
    # next. Savepoints end too (``after_commit`` fires on their release): those are not the end.
    if transaction.parent is None:
        batch = session.info.pop(_KEY, None)
        if batch is not None:
            batch.discard()
