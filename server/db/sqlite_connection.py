"""The SQLite connection under SQLAlchemy's aiosqlite dialect: write transactions run on the event
loop, everything else in a worker thread, one thread hop per statement.

Why not aiosqlite's own connection: it runs every call in the connection's thread, and SQLAlchemy
makes four calls per statement (cursor, execute, fetchall, close). A thread hop costs 0.15-0.2 ms on
this kind of machine when the loop is idle, and more when it is busy, so a statement cost ~0.9 ms
however trivial; a 100-mutation push made ~17 of them. SQLite itself answers in microseconds.

What runs where:

* ``BEGIN IMMEDIATE`` (``Database.writer()``) first takes this process's writer lock for the database
  file (an ``asyncio.Lock``, fair and without polling), then is tried on the loop with no busy
  timeout; only if *another process* writes does it run again in a thread, where it may wait in
  SQLite's busy handler without blocking the loop. Every statement
  of the write transaction then runs inline: the transaction holds SQLite's single write lock, so
  nothing it does waits for anyone, and writers of this process queue on the asyncio lock anyway.
* ``COMMIT`` of a write transaction runs in a thread: it is the fsync, and the loop serves other
  requests meanwhile. The writer lock is released after it (or after a rollback, or on close).
* ``BEGIN DEFERRED`` (``Database.reader()``) runs inline: it only leaves autocommit mode, taking no
  lock and reading nothing, so it cannot wait.
* Everything else (reads, PRAGMAs) runs in a worker thread, one hop per statement (the rows are
  fetched in the same hop): a long report query must not stall the loop, and a write inside a read
  transaction may wait for a lock.
* Except the SELECTs of a :func:`short_reads` block (a sign-in, a resent batch's receipts: a few
  index lookups each): they run on the loop with no busy timeout, and only one that would have to
  wait runs again in a thread. A replayed 100-mutation push cost ~5 ms of server CPU with its three
  reads in threads, ~3 ms with them on the loop.

The object implements the part of ``aiosqlite.Connection`` that SQLAlchemy's adapter uses, and
wraps the standard library's ``sqlite3`` driver, so the dialect, its type handling and its error
mapping are SQLAlchemy's own.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# Threads shared by every SQLite connection of the process. A connection is only ever used by one
# session at a time, so it needs no thread of its own (``check_same_thread=False``).
_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sqlite")

_writer_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _writer_lock(path: str) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    return _writer_locks.setdefault(loop, {}).setdefault(path, asyncio.Lock())


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(_THREADS, fn, *args)


def _is_begin_immediate(sql: str) -> bool:
    return sql[:15].upper() == "BEGIN IMMEDIATE"


def _is_begin_deferred(sql: str) -> bool:
    return sql.strip().upper() in ("BEGIN", "BEGIN DEFERRED")


def _is_select(sql: str) -> bool:
    return sql.lstrip()[:6].upper() == "SELECT"


_short_reads: ContextVar[bool] = ContextVar("wuye_sqlite_short_reads", default=False)


@contextmanager
def short_reads() -> Iterator[None]:
    """Within this block, the current task's SELECTs run on the event loop, not in a worker thread.

    For reads that are a few index lookups (a sign-in, a resent batch's receipts): SQLite answers
    them in microseconds, and the thread hop around each one cost more than the read, twice over on
    a busy loop (the answer waits for the loop to be free). Only with SQLite's busy timeout off: a
    read that would have to wait (rare in WAL mode) runs again in a thread, where waiting is harmless.
    Report queries never run here."""
    token = _short_reads.set(True)
    try:
        yield
    finally:
        _short_reads.reset(token)


class Cursor:
    """``aiosqlite.Cursor``'s surface over a ``sqlite3.Cursor``; rows are fetched with the execute."""

    def __init__(self, owner: Connection, cursor: sqlite3.Cursor):
        self._owner = owner
        self._cursor = cursor
        self._rows: list[Any] | None = None

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _run(self, many: bool, sql: str, parameters: Any) -> None:
        if many:
            self._cursor.executemany(sql, parameters)
        elif parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        self._rows = self._cursor.fetchall() if self._cursor.description else None

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        if _is_begin_immediate(sql):
            await self._owner._begin_write(lambda: self._run(False, sql, parameters))
        elif self._owner._writing or _is_begin_deferred(sql):
            # A deferred BEGIN only leaves autocommit mode: it takes no lock and reads nothing, so
            # it cannot wait (the first read does, and that runs in a thread).
            self._run(False, sql, parameters)
        elif _short_reads.get() and _is_select(sql):
            if not self._owner._now_or_never(lambda: self._run(False, sql, parameters)):
                await _in_thread(self._run, False, sql, parameters)  # it would have waited for a lock
        else:
            await _in_thread(self._run, False, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> Cursor:
        if self._owner._writing:
            self._run(True, sql, parameters)
        else:
            await _in_thread(self._run, True, sql, parameters)
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows or [], None
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = self._rows or []
        size = self.arraysize if size is None else size
        out, self._rows = rows[:size], rows[size:]
        return out

    async def close(self) -> None:
        self._rows = None
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy's adapter uses directly to set
    ``isolation_level``: the call runs at once and its future is resolved."""

    def put_nowait(self, item: tuple[asyncio.Future | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class Connection:
    """``aiosqlite.Connection``'s surface (what SQLAlchemy's aiosqlite adapter calls)."""

    def __init__(self, conn: sqlite3.Connection, path: str, busy_ms: int = 30_000):
        self._conn: sqlite3.Connection | None = conn
        self._path = path
        self._busy_ms = busy_ms
        self._tx = _RunNow()
        self._lock: asyncio.Lock | None = None  # this process's writer lock, while held
        self._writing = False

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._live().isolation_level

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    def writing_connection(self) -> sqlite3.Connection | None:
        """The ``sqlite3`` connection while it runs a write transaction on the loop, else None: a
        caller may then use it directly, in that transaction (see :mod:`server.db.bulk`)."""
        return self._conn if self._writing else None

    def cursor(self) -> Cursor:
        return Cursor(self, self._live().cursor())

    async def _begin_write(self, begin: Callable[[], None]) -> None:
        lock = _writer_lock(self._path)
        await lock.acquire()
        self._lock = lock
        try:
            if not self._begin_now(begin):
                await _in_thread(begin)
        except BaseException:
            self._release()
            raise
        self._writing = True

    def _begin_now(self, begin: Callable[[], None]) -> bool:
        """Try ``BEGIN IMMEDIATE`` on the loop without waiting: True if it began. This process's
        writers are queued on the asyncio lock already, so it can only fail while another process
        (a second worker, a ``wuye`` command) writes; then it is retried in a thread, waiting there.
        Run in a thread every time, the begin let the loop turn to other requests while this writer,
        whose turn everyone else queues behind, waited to be resumed."""
        return self._now_or_never(begin)

    def _now_or_never(self, statement: Callable[[], None]) -> bool:
        """Run ``statement`` with SQLite's busy timeout off: False (nothing done) if it met a lock.
        For ``BEGIN IMMEDIATE`` and the reads of :func:`short_reads`, which then go to a thread."""
        conn = self._live()
        conn.execute("PRAGMA busy_timeout=0")
        try:
            statement()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        return True

    def _release(self) -> None:
        self._writing = False
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    async def commit(self) -> None:
        conn = self._live()
        try:
            if self._writing:
                await _in_thread(conn.commit)
            else:
                conn.commit()
        finally:
            self._release()

    async def rollback(self) -> None:
        try:
            self._live().rollback()
        finally:
            self._release()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        self._release()
        if conn is not None:
            conn.close()

    def stop(self) -> None:
        conn, self._conn = self._conn, None
        self._release()
        if conn is not None:
            conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._live().create_function(*args, **kwargs)


def connector(path: str, timeout: float) -> Callable[[], Any]:
    """The ``async_creator`` for ``create_async_engine``: a new connection to ``path``."""
    key = os.path.realpath(path) if path and path != ":memory:" else path

    async def connect() -> Connection:
        conn = await _in_thread(
            lambda: sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        )
        return Connection(conn, key, busy_ms=int(timeout * 1000))

    return connect
