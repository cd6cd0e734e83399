"""Reading the change log for one pull page: the rows of the caller's audiences above a cursor.

The log is indexed on ``(audience, id)``. ``WHERE audience IN (…) ORDER BY id LIMIT n`` cannot use
that index for the order: SQLite reads every row of those audiences above the cursor and sorts them
in a temporary B-tree, so a device pulling 100,000 rows in pages of 1,000 reads ~5 million rows.
Instead each audience gets its own ``WHERE audience = ? AND id > ? ORDER BY id LIMIT n`` (an index
range read in order, at most ``n`` rows), and the union is merged by id: the first ``n`` rows of the
union are the first ``n`` of the whole log, since each of them is among the first ``n`` of its own
audience. SQLite merges the branches; PostgreSQL uses a Merge Append.

Only the four columns a page needs are read, as plain rows (no ORM objects).
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

from sqlalchemy import Select, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from server.syncing.models import SyncChange


class LogRow(NamedTuple):
    id: int
    table: str
    record_id: uuid.UUID
    op: str


_PEEK = 50
_COLUMNS = (SyncChange.id, SyncChange.table, SyncChange.record_id, SyncChange.op)


def log_query(audiences: list[str], after: int, n: int) -> Select:
    """The first ``n`` change rows above ``after`` addressed to any of ``audiences``, by id."""
    branches = [
        select(*_COLUMNS).where(SyncChange.audience == a, SyncChange.id > after).order_by(SyncChange.id).limit(n)
        for a in dict.fromkeys(audiences)  # an audience named twice would duplicate its rows
    ]
    if len(branches) == 1:
        return branches[0]
    merged = union_all(*(select(*b.subquery().c) for b in branches)).subquery()
    return select(*merged.c).order_by(merged.c.id).limit(n)


async def latest_changes(
    session: AsyncSession, audiences: list[str], after: int, limit: int, chunk: int | None = None
) -> list[LogRow]:
    """``limit`` distinct records (or fewer, at the end of the log), each at its latest change below
    the first change of the record that would be one too many, so a page never skips an older change
    of a later record. Sorted by id. The log is read ``chunk`` rows at a time (``limit`` by default:
    one query when every row is another record; a record announced to several of the caller's
    audiences has several rows, and a record changed twice has two)."""
    if not audiences:
        return []
    conn = await session.connection()  # Core rows: the ORM result machinery is not needed here
    latest: dict[tuple[str, uuid.UUID], LogRow] = {}
    cursor = after
    n = chunk or limit
    while True:
        rows = (await conn.execute(log_query(audiences, cursor, n))).all()
        for row in rows:
            key = (row[1], row[2])
            if key not in latest and len(latest) == limit:
                return sorted(latest.values())
            latest[key] = LogRow(*row)
        if len(rows) < n:
            return sorted(latest.values())
        cursor = rows[-1][0]
        # Usually the page is full and this read only finds where the next record begins.
        n = chunk or max(limit - len(latest), _PEEK)
