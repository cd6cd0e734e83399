"""Web Push throughput through the real outbox: notifications/s to a local push service with 1,000
subscriptions (target ≥ 300/s on this 2-core machine).

    python bench/push_bench.py [--subscriptions 1000]

Each notification is enqueued the way the app does (``notify`` → one delivery row per device), then
the sender drains the outbox as its background job does (``drain`` with its defaults: rounds of
200, the next round claimed and the last one recorded while one is on the wire, a few in flight):
claim with a lease, encrypt (aes128gcm) and sign (VAPID) each message, POST it, record the
outcome. The local push service decrypts every message and verifies its JWT.

Baselines in the same run, to the same service: plain unencrypted POSTs of the same payload through
the same transport (httpx) and in-flight bound the sender uses (before and after the push run, to
show the machine's drift), and through httpx with 64 connections (the pool-size trap the transport's
docstring describes). The service runs in its own process; its CPU seconds are reported apart from
the sender's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from server.clock import Clock  # noqa: E402
from server.config import Settings  # noqa: E402
from server.db.engine import Database  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.notifications.service import notify  # noqa: E402
from server.outbound import Outbound  # noqa: E402
from server.push import outbox  # noqa: F401,E402 - registers the delivery hook
from server.push.delivery import PushSender  # noqa: E402
from server.push.models import PushSubscription  # noqa: E402
from server.push.sender import ROUND, drain  # noqa: E402
from server.push.transport import PushTransport  # noqa: E402
from server.push.vapid import load_or_create  # noqa: E402
from server.web.context import AppContext  # noqa: E402

# The local push service listens on 127.0.0.1: the development allowance of the SSRF rule.
LOCAL = Outbound(dev_loopback_hosts=frozenset({"127.0.0.1"}))
from tests.support.world import build_world  # noqa: E402

PAYLOAD = '{"title":"新报修工单 CH-20261122-0042","body":"3栋"}'.encode()


class Service:
    """The push service in its own process, as a real one would be: in this process it would share
    the GIL with the sender and measure itself instead."""

    def __init__(self, n: int):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.push_service", str(n)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.subs = json.loads(self.proc.stdout.readline())

    def stats(self) -> dict:
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class Meter:
    """Wall time, this process's CPU and the service's CPU over a block."""

    def __init__(self, service: Service):
        self.service = service

    def __enter__(self) -> Meter:
        self.cpu0, self.svc0, self.t0 = time.process_time(), self.service.stats()["cpu"], time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.cpu0
        self.svc_cpu = self.service.stats()["cpu"] - self.svc0

    def line(self, n: int) -> str:
        return (
            f"{n / self.wall:,.0f}/s (CPU per message: sender {self.cpu / n * 1e3:.2f} ms, "
            f"service {self.svc_cpu / n * 1e3:.2f} ms)"
        )


async def plain_posts(post, subs: list[dict], bound: int) -> None:
    sem = asyncio.Semaphore(bound)

    async def one(sub):
        async with sem:
            await post(sub["endpoint"] + "-plain", PAYLOAD)

    await asyncio.gather(*(one(s) for s in subs))


def _ctx(url: str, tmp: str) -> AppContext:
    settings = Settings.from_env({"WUYE_DATABASE_URL": url, "WUYE_DATA_DIR": tmp, "WUYE_SECRET": "b" * 40})
    vapid = load_or_create(Path(tmp))
    sender = PushSender(vapid, contact="ops@wuye.example", transport=PushTransport(outbound=LOCAL))
    return AppContext(
        settings=settings,
        db=Database(url),
        clock=Clock(),
        services={"http": httpx.AsyncClient(timeout=10), "vapid": vapid, "push_sender": sender},
    )


async def child(url: str, tmp: str) -> None:
    """A sender process, as each server worker runs one: waits for "go", drains, reports."""
    ctx = _ctx(url, tmp)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    cpu = time.process_time()
    sent = await drain(ctx)
    print(json.dumps({"sent": sent, "cpu": time.process_time() - cpu}), flush=True)
    await ctx.services["push_sender"].aclose()
    await ctx.services["http"].aclose()
    await ctx.db.dispose()


class Senders:
    """``k`` sender processes draining one outbox (claims under a lease keep them apart)."""

    def __init__(self, k: int, url: str, tmp: str):
        self.procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--child", url, tmp],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(k)
        ]
        for proc in self.procs:
            assert proc.stdout.readline().strip() == "ready"

    def run(self) -> list[dict]:
        for proc in self.procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        out = [json.loads(proc.stdout.readline()) for proc in self.procs]
        for proc in self.procs:
            proc.wait(timeout=30)
        return out


async def main(n: int) -> None:
    service = Service(n)
    subs = service.subs
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/push.sqlite3"
        await asyncio.to_thread(upgrade, url)
        settings = Settings.from_env({"WUYE_DATABASE_URL": url, "WUYE_DATA_DIR": tmp, "WUYE_SECRET": "b" * 40})
        db = Database(url)
        clock = Clock()
        async with db.writer() as s:
            world = await build_world(s, clock)
            for sub in subs:
                s.add(
                    PushSubscription(
                        id=uuid.uuid4(),
                        staff_id=world.id("tech_a"),
                        endpoint=sub["endpoint"],
                        p256dh=sub["keys"]["p256dh"],
                        auth=sub["keys"]["auth"],
                        created_at=clock.now(),
                    )
                )
            await s.commit()
        transport = PushTransport(outbound=LOCAL)
        bound = transport.per_origin
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(timeout=10, limits=limits) as http:
            vapid = load_or_create(Path(tmp))
            sender = PushSender(vapid, contact="ops@wuye.example", transport=transport)
            ctx = AppContext(
                settings=settings,
                db=db,
                clock=clock,
                services={"http": http, "vapid": vapid, "push_sender": sender},
            )

            async def via_transport(url: str, body: bytes) -> None:
                await transport.post(url, {}, body)

            async def via_httpx(url: str, body: bytes) -> None:
                await http.post(url, content=body)

            await plain_posts(via_transport, subs[:50], bound)  # connections open, code warm
            with Meter(service) as before:
                await plain_posts(via_transport, subs, bound)
            await plain_posts(via_httpx, subs[:50], 64)
            with Meter(service) as old:
                await plain_posts(via_httpx, subs, 64)

            async def enqueue() -> float:
                """One notification fans out to every device of the recipient: n deliveries."""
                t0 = time.perf_counter()
                async with db.writer() as s:
                    await notify(
                        s,
                        staff_id=world.id("tech_a"),
                        kind="assigned",
                        title="新报修工单 CH-20261122-0042",
                        body="3栋",
                        now=clock.now(),
                        topic="order-CH-20261122-0042",
                    )
                    await s.commit()
                return time.perf_counter() - t0

            enqueued = await enqueue()
            received0 = service.stats()["received"]
            with Meter(service) as push:
                await drain(ctx)  # the background job's own settings
            received = service.stats()["received"] - received0

            # As deployed with two server workers: a sender in each process, one outbox.
            await enqueue()
            senders = Senders(2, url, tmp)
            received1 = service.stats()["received"]
            t0, svc0 = time.perf_counter(), service.stats()["cpu"]
            reports = senders.run()
            two_wall, two_svc = time.perf_counter() - t0, service.stats()["cpu"] - svc0
            received2 = service.stats()["received"] - received1
            with Meter(service) as after:
                await plain_posts(via_transport, subs, bound)
            await sender.aclose()
        await db.dispose()
    stats = service.stats()
    service.close()
    rejected = stats["rejected"]
    baseline = 2 * n / (before.wall + after.wall)
    rate = received / push.wall
    fanout = f"1 notification → {n:,} delivery rows, one transaction"
    print(f"subscriptions: {n:,}; enqueue ({fanout}): {enqueued * 1e3:.0f} ms")
    print(f"sender: rounds of {ROUND}, at most {bound} messages in flight per push service")
    print(f"baseline, plain POSTs through the sender's transport ({bound} in flight), before: {before.line(n)}")
    print(f"baseline, plain POSTs through the sender's transport ({bound} in flight), after:  {after.line(n)}")
    print(f"reference, plain POSTs through httpx with 64 connections in flight: {old.line(n)}")
    print(f"Web Push through the outbox (claim, encrypt, VAPID, POST, record): {push.line(max(received, 1))}")
    print(
        f"  = {rate:,.0f} notifications/s = {rate / baseline:.2f}x the transport baseline ({baseline:,.0f}/s); "
        f"delivered {received:,}/{n:,}, rejected by the service {rejected}; "
        f"target ≥ 300/s: {'meets' if rate >= 300 else 'MISSES'}"
    )
    rate2 = received2 / two_wall
    cpu2 = sum(r["cpu"] for r in reports) / max(received2, 1) * 1e3
    print(
        f"two sender processes (one per server worker), same outbox: {rate2:,.0f}/s "
        f"(CPU per message: senders {cpu2:.2f} ms, service {two_svc / max(received2, 1) * 1e3:.2f} ms); "
        f"sent {[r['sent'] for r in reports]}, delivered {received2:,}/{n:,}; "
        f"target ≥ 300/s: {'meets' if rate2 >= 300 else 'MISSES'}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        asyncio.run(child(sys.argv[2], sys.argv[3]))
        sys.exit()
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscriptions", type=int, default=1000)
    asyncio.run(main(ap.parse_args().subscriptions))
