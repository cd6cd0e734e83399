"""server.db.bulk.insert_rows stores exactly what SQLAlchemy's own insert stores, on both databases
(on SQLite it bypasses SQLAlchemy inside write transactions)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, BigInteger, Boolean, Column, Integer, MetaData, String, Table, Uuid, insert, select, text

from server.db.base import UTCDateTime
from server.db.bulk import insert_rows
from server.db.engine import Database

pytestmark = pytest.mark.anyio

metadata = MetaData()
sample = Table(
    "bulk_sample",
    metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("id", Uuid, nullable=False),
    Column("ref", Uuid),
    Column("at", UTCDateTime, nullable=False),
    Column("doc", JSON),
    Column("flag", Boolean, nullable=False),
    Column("big", BigInteger),
    Column("label", String(40), nullable=False),
)
defaults = Table(
    "bulk_defaults", metadata, Column("id", Uuid, primary_key=True, default=uuid.uuid4), Column("label", String(40))
)


COLUMNS = "id, ref, at, doc, flag, big, label"


def rows() -> list[dict]:
    shanghai = timezone(timedelta(hours=8))
    return [
        {
            "id": uuid.UUID("0190f0e0-0000-7000-8000-000000000001"),
            "ref": None,
            "at": datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=shanghai),
            "doc": [{"name": "弯头", "quantity": 1.5, "unit": "个"}],
            "flag": True,
            "big": 2**40,
            "label": "检查",
        },
        {
            "id": uuid.UUID("0190f0e0-0000-7000-8000-000000000002"),
            "ref": uuid.UUID("0190f0e0-0000-7000-8000-0000000000ff"),
            "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            "doc": None,
            "flag": False,
            "big": None,
            "label": "",
        },
        {  # repeats (bind processors are memoised per call): the instant of row 1 in another zone,
            # the id of row 2 as ref, and an equal but distinct UUID object
            "id": uuid.UUID("0190f0e0-0000-7000-8000-000000000003"),
            "ref": uuid.UUID("0190f0e0-0000-7000-8000-000000000002"),
            "at": datetime(2026, 12, 1, 1, 30, 15, 123456, tzinfo=UTC),
            "doc": {"gps": None},
            "flag": True,
            "big": 0,
            "label": "复查",
        },
        {
            "id": uuid.UUID("0190f0e0-0000-7000-8000-000000000004"),
            "ref": uuid.UUID("0190f0e0-0000-7000-8000-0000000000ff"),
            "at": datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=UTC),  # one microsecond after row 2's
            "doc": [],
            "flag": False,
            "big": -1,
            "label": "a",
        },
    ]


async def stored(db: Database, mine: bool) -> tuple[list[tuple], list[tuple]]:
    """Insert the sample rows one way into an empty table; return (raw stored values, ORM-read values)."""
    async with db.writer() as session:
        await session.execute(text("DELETE FROM bulk_sample"))
        if mine:
            await insert_rows(session, sample, rows())
        else:
            await session.execute(insert(sample), rows())
        await session.commit()
    async with db.reader() as session:
        raw = (
            await session.execute(
                text("SELECT id, ref, at, doc, flag, big, label FROM bulk_sample ORDER BY label DESC")
            )
        ).all()
        typed = (await session.execute(select(sample).order_by(sample.c.label.desc()))).all()
    return [tuple(r) for r in raw], [tuple(r)[1:] for r in typed]


@pytest.fixture
async def db(database: Database) -> Database:
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return database


async def test_insert_rows_stores_what_sqlalchemy_stores(db: Database):
    ours_raw, ours_typed = await stored(db, mine=True)
    theirs_raw, theirs_typed = await stored(db, mine=False)
    assert ours_raw == theirs_raw
    assert ours_typed == theirs_typed
    by_label = {r[-1]: r for r in ours_typed}
    assert by_label["检查"][0] == rows()[0]["id"] and by_label["检查"][2] == rows()[0]["at"]
    assert by_label["检查"][3] == rows()[0]["doc"] and by_label[""][3] is None
    assert by_label["复查"][2] == by_label["检查"][2] == rows()[0]["at"]  # one instant, whatever the zone
    assert by_label["a"][2] - by_label[""][2] == timedelta(microseconds=1)
    assert by_label["复查"][1] == by_label[""][0] and by_label["a"][1] == by_label[""][1]


async def test_insert_rows_rolls_back_with_its_transaction(db: Database):
    async with db.writer() as session:
        await insert_rows(session, sample, rows())
        await session.rollback()
    async with db.reader() as session:
        assert (await session.execute(text("SELECT count(*) FROM bulk_sample"))).scalar() == 0


async def test_a_missing_python_default_is_refused_not_skipped(db: Database):
    """A raw insert would store NULL where SQLAlchemy fills a Python-side default: refused on the raw
    paths (SQLite's writer, PostgreSQL's driver executemany)."""
    async with db.writer() as session:
        with pytest.raises(ValueError, match=r"needs \['id'\]"):
            await insert_rows(session, defaults, [{"label": "x"}])
