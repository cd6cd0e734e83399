"""The SQLite driver connection (server/db/sqlite_connection.py): what runs on the loop, what waits."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from sqlalchemy import event, text

from server.db import engine
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


def thread_ids(db: Database) -> None:
    """Every connection of ``db`` gets ``thread_id()``: the thread that runs the statement."""

    @event.listens_for(db.engine.sync_engine, "connect")
    def _register(dbapi_connection, _record):
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)


async def test_short_reads_run_on_the_loop_and_other_reads_in_a_thread(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    thread_ids(db)
    loop_thread = threading.get_ident()
    try:
        async with db.reader() as s:
            assert (await s.execute(text("SELECT thread_id()"))).scalar() != loop_thread
        async with db.reader() as s, db.short_reads():
            assert (await s.execute(text("SELECT thread_id()"))).scalar() == loop_thread
        async with db.reader() as s:  # the block is over: back to a thread
            assert (await s.execute(text("SELECT thread_id()"))).scalar() != loop_thread
    finally:
        await db.dispose()


def exclusive_writer(path, held: threading.Event, release: threading.Event) -> None:
    """A writer in rollback-journal mode holding an EXCLUSIVE lock: nobody else may even read."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("INSERT INTO t VALUES (2)")
    held.set()
    release.wait(10)
    conn.execute("COMMIT")
    conn.close()


async def test_a_short_read_that_would_wait_waits_in_a_thread_and_the_loop_goes_on(tmp_path, monkeypatch):
    """In WAL mode (the server's) a read practically never waits; in rollback-journal mode, a
    writer's EXCLUSIVE lock makes every read wait, which stages the rare case for real."""
    monkeypatch.setattr(engine, "SQLITE_PRAGMAS", tuple(p for p in engine.SQLITE_PRAGMAS if "journal_mode" not in p))
    path = tmp_path / "db.sqlite3"
    db = Database(f"sqlite+aiosqlite:///{path}")
    thread_ids(db)
    async with db.writer() as s:
        await s.execute(text("CREATE TABLE t (x INTEGER)"))
        await s.execute(text("INSERT INTO t VALUES (1)"))
        await s.commit()
    assert (await count_and_thread(db))[0] == 1  # the pool's connection exists before the lock

    held, release = threading.Event(), threading.Event()
    thread = threading.Thread(target=exclusive_writer, args=(path, held, release))
    thread.start()
    try:
        assert await asyncio.to_thread(held.wait, 10)
        reader = asyncio.ensure_future(count_and_thread(db))
        await asyncio.sleep(0.3)  # the loop is free while the read waits, in a thread
        assert not reader.done()
        release.set()
        n, ran_in, busy_ms = await asyncio.wait_for(reader, 10)
        assert (n, busy_ms) == (2, 30_000)  # the writer's row; the busy timeout is back after the try
        assert ran_in != threading.get_ident()
        assert (await count_and_thread(db))[1] == threading.get_ident()  # unlocked: on the loop again
    finally:
        release.set()
        await asyncio.to_thread(thread.join)
        await db.dispose()


async def count_and_thread(db: Database) -> tuple[int, int, int]:
    async with db.reader() as s, db.short_reads():
        n, ran_in = (await s.execute(text("SELECT count(*), thread_id() FROM t"))).one()
        return n, ran_in, (await s.execute(text("PRAGMA busy_timeout"))).scalar()
