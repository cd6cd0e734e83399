"""The field PWA in real headless Chromium (390×844, touch) against a real server process.

A technician logs in, goes offline, accepts an order, records three steps with real JPEG photos,
completes it, reloads the page while still offline (the service worker serves the shell, IndexedDB
keeps the work), comes back online, and the server then has exactly those events and photos.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import ARTIFACTS, PHONE, desktop, wait_for, watch
from tests.support.camera_jpegs import camera_jpeg
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser


@contextmanager
def desk(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        r = c.post("/api/auth/login", json={"phone": server.world.phone("desk"), "password": PASSWORD})
        c.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield c


def new_order(server, text="厨房水管漏水", assignee="tech_a", label="1栋1单元101") -> dict:
    with desk(server) as c:
        r = c.post(
            "/api/orders/",
            json={
                "kind": "repair",
                "category": "water_electric",
                "channel": "phone",
                "description": text,
                "household_id": str(server.world.households[label].id),
                "assignee_id": str(server.world.id(assignee)),
            },
        )
        assert r.status_code == 201, r.text
        return r.json()["order"]


def order_detail(server, order_id: str) -> dict:
    with desk(server) as c:
        return c.get(f"/api/orders/{order_id}").json()


def login(page, server, key="tech_a") -> None:
    page.goto(f"{server.base_url}/app/")
    page.fill("input[name=phone]", server.world.phone(key))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("nav.bottom")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def accept_signed_in(page, server, order: dict, key="tech_a") -> None:
    """Sign in on a phone without the service worker and accept ``order`` there."""
    page.goto(f"{server.base_url}/app/")
    page.fill("input[name=phone]", server.world.phone(key))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click(f"a[data-order='{order['number']}']")
    page.click("button[data-action=accept]")


def photos(tmp_path: Path, n: int, size=(3000, 2000)) -> list[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = tmp_path / f"site-{i}.jpg"
        p.write_bytes(camera_jpeg(size, 1 + (i % 8)))
        paths.append(str(p))
    return paths


def add_step(page, note: str, files: list[str], material: str = "弯头") -> None:
    page.click("button[data-action=add-step]")
    page.fill("textarea[name=note]", note)
    page.click(f"button.chip:text('{material}')")
    page.set_input_files("input[type=file]", files)
    page.wait_for_function(
        f"() => document.querySelectorAll('.add-step .thumb img').length === {len(files)}", timeout=20000
    )
    page.click("button.primary.big")
    page.wait_for_selector(".detail")


def test_a_whole_job_offline_survives_a_reload_and_syncs_exactly_once(browser_context, server, tmp_path):
    order = new_order(server)
    context, page, errors = browser_context
    login(page, server)
    page.wait_for_selector(f"a[data-order='{order['number']}']")
    page.screenshot(path=str(ARTIFACTS / "pwa-tasks.png"))

    context.set_offline(True)
    page.click(f"a[data-order='{order['number']}']")
    page.click("button[data-action=accept]")
    page.click("button[data-action=depart]")
    page.click("button[data-action=arrive]")
    for i, note in enumerate(["检测漏点", "更换弯头", "测试完毕"]):
        add_step(page, note, photos(tmp_path / str(i), 1))
    page.screenshot(path=str(ARTIFACTS / "pwa-order-offline.png"), full_page=True)
    page.click("button[data-action=complete]")
    page.click("button[data-action=confirm-complete]")  # 完工 asks first
    page.wait_for_selector(".detail .status:has-text('已完工')")

    # A cold start while offline: the service worker serves the shell, IndexedDB still has the work.
    response = page.reload()
    assert response is not None and response.from_service_worker
    page.wait_for_selector(".timeline")
    assert page.locator(".timeline li.step").count() == 3
    assert "已完工" in page.inner_text(".detail")
    page.goto(f"{server.base_url}/app/#/sync")
    page.wait_for_function(
        "() => document.querySelector('[data-test=pending-mutations]')?.textContent === '7'"
    )  # accept depart arrive 3×step complete
    page.screenshot(path=str(ARTIFACTS / "pwa-sync-offline.png"))
    assert order_detail(server, order["id"])["order"]["status"] == "dispatched"  # nothing left the phone

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    detail = wait_for(lambda: (d := order_detail(server, order["id"]))["order"]["status"] == "completed" and d, 30)
    actions = [e["action"] for e in detail["timeline"]["events"]]
    assert actions == ["create", "dispatch", "accept", "depart", "arrive", "complete"]
    steps = detail["timeline"]["steps"]
    assert [s["note"] for s in steps] == ["检测漏点", "更换弯头", "测试完毕"]
    assert all(s["materials"] == [{"name": "弯头", "quantity": 1.0, "unit": "个"}] for s in steps)
    wait_for(
        lambda: all(p["uploaded"] for s in order_detail(server, order["id"])["timeline"]["steps"] for p in s["photos"]),
        30,
    )
    blobs = server.data_dir / "photos" / "blobs"
    for step in steps:
        [photo] = step["photos"]
        stored = next(blobs.rglob(photo["sha256"]))
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == photo["sha256"]
    page.wait_for_function("() => document.querySelector('[data-test=pending-mutations]').textContent === '0'")
    page.screenshot(path=str(ARTIFACTS / "pwa-sync-done.png"))
    # And the phone shows the server's truth: exactly those records, no duplicates.
    page.goto(f"{server.base_url}/app/#/orders/{order['id']}")
    page.wait_for_selector(".timeline li.step")
    assert page.locator(".timeline li.step").count() == 3
    assert errors == []


LOADED_THUMBS = "[...document.querySelectorAll('.thumb img')].filter((i) => i.complete && i.naturalWidth > 0).length"


def test_photos_taken_on_one_phone_show_on_another_and_at_the_desk(chromium, browser_context, server, tmp_path):
    """The phone that took a photo shows its own bytes; everyone else who may see the step gets the
    server's copy once it is uploaded (before GET /api/photos, a grey box on every other device)."""
    order = new_order(server, "阳台地漏堵塞")
    context, page, errors = browser_context
    login(page, server)
    page.click(f"a[data-order='{order['number']}']")
    for action in ("accept", "depart", "arrive"):
        page.click(f"button[data-action={action}]")
    add_step(page, "疏通地漏", photos(tmp_path, 1, size=(1600, 1200)))

    def uploaded() -> bool:  # the step is synced and its photo is on the server
        steps = order_detail(server, order["id"])["timeline"]["steps"]
        return bool(steps) and all(p["uploaded"] for p in steps[0]["photos"])

    wait_for(uploaded, 30)

    second = chromium.new_context(**PHONE)  # the same technician on a new phone: nothing local
    try:
        phone = second.new_page()
        second_errors = watch(phone)
        login(phone, server)
        phone.goto(f"{server.base_url}/app/#/orders/{order['id']}")
        phone.wait_for_function(f"() => {LOADED_THUMBS} === 1", timeout=20000)
        phone.screenshot(path=str(ARTIFACTS / "pwa-second-phone-photo.png"), full_page=True)
        # A tap enlarges it: the server's 1600 px copy (the thumbnail is 480 px), closed by a tap.
        phone.click(".timeline .thumb-open")
        phone.wait_for_function(
            "() => document.querySelector('[data-test=photo-viewer] img')?.naturalWidth === 1600", timeout=20000
        )
        phone.screenshot(path=str(ARTIFACTS / "pwa-photo-viewer.png"))
        phone.click("[data-test=photo-viewer]")
        phone.wait_for_selector("[data-test=photo-viewer]", state="detached")
        # In the basement: the shell comes from the service worker, the photo from the browser's cache.
        second.set_offline(True)
        phone.reload()
        phone.wait_for_function(f"() => {LOADED_THUMBS} === 1", timeout=20000)
        second.set_offline(False)
        assert second_errors == []
    finally:
        second.close()

    with desktop(chromium, server, "desk") as (desk, desk_errors):
        desk.goto(f"{server.base_url}/app/#/desk/orders/{order['id']}")
        desk.wait_for_function(f"() => {LOADED_THUMBS} === 1", timeout=20000)
        assert "处理步骤 1" in desk.inner_text(".console-timeline")  # steps count from 1, as the server does
        desk.screenshot(path=str(ARTIFACTS / "console-order-photo.png"), full_page=True)
        assert desk_errors == []
    assert errors == []


def test_a_page_killed_mid_upload_resumes_and_completes(chromium, server, tmp_path):
    order = new_order(server, "卫生间渗水")
    # Requests a service worker handles bypass Playwright's routing: this test is about resumable
    # upload, so its phone runs without the worker.
    context = chromium.new_context(viewport={"width": 390, "height": 844}, has_touch=True, service_workers="block")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    accept_signed_in(page, server, order)
    puts: list[str] = []

    def count_and_hold(route):
        puts.append(route.request.url)
        if len(puts) >= 2:  # let one chunk through, then the phone "dies" before the rest
            route.abort()
        else:
            route.continue_()

    page.route(lambda url: "/sync/blobs/" in url and "offset=" in url, count_and_hold)
    add_step(page, "拆开检查", photos(tmp_path, 1, size=(4000, 3000)))
    for _ in range(80):  # pump Playwright (route handlers run only while it is driven)
        if len(puts) >= 2:
            break
        page.wait_for_timeout(250)
    assert len(puts) >= 2
    page.close()  # the tab is killed mid-upload

    page2 = context.new_page()
    page2.on("pageerror", lambda e: errors.append(str(e)))
    page2.goto(f"{server.base_url}/app/#/sync")
    page2.wait_for_selector("[data-test=pending-photos]")
    detail = wait_for(
        lambda: (
            (d := order_detail(server, order["id"]))["timeline"]["steps"]
            and all(p["uploaded"] for p in d["timeline"]["steps"][0]["photos"])
            and d
        ),
        30,
    )
    [photo] = detail["timeline"]["steps"][0]["photos"]
    stored = next((server.data_dir / "photos" / "blobs").rglob(photo["sha256"]))
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == photo["sha256"]
    assert len(puts) >= 2 and stored.stat().st_size > 256 * 1024  # really was split and resumed
    assert errors == []
    context.close()


def test_a_mutation_rejected_after_reassignment_is_shown_not_dropped(browser_context, server):
    order = new_order(server, "门禁失灵")
    context, page, errors = browser_context
    login(page, server)
    page.click(f"a[data-order='{order['number']}']")
    context.set_offline(True)
    page.click("button[data-action=accept]")
    with desk(server) as c:
        token = c.post("/api/auth/login", json={"phone": server.world.phone("lead"), "password": PASSWORD}).json()[
            "token"
        ]
        r = c.post(
            f"/api/orders/{order['id']}/actions/reassign",
            json={"assignee_id": str(server.world.id("tech_b"))},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200
    context.set_offline(False)
    page.goto(f"{server.base_url}/app/#/sync")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector(".rejected", timeout=20000)
    text = page.inner_text(".rejected")
    assert "order.accept" in text and "not_found" in text and "改派" in text
    page.screenshot(path=str(ARTIFACTS / "pwa-rejected.png"))
    assert errors == []


def test_the_shell_fits_the_size_budget():
    import subprocess

    out = subprocess.run(
        ["node", "size-budget.mjs"], cwd=Path(__file__).resolve().parents[2] / "pwa", capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    total = float(out.stdout.strip().splitlines()[-1].split()[1])
    assert total <= 120
