"""Sync throughput and latency against the real server process (``wuye serve``, uvicorn, 1 worker).

    python bench/sync_bench.py [--postgres] [--quick] [--only a,b,c,d,e,f]

Everything runs in one process on loopback against a throw-away database (a temp SQLite file; with
``--postgres`` also a temp database on 127.0.0.1:5432), seeded through the real migrations, and is
removed at the end. Printed per database:

(a) ceiling: raw inserts of comparable rows (UUID text key + a few columns) in one transaction
    (sqlite3; asyncpg ``executemany`` for PostgreSQL)
(b) step.add mutations/s through ``POST /sync/push`` over HTTP: 100-mutation batches, several
    concurrent devices, durable commits (SQLite synchronous=FULL, as the server sets it); and (b)/(a).
    On SQLite also the floor under (b): raw sqlite3 writing the very rows of those pushes again, one
    transaction per push (``bench/push_floor.py``): what SQLite alone needs for them
(c) mutations/s when the same batches are sent again (all answered ``duplicate``)
(d) time for a fresh device to pull 10,000 and 100,000 rows (full paged pull, limit 1,000, HTTP)
(e) push latency p50/p95/p99 with 200 phones syncing at once (5-mutation batches), end to end: from the
    first attempt to the accepted answer (429s and their Retry-After waits included); the accepted
    attempt alone is printed beside it, labelled
(f) photos/s: 500 KB JPEGs through GET status + PUT chunks, the last with finish=true (hash check, fsync)

Targets (2-core machine, SQLite): (b) >= 8,000/s, (c) >= 20,000/s, (d) <= 1 s and <= 10 s,
(e) end-to-end p95 < 1 s, (f) >= 100/s.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import msgspec  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench import push_floor  # noqa: E402
from server.accounts.models import Staff  # noqa: E402
from server.accounts.service import actor_for  # noqa: E402
from server.clock import Clock  # noqa: E402
from server.db.engine import Database  # noqa: E402
from server.orders import evidence, lifecycle  # noqa: E402
from server.orders.access import audiences  # noqa: E402
from server.orders.models import Order, Step  # noqa: E402
from server.syncing import changelog  # noqa: E402
from server.syncing.models import SyncChange  # noqa: E402
from sync.protocol import new_id  # noqa: E402
from tests.support.camera_jpegs import camera_jpeg  # noqa: E402
from tests.support.live_server import LiveServer, prepare_database  # noqa: E402
from tests.support.simulator import Technician, add_technicians, assign_orders  # noqa: E402
from tests.support.world import World, build_world  # noqa: E402

PG_ADMIN = os.environ.get("WUYE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
CHUNK = 256 * 1024
TARGETS = {"b": 8000, "c": 20000, "d10": 1.0, "d100": 10.0, "e95": 1000.0, "f": 100.0}


@dataclass
class Sizes:
    raw_rows: int = 200_000
    push_devices: int = 8
    push_batches: int = 25  # per device, 100 mutations each
    pull_small: int = 10_000
    pull_large: int = 100_000
    phones: int = 200
    phone_rounds: int = 5
    phone_batch: int = 5
    photos: int = 200
    photo_uploaders: int = 8


QUICK = Sizes(
    raw_rows=50_000, push_devices=4, push_batches=10, pull_small=2_000, pull_large=10_000, phones=50, photos=40
)


@dataclass
class Report:
    backend: str
    lines: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, value: float, text: str) -> None:
        self.figures[key] = value
        self.lines.append(text)
        print(f"  {text}", flush=True)


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Wuye-Protocol": "1", "Wuye-Request-Id": str(uuid.uuid4())}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its live descendants (Linux /proc).

    The wall-clock figures depend on whatever else this machine runs at the time; the server's CPU
    per figure does much less, so it is printed next to them."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += cpu.get(p, 0.0)
        todo += [c for c, parent in parents.items() if parent == p]
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# --- databases --------------------------------------------------------------------------------------


class Backend:
    def __init__(self, name: str, root: Path):
        self.name = name
        self.root = root
        self.pg_name = f"wuye_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        if name == "sqlite":
            self.url = f"sqlite+aiosqlite:///{root / 'bench.sqlite3'}"
        else:
            self.url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{self.pg_name}".replace("postgresql://", "postgresql+asyncpg://")

    async def create(self) -> None:
        if self.name == "postgres":
            conn = await asyncpg.connect(PG_ADMIN)
            try:
                await conn.execute(f"CREATE DATABASE {self.pg_name}")
            finally:
                await conn.close()
        await asyncio.to_thread(prepare_database, self.url)

    async def drop(self) -> None:
        if self.name == "postgres":
            conn = await asyncpg.connect(PG_ADMIN)
            try:
                await conn.execute(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")
            finally:
                await conn.close()


# --- seeding ------------------------------------------------------------------------------------------


async def seed_world(db: Database) -> World:
    async with db.writer() as session:
        world = await build_world(session, Clock())
        await session.commit()
    return world


async def technicians_with_accepted_orders(
    db: Database, world: World, count: int, orders_each: int
) -> tuple[list[Technician], dict[str, list[str]]]:
    """``count`` technicians, each with ``orders_each`` orders they have accepted (steps allowed)."""
    clock = Clock()
    async with db.writer() as session:
        techs = await add_technicians(session, world, clock, count)
        orders = await assign_orders(session, world, clock, techs, orders_each)
        await session.commit()
    async with db.writer() as session:
        for tech in techs:
            actor = await actor_for(session, await session.get(Staff, tech.staff_id))
            for oid in orders[tech.key]:
                await lifecycle.transition(session, actor, uuid.UUID(oid), "accept", now=clock.now())
        await session.commit()
    return techs, orders


async def seed_steps(db: Database, order_ids: list[str], author: uuid.UUID, total: int) -> None:
    """``total`` steps spread over the orders, inserted directly (evidence chain computed as the
    service does), each announced in the change log to the order's audiences."""
    now = datetime.now(UTC)
    per_order = -(-total // len(order_ids))
    left = total
    async with db.writer() as session:
        version = await changelog.transaction_version(session)
        for oid in order_ids:
            order = await session.get(Order, uuid.UUID(oid))
            targets = sorted(audiences(order))
            n = min(per_order, left)
            left -= n
            steps, changes = [], []
            for i in range(n):
                step = Step(
                    id=uuid.UUID(new_id()),
                    order_id=order.id,
                    position=i + 1,
                    note=f"检查并记录第 {i + 1} 项",
                    materials=[{"name": "弯头", "quantity": 1, "unit": "个"}],
                    photos=[],
                    gps=None,
                    author_id=author,
                    captured_at=now,
                    received_at=now,
                    clock_offset_ms=0,
                    skew_flag=False,
                )
                evidence.append(order, step)
                steps.append({c.key: getattr(step, c.key) for c in Step.__table__.columns})
                changes += [
                    {"version": version, "audience": a, "table": "steps", "record_id": step.id, "op": "upsert"}
                    for a in targets
                ]
            for start in range(0, len(steps), 5000):
                await session.execute(insert(Step), steps[start : start + 5000])
            for start in range(0, len(changes), 5000):
                await session.execute(insert(SyncChange), changes[start : start + 5000])
            if left <= 0:
                break
        await session.commit()


# --- (a) ceiling --------------------------------------------------------------------------------------


def raw_sqlite_rate(path: Path, rows: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE steps (id TEXT PRIMARY KEY, order_id TEXT NOT NULL, position INTEGER NOT NULL,"
        " note TEXT NOT NULL, captured_at TEXT NOT NULL)"
    )
    order_ids = [str(uuid.uuid4()) for _ in range(100)]
    data = [(str(uuid.uuid4()), order_ids[i % 100], i, "检查并记录", now_iso()) for i in range(rows)]
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO steps VALUES (?, ?, ?, ?, ?)", data)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return rows / elapsed


async def raw_pg_rate(backend: Backend, rows: int) -> float:
    conn = await asyncpg.connect(backend.url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(
            "CREATE TABLE bench_raw (id uuid PRIMARY KEY, order_id uuid NOT NULL, position int NOT NULL,"
            " note text NOT NULL, captured_at timestamptz NOT NULL)"
        )
        order_ids = [uuid.uuid4() for _ in range(100)]
        now = datetime.now(UTC)
        data = [(uuid.uuid4(), order_ids[i % 100], i, "检查并记录", now) for i in range(rows)]
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.executemany("INSERT INTO bench_raw VALUES ($1, $2, $3, $4, $5)", data)
        elapsed = time.perf_counter() - t0
        await conn.execute("DROP TABLE bench_raw")
    finally:
        await conn.close()
    return rows / elapsed


# --- push ---------------------------------------------------------------------------------------------


def step_batches(client_id: str, order_ids: list[str], batches: int, size: int, first_seq: int = 1) -> list[bytes]:
    out = []
    seq = first_seq
    for _ in range(batches):
        mutations = []
        for _ in range(size):
            mutations.append(
                {
                    "seq": seq,
                    "id": new_id(),
                    "name": "step.add",
                    "args": {
                        "id": new_id(),
                        "order_id": order_ids[seq % len(order_ids)],
                        "note": f"更换弯头 {seq}",
                        "captured_at": now_iso(),
                        "materials": [{"name": "弯头", "quantity": 1, "unit": "个"}],
                        "photos": [],
                    },
                    "client_time": now_iso(),
                }
            )
            seq += 1
        out.append(msgspec.json.encode({"client_id": client_id, "client_time": now_iso(), "mutations": mutations}))
    return out


async def push_all(base_url: str, devices: list[tuple[str, list[bytes]]], expect: str) -> tuple[float, int]:
    """Each device sends its batches in order, devices concurrently. Returns (seconds, mutations)."""
    counted = 0

    async def device(token: str, bodies: list[bytes]) -> None:
        nonlocal counted
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            for body in bodies:
                for _attempt in range(50):
                    r = await http.post(
                        "/sync/push", content=body, headers={**headers(token), "Content-Type": "application/json"}
                    )
                    if r.status_code in (429, 503):
                        await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                        continue
                    break
                if r.status_code != 200:
                    raise RuntimeError(f"push answered {r.status_code}: {r.text[:300]}")
                results = r.json()["results"]
                bad = [x for x in results if x["status"] != expect]
                if bad:
                    raise RuntimeError(f"expected {expect}, got {bad[:3]}")
                counted += len(results)

    t0 = time.perf_counter()
    await asyncio.gather(*(device(tok, bodies) for tok, bodies in devices))
    return time.perf_counter() - t0, counted


# --- pull ---------------------------------------------------------------------------------------------


async def full_pull(base_url: str, token: str) -> tuple[float, int, int]:
    """A fresh device's full pull; returns (seconds, changes, pages)."""
    client_id = str(uuid.uuid4())
    cursor = None
    changes = pages = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        t0 = time.perf_counter()
        while True:
            params = {"client_id": client_id, "limit": 1000}
            if cursor:
                params["cursor"] = cursor
            r = await http.get("/sync/pull", params=params, headers=headers(token))
            if r.status_code != 200:
                raise RuntimeError(f"pull answered {r.status_code}: {r.text[:300]}")
            page = msgspec.json.decode(r.content)
            changes += len(page["changes"])
            pages += 1
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        return time.perf_counter() - t0, changes, pages


# --- (e) many phones ----------------------------------------------------------------------------------


async def many_phones(base_url: str, techs: list[Technician], orders: dict[str, list[str]], sizes: Sizes):
    """Returns (seconds, end-to-end latencies, accepted attempts' latencies, refused attempts, attempts
    resent on a new connection).

    The headline is end to end: from a push's first attempt to its accepted answer, refused attempts
    and the Retry-After waits between them included: what the phone's user waits for. The latency of
    the accepted attempt alone is kept beside it; it hides every wait the gate imposed."""
    end_to_end: list[float] = []
    accepted: list[float] = []
    refused: list[float] = []
    dropped: list[float] = []
    start = asyncio.Event()

    async def phone(tech: Technician) -> None:
        client_id = str(uuid.uuid4())
        bodies = step_batches(client_id, orders[tech.key], sizes.phone_rounds, sizes.phone_batch)
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            await start.wait()
            for body in bodies:
                first = time.perf_counter()
                for _attempt in range(100):
                    t0 = time.perf_counter()
                    try:
                        r = await http.post(
                            "/sync/push",
                            content=body,
                            headers={**headers(tech.token), "Content-Type": "application/json"},
                        )
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        # A kept-alive connection the server closed while the phone waited out a
                        # Retry-After (uvicorn keeps idle ones 5 s): a browser resends on a new one.
                        dropped.append(time.perf_counter() - t0)
                        continue
                    took = time.perf_counter() - t0
                    if r.status_code == 429:
                        refused.append(took)
                        # As the PWA does (pwa/src/sync.ts): the server's Retry-After, as given.
                        await asyncio.sleep(float(r.headers.get("Retry-After", "2")))
                        continue
                    if r.status_code != 200:
                        raise RuntimeError(f"push answered {r.status_code}: {r.text[:300]}")
                    accepted.append(took)
                    end_to_end.append(time.perf_counter() - first)
                    break

    tasks = [asyncio.create_task(phone(t)) for t in techs]
    await asyncio.sleep(0.5)  # every phone connected and waiting
    t0 = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - t0, end_to_end, accepted, refused, dropped


async def phones_report(report: Report, base_url: str, techs, orders, sizes: Sizes, key: str, label: str) -> None:
    seconds, e2e, lat, refused, dropped = await many_phones(base_url, techs, orders, sizes)
    ms = [x * 1000 for x in e2e]
    p50, p95, p99 = (percentile(ms, q) for q in (50, 95, 99))
    at = [x * 1000 for x in lat]
    a50, a95, a99 = (percentile(at, q) for q in (50, 95, 99))
    report.figures |= {f"{key}_p50": p50, f"{key}_p99": p99, f"{key}_attempt": a95}
    report.add(
        key,
        p95,
        f"(e) {label}{len(techs)} phones at once, {sizes.phone_rounds} pushes of {sizes.phone_batch}, end to end"
        f" (first attempt to accepted answer, refusals and Retry-After waits included): p50 {p50:.0f} ms, "
        f"p95 {p95:.0f} ms, p99 {p99:.0f} ms, max {max(ms):.0f} ms over {len(ms)} pushes; "
        f"all done in {seconds:.1f} s  [{verdict(p95 < TARGETS['e95'])}]",
    )
    report.lines.append(
        f"    per accepted attempt only (hides the waits): p50 {a50:.0f} ms, p95 {a95:.0f} ms, "
        f"p99 {a99:.0f} ms; {len(refused)} attempts answered 429 (busy, retried after Retry-After), "
        f"{len(dropped)} resent after the server closed an idle connection"
    )
    print(f"  {report.lines[-1]}", flush=True)


# --- (f) photos ---------------------------------------------------------------------------------------


def photo_variants(count: int) -> list[bytes]:
    """``count`` distinct ~500 KB camera JPEGs (the size the issue names: 1280x960 at quality 91 is
    500,416 bytes): one encoded picture, each copy with its own comment segment right after SOI
    (still a valid JPEG, a different sha256)."""
    base = camera_jpeg((1280, 960), 1, quality=91)
    out = []
    for i in range(count):
        payload = f"bench photo {i} {uuid.uuid4()}".encode()
        segment = b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload
        out.append(base[:2] + segment + base[2:])
    return out


async def upload_photos(base_url: str, token: str, photos: list[bytes], workers: int) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for p in photos:
        queue.put_nowait(p)

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            while not queue.empty():
                data = queue.get_nowait()
                sha = hashlib.sha256(data).hexdigest()
                path = f"/sync/blobs/{sha}"
                r = await http.get(path, headers=headers(token))
                offset = r.json()["offset"] or 0
                while True:
                    last = offset + CHUNK >= len(data)  # the last chunk finishes the upload too
                    r = await http.put(
                        path,
                        params={"offset": offset, **({"finish": "true"} if last else {})},
                        content=data[offset : offset + CHUNK],
                        headers={**headers(token), "Content-Type": "application/octet-stream"},
                    )
                    if r.status_code != 200:
                        raise RuntimeError(f"chunk answered {r.status_code}: {r.text[:200]}")
                    if last:
                        break
                    offset = r.json()["offset"]
                if r.json().get("sha256") != sha:
                    raise RuntimeError(f"finish answered {r.status_code}: {r.text[:200]}")

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - t0


# --- one backend --------------------------------------------------------------------------------------


async def run_backend(name: str, sizes: Sizes, only: set[str], keep: bool) -> Report:
    report = Report(name)
    root = Path(tempfile.mkdtemp(prefix=f"wuye-sync-bench-{name}-"))
    backend = Backend(name, root)
    print(f"\n== {name} ({root})", flush=True)
    await backend.create()
    db = Database(backend.url)
    server = LiveServer(backend.url, root / "data", log_path=root / "server.log")
    try:
        world = await seed_world(db)
        # Seeding for (b), (c), (e) and (d) before the server starts.
        push_techs, push_orders = await technicians_with_accepted_orders(db, world, sizes.push_devices, 10)
        phone_techs, phone_orders = ([], {})
        if "e" in only:
            phone_techs, phone_orders = await technicians_with_accepted_orders(db, world, sizes.phones, 1)
        pull_techs, pull_orders = await technicians_with_accepted_orders(db, world, 2, 20)
        if "d" in only:
            t0 = time.perf_counter()
            await seed_steps(db, pull_orders[pull_techs[0].key], pull_techs[0].staff_id, sizes.pull_small)
            await seed_steps(db, pull_orders[pull_techs[1].key], pull_techs[1].staff_id, sizes.pull_large)
            print(f"  (seeded {sizes.pull_small + sizes.pull_large:,} steps in {time.perf_counter() - t0:.1f} s)")
        await db.dispose()
        await asyncio.to_thread(server.start)

        raw = None
        if "a" in only:
            if name == "sqlite":
                raw = raw_sqlite_rate(root / "raw.sqlite3", sizes.raw_rows)
                what = "raw sqlite3 executemany, WAL + synchronous=FULL"
            else:
                raw = await raw_pg_rate(backend, sizes.raw_rows)
                what = "raw asyncpg executemany"
            report.add("a", raw, f"(a) ceiling: {raw:,.0f} rows/s ({what}, {sizes.raw_rows:,} UUID-keyed rows, 1 txn)")

        if "b" in only or "c" in only:
            devices = []
            for tech in push_techs:
                cid = str(uuid.uuid4())
                devices.append((tech.token, step_batches(cid, push_orders[tech.key], sizes.push_batches, 100)))
            # warm-up: one small batch per device on separate client ids (connections, caches)
            warm = [(t.token, step_batches(str(uuid.uuid4()), push_orders[t.key], 1, 10)) for t in push_techs]
            await push_all(server.base_url, warm, "applied")
            cpu = process_cpu(server.proc.pid)
            seconds, n = await push_all(server.base_url, devices, "applied")
            cpu = process_cpu(server.proc.pid) - cpu
            rate = n / seconds
            ratio = f", (b)/(a) = {rate / raw:.3f}" if raw else ""
            report.add(
                "b",
                rate,
                f"(b) push: {rate:,.0f} mutations/s ({n:,} step.add, {len(devices)} devices x "
                f"{sizes.push_batches} batches of 100, {seconds:.2f} s; server CPU {cpu * 1000 * 100 / n:.1f} ms "
                f"per push){ratio}  [{verdict(rate >= TARGETS['b'])}]",
            )
            if "c" in only:
                seconds, n = await push_all(server.base_url, devices, "duplicate")
                rate = n / seconds
                report.add(
                    "c",
                    rate,
                    f"(c) replay of applied batches: {rate:,.0f} mutations/s ({n:,} duplicates, {seconds:.2f} s)"
                    f"  [{verdict(rate >= TARGETS['c'])}]",
                )

        if "d" in only:
            for tech, target_key, label in ((pull_techs[0], "d10", "small"), (pull_techs[1], "d100", "large")):
                await full_pull(server.base_url, tech.token)  # warm the page cache once
                cpu = process_cpu(server.proc.pid)
                seconds, changes, pages = await full_pull(server.base_url, tech.token)
                cpu = process_cpu(server.proc.pid) - cpu
                report.add(
                    target_key,
                    seconds,
                    f"(d) fresh-device pull, {label}: {changes:,} rows in {pages} pages: {seconds:.2f} s "
                    f"({changes / seconds:,.0f} rows/s; server CPU {cpu:.2f} s)  "
                    f"[{verdict(seconds <= TARGETS[target_key])}]",
                )

        if "e" in only:
            await phones_report(report, server.base_url, phone_techs, phone_orders, sizes, "e95", "")

        if "f" in only:
            photos = await asyncio.to_thread(photo_variants, sizes.photos + sizes.photo_uploaders)
            token = push_techs[0].token
            await upload_photos(server.base_url, token, photos[: sizes.photo_uploaders], sizes.photo_uploaders)
            rest = photos[sizes.photo_uploaders :]
            cpu = process_cpu(server.proc.pid)
            seconds = await upload_photos(server.base_url, token, rest, sizes.photo_uploaders)
            cpu = process_cpu(server.proc.pid) - cpu
            rate = sizes.photos / seconds
            mean_kb = statistics.mean(len(p) for p in photos) / 1000
            report.add(
                "f",
                rate,
                f"(f) photos: {rate:,.1f}/s ({sizes.photos} x {mean_kb:.0f} KB, {sizes.photo_uploaders} uploaders, "
                f"{CHUNK // 1024} KiB chunks, {seconds:.2f} s; server CPU {cpu * 1000 / sizes.photos:.1f} ms/photo)"
                f"  [{verdict(rate >= TARGETS['f'])}]",
            )
        if "e" in only:
            # The same burst against the admission policy before this one (refuse beyond 100 ms of
            # queued work), on the same database: a second server process, started after the first.
            await asyncio.to_thread(server.stop)
            server = LiveServer(
                backend.url, root / "data", log_path=root / "server-e0.log", env={"WUYE_SYNC_QUEUE_MS": "100"}
            )
            await asyncio.to_thread(server.start)
            await phones_report(
                report,
                server.base_url,
                phone_techs,
                phone_orders,
                sizes,
                "e95_refusing",
                "baseline, refusing beyond 100 ms: ",
            )
            ratio = report.figures["e95"] / report.figures["e95_refusing"]
            report.lines.append(f"    (e) end-to-end p95 against the refusing baseline: {ratio:.2f}x")
            print(f"  {report.lines[-1]}", flush=True)
        if "b" in only and name == "sqlite":
            # Last: its copy of the database must not disturb the figures measured on the original.
            authors = [t.staff_id.hex for t in push_techs]
            floor, replayed, rows = await asyncio.to_thread(
                push_floor.replay_rate, root / "bench.sqlite3", root, authors, 100
            )
            rate = report.figures["b"]
            report.add(
                "b_floor",
                floor,
                f"(b) floor: {floor:,.0f} mutations/s (raw sqlite3 writing the rows of the {replayed} pushes of (b) "
                f"again, {rows:.0f} rows each, one durable transaction per push); (b)/floor = {rate / floor:.2f}",
            )
    finally:
        await asyncio.to_thread(server.stop)
        await db.dispose()
        await backend.drop()
        if keep:
            print(f"  (kept {root})")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="also run against PostgreSQL on 127.0.0.1:5432")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not the figures)")
    parser.add_argument("--only", default="abcdef", help="which figures, e.g. --only bc")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (server log, database)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    only = set(args.only.replace(",", ""))
    print(f"sync bench: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, sizes: {sizes}")
    reports = []
    for name in ["sqlite", *(["postgres"] if args.postgres else [])]:
        reports.append(asyncio.run(run_backend(name, sizes, only, args.keep)))
    print("\nsummary")
    for report in reports:
        print(f"  {report.backend}")
        for line in report.lines:
            print(f"    {line}")


if __name__ == "__main__":
    main()
