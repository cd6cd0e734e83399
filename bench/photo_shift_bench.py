"""A shift of photos synced from the PWA over emulated slow links (Chromium network conditions through
CDP), three photos in flight (the app's UPLOAD_PARALLEL) against one at a time, in the same run:

    python bench/photo_shift_bench.py [--photos 20] [--slow-photos 8]

Per link: seconds from the link coming back to no photo pending, and that against the floor
bytes ÷ bandwidth (target: within 1.2x). The photos are filled into the app's IndexedDB offline
(640x480 noise JPEGs, ~250 KB each, as ``bench/pwa_bench.py`` does), the mutations of a few orders
with them. The same server and database serve all runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


from playwright.sync_api import sync_playwright  # noqa: E402

from bench.pwa_bench import FILL_SHIFT, assign, seeded_server  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support.world import PASSWORD  # noqa: E402

LINKS = (("1.6 Mbit/s, 150 ms", 1600, 150), ("400 kbit/s, 400 ms", 400, 400))
ORDERS = 2

PENDING_BYTES = """async () => { const o = indexedDB.open("wuye-field");
  const db = await new Promise((ok) => (o.onsuccess = () => ok(o.result)));
  const all = await new Promise((ok) => { const r = db.transaction("photos").objectStore("photos").getAll();
    r.onsuccess = () => ok(r.result); });
  db.close();
  return all.filter((p) => p.state === "pending").reduce((n, p) => n + p.size, 0); }"""

SET_PARALLEL = """async (n) => { const o = indexedDB.open("wuye-field");
  const db = await new Promise((ok) => (o.onsuccess = () => ok(o.result)));
  const tx = db.transaction("meta", "readwrite"); tx.objectStore("meta").put({ key: "upload_parallel", value: n });
  await new Promise((ok) => (tx.oncomplete = ok)); db.close(); }"""


def one_shift(browser, server, photos: int, kbit: float, rtt: float, parallel: int) -> tuple[float, int]:
    """Seconds to sync ``photos`` photos at ``parallel`` in flight on the link, and their bytes."""
    orders = assign(server, ORDERS)
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, service_workers="block")
    page = ctx.new_page()
    try:
        page.goto(f"{server.base_url}/app/")
        page.fill("input[name=phone]", server.world.phone("tech_a"))
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_function(f"() => document.querySelectorAll('.task').length >= {ORDERS}", timeout=60_000)
        page.evaluate(SET_PARALLEL, parallel)
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        link = {"latency": rtt, "downloadThroughput": kbit * 1000 / 8, "uploadThroughput": kbit * 1000 / 8}
        cdp.send("Network.emulateNetworkConditions", {"offline": True, **link})
        page.evaluate(FILL_SHIFT, [orders, photos])
        size = page.evaluate(PENDING_BYTES)
        page.evaluate("location.hash = '#/sync'")
        page.wait_for_selector("[data-test=pending-photos]")
        t0 = time.perf_counter()
        cdp.send("Network.emulateNetworkConditions", {"offline": False, **link})
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_function(
            "() => document.querySelector('[data-test=pending-photos]').textContent === '0'",
            timeout=1_800_000,
            polling=100,
        )
        return time.perf_counter() - t0, size
    finally:
        ctx.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=20, help="photos per shift on the 1.6 Mbit/s link")
    parser.add_argument("--slow-photos", type=int, default=8, help="photos per shift on the 400 kbit/s link")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, seeded_server(Path(tmp)) as server:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print("photo shift bench (PWA in Chromium, CDP network conditions; same server for all runs)")
            for (label, kbit, rtt), photos in zip(LINKS, (args.photos, args.slow_photos), strict=True):
                rows = {}
                for parallel in (1, 3):
                    seconds, size = one_shift(browser, server, photos, kbit, rtt, parallel)
                    rows[parallel] = (seconds, size, size * 8 / (kbit * 1000))
                (s1, b1, f1), (s3, b3, f3) = rows[1], rows[3]
                print(
                    f"  {label}, {photos} photos (~{b3 / photos / 1000:.0f} KB each): one at a time "
                    f"{s1:.1f} s = {s1 / f1:.2f}x bytes/bandwidth ({b1 / 1e6:.1f} MB / link {f1:.1f} s); "
                    f"three in flight {s3:.1f} s = {s3 / f3:.2f}x "
                    f"[{'meets' if s3 / f3 <= 1.2 else 'MISSES'} 1.2x]; speed-up {s1 / f1 / (s3 / f3):.2f}x",
                    flush=True,
                )
            browser.close()


if __name__ == "__main__":
    main()
