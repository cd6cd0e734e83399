"""Walk-abouts (巡查) in the PWA, in real headless Chromium (390×844, zh-CN) against a real server.

A steward goes offline, starts a walk, checks in at the three checkpoints of her grid by feeding a
photo of each label's QR code to the "拍照识别" file input (Chromium on Linux has no
BarcodeDetector, so the JS decoder reads it), fails one check item with a photo, records a free
finding with a photo and a flat, turns it into a work order, and ends the walk. Back online, the
server has the walk, the order exists and is dispatched, the finding shows the order's status on the
phone, and the coverage report counts the visits. A team lead then reads the coverage screen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import qrcode

from server.orders.kpi import CHINA
from tests.browser.conftest import ARTIFACTS, PHONE, wait_for
from tests.support.camera_jpegs import camera_jpeg
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser


@contextmanager
def as_staff(server, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        r = c.post("/api/auth/login", json={"phone": server.world.phone(key), "password": PASSWORD})
        c.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield c


def login(page, server, key: str) -> None:
    page.goto(f"{server.base_url}/app/")
    page.fill("input[name=phone]", server.world.phone(key))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("nav.bottom")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def label_png(server, code: str, path: Path) -> str:
    """What a printed label encodes, photographed: ``{base}/c/{code}`` as a QR code PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    qrcode.make(f"{server.base_url}/c/{code}").save(str(path))
    return str(path)


def jpeg(path: Path, orientation: int = 1) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(camera_jpeg((2400, 1800), orientation))
    return str(path)


def idb_count(page, store: str) -> int:
    return page.evaluate(
        """(store) => new Promise((ok, fail) => {
            const r = indexedDB.open('wuye-field');
            r.onsuccess = () => {
              const q = r.result.transaction(store).objectStore(store).count();
              q.onsuccess = () => ok(q.result);
              q.onerror = () => fail(q.error);
            };
            r.onerror = () => fail(r.error);
        })""",
        store,
    )


def outbox_names(page) -> list[str]:
    return page.evaluate(
        """() => new Promise((ok) => {
            const r = indexedDB.open('wuye-field');
            r.onsuccess = () => {
              const q = r.result.transaction('outbox').objectStore('outbox').getAll();
              q.onsuccess = () => ok(q.result.map((m) => m.name));
            };
        })"""
    )


def check_in(page, server, tmp_path: Path, cp, fail: str | None = None, shot: str | None = None) -> None:
    """Scan a checkpoint's label from a photo and answer its checklist (``fail``: that item fails)."""
    page.click("button[data-action=scan]")
    page.wait_for_selector("input[name=qr-photo]", state="attached")
    if shot:
        page.click("button[data-action=manual]")  # the pick list for damaged labels, shown for the screenshot
        page.screenshot(path=str(ARTIFACTS / shot))
    page.set_input_files("input[name=qr-photo]", label_png(server, cp.code, tmp_path / f"{cp.code}.png"))
    page.wait_for_selector(".visit", timeout=20000)
    assert cp.name in page.inner_text(".visit .card")
    for item in cp.checklist:
        key = item["key"]
        if key == fail:
            page.click(f"[data-item={key}] button[data-answer=not_ok]")
            page.click("button[data-action=save-visit]")  # without a note or photo: refused, nothing saved
            assert page.locator(f"[data-item={key}].missing").count() == 1
            page.set_input_files(f"input[name=photo-{key}]", jpeg(tmp_path / f"fail-{key}.jpg", 6))
            page.wait_for_selector(f"[data-item={key}] .thumb img", timeout=20000)
            page.fill(f"textarea[name=note-{key}]", "地面有积水，已拍照")
        else:
            page.click(f"[data-item={key}] button[data-answer=ok]")
    if fail:
        page.screenshot(path=str(ARTIFACTS / "walks-checklist-failed.png"), full_page=True)
    page.click("button[data-action=save-visit]")
    page.wait_for_selector(f"li.cp[data-checkpoint='{cp.code}'].{'failed' if fail else 'done'}")


def test_an_offline_walk_syncs_with_its_visits_finding_and_dispatched_order(browser_context, server, tmp_path):
    world = server.world
    cps = [c for c in world.checkpoints if c.grid_id == world.grids[0].id]
    assert len(cps) == 3
    context, page, errors = browser_context
    login(page, server, "steward_a")
    page.goto(f"{server.base_url}/app/#/walks")
    wait_for(lambda: idb_count(page, "checkpoints") == 3, 20)  # pulled while online
    page.wait_for_selector("button[data-action=start-walk]:not([disabled])")
    # The grid's flats are kept for offline findings.
    page.wait_for_function("() => navigator.onLine")
    wait_for(
        lambda: page.evaluate("""() => new Promise((ok) => { const r = indexedDB.open('wuye-field');
        r.onsuccess = () => { const q = r.result.transaction('meta').objectStore('meta').getAllKeys();
        q.onsuccess = () => ok(q.result.some((k) => String(k).startsWith('walk_households:'))); }; })""")
    )

    context.set_offline(True)
    page.screenshot(path=str(ARTIFACTS / "walks-home.png"))
    page.click("button[data-action=start-walk]")
    page.wait_for_selector("[data-test=walk-progress]")
    assert page.inner_text("[data-test=walk-progress]") == "0/3"
    page.screenshot(path=str(ARTIFACTS / "walks-walk-start.png"), full_page=True)
    walk_id = page.evaluate("location.hash").split("/")[2]

    failing = cps[1].checklist[0]["key"]
    check_in(page, server, tmp_path, cps[0], shot="walks-scan.png")
    check_in(page, server, tmp_path, cps[1], fail=failing)
    check_in(page, server, tmp_path, cps[2])
    assert page.inner_text("[data-test=walk-progress]") == "3/3"
    assert cps[2].checklist_type == "renovation"
    assert "二次装修巡查" in page.inner_text(f"li.cp[data-checkpoint='{cps[2].code}']")

    # A free finding with a photo and a flat, then one tap to a work order.
    page.click("button[data-action=add-finding]")
    page.click("button[data-category=water_electric]")
    page.fill("textarea[name=finding-note]", "1栋1单元101门口水管渗水")
    flat = world.households["1栋1单元101"]
    page.select_option("select[name=household]", str(flat.id))
    page.fill("input[name=where]", "门口")
    page.set_input_files("input[name=finding-photo]", jpeg(tmp_path / "finding.jpg"))
    page.wait_for_selector(".finding-new .thumb img", timeout=20000)
    page.screenshot(path=str(ARTIFACTS / "walks-finding-new.png"), full_page=True)
    page.click("button[data-action=save-finding]")
    page.wait_for_selector("button[data-action=to-order]")
    assert page.locator("button[data-kind=repair].on").count() == 1  # prefilled from the category
    assert page.input_value("textarea[name=order-description]") == "1栋1单元101门口水管渗水"
    page.screenshot(path=str(ARTIFACTS / "walks-finding.png"), full_page=True)
    page.click("button[data-action=to-order]")
    page.wait_for_selector("[data-test=linked-order] [data-order-status=pending]")
    finding_id = page.evaluate("location.hash").split("/")[3]

    page.click(".back-link")
    page.wait_for_selector("button[data-action=end-walk]")
    page.click("button[data-action=end-walk]")
    page.click("button[data-action=confirm-end]")
    page.wait_for_selector(".walk .kind.k-ended")
    page.screenshot(path=str(ARTIFACTS / "walks-walk-ended.png"), full_page=True)
    assert outbox_names(page) == [
        "walk.start",
        "walk.checkpoint.visit",
        "walk.checkpoint.visit",
        "walk.finding.add",  # the failed item, recorded as a finding without typing it again
        "walk.checkpoint.visit",
        "walk.finding.add",
        "walk.finding.to_order",
        "walk.end",
    ]
    with as_staff(server, "lead") as lead:
        assert lead.get(f"/api/walks/{walk_id}").status_code == 404  # nothing has left the phone

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    with as_staff(server, "lead") as lead:
        walk = wait_for(
            lambda: (
                (r := lead.get(f"/api/walks/{walk_id}")).status_code == 200
                and r.json()["status"] == "ended"
                and r.json()
            ),
            30,
        )
        assert walk["steward_id"] == str(world.id("steward_a"))
        assert sorted(v["checkpoint_id"] for v in walk["visits"]) == sorted(str(c.id) for c in cps)
        assert {v["method"] for v in walk["visits"]} == {"scan"}
        failed = [v for v in walk["visits"] if v["failed_count"]]
        assert len(failed) == 1 and failed[0]["checkpoint_id"] == str(cps[1].id)
        [bad] = [a for a in failed[0]["answers"] if not a["ok"]]
        assert bad["item"] == failing and bad["note"] == "地面有积水，已拍照" and len(bad["photos"]) == 1
        [finding] = [f for f in walk["findings"] if f["id"] == finding_id]
        [from_item] = [f for f in walk["findings"] if f["id"] != finding_id]
        assert from_item["note"].endswith("地面有积水，已拍照") and cps[1].name in from_item["note"]
        assert [p["sha256"] for p in from_item["photos"]] == [p["sha256"] for p in bad["photos"]]
        assert finding["category"] == "water_electric"
        assert finding["location"]["household_id"] == str(flat.id)
        assert finding["order_id"]

        order = lead.get(f"/api/orders/{finding['order_id']}").json()["order"]
        assert order["status"] == "dispatched"
        assert (order["kind"], order["category"], order["channel"]) == ("repair", "water_electric", "steward")
        assert order["household_id"] == str(flat.id) and order["finding_id"] == finding_id

        # Every photo (the failed item's and the finding's) arrived intact.
        def all_uploaded() -> bool:
            w = lead.get(f"/api/walks/{walk_id}").json()
            answers = [a for v in w["visits"] for a in v["answers"]]
            found = [p for f in w["findings"] for p in f["photos"]]
            return all(p["uploaded"] for p in [*found, *(p for a in answers for p in a["photos"])])

        wait_for(all_uploaded, 30)
        blobs = server.data_dir / "photos" / "blobs"
        for p in [bad["photos"][0], finding["photos"][0]]:
            stored = next(blobs.rglob(p["sha256"]))
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == p["sha256"]

        # Coverage counts each visit in the slot whose window holds it (twice_daily at 7/17 h has no
        # window from midnight to 06:30 China time; daily and weekly slots span the whole day/week).
        report = lead.get("/api/walks/coverage", params={"grid_id": str(world.grids[0].id), "period": "day"}).json()
        ours = {v["id"] for v in walk["visits"]}
        counted = {
            s["visit_id"]: (row["checkpoint_id"], s["status"])
            for row in report["checkpoints"]
            for s in row["slots"]
            if s["visit_id"]
        }
        visited_local = {v["id"]: datetime.fromisoformat(v["counted_at"]).astimezone(CHINA) for v in walk["visits"]}
        for c in cps:
            [visit] = [v for v in walk["visits"] if v["checkpoint_id"] == str(c.id)]
            at = visited_local[visit["id"]]
            fits = c.frequency["kind"] != "twice_daily" or (at.hour, at.minute) >= (6, 30)
            if fits:
                assert counted[visit["id"]] == (str(c.id), counted[visit["id"]][1])
                assert counted[visit["id"]][1] in ("on_time", "late")
            else:
                assert visit["id"] not in counted
        assert set(counted) <= ours
        [mine] = [s for s in report["totals"]["stewards"] if s["steward_id"] == str(world.id("steward_a"))]
        assert mine["on_time"] + mine["late"] == len(counted) >= 2

    # The phone shows the server's truth: the order's number and status on the finding.
    page.goto(f"{server.base_url}/app/#/walks/findings/{finding_id}")
    page.wait_for_selector("[data-test=linked-order] [data-order-status=dispatched]", timeout=30000)
    assert order["number"] in page.inner_text("[data-test=linked-order]")
    assert "已派单" in page.inner_text("[data-test=linked-order]")
    page.screenshot(path=str(ARTIFACTS / "walks-finding-order.png"), full_page=True)
    page.goto(f"{server.base_url}/app/#/sync")
    page.wait_for_function("() => document.querySelector('[data-test=pending-mutations]')?.textContent === '0'")
    assert errors == []

    # A team lead reads the coverage screen of the same day.
    lead_ctx = context.browser.new_context(**PHONE)
    lead_page = lead_ctx.new_page()
    lead_errors: list[str] = []
    lead_page.on("console", lambda m: lead_errors.append(m.text) if m.type == "error" else None)
    lead_page.on("pageerror", lambda e: lead_errors.append(str(e)))
    login(lead_page, server, "lead")
    lead_page.goto(f"{server.base_url}/app/#/walks")
    lead_page.click("button[data-action=coverage]")
    steward = f"[data-steward='{world.id('steward_a')}']"
    lead_page.wait_for_selector(steward)
    shown = int(lead_page.inner_text(f"{steward} [data-count=on_time] b")) + int(
        lead_page.inner_text(f"{steward} [data-count=late] b")
    )
    assert shown == len(counted)
    lead_page.screenshot(path=str(ARTIFACTS / "walks-coverage.png"), full_page=True)
    lead_page.click(steward)
    lead_page.wait_for_selector(".daily-log .card")
    assert "1栋1单元101门口水管渗水" in lead_page.inner_text(".daily-log")
    assert order["number"] in lead_page.inner_text(".daily-log")
    lead_page.screenshot(path=str(ARTIFACTS / "walks-daily-log.png"), full_page=True)
    assert lead_errors == []
    lead_ctx.close()


def test_a_label_opened_by_the_phone_camera_starts_a_walk_at_that_checkpoint(browser_context, server):
    """``/c/{code}`` (what the QR holds) redirects into the app; with no walk active it offers one."""
    world = server.world
    [cp] = [c for c in world.checkpoints if c.grid_id == world.grids[1].id]
    context, page, errors = browser_context
    login(page, server, "steward_b")
    wait_for(lambda: idb_count(page, "checkpoints") == 1, 20)
    page.goto(f"{server.base_url}/c/{cp.code}")
    assert page.url.endswith(f"/app/#/walks/checkpoint/{cp.code}")
    page.click("button[data-action=start-and-visit]")
    page.wait_for_selector(".visit")
    for item in cp.checklist:
        page.click(f"[data-item={item['key']}] button[data-answer=ok]")
    page.click("button[data-action=save-visit]")
    page.wait_for_selector(f"li.cp[data-checkpoint='{cp.code}'].done")
    with as_staff(server, "lead") as lead:
        walks = wait_for(
            lambda: [
                w
                for w in lead.get("/api/walks/", params={"steward_id": str(world.id("steward_b"))}).json()
                if w["visit_count"] == 1
            ],
            30,
        )
        [walk] = walks
        detail = lead.get(f"/api/walks/{walk['id']}").json()
        assert [v["checkpoint_id"] for v in detail["visits"]] == [str(cp.id)]
        assert detail["status"] == "active"
    # A second scan of that label in the same walk goes straight to the checklist.
    page.goto(f"{server.base_url}/c/{cp.code}")
    page.wait_for_selector(".visit")
    assert cp.name in page.inner_text(".visit .card")
    assert errors == []
