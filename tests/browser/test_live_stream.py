"""An open app hears of a new assignment through the device stream (SSE), not the poll: the desk
dispatches and the technician's phone (360×640, zh-CN) shows the order and the arrival toast within
seconds, while the poll waits five minutes with the stream open. Then the stream is cut (the route
blocked and the server restarted) and the 30-second poll still brings the next order.
Screenshots: test-artifacts/live-*.png.
"""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import ARTIFACTS, wait_for
from tests.browser.test_hurried_user import LARGE, SMALL, new_order, phone

pytestmark = pytest.mark.browser


def shoot(page, name: str) -> None:
    for size in (SMALL, LARGE):
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"live-{name}-{size['width']}.png"))
    page.set_viewport_size(SMALL)


def live_state(page) -> str | None:
    el = page.query_selector("[data-test=live-stream]")
    return el.get_attribute("data-live") if el else None


def test_a_dispatch_reaches_the_open_phone_through_the_stream_and_the_poll_takes_over_when_it_is_cut(
    chromium, server
):
    with phone(chromium, server, "tech_a") as (context, page, errors):
        pulls: list[float] = []
        page.on("request", lambda r: pulls.append(time.monotonic()) if "/sync/pull" in r.url else None)
        page.evaluate("location.hash = '#/sync'")
        wait_for(lambda: live_state(page) == "1", 15)
        assert "已连接" in page.inner_text("[data-test=live-stream]")
        shoot(page, "connected")
        page.evaluate("location.hash = '#/tasks'")

        started = time.monotonic()
        order = new_order(server, "厨房水槽下水管漏水", "tech_a", flat="1栋1单元102")
        toast = page.wait_for_selector("[data-test=arrival]", timeout=10_000)
        arrived = time.monotonic() - started
        assert "新工单" in toast.inner_text() and "厨房水槽下水管漏水" in toast.inner_text()
        page.wait_for_selector(f"[data-order='{order['number']}']")
        # With the stream open the poll runs every 5 minutes: only the stream explains this pull.
        assert arrived < 10 and any(t >= started for t in pulls)
        shoot(page, "arrival")
        page.click("[data-test=arrival]")
        page.wait_for_selector(f"text={order['number']}")

        # Cut the stream: every new stream request fails, and the server restarts (the open one drops).
        refused: list[str] = []

        def refuse(route):
            refused.append(route.request.url)
            route.abort()

        context.route("**/sync/events**", refuse)
        server.restart()
        page.evaluate("location.hash = '#/sync'")
        wait_for(lambda: live_state(page) == "0", 20)
        assert "每30秒" in page.inner_text("[data-test=live-stream]")
        shoot(page, "fallback")
        page.evaluate("location.hash = '#/tasks'")

        second = new_order(server, "阳台地漏堵塞", "tech_a", flat="1栋1单元201")
        page.wait_for_selector(f"[data-order='{second['number']}']", timeout=75_000)  # the 30 s poll (+ backoff)
        toast = page.wait_for_selector("[data-test=arrival]", timeout=5_000)
        assert "阳台地漏堵塞" in toast.inner_text()
        assert refused  # the phone kept trying the stream meanwhile; the poll brought the order
        shoot(page, "poll")
        assert errors == []
