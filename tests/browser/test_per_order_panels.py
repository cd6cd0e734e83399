"""Every per-order panel belongs to its order: moving from order A to order B (Back, or a changed hash)
never leaves A's progress link, QR code, slip or half-open forms on B's page.

The desk could otherwise send one household's progress page (their name, their repair) to another.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, desktop, wait_for
from tests.browser.test_console import api
from tests.browser.test_pwa import new_order

pytestmark = pytest.mark.browser

VIEWPORTS = [(360, 640), (390, 844)]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_the_progress_link_and_slip_of_order_a_never_show_on_order_b(chromium, server, viewport):
    a = new_order(server, "A 厨房水管漏水", label="1栋1单元101")
    b = new_order(server, "B 阳台灯不亮", label="2栋1单元102")
    with api(server, "desk") as c:
        url_a = c.put(f"/api/orders/{a['id']}/progress-link").json()["url"]
        url_b = c.put(f"/api/orders/{b['id']}/progress-link").json()["url"]
    assert url_a != url_b
    with desktop(chromium, server, "desk", viewport=viewport) as (page, errors):
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
    a = new_order(server, "A 卫生间地漏堵塞", label="1栋1单元102")
    b = new_order(server, "B 入户门锁坏", label="1栋1单元201")
    with api(server, "tech_a") as c:
        for o in (a, b):
            assert c.post(f"/api/orders/{o['id']}/actions/accept", json={}).status_code == 200
    with desktop(chromium, server, "tech_a", viewport=viewport, ready="nav.bottom") as (page, errors):
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
