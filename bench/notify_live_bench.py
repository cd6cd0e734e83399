"""Dispatch → order visible on an open phone, through the device stream (target p95 < 2 s).

    python bench/notify_live_bench.py [--dispatches 200] [--postgres]

The real server (``wuye serve``, one worker) on a fresh SQLite file (or, with ``--postgres``, a
fresh database on the local PostgreSQL, dropped afterwards). In this process, a phone signed in as
a technician holds ``GET /sync/events`` open with a real SSE reader and, on each ``changed``, pulls
``/sync/pull`` from its cursor as the PWA does (one more pull when a ``changed`` came during a
pull). The desk, signed in apart, creates and dispatches one order to that technician at a time
(``POST /api/orders/`` with ``assignee_id``, one transaction); the clock runs from just before the
desk's request until the phone's pull returns the order. Sequential, so each figure is one
dispatch's latency, not a queue's.

Baselines in the same run: the desk's request alone, the phone's pull round trip with nothing new,
and what the poll alone would give (request + a uniformly random wait of the 30 s poll: p50 15 s,
p95 28.5 s), computed from the same measured request times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests.support.databases import pg_execute, sqlalchemy_pg_url  # noqa: E402
from tests.support.live_server import LiveServer, prepare_database, seed  # noqa: E402
from tests.support.world import PASSWORD  # noqa: E402

POLL_SECONDS = 30.0
SYNC_HEADERS = {"Wuye-Protocol": "1"}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{name:<44} p50 {pct(ms, 50):8.1f} ms   p95 {pct(ms, 95):8.1f} ms   max {max(ms):8.1f} ms   (n={len(ms)})"


class Phone:
    """An open app: an SSE reader and a puller, as pwa/src/livesync.ts and sync.ts do it."""

    def __init__(self, client: httpx.AsyncClient, token: str):
        self.client = client
        self.auth = {"Authorization": f"Bearer {token}"}
        self.cursor: str | None = None
        self.client_id = str(uuid.uuid4())
        self.waiting: dict[str, asyncio.Future] = {}
        self.changed_at: list[float] = []
        self.live = asyncio.Event()
        self._again = False
        self._pulling = False

    async def pull(self) -> list[dict]:
        params = {"client_id": self.client_id, "limit": "500"}
        if self.cursor:
            params["cursor"] = self.cursor
        r = await self.client.get(
            "/sync/pull", params=params, headers={**self.auth, **SYNC_HEADERS, "Wuye-Request-Id": str(uuid.uuid4())}
        )
        r.raise_for_status()
        page = r.json()
        self.cursor = page["cursor"]
        return page["changes"]

    async def pull_all(self) -> None:
        if self._pulling:
            self._again = True
            return
        self._pulling = True
        try:
            while True:
                self._again = False
                for change in await self.pull():
                    fut = self.waiting.pop(change["id"], None) if change["table"] == "orders" else None
                    if fut is not None and not fut.done():
                        fut.set_result(time.perf_counter())
                if not self._again:
                    return
        finally:
            self._pulling = False

    async def listen(self) -> None:
        async with self.client.stream(
            "GET", "/sync/events", params={"client_id": self.client_id}, headers=self.auth, timeout=None
        ) as r:
            r.raise_for_status()
            event = None
            async for raw in r.aiter_lines():
                if raw.startswith("event: "):
                    event = raw[7:]
                elif raw.startswith("data: ") and event != "ping":
                    msg = json.loads(raw[6:])
                    if msg["type"] == "hello":
                        self.live.set()
                    elif msg["type"] == "changed":
                        self.changed_at.append(time.perf_counter())
                        asyncio.create_task(self.pull_all())
                elif not raw:
                    event = None


async def login(client: httpx.AsyncClient, phone: str) -> str:
    r = await client.post("/api/auth/login", json={"phone": phone, "password": PASSWORD})
    r.raise_for_status()
    return r.json()["token"]


async def run(base: str, world, n: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as desk_http, httpx.AsyncClient(
        base_url=base, timeout=30, limits=httpx.Limits(max_connections=4)
    ) as phone_http:
        desk = {"Authorization": f"Bearer {await login(desk_http, world.phone('desk'))}"}
        phone = Phone(phone_http, await login(phone_http, world.phone("tech_a")))
        await phone.pull_all()  # the phone's first sync
        listener = asyncio.create_task(phone.listen())
        await asyncio.wait_for(phone.live.wait(), 10)

        bare: list[float] = []
        for _ in range(min(n, 100)):
            t = time.perf_counter()
            await phone.pull()
            bare.append(time.perf_counter() - t)

        homes = [h.id for h in world.households.values() if h.estate_id == world.estate.id]
        request, visible, event = [], [], []
        for i in range(n):
            body = {
                "kind": "repair",
                "category": "water_electric",
                "channel": "phone",
                "description": f"测试派单 {i}",
                "household_id": str(homes[i % len(homes)]),
                "assignee_id": str(world.id("tech_a")),
            }
            sent = time.perf_counter()
            r = await desk_http.post("/api/orders/", json=body, headers=desk)
            answered = time.perf_counter()
            r.raise_for_status()
            oid = r.json()["order"]["id"]
            fut = phone.waiting.setdefault(oid, asyncio.get_running_loop().create_future())
            if not fut.done():
                await asyncio.wait_for(fut, 30)
            # The pull may have answered before the desk's own answer arrived.
            visible.append(max(fut.result(), answered) - sent)
            request.append(answered - sent)
            heard = [t for t in phone.changed_at if t >= sent]
            if heard:
                event.append(heard[0] - sent)
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)

    rng = random.Random(20)
    poll_only = [q + rng.uniform(0, POLL_SECONDS) for q in request]
    print(f"dispatches: {n}")
    print(line("baseline: phone pull, nothing new", bare))
    print(line("baseline: desk dispatch request alone", request))
    print(line("dispatch → 'changed' event on the phone", event))
    print(line("dispatch → order pulled on the phone (SSE)", visible))
    print(line("poll only (30 s, random phase; computed)", poll_only))
    print(
        f"SSE p95 / poll-only p95 = {pct(visible, 95) / pct(poll_only, 95):.3f}; "
        f"SSE p50 − request p50 = {(statistics.median(visible) - statistics.median(request)) * 1000:.1f} ms"
    )
    print("target p95 < 2 s:", "met" if pct(visible, 95) < 2 else "NOT met")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dispatches", type=int, default=200)
    ap.add_argument("--postgres", action="store_true", help="a fresh database on 127.0.0.1:5432 instead of SQLite")
    args = ap.parse_args()
    name = f"bench_live_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            pg_execute(f'CREATE DATABASE "{name}"')
            url = sqlalchemy_pg_url(name)
        else:
            url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        try:
            prepare_database(url)
            world, _ = asyncio.run(seed(url))
            with LiveServer(url, Path(tmp) / "data") as server:
                asyncio.run(run(server.base_url, world, args.dispatches))
        finally:
            if args.postgres:
                pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
