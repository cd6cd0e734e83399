"""Engine and session factories for SQLite (embedded default) and PostgreSQL (scale-out).

SQLite: WAL, foreign keys, busy timeout, ``synchronous=FULL`` (a commit is durable before we
answer a phone). Write transactions on SQLite start with ``BEGIN IMMEDIATE`` so that a
transaction never has to upgrade a read lock to a write lock, which fails at once with
SQLITE_BUSY under concurrent writers instead of waiting for the busy timeout. The driver
connection is :mod:`server.db.sqlite_connection` (write transactions run on the event loop).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import msgspec
from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from server.db import sqlite_connection

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA synchronous=FULL",
)


# The JSON columns' text, written and read by msgspec: a 100-step push writes 300 of them (materials,
# photos, gps), and ``json.dumps`` was ~40% of converting its rows. Any valid JSON reads back the
# same; msgspec writes non-ASCII characters as they are, not as \uXXXX escapes.
_encode_json = msgspec.json.Encoder().encode


def _json_text(value: object) -> str:
    return _encode_json(value).decode()


_JSON = {"json_serializer": _json_text, "json_deserializer": msgspec.json.decode}


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        # A pool big enough for every session one process keeps open at once (a push holds a reader
        # for its sign-in while others wait for the writer): an overflow connection is closed on
        # return, and opening one costs a file open and the PRAGMAs below.
        engine = create_async_engine(
            url,
            echo=echo,
            async_creator=sqlite_connection.connector(make_url(url).database or ":memory:", timeout=30),
            pool_size=20,
            max_overflow=20,
            **_JSON,
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True, **_JSON)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from the driver so BEGIN is ours (see module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The engine plus two session factories: ``reader()`` and ``writer()``.

    On PostgreSQL they are the same; on SQLite the writer begins IMMEDIATE.
    """

    def __init__(self, url: str, *, echo: bool = False):
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.is_sqlite = url.startswith("sqlite")
        write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        self.reader = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)
        self.writer = async_sessionmaker(write_engine, expire_on_commit=False, class_=AsyncSession)
        # For a few independent lookups that write nothing (a push's sign-in and resend check): on
        # PostgreSQL without BEGIN and ROLLBACK, two of a push's round trips. Under READ COMMITTED
        # each statement sees its own snapshot inside a transaction too, so nothing read differs.
        # SQLite: the reader (its BEGIN is local and costs nothing).
        lookups = self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.lookups = async_sessionmaker(lookups, expire_on_commit=False, class_=AsyncSession)

    @contextlib.asynccontextmanager
    async def short_reads(self) -> AsyncIterator[None]:
        """A block whose reads are a few index lookups (see ``sqlite_connection.short_reads``): on
        SQLite they run on the event loop; PostgreSQL's driver never leaves it anyway."""
        if not self.is_sqlite:
            yield
            return
        with sqlite_connection.short_reads():
            yield

    async def dispose(self) -> None:
        await self.engine.dispose()
