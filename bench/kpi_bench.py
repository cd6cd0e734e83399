"""KPI and analysis-report query time on a table of 1,000,000 orders across 50 estates.

    python bench/kpi_bench.py [--orders 1000000] [--estates 50] [--estate-orders 20000] [--postgres] [--no-sqlite]

Seeds a throw-away database through the real migrations (households, a steward per estate, a few
technicians, orders over 24 months, ratings), then times, each next to a baseline measured in the
same run (the bare indexed count of the same orders, the least any such query must do):

- ``server.orders.kpi.compute`` for one estate-month (target < 300 ms);
- the monthly analysis report (``server.reports.analysis.report``) for the one estate of
  ``--estate-orders`` orders (target < 500 ms);
- the company-wide month over every estate (target < 1 s).

Medians of 7 runs. ``--orders`` smaller than the full size runs reduced (say so with the figures).
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

from server.accounts.models import Department, Role, Staff, StaffGrid  # noqa: E402
from server.accounts.scope import Actor  # noqa: E402
from server.db.engine import Database  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.ids import uuid7  # noqa: E402
from server.orders import kpi  # noqa: E402
from server.orders.models import Order, Rating  # noqa: E402
from server.reports import analysis  # noqa: E402
from server.sites.models import Building, Company, Estate, Grid, Household, Unit  # noqa: E402

KINDS = ["repair"] * 5 + ["complaint"] * 2 + ["inquiry", "convenience", "emergency"]
CHANNELS = ["phone", "phone", "walk_in", "steward", "qr", "group_chat"]
DEPARTMENTS = ["engineering", "engineering", "service", "cleaning", "security"]
HOUSEHOLDS_PER_ESTATE = 400  # 4 buildings × 2 units × 50 flats
CATEGORIES = ["water_electric", "lift", "cleaning", "security", "noise", "fees", "parking", "other"]
LEVELS = ["very_satisfied", "satisfied", "satisfied", "neutral", "unsatisfied"]
START = datetime(2025, 1, 1, tzinfo=UTC)
MONTHS = 24


def order_rows(world: dict, n: int, estate_orders: int, rng: random.Random):
    """``estate_orders`` orders in the first (measured) estate, the rest spread over the others."""
    span = MONTHS * 30 * 24 * 3600
    estates = world["estates"]
    for i in range(n):
        estate = estates[0] if i < estate_orders or len(estates) == 1 else estates[1 + i % (len(estates) - 1)]
        created = START + timedelta(seconds=rng.randrange(span))
        kind = rng.choice(KINDS)
        done = rng.random() < 0.9
        accepted = created + timedelta(minutes=rng.randrange(1, 90))
        completed = accepted + timedelta(minutes=rng.randrange(20, 600)) if done else None
        household = rng.choice(world["households"][estate])
        yield {
            "id": uuid7(),
            "number": f"B-{i:08d}",
            "estate_id": estate,
            "grid_id": world["grids"][estate],
            "household_id": household,
            "kind": kind,
            "channel": rng.choice(CHANNELS),
            "category": rng.choice(CATEGORIES),
            "priority": "normal",
            "description": "bench",
            "location": "",
            "reporter_name": "",
            "reporter_phone": "",
            "internal_note": "",
            "status": "closed" if done else "accepted",
            "department": rng.choice(DEPARTMENTS),
            "assignee_id": rng.choice(world["techs"]),
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


async def seed_sites(db: Database, estates: int) -> dict:
    """Company, estates with one grid, 400 households and a steward each, five technicians."""
    world: dict = {"estates": [], "grids": {}, "households": {}, "techs": []}
    async with db.writer() as s:
        company = Company(id=uuid7(), name="bench")
        s.add(company)
        await s.flush()
        world["company"] = company.id
        now = START
        staff = lambda name, phone, role, estate: Staff(  # noqa: E731
            id=uuid7(),
            company_id=company.id,
            estate_id=estate,
            name=name,
            phone=phone,
            role=role,
            department=Department.engineering if role is Role.technician else Department.service,
            password_hash="-",
            active=True,
            gold=False,
            created_at=now,
        )
        units, households = [], []
        for e in range(estates):
            estate = Estate(id=uuid7(), company_id=company.id, name=f"E{e}", code=f"E{e}", address="")
            grid = Grid(id=uuid7(), estate_id=estate.id, name="一区")
            s.add_all([estate, grid])
            await s.flush()
            steward = staff(f"管家{e}", f"1390{e:07d}", Role.steward, estate.id)
            s.add(steward)
            await s.flush()
            s.add(StaffGrid(staff_id=steward.id, grid_id=grid.id))
            world["estates"].append(estate.id)
            world["grids"][estate.id] = grid.id
            world["households"][estate.id] = []
            for b in range(4):
                building = Building(id=uuid7(), estate_id=estate.id, grid_id=grid.id, name=f"{b + 1}栋")
                s.add(building)
                for u in range(2):
                    unit = {"id": uuid7(), "building_id": building.id, "name": f"{u + 1}单元"}
                    units.append(unit)
                    for room in range(HOUSEHOLDS_PER_ESTATE // 8):
                        hid = uuid7()
                        world["households"][estate.id].append(hid)
                        households.append(
                            {
                                "id": hid,
                                "unit_id": unit["id"],
                                "grid_id": grid.id,
                                "estate_id": estate.id,
                                "room": f"{room + 101}",
                                "label": f"{b + 1}栋{u + 1}单元{room + 101}",
                                "owner_name": "",
                                "owner_phone": "",
                                "occupied": room % 15 != 0,
                                "resident": room % 6 != 0,
                            }
                        )
        for t in range(5):
            tech = staff(f"师傅{t}", f"1380000{t:04d}", Role.technician, world["estates"][0])
            s.add(tech)
            world["techs"].append(tech.id)
        await s.flush()
        await s.execute(insert(Unit), units)
        await s.execute(insert(Household), households)
        await s.commit()
    return world


async def seed(db: Database, n: int, estates: int, estate_orders: int) -> dict:
    rng = random.Random(42)
    world = await seed_sites(db, estates)
    batch: list[dict] = []
    ratings: list[dict] = []
    t0 = time.perf_counter()
    for row in order_rows(world, n, estate_orders, rng):
        batch.append(row)
        if row["completed_at"] is not None and rng.random() < 0.3:
            ratings.append(
                {
                    "id": uuid7(),
                    "order_id": row["id"],
                    "completion_no": 1,
                    "level": rng.choice(LEVELS),
                    "comment": rng.choice(["", "", "师傅来得太晚", "没修好"]),
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
            await _flush(db, batch, ratings)
            batch, ratings = [], []
    await _flush(db, batch, ratings)
    print(
        f"  seeded {n:,} orders over {estates} estates ({estate_orders:,} in the measured one) "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    return world


async def _flush(db: Database, batch, ratings) -> None:
    async with db.writer() as s:
        if batch:
            await s.execute(insert(Order), batch)
        if ratings:
            await s.execute(insert(Rating), ratings)
        await s.commit()


async def timed(fn) -> tuple[float, object]:
    await fn()  # warm caches
    times, result = [], None
    for _ in range(7):
        t = time.perf_counter()
        result = await fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


async def measure_reports(db: Database, world: dict) -> dict[str, float]:
    day = START + timedelta(days=400)
    local = day.astimezone(kpi.CHINA)
    start, end = analysis.bounds("month", local.year, local.month)
    now = START + timedelta(days=MONTHS * 31)
    admin = Actor(uuid.uuid4(), "bench", Role.admin, Department.service, world["company"], None, frozenset())
    estate = world["estates"][0]

    def count(*estate_ids):
        async def run():
            async with db.reader() as s:
                return await s.scalar(
                    select(func.count())
                    .select_from(Order)
                    .where(Order.estate_id.in_(estate_ids), Order.created_at >= start, Order.created_at < end)
                )

        return run

    def report(estate_id):
        async def run():
            async with db.reader() as s:
                return await analysis.report(s, admin, estate_id, "month", local.year, local.month, now)

        return run

    out = {}
    out["estate_baseline"], out["estate_orders"] = await timed(count(estate))
    out["estate_report"], _ = await timed(report(estate))
    out["company_baseline"], out["company_orders"] = await timed(count(*world["estates"]))
    out["company_report"], rep = await timed(report(None))
    assert rep["headline"]["orders"] == out["company_orders"]
    return out


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


async def run(url: str, label: str, n: int, estates: int, estate_orders: int) -> None:
    print(f"{label}:")
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        world = await seed(db, n, estates, estate_orders)
        estate = world["estates"][0]
        if not db.is_sqlite:
            # What autovacuum does soon after a bulk load in production: statistics, and the visibility
            # map that lets PostgreSQL answer from the covering index without visiting the table.
            async with db.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("VACUUM ANALYZE orders")
                await conn.exec_driver_sql("VACUUM ANALYZE order_ratings")
                await conn.exec_driver_sql("VACUUM ANALYZE households")
        m = await measure(db, estate)
        r = await measure_reports(db, world)
    finally:
        await db.dispose()
    verdict = "meets" if m["kpi"] < 300 else "MISSES"
    print(f"  orders in the measured estate-month: {m['orders_in_month']:,}")
    print(f"  baseline (indexed count of those orders): {m['baseline']:.1f} ms")
    print(
        f"  KPI computation (median of 7):            {m['kpi']:.1f} ms  "
        f"= {m['kpi'] / m['baseline']:.1f}x baseline; target < 300 ms: {verdict}"
    )
    for name, target in (("estate", 500), ("company", 1000)):
        took, base = r[f"{name}_report"], r[f"{name}_baseline"]
        what = "one estate's" if name == "estate" else f"the company's ({estates} estates)"
        print(f"  {what} month: {r[f'{name}_orders']:,} orders; indexed count {base:.1f} ms")
        print(
            f"    analysis report (median of 7): {took:.1f} ms = {took / base:.1f}x baseline; "
            f"target < {target} ms: {'meets' if took < target else 'MISSES'}"
        )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--estates", type=int, default=50)
    ap.add_argument("--estate-orders", type=int, default=20_000, help="orders of the measured estate")
    ap.add_argument("--postgres", action="store_true", help="also run on the local PostgreSQL")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            await run(f"sqlite+aiosqlite:///{tmp}/kpi.sqlite3", "SQLite", args.orders, args.estates, args.estate_orders)
    if args.postgres:
        import asyncpg

        name = f"wuye_kpi_bench_{uuid.uuid4().hex[:6]}"
        admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        await admin.execute(f"CREATE DATABASE {name}")
        try:
            await run(
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}",
                "PostgreSQL",
                args.orders,
                args.estates,
                args.estate_orders,
            )
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
