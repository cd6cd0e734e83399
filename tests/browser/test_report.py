"""The analysis report in the console (real Chromium, real server): the server's A4 page shown in
the console at A4 width and at phone widths, a figure clicked opens the orders behind it, and the
print media of the frame lays out on A4."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, desktop
from tests.browser.test_console import api, make_history

pytestmark = pytest.mark.browser
A4 = (794, 1123)  # CSS pixels of an A4 page at 96 dpi


def _month(c) -> dict:
    k = c.get("/api/kpi/").json()["current"]
    from datetime import datetime, timedelta, timezone

    local = datetime.fromisoformat(k["start"]).astimezone(timezone(timedelta(hours=8)))
    return {"period": "month", "year": local.year, "number": local.month}


def test_report_page_at_a4_and_phone_width_with_drill_down(chromium, server):
    make_history(server)
    with api(server, "supervisor") as c:
        month = _month(c)
        rep = c.get("/api/reports/analysis", params={**month, "estate_id": str(server.world.estate.id)}).json()
    assert rep["headline"]["orders"] >= 4
    for name, size, viewport in (("a4", A4, None), ("360", None, (360, 640)), ("390", None, (390, 844))):
        with desktop(chromium, server, "supervisor", size, viewport=viewport) as (page, errors):
            page.goto(f"{server.base_url}/app/#/desk/report")
            frame = page.frame_locator("iframe.report-frame")
            frame.locator("main[data-report] h1").wait_for()
            assert "翠湖花园" in frame.locator("h1").inner_text() and "服务分析报告" in frame.locator("h1").inner_text()
            # Headline: the orders figure is the API's and opens its orders below the frame.
            total = frame.locator("section").first.locator("a.d").first
            assert total.inner_text() == str(rep["headline"]["orders"])
            page.screenshot(path=str(ARTIFACTS / f"console-report-{name}.png"), full_page=True)
            total.click()
            count = "[data-test=report-drill] [data-test=drill-count]"
            page.wait_for_selector(f"{count}:text-is('{rep['headline']['orders']}')")
            shown = page.locator("[data-test=report-drill] a.orow").count()
            assert shown == rep["headline"]["orders"]
            # A category figure drills to that category's orders only.
            noise = rep["by_category"].get("noise", 0)
            frame.locator("a.d[data-drill*='category=noise']").first.click()
            page.wait_for_selector(f"{count}:text-is('{noise}')")
            if name == "390":
                page.screenshot(path=str(ARTIFACTS / "console-report-390-drill.png"), full_page=True)
            assert errors == []


def test_report_prints_on_a4(chromium, server):
    """The frame's own page (what 打印 prints) in print media: every section fits the A4 width."""
    with desktop(chromium, server, "supervisor", A4) as (page, errors):
        page.goto(f"{server.base_url}/app/#/desk/report")
        page.frame_locator("iframe.report-frame").locator("main[data-report]").wait_for()
        html = page.locator("iframe.report-frame").get_attribute("srcdoc")
        printed = page.context.new_page()
        printed.set_content(html)
        printed.emulate_media(media="print")
        printed.set_viewport_size({"width": 718, "height": 1000})  # A4 less the 12 mm margins
        widths = printed.locator("main section").evaluate_all("els => els.map(e => e.scrollWidth)")
        assert widths and max(widths) <= 718
        printed.screenshot(path=str(ARTIFACTS / "console-report-print.png"), full_page=True)
        assert errors == []
