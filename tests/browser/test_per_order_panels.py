"""Every per-order panel belongs to its order: moving from order A to order B (Back, or a changed hash)
never leaves A's progress link, QR code, slip or half-open forms on B's page.

The desk could otherwise send one household's progress page (their name, their repair) to another.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.browser.conftest import ARTIFACTS, PHONE, wait_for, watch
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser

VIEWPORTS = [(360, 640), (390, 844)]


@contextmanager
def api(server, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        r = c.post("/api/auth/login", json={"phone": server.world.phone(key), "password": PASSWORD})
        c.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield c


def new_order(server, label: str, text: str) -> dict:
    with api(server, "desk") as c:
        r = c.post(
            "/api/orders/",
            json={
                "kind": "repair",
                "category": "water_electric",
                "channel": "phone",
                "description": text,
                "household_id": str(server.world.households[label].id),
                "assignee_id": str(server.world.id("tech_a")),
            },
        )
        assert r.status_code == 201, r.text
        return r.json()["order"]


@contextmanager
def signed_in(chromium, server, key: str, viewport: tuple[int, int], ready: str):
    context = chromium.new_context(**{**PHONE, "viewport": {"width": viewport[0], "height": viewport[1]}})
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{server.base_url}/app/")
    page.fill("input[name=phone]", server.world.phone(key))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(ready)
    try:
        yield page, errors
    finally:
        context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_the_progress_link_and_slip_of_order_a_never_show_on_order_b(chromium, server, viewport):
    a = new_order(server, "1栋1单元101", "A 厨房水管漏水")
    b = new_order(server, "2栋1单元102", "B 阳台灯不亮")
    with api(server, "desk") as c:
        url_a = c.put(f"/api/orders/{a['id']}/progress-link").json()["url"]
        url_b = c.put(f"/api/orders/{b['id']}/progress-link").json()["url"]
    assert url_a != url_b
    with signed_in(chromium, server, "desk", viewport, ".console .side") as (page, errors):
        page.goto(f"{server.base_url}/app/#/desk/orders/{a['id']}")
        page.wait_for_selector(f"[data-test=order-detail] h2:has-text('{a['number']}')")
        page.click("button[data-action=progress-link]")
        wait_for(lambda: page.locator("[data-test=progress-link]").count() == 1)
        assert page.input_value("[data-test=progress-link]") == url_a
        page.click("button[data-action=slip]")
        page.frame_locator("iframe.slip-frame").locator(f".no:text('{a['number']}')").wait_for()
        page.fill("textarea[name=internal_note]", "只属于 A 的备注")

        # The hash changes to B (a link, the address bar, or Back from B to A and forward again).
        page.evaluate(f"location.hash = '#/desk/orders/{b['id']}'")
        page.wait_for_selector(f"[data-test=order-detail] h2:has-text('{b['number']}')")
        assert page.locator("[data-test=progress-link]").count() == 0  # A's link is gone
        assert page.locator("iframe.slip-frame").count() == 0  # and A's slip
        assert page.locator(".link-box img").count() == 0  # and A's QR code
        assert page.input_value("textarea[name=internal_note]") == ""
        page.click("button[data-action=progress-link]")
        wait_for(lambda: page.locator("[data-test=progress-link]").count() == 1)
        assert page.input_value("[data-test=progress-link]") == url_b
        page.screenshot(path=str(ARTIFACTS / f"order-panels-b-{viewport[0]}x{viewport[1]}.png"), full_page=True)

        page.go_back()  # Back to A: A's page, and nothing of B's
        page.wait_for_selector(f"[data-test=order-detail] h2:has-text('{a['number']}')")
        assert page.locator("[data-test=progress-link]").count() == 0
        assert "A 厨房水管漏水" in page.locator("[data-test=order-detail] dl.facts").inner_text()
        assert errors == []


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_the_phone_order_screen_forgets_a_half_open_pause_when_moving_to_another_order(chromium, server, viewport):
    a = new_order(server, "1栋1单元102", "A 卫生间地漏堵塞")
    b = new_order(server, "1栋1单元201", "B 入户门锁坏")
    with api(server, "tech_a") as c:
        for o in (a, b):
            assert c.post(f"/api/orders/{o['id']}/actions/accept", json={}).status_code == 200
    with signed_in(chromium, server, "tech_a", viewport, "nav.bottom") as (page, errors):
        page.wait_for_selector(f"a[data-order='{a['number']}']", timeout=20000)
        page.goto(f"{server.base_url}/app/#/orders/{a['id']}")
        page.click("button[data-action=pause]")
        page.wait_for_selector("button[data-reason=waiting_owner]")
        page.evaluate(f"location.hash = '#/orders/{b['id']}'")
        page.wait_for_selector(f"section.detail strong:text-is('{b['number']}')")
        assert page.locator("button[data-reason=waiting_owner]").count() == 0  # A's pause panel stayed with A
        assert page.locator("button[data-action=pause]").count() == 1
        page.screenshot(path=str(ARTIFACTS / f"order-panels-phone-{viewport[0]}x{viewport[1]}.png"), full_page=True)
        assert errors == []
