"""Recording changes for pull. Domain services call :func:`record` after they change a syncable
record, naming the audiences that may see it; :func:`record_leave` when a record leaves one."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import bindparam, delete, event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from server.syncing.models import SyncChange, SyncClock

_VERSION_KEY = "wuye_sync_version"
NOTED = "wuye_sync_audiences"  # audiences given a change in this transaction (server/syncing/live.py)


def note(session, audiences) -> None:
    """These audiences get a change in this transaction: open device streams hear of it at commit."""
    session.info.setdefault(NOTED, set()).update(audiences)


def staff_audience(staff_id: uuid.UUID) -> str:
    return f"staff:{staff_id}"


def grid_audience(grid_id: uuid.UUID) -> str:
    return f"grid:{grid_id}"


def estate_audience(estate_id: uuid.UUID) -> str:
    return f"estate:{estate_id}"


def dept_audience(estate_id: uuid.UUID, department: str) -> str:
    return f"dept:{estate_id}:{department}"


# Core, on the table: as an ORM-enabled UPDATE it went through the session's bulk-update machinery
# (evaluating the WHERE against the identity map to synchronise loaded objects), ~0.5 ms a push.
_CLOCK = SyncClock.__table__
_BUMP = update(_CLOCK).where(_CLOCK.c.id == 1).values(version=_CLOCK.c.version + 1).returning(_CLOCK.c.version)


async def transaction_version(session: AsyncSession) -> int:
    """Bump the clock once per transaction (taking its row lock until commit) and return the version.

    Call it before any savepoint: a lock taken inside a savepoint that rolls back is released.
    """
    info = session.info
    if _VERSION_KEY in info:
        return info[_VERSION_KEY]
    connection = await session.connection()
    version = (await connection.execute(_BUMP)).scalar_one()
    info[_VERSION_KEY] = version
    return version


@event.listens_for(Session, "after_rollback")
def _forget_version(session: Session) -> None:
    # The next transaction on this session must take its own version (and the clock lock again); so
    # must the rest of this one after a rolled-back savepoint, which may have undone the bump.
    session.info.pop(_VERSION_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_version_at_end(session: Session, transaction: SessionTransaction) -> None:
    # ``after_commit`` also fires when a savepoint is released; the bump (and its lock) stays then.
    if transaction.parent is None:
        session.info.pop(_VERSION_KEY, None)


async def record(
    session: AsyncSession, table: str, record_ids: Iterable[uuid.UUID], audiences: Iterable[str], op: str = "upsert"
) -> None:
    ids = list(record_ids)
    targets = sorted(set(audiences))
    if not ids or not targets:
        return
    version = await transaction_version(session)
    note(session, targets)
    await session.execute(
        insert(SyncChange),
        [
            {"version": version, "audience": a, "table": table, "record_id": rid, "op": op}
            for rid in ids
            for a in targets
        ],
    )


async def record_leave(session: AsyncSession, table: str, record_id: uuid.UUID, audiences: Iterable[str]) -> None:
    await record(session, table, [record_id], audiences, op="leave")


_AUDIENCES = select(SyncChange.audience).distinct()
_ROWS_OF = (
    select(SyncChange.id, SyncChange.table, SyncChange.record_id)
    .where(SyncChange.audience == bindparam("audience"), SyncChange.id <= bindparam("top"))
    .order_by(SyncChange.id.desc())
)
_DROP = delete(SyncChange).where(SyncChange.id.in_(bindparam("ids", expanding=True)))
_DROP_CHUNK = 500


async def compact(session: AsyncSession, keep_recent: int) -> int:
    """Drop change rows that a newer row for the same audience and record supersedes (pull serves a
    record's current state, so only its latest change matters), sparing the newest ``keep_recent``
    rows. The latest change of every record stays, so a device at any cursor — or a fresh one —
    still receives everything: no reset is needed. Returns rows dropped.

    Each audience's rows are read newest first through the ``(audience, id)`` index that pulls use;
    a record seen already has a newer row. (An index on the record would make this one query, but
    every change row written paid for it.)"""
    connection = await session.connection()
    top = await session.scalar(select(func.max(SyncChange.id))) or 0
    cutoff = top - keep_recent
    if cutoff <= 0:
        return 0
    dropped = 0
    for (audience,) in (await connection.execute(_AUDIENCES)).all():
        seen: set[tuple[str, uuid.UUID]] = set()
        superseded = []
        for change_id, table, record_id in await connection.execute(_ROWS_OF, {"audience": audience, "top": top}):
            key = (table, record_id)
            if key not in seen:
                seen.add(key)
            elif change_id <= cutoff:
                superseded.append(change_id)
        for start in range(0, len(superseded), _DROP_CHUNK):
            await connection.execute(_DROP, {"ids": superseded[start : start + _DROP_CHUNK]})
        dropped += len(superseded)
    return dropped
