"""Owner progress page under load: ``python bench/progress_bench.py [--workers 2] [--concurrency 50]``.

Serves the app with uvicorn (``server.asgi:app``, N worker processes, access log off) on a temp
SQLite database (or ``--database-url``) and data dir, migrated and seeded with the test world and one
repair order with 10 steps and 20 photos, then measures with a concurrent keep-alive client:

    (a) ``GET /healthz`` — baseline: the app's cheapest route that also touches the database
    (b) ``GET /p/<token>`` — the owner page (link check in the database + cached render)
    (c) the page's render cost in this process without the cache (build the view + HTML)
    (d) thumbnail (480 px) generation for a 4000x3000 camera JPEG, next to a plain full decode

Requests/s, p50 and p99 for (a) and (b) come from the same run, with (b)/(a) as the ratio. Clients:
``wrk`` (C, Debian's package, installed by ``make setup``: costs the server the least CPU on this
shared machine; the default when present), ``raw`` (a minimal asyncio HTTP/1.1 client) and ``httpx``.
Targets: >= 1,500 req/s and p99 < 50 ms for (b).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from server.accounts.service import actor_for  # noqa: E402
from server.db.engine import Database  # noqa: E402
from server.orders import lifecycle, steps  # noqa: E402
from server.orders.lifecycle import NewOrder  # noqa: E402
from server.orders.models import Category, Channel, Kind  # noqa: E402
from server.photos.blobstore import BlobStore  # noqa: E402
from server.photos.derivatives import render  # noqa: E402
from server.photos.service import record_arrival  # noqa: E402
from server.progress import links, owner  # noqa: E402
from server.progress.page import progress_page  # noqa: E402
from tests.support.camera_jpegs import camera_jpeg  # noqa: E402
from tests.support.live_server import SECRET, free_port, prepare_database, seed  # noqa: E402

# --- seeding -----------------------------------------------------------------------------------------


async def seed_order(url: str, data_dir: Path) -> tuple[str, str]:
    """The test world plus one completed repair with 10 steps of 2 photos each; returns (token, order id)."""
    world, _ = await seed(url)
    store = BlobStore(data_dir / "photos")
    photos = [store.put(camera_jpeg((800, 600), 1 + i % 8)) for i in range(20)]
    db = Database(url)
    try:
        async with db.writer() as s:
            now = datetime.now(UTC) - timedelta(hours=3)
            for info in photos:
                await record_arrival(s, info, now)
            desk = await actor_for(s, world.staff["desk"])
            tech = await actor_for(s, world.staff["tech_a"])
            order = await lifecycle.create_order(
                s,
                desk,
                NewOrder(
                    kind=Kind.repair,
                    category=Category.water_electric,
                    channel=Channel.phone,
                    description="卫生间墙面渗水，楼下天花板有水渍，请尽快处理。",
                    household_id=world.households["1栋1单元101"].id,
                    assignee_id=tech.staff_id,
                ),
                now=now,
            )
            for i, action in enumerate(("accept", "depart", "arrive")):
                await lifecycle.transition(s, tech, order.id, action, now=now + timedelta(minutes=5 * (i + 1)))
            for i in range(10):
                at = now + timedelta(minutes=20 + 8 * i)
                new = steps.NewStep(
                    note=f"第{i + 1}步：检查管道接口并更换密封圈，确认无渗漏后清理现场。",
                    captured_at=at,
                    photos=[photos[2 * i].sha256, photos[2 * i + 1].sha256],
                    materials=[{"name": "密封圈", "quantity": 2, "unit": "个"}],
                )
                await steps.add_step(s, tech, order.id, new, now=at)
            await lifecycle.transition(s, tech, order.id, "complete", now=now + timedelta(minutes=120))
            issued = await links.issue(s, order, secret=SECRET, now=now, days=30, created_by=desk.staff_id)
            await s.commit()
        return issued.token, str(order.id)
    finally:
        await db.dispose()


async def render_cost(url: str, token: str, rounds: int = 50) -> tuple[float, int]:
    """Median ms to build the owner view and render the page without the cache; and the page bytes."""
    db = Database(url)
    try:
        times, size = [], 0
        async with db.reader() as s:
            resolved = await links.resolve(s, token, now=datetime.now(UTC), days=30)
            for _ in range(rounds):
                t0 = time.perf_counter()
                view = await owner.build(s, resolved.order, expires_at=resolved.expires_at)
                size = len(progress_page(view, token=token, lang="zh").encode())
                times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000, size
    finally:
        await db.dispose()


# --- server ------------------------------------------------------------------------------------------


class Uvicorn:
    def __init__(self, url: str, data_dir: Path, workers: int, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WUYE_")}
        env.update(
            WUYE_DATABASE_URL=url,
            WUYE_DATA_DIR=str(data_dir),
            WUYE_BASE_URL=self.base,
            WUYE_SECRET=SECRET,
            WUYE_BACKGROUND_JOBS="0",
            PYTHONPATH=str(ROOT),
        )
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "server.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"server did not start; see {log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# --- load clients --------------------------------------------------------------------------------------


class RawConnection:
    """HTTP/1.1 keep-alive GETs over asyncio streams: just enough client for a benchmark."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, int]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept-Language: zh-CN\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        return status, len(body)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(base: str, path: str, *, client: str, concurrency: int, total: int, seconds: float) -> dict:
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    remaining = total
    deadline = time.perf_counter() + seconds

    async def worker_raw() -> None:
        nonlocal remaining, errors
        conn = RawConnection(host, int(port))
        try:
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                t0 = time.perf_counter()
                status, _ = await conn.get(path)
                latencies.append(time.perf_counter() - t0)
                errors += status != 200
        finally:
            conn.close()

    async def worker_httpx(session: httpx.AsyncClient) -> None:
        nonlocal remaining, errors
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            t0 = time.perf_counter()
            r = await session.get(path)
            latencies.append(time.perf_counter() - t0)
            errors += r.status_code != 200

    t0 = time.perf_counter()
    if client == "raw":
        await asyncio.gather(*(worker_raw() for _ in range(concurrency)))
    else:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as session:
            await asyncio.gather(*(worker_httpx(session) for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors,
        "rps": n / elapsed,
        "p50": latencies[n // 2] * 1000,
        "p99": latencies[min(n - 1, int(n * 0.99))] * 1000,
    }


def wrk(base: str, path: str, *, concurrency: int, seconds: float) -> dict:
    """One wrk run (1 thread: the other core is the server's); its own latency percentiles."""
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-H",
            "Accept-Language: zh-CN",
            base + path,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)$", out, re.M)
        return float(m.group(1)) * unit[m.group(2)]

    requests = int(re.search(r"^\s+(\d+) requests in", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": requests,
        "errors": (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50"),
        "p99": ms("99"),
    }


def measure(base: str, path: str, *, client: str, concurrency: int, total: int, seconds: float) -> dict:
    if client == "wrk":
        return wrk(base, path, concurrency=concurrency, seconds=seconds)
    return asyncio.run(load(base, path, client=client, concurrency=concurrency, total=total, seconds=seconds))


def line(name: str, r: dict) -> str:
    return (
        f"    {name:<22} {r['rps']:8.0f} req/s   p50 {r['p50']:6.1f} ms   p99 {r['p99']:6.1f} ms"
        f"   ({r['requests']} requests, {r['errors']} errors)"
    )


# --- thumbnails --------------------------------------------------------------------------------------


def thumbnail(tmp: Path, repeat: int = 7) -> tuple[float, float]:
    from PIL import Image

    path = tmp / "camera-4000x3000.jpg"
    path.write_bytes(camera_jpeg((4000, 3000), 6, quality=92))

    def median(fn) -> float:
        fn()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000

    def decode() -> None:
        with Image.open(path) as im:
            im.load()

    return median(lambda: render(path, 480)), median(decode)


# --- main ----------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--requests", type=int, default=20000, help="per measurement, at most")
    ap.add_argument("--seconds", type=float, default=15.0, help="per measurement, at most")
    ap.add_argument(
        "--client",
        choices=("wrk", "raw", "httpx", "all"),
        default="wrk" if shutil.which("wrk") else "raw",
        help="load generator (default: wrk when installed, else raw)",
    )
    ap.add_argument(
        "--database-url", help="e.g. postgresql+asyncpg://postgres@127.0.0.1/wuye_bench (must exist, empty)"
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="wuye-progress-bench-"))
    server = None
    try:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
        prepare_database(url)
        token, _ = asyncio.run(seed_order(url, tmp / "data"))
        cost, size = asyncio.run(render_cost(url, token))
        print(f"progress page, 10 steps / 20 photos: {size} bytes of HTML+CSS+JS (budget 40960)")
        print(f"(c) render without cache (build view + HTML, in-process): median {cost:.2f} ms")
        server = Uvicorn(url, tmp / "data", args.workers, tmp / "server.log")
        engine = "PostgreSQL" if "postgres" in url else "SQLite"
        print(
            f"server: uvicorn server.asgi:app --workers {args.workers} ({engine}), {args.concurrency} concurrent "
            f"keep-alive connections, {os.cpu_count()} CPUs shared with the client"
        )
        clients = ("wrk", "raw", "httpx") if args.client == "all" else (args.client,)
        page = f"/p/{token}"
        for client in clients:
            for warm in ("/healthz", page):
                measure(server.base, warm, client=client, concurrency=args.concurrency, total=500, seconds=2)
            base = measure(
                server.base,
                "/healthz",
                client=client,
                concurrency=args.concurrency,
                total=args.requests,
                seconds=args.seconds,
            )
            prog = measure(
                server.base,
                page,
                client=client,
                concurrency=args.concurrency,
                total=args.requests,
                seconds=args.seconds,
            )
            print(f"client {client}:")
            print(line("(a) /healthz baseline", base))
            print(line("(b) /p/<token>", prog))
            print(f"    ratio (b)/(a) throughput: {prog['rps'] / base['rps']:.2f}")
        server.stop()
        server = None
        thumb, decode = thumbnail(tmp)
        print("(d) thumbnail of a 4000x3000 camera JPEG (orientation 6, EXIF+GPS+ICC):")
        print(
            f"    480 px derivative median {thumb:.1f} ms; baseline full decode {decode:.1f} ms "
            f"(= {thumb / decode:.2f} x)"
        )
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
