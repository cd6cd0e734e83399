"""Owner SMS throughput through the real outbox to a local fake of Alibaba Cloud SMS, against plain
POSTs of the same signed requests to the same fake in the same run.

    python bench/notify_bench.py [--messages 1000]

Outbox: ``notify_owner`` writes the delivery rows (as an order event does), then ``drain`` (the
sender's background job) claims them with a lease, signs each SendSms request (HMAC-SHA1), POSTs
it, maps the answer and records the outcome. Baseline: the same number of signed requests POSTed
through the same httpx client, the same number in flight at a time (``PER_PROVIDER``), no database. The fake runs in
its own process (it would share the GIL with the sender otherwise); it verifies every signature
and counts what it accepted, so the run also shows that nothing was lost or doubled.

Figures are a ratio against the baseline of the same run: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server.clock import ManualClock  # noqa: E402
from server.config import Settings  # noqa: E402
from server.db.engine import Database  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.notify import policy as P  # noqa: E402
from server.notify import sms  # noqa: E402
from server.notify.channels import PER_PROVIDER  # noqa: E402
from server.notify.models import NotifyPolicy  # noqa: E402
from server.notify.service import notify_owner  # noqa: E402
from server.orders.models import Order  # noqa: E402
from server.outbound import Outbound  # noqa: E402
from server.push.sender import ROUND, drain  # noqa: E402
from server.web.context import AppContext  # noqa: E402
from tests.support.simulator import seed_fleet  # noqa: E402
from tests.support.world import build_world  # noqa: E402

LOCAL = Outbound(dev_loopback_hosts=frozenset({"127.0.0.1"}))
FAKE = """
import sys
sys.path.insert(0, sys.argv[1])
from tests.support.providers import FakeAliyun
f = FakeAliyun().start()
print(f.url, flush=True)
for line in sys.stdin:
    print(len(f.sent), flush=True)
"""


class FakeProcess:
    def __enter__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FAKE, str(REPO)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.url = self.proc.stdout.readline().strip()
        return self

    def accepted(self) -> int:
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def config(url: str) -> P.SmsConfig:
    return P.SmsConfig(
        provider="aliyun", endpoint=url + "/", sign_name="阳光花园物业", access_key_id="LTAI5tTestKey",
        access_key_secret="test-secret-aliyun", templates={e: "SMS_100" for e in P.OWNER_EVENTS}, daily_cap=100000,
    )  # fmt: skip


async def baseline(url: str, n: int) -> float:
    cfg = config(url)
    slots = asyncio.Semaphore(PER_PROVIDER)  # the sender's bound on requests in flight

    async def one(j: int):
        async with slots:
            return await sms.send_aliyun(client, cfg, "13712345678", "SMS_100", {"step": "检查", "code": f"b{j:07d}"})

    async with LOCAL.client() as client:
        start = time.perf_counter()
        for i in range(0, n, ROUND):
            outcomes = await asyncio.gather(*(one(j) for j in range(i, min(n, i + ROUND))))
            assert all(o.kind == "delivered" for o in outcomes), [o for o in outcomes if o.kind != "delivered"][:3]
        return n / (time.perf_counter() - start)


async def outbox_run(url: str, n: int, tmp: Path) -> float:
    db_url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
    await asyncio.to_thread(upgrade, db_url)
    db = Database(db_url)
    clock = ManualClock(datetime(2026, 11, 22, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai: no quiet hours
    policy = P.Policy(owner={"step_done": True}, dedupe_minutes=0, owner_sms_per_order_per_day=50, sms=config(url))
    async with db.writer() as s:
        world = await build_world(s, clock)
        fleet = await seed_fleet(s, world, clock, phones=1, orders_each=(n + 49) // 50)
        s.add(NotifyPolicy(estate_id=world.estate.id, config=P.encode(policy), updated_at=clock.now()))
        await s.commit()
    ids = fleet.all_orders()
    async with db.writer() as s:
        for k in range(n):
            order = await s.get(Order, uuid.UUID(str(ids[k // 50])))
            row = await notify_owner(s, order, "step_done", clock.now(), step="检查")
            assert row is not None and row.state == "pending", row and row.reason
        await s.commit()
    settings = Settings.from_env(
        {"WUYE_DATABASE_URL": db_url, "WUYE_DATA_DIR": str(tmp / "data"), "WUYE_SECRET": "x" * 40}
    )
    http = LOCAL.client()
    ctx = AppContext(
        settings=settings, db=db, clock=clock, services={"http": http, "outbound": LOCAL, "push_sender": None}
    )
    try:
        start = time.perf_counter()
        sent = await drain(ctx)
        took = time.perf_counter() - start
    finally:
        await http.aclose()
        await db.dispose()
    assert sent == n, sent
    return n / took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1000)
    n = ap.parse_args().messages
    with FakeProcess() as fake, tempfile.TemporaryDirectory() as tmp:
        before = asyncio.run(baseline(fake.url, n))
        through = asyncio.run(outbox_run(fake.url, n, Path(tmp)))
        after = asyncio.run(baseline(fake.url, n))
        accepted = fake.accepted()
    print(f"plain signed POSTs, before:  {before:7.0f} msg/s")
    print(f"outbox → fake SMS provider:  {through:7.0f} msg/s  ({through / ((before + after) / 2):.2f}× the baseline)")
    print(f"plain signed POSTs, after:   {after:7.0f} msg/s")
    print(f"accepted by the fake: {accepted} (expected {3 * n}: none lost, none doubled)")
    assert accepted == 3 * n


if __name__ == "__main__":
    main()
