"""Bytes on the wire: the first visit of ``/app/`` and a fresh device's full pull of 1,000 changes, in
headless Chromium on an emulated slow link (CDP network conditions), with and without compression,
in the same run against the same server.

    python bench/wire_bench.py [--changes 1000] [--kbit 1600] [--rtt 150]

"Without" is the same browser asking ``Accept-Encoding: identity`` (what every answer was before the
server compressed): the same server, files and database, so the ratio is compression's alone.
Printed per case: seconds (median of 3, a fresh browser context each: no HTTP cache, no service
worker) and the bytes that crossed the wire (CDP ``encodedDataLength``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.sync_bench import seed_steps, seed_world, technicians_with_accepted_orders  # noqa: E402
from server.db.engine import Database  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support.live_server import LiveServer, prepare_database  # noqa: E402

PULL = """async ([token, clientId]) => {
  const t0 = performance.now();
  let cursor = null, changes = 0, pages = 0;
  for (;;) {
    const q = new URLSearchParams({ client_id: clientId, limit: "1000" });
    if (cursor) q.set("cursor", cursor);
    const r = await fetch("/sync/pull?" + q, { headers: { Authorization: "Bearer " + token, "Wuye-Protocol": "1",
      "Wuye-Request-Id": crypto.randomUUID() } });
    if (!r.ok) throw new Error("pull " + r.status);
    const page = await r.json();
    changes += page.changes.length; pages++; cursor = page.cursor;
    if (!page.has_more) break;
  }
  return { seconds: (performance.now() - t0) / 1000, changes, pages };
}"""


async def seed(url: str, changes: int) -> str:
    db = Database(url)
    try:
        world = await seed_world(db)
        techs, orders = await technicians_with_accepted_orders(db, world, 1, 10)
        await seed_steps(db, orders[techs[0].key], techs[0].staff_id, changes)
        return techs[0].token
    finally:
        await db.dispose()


def measure(
    browser, base_url: str, what: str, compressed: bool, conditions: dict, token: str
) -> tuple[float, int, str]:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, service_workers="block")
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if not compressed:
        cdp.send("Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": "identity"}})
    wire = 0
    encodings: set[str] = set()

    def finished(event: dict) -> None:
        nonlocal wire
        wire += int(event["encodedDataLength"])

    def received(event: dict) -> None:
        enc = {k.lower(): v for k, v in event["response"]["headers"].items()}.get("content-encoding")
        encodings.add(enc or "identity")

    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.responseReceived", received)
    try:
        if what == "visit":
            cdp.send("Network.emulateNetworkConditions", conditions)
            t0 = time.perf_counter()
            page.goto(f"{base_url}/app/", wait_until="load")
            page.wait_for_selector("input[name=phone]")
            seconds = time.perf_counter() - t0
        else:
            page.goto(f"{base_url}/healthz")
            cdp.send("Network.emulateNetworkConditions", conditions)
            wire = 0
            encodings.clear()
            out = page.evaluate(PULL, [token, str(uuid.uuid4())])  # a fresh device each time
            seconds = out["seconds"]
        page.wait_for_timeout(200)  # the last loadingFinished events
        return seconds, wire, ",".join(sorted(encodings))
    finally:
        ctx.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--kbit", type=float, default=1600, help="link speed, both directions (kbit/s)")
    parser.add_argument("--rtt", type=float, default=150, help="round-trip latency (ms)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not (REPO / "pwa" / "dist" / "index.html").exists():
        raise SystemExit("pwa/dist missing: cd pwa && npm run build")
    conditions = {
        "offline": False,
        "latency": args.rtt,
        "downloadThroughput": args.kbit * 1000 / 8,
        "uploadThroughput": args.kbit * 1000 / 8,
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = prepare_database(f"sqlite+aiosqlite:///{root / 'wire.sqlite3'}")
        token = asyncio.run(seed(url, args.changes))
        server = LiveServer(url, root / "data")
        server.start()
        try:
            print(
                f"wire bench: {args.kbit:.0f} kbit/s, {args.rtt:.0f} ms RTT, {args.changes:,} changes, "
                f"median of {args.repeat}"
            )
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for what, label in (
                    ("visit", "first visit of /app/ to the sign-in form"),
                    ("pull", f"full pull of {args.changes:,} changes"),
                ):
                    rows = {}
                    for compressed in (False, True):
                        runs = [
                            measure(browser, server.base_url, what, compressed, conditions, token)
                            for _ in range(args.repeat)
                        ]
                        rows[compressed] = (statistics.median(r[0] for r in runs), runs[-1][1], runs[-1][2])
                    (t0, b0, e0), (t1, b1, e1) = rows[False], rows[True]
                    print(
                        f"  {label}: before {t0:.2f} s, {b0 / 1000:.0f} KB ({e0}); after {t1:.2f} s, "
                        f"{b1 / 1000:.0f} KB ({e1}); {t0 / t1:.1f}x faster, {b0 / b1:.1f}x fewer bytes"
                    )
                    print(
                        f"    bytes / bandwidth: before {b0 * 8 / (args.kbit * 1000):.2f} s, "
                        f"after {b1 * 8 / (args.kbit * 1000):.2f} s"
                    )
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
