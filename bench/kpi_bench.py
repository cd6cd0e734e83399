"""KPI query time for one estate and one month on a table of 1,000,000 orders.

    python bench/kpi_bench.py [--orders 1000000] [--postgres] [--sqlite]

Seeds a throw-away database through the real migrations, then times ``server.orders.kpi.compute``
(median of 7 runs) next to a baseline measured in the same run: the bare indexed count of the same
orders, the least any KPI query must do. Target: < 300 ms per KPI computation.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from server.db.engine import Database  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.ids import uuid7  # noqa: E402
from server.orders import kpi  # noqa: E402
from server.orders.models import Order, Rating  # noqa: E402
from server.sites.models import Company, Estate  # noqa: E402

KINDS = ["repair"] * 5 + ["complaint"] * 2 + ["inquiry", "convenience", "emergency"]
CATEGORIES = ["water_electric", "lift", "cleaning", "security", "noise", "fees", "parking", "other"]
LEVELS = ["very_satisfied", "satisfied", "satisfied", "neutral", "unsatisfied"]
START = datetime(2025, 1, 1, tzinfo=UTC)
MONTHS = 24


def order_rows(estate_ids: list[uuid.UUID], n: int, rng: random.Random):
    span = MONTHS * 30 * 24 * 3600
    for i in range(n):
        created = START + timedelta(seconds=rng.randrange(span))
        kind = rng.choice(KINDS)
        done = rng.random() < 0.9
        accepted = created + timedelta(minutes=rng.randrange(1, 90))
        completed = accepted + timedelta(minutes=rng.randrange(20, 600)) if done else None
        yield {
            "id": uuid7(),
            "number": f"B-{i:08d}",
            "estate_id": estate_ids[i % len(estate_ids)],
            "kind": kind,
            "channel": "phone",
            "category": rng.choice(CATEGORIES),
            "priority": "normal",
            "description": "bench",
            "location": "",
            "reporter_name": "",
            "reporter_phone": "",
            "internal_note": "",
            "status": "closed" if done else "accepted",
            "department": "engineering",
            "created_at": created,
            "updated_at": created,
            "accepted_at": accepted,
            "completed_at": completed,
            "contact_late": rng.random() < 0.04,
            "resolve_late": (rng.random() < 0.05) if done else None,
            "repeat_of_id": None,
            "completion_no": 1 if done else 0,
            "chain_length": 0,
            "chain_head": "",
        }


async def seed(db: Database, n: int) -> uuid.UUID:
    rng = random.Random(42)
    async with db.writer() as s:
        company = Company(id=uuid7(), name="bench")
        s.add(company)
        await s.flush()
        estates = [Estate(id=uuid7(), company_id=company.id, name=f"E{i}", code=f"E{i}", address="") for i in range(2)]
        s.add_all(estates)
        await s.commit()
    ids = [e.id for e in estates]
    batch: list[dict] = []
    ratings: list[dict] = []
    callbacks: list[dict] = []
    staff_id = None
    t0 = time.perf_counter()
    for row in order_rows(ids, n, rng):
        batch.append(row)
        if row["completed_at"] is not None and rng.random() < 0.3:
            ratings.append(
                {
                    "id": uuid7(),
                    "order_id": row["id"],
                    "completion_no": 1,
                    "level": rng.choice(LEVELS),
                    "comment": "",
                    "source": "owner",
                    "created_at": row["completed_at"],
                    "estate_id": row["estate_id"],
                    "order_created_at": row["created_at"],
                    "chain_index": 1,
                    "prev_hash": "",
                    "hash": "",
                }
            )
        if len(batch) >= 20_000:
            await _flush(db, batch, ratings, callbacks, staff_id)
            batch, ratings = [], []
    await _flush(db, batch, ratings, callbacks, staff_id)
    print(f"  seeded {n:,} orders in {time.perf_counter() - t0:.1f} s")
    return ids[0]


async def _flush(db: Database, batch, ratings, callbacks, staff_id) -> None:
    async with db.writer() as s:
        if batch:
            await s.execute(insert(Order), batch)
        if ratings:
            await s.execute(insert(Rating), ratings)
        await s.commit()


async def measure(db: Database, estate_id: uuid.UUID) -> dict[str, float]:
    day = START + timedelta(days=400)
    start, end = kpi.period_bounds("month", day)
    scope = kpi.Scope(estate_id, start, end)
    now = START + timedelta(days=MONTHS * 31)

    async def baseline():
        async with db.reader() as s:
            return await s.scalar(
                select(func.count())
                .select_from(Order)
                .where(Order.estate_id == estate_id, Order.created_at >= start, Order.created_at < end)
            )

    async def full():
        async with db.reader() as s:
            return await kpi.compute(s, scope, now)

    out = {}
    for name, fn in (("baseline", baseline), ("kpi", full)):
        await fn()  # warm caches
        times = []
        for _ in range(7):
            t = time.perf_counter()
            result = await fn()
            times.append((time.perf_counter() - t) * 1000)
        out[name] = statistics.median(times)
        if name == "kpi":
            out["orders_in_month"] = result.orders
    return out


async def run(url: str, label: str, n: int) -> None:
    print(f"{label}:")
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        estate = await seed(db, n)
        if not db.is_sqlite:
            # What autovacuum does soon after a bulk load in production: statistics, and the visibility
            # map that lets PostgreSQL answer from the covering index without visiting the table.
            async with db.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("VACUUM ANALYZE orders")
                await conn.exec_driver_sql("VACUUM ANALYZE order_ratings")
        m = await measure(db, estate)
    finally:
        await db.dispose()
    verdict = "meets" if m["kpi"] < 300 else "MISSES"
    print(f"  orders in the measured estate-month: {m['orders_in_month']:,}")
    print(f"  baseline (indexed count of those orders): {m['baseline']:.1f} ms")
    print(
        f"  KPI computation (median of 7):            {m['kpi']:.1f} ms  "
        f"= {m['kpi'] / m['baseline']:.1f}x baseline; target < 300 ms: {verdict}"
    )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--postgres", action="store_true", help="also run on the local PostgreSQL")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            await run(f"sqlite+aiosqlite:///{tmp}/kpi.sqlite3", "SQLite", args.orders)
    if args.postgres:
        import asyncpg

        name = f"wuye_kpi_bench_{uuid.uuid4().hex[:6]}"
        admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        await admin.execute(f"CREATE DATABASE {name}")
        try:
            await run(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", "PostgreSQL", args.orders)
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
