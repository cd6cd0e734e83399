"""The SQLite driver connection (server/db/sqlite_connection.py): what runs on the loop, what waits."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from sqlalchemy import text

from server.db.engine import Database

pytestmark = pytest.mark.anyio


def other_process_writer(path, value: int, held: threading.Event, release: threading.Event) -> None:
    """Another process's writer (its own sqlite3 connection): holds the write lock until released."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(f"INSERT INTO t VALUES ({value})")
    held.set()
    release.wait(10)
    conn.execute("COMMIT")
    conn.close()


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_a_reader_begins_and_reads_while_another_process_holds_the_write_lock(tmp_path):
    """A deferred BEGIN runs on the loop, the read in a thread: neither waits for a writer."""
    path = tmp_path / "db.sqlite3"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.writer() as s:
        await s.execute(text("CREATE TABLE t (x INTEGER)"))
        await s.execute(text("INSERT INTO t VALUES (1)"))
        await s.commit()

    held, release = threading.Event(), threading.Event()
    thread = threading.Thread(target=other_process_writer, args=(path, 2, held, release))
    thread.start()
    try:
        assert await asyncio.to_thread(held.wait, 10)

        async def read() -> list[int]:
            async with db.reader() as s:
                return list((await s.execute(text("SELECT x FROM t"))).scalars().all())

        # The other writer commits only when told: a reader that waited for it would time out.
        assert await asyncio.wait_for(read(), 5) == [1]
    finally:
        release.set()
        await asyncio.to_thread(thread.join)
        await db.dispose()
    async with db.reader() as s:
        assert (await s.execute(text("SELECT count(*) FROM t"))).scalar() == 2
    await db.dispose()


async def test_a_writer_waits_for_another_process_in_a_thread_and_the_loop_goes_on(tmp_path):
    """BEGIN IMMEDIATE is tried on the loop without waiting; only while another process holds the
    write lock does it wait, in a thread, with the configured busy timeout."""
    path = tmp_path / "db.sqlite3"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.writer() as s:  # began on the loop (nobody else writes)
        await s.execute(text("CREATE TABLE t (x INTEGER)"))
        await s.commit()

    held, release = threading.Event(), threading.Event()

    async def write() -> int:
        async with db.writer() as s:
            await s.execute(text("INSERT INTO t VALUES (2)"))
            timeout = (await s.execute(text("PRAGMA busy_timeout"))).scalar()
            await s.commit()
            return timeout

    thread = threading.Thread(target=other_process_writer, args=(path, 1, held, release))
    thread.start()
    try:
        assert await asyncio.to_thread(held.wait, 10)
        writer = asyncio.ensure_future(write())
        await asyncio.sleep(0.3)  # the loop is free while the writer waits for the other process
        assert not writer.done()
        release.set()
        assert await asyncio.wait_for(writer, 10) == 30_000  # the busy timeout is back after the try
    finally:
        release.set()
        await asyncio.to_thread(thread.join)
    async with db.reader() as s:
        assert (await s.execute(text("SELECT x FROM t ORDER BY x"))).scalars().all() == [1, 2]
    async with db.writer() as s:
        assert (await s.execute(text("PRAGMA busy_timeout"))).scalar() == 30_000
        await s.rollback()
    await db.dispose()
