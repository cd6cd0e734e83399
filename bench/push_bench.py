"""Web Push throughput through the real outbox: notifications/s to a local push service with 1,000
subscriptions (target ≥ 300/s on this 2-core machine).

    python bench/push_bench.py [--subscriptions 1000]

Each notification is enqueued the way the app does (``notify`` → one delivery row per device), then
the sender drains the outbox: claim with a lease, encrypt (aes128gcm) and sign (VAPID) each message,
POST it, record the outcome. The local push service decrypts and verifies every message. Baseline in
the same run: plain unencrypted POSTs of the same payloads to the same service.
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
from server.push import outbox  # noqa: F401,E402 - registers the delivery hook
from server.push.delivery import PushSender  # noqa: E402
from server.push.models import PushSubscription  # noqa: E402
from server.push.sender import send_due  # noqa: E402
from server.push.vapid import load_or_create  # noqa: E402
from server.web.context import AppContext  # noqa: E402
from tests.support.world import build_world  # noqa: E402


async def main(n: int) -> None:
    # The push service runs in its own process, as a real one would: in this process it would share
    # the GIL with the sender and measure itself instead.
    service = subprocess.Popen(
        [sys.executable, "-m", "tests.support.push_service", str(n)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    subs = json.loads(service.stdout.readline())
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
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(timeout=10, limits=limits) as http:
            vapid = load_or_create(Path(tmp))
            ctx = AppContext(
                settings=settings,
                db=db,
                clock=clock,
                services={
                    "http": http,
                    "vapid": vapid,
                    "push_sender": PushSender(vapid, contact="ops@wuye.example", client=http),
                },
            )

            payload = '{"title":"新报修工单 CH-20261122-0042","body":"3栋"}'.encode()
            sem = asyncio.Semaphore(64)

            async def plain(sub):
                async with sem:
                    await http.post(sub["endpoint"] + "-plain", content=payload)

            t0 = time.perf_counter()
            await asyncio.gather(*(plain(s) for s in subs))
            baseline = n / (time.perf_counter() - t0)

            # One notification fans out to every device of the recipient: n deliveries.
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
            enqueued = time.perf_counter() - t0
            t0 = time.perf_counter()
            sent = 0
            while (k := await send_due(ctx, limit=200)) > 0:
                sent += k
            elapsed = time.perf_counter() - t0
        await db.dispose()
    service.stdin.write("stats\n")
    service.stdin.flush()
    stats = json.loads(service.stdout.readline())
    service.stdin.close()
    service.wait(timeout=10)
    received, rejected = stats["received"], stats["rejected"]
    rate = received / elapsed
    fanout = f"1 notification → {n:,} delivery rows, one transaction"
    print(f"subscriptions: {n:,}; enqueue ({fanout}): {enqueued * 1000:.0f} ms")
    print(f"baseline, plain POSTs to the same service: {baseline:,.0f}/s")
    print(
        f"Web Push through the outbox (claim, encrypt, VAPID, POST, record): {rate:,.0f} notifications/s "
        f"= {rate / baseline:.2f}x baseline; delivered {received:,}/{n:,}, rejected by the service {rejected}; "
        f"target ≥ 300/s: {'meets' if rate >= 300 else 'MISSES'}"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscriptions", type=int, default=1000)
    asyncio.run(main(ap.parse_args().subscriptions))
