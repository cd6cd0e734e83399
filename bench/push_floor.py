"""The floor under (b): SQLite alone writing exactly the rows the server wrote for those pushes.

(a) inserts narrow rows into a table with one index; a ``step.add`` push writes more than that (each
step, one change-log row per audience of its order, one receipt per mutation, the touched orders, the
device and the version clock) into tables with several indexes. To tell how much of a push's time
is the database and how much is Python, this replays the pushes (b) made, row for row, with raw
``sqlite3`` on a copy of the bench database: the rows are read back, deleted, checkpointed, and
written again in the same order, one durable transaction per push, as the server does, with none of
the server's work (HTTP, decoding, validation, the ORM, value conversion). Rows are read as stored,
so nothing is converted.

A push is recognised by its ``now``: every step of one push has the same ``received_at`` and every
receipt the same ``applied_at``, and its change rows share the transaction's ``version``.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Push:
    steps: list[tuple]
    changes: list[tuple]
    receipts: list[tuple]
    orders: list[str]
    client_id: str
    last_seq: int


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def _insert(table: str, columns: list[str]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" for _ in columns)})'


def _pushes(conn: sqlite3.Connection, authors: list[str], size: int) -> list[Push]:
    """The pushes of exactly ``size`` steps by ``authors`` (stored ids), oldest first (the warm-up
    batches are smaller; other figures' steps have other authors)."""
    out = []
    marks = ", ".join("?" for _ in authors)
    times = conn.execute(
        f"SELECT received_at FROM order_steps WHERE author_id IN ({marks})"
        " GROUP BY received_at HAVING count(*) = ? ORDER BY received_at",
        (*authors, size),
    ).fetchall()
    for (now,) in times:
        steps = conn.execute("SELECT * FROM order_steps WHERE received_at = ? ORDER BY rowid", (now,)).fetchall()
        versions = conn.execute(
            "SELECT DISTINCT version FROM sync_changes WHERE \"table\" = 'steps' AND record_id = ?", (steps[0][0],)
        ).fetchall()
        receipts = conn.execute("SELECT * FROM sync_receipts WHERE applied_at = ? ORDER BY seq", (now,)).fetchall()
        if len(versions) != 1 or len(receipts) != size:
            raise RuntimeError(f"cannot tell the push at {now} apart from others")
        changes = conn.execute("SELECT * FROM sync_changes WHERE version = ? ORDER BY id", versions[0]).fetchall()
        orders = sorted({row[1] for row in steps})
        out.append(Push(steps, changes, receipts, orders, receipts[0][0], receipts[-1][1]))
    return out


def replay_rate(live_db: Path, work_dir: Path, authors: list[str], size: int = 100) -> tuple[float, int, float]:
    """Mutations/s of the replay of the ``size``-step pushes of ``authors`` (staff ids as SQLite stores
    them: 32 hex digits), the pushes replayed, and the mean rows written per push."""
    copy = work_dir / "floor.sqlite3"
    source = sqlite3.connect(live_db)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    conn = sqlite3.connect(copy, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL"):
            conn.execute(f"PRAGMA {pragma}")
        pushes = _pushes(conn, authors, size)
        if not pushes:
            raise RuntimeError("no push of that size in the database")
        sql = {t: _insert(t, _columns(conn, t)) for t in ("order_steps", "sync_changes", "sync_receipts")}
        conn.execute("BEGIN IMMEDIATE")
        for push in pushes:
            conn.executemany("DELETE FROM sync_changes WHERE id = ?", [(row[0],) for row in push.changes])
            conn.executemany(
                "DELETE FROM sync_receipts WHERE client_id = ? AND seq = ?", [r[:2] for r in push.receipts]
            )
            conn.executemany("DELETE FROM order_steps WHERE id = ?", [(row[0],) for row in push.steps])
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        t0 = time.perf_counter()
        for push in pushes:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE sync_clock SET version = version + 1 WHERE id = 1")
            conn.executemany(sql["order_steps"], push.steps)
            conn.executemany(sql["sync_changes"], push.changes)
            conn.executemany(sql["sync_receipts"], push.receipts)
            conn.executemany(
                "UPDATE orders SET updated_at = updated_at, chain_length = chain_length WHERE id = ?",
                [(o,) for o in push.orders],
            )
            conn.execute("UPDATE sync_devices SET last_seq = ? WHERE client_id = ?", (push.last_seq, push.client_id))
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - t0
    finally:
        conn.close()
    rows = sum(len(p.steps) + len(p.changes) + len(p.receipts) + len(p.orders) + 2 for p in pushes) / len(pushes)
    return len(pushes) * size / elapsed, len(pushes), rows
