"""报事海报 in the console (issue 18 finding 12): a supervisor views a grid's poster and changes its QR
after a leak; the old poster's link then answers 404 and the preview shows the new QR. The staff
table offers 重置密码 only for staff below the signed-in manager (finding 7). Screens at 1440×900,
390×844 and 360×640 in zh-CN."""

from __future__ import annotations

import httpx
import pytest

from server.progress.tokens import grid_token
from tests.browser.conftest import ARTIFACTS, wait_for
from tests.browser.test_console import desktop
from tests.support.live_server import SECRET

pytestmark = pytest.mark.browser


def test_supervisor_changes_a_leaked_posters_qr_and_the_old_poster_stops_working(chromium, server):
    grid = server.world.grids[0]  # 东区
    old = f"{server.base_url}/r/{grid_token(SECRET, grid.id)}"
    assert httpx.get(old).status_code == 200
    with desktop(chromium, server, "supervisor") as (page, errors):
        page.click("aside.side nav a[href='#/desk/admin']")
        page.click("button[data-tab=staff]")
        table = page.locator("[data-test=staff-table]")
        table.wait_for()
        own = table.locator("tr", has_text="王主管")
        assert own.locator("button", has_text="重置密码").count() == 0  # her own: 修改密码 with the old one
        assert table.locator("tr", has_text="张管家").locator("button", has_text="重置密码").count() == 1

        page.click("button[data-tab=posters]")
        row = page.locator("[data-test=poster-table] tr", has_text="东区")
        row.locator("button[data-action=show-poster]").click()
        frame = page.frame_locator("iframe.poster-frame")
        frame.locator("text=扫码报事报修").first.wait_for()
        before = frame.locator("svg").first.inner_html()
        page.on("dialog", lambda d: d.accept())
        row.locator("button[data-action=rotate-poster]").click()
        wait_for(lambda: httpx.get(old).status_code == 404)
        wait_for(lambda: frame.locator("svg").first.inner_html() != before)
        assert "旧海报已失效" in page.locator("body").inner_text()
        page.screenshot(path=str(ARTIFACTS / "poster-admin-1440.png"))
        for w, h in ((390, 844), (360, 640)):
            page.set_viewport_size({"width": w, "height": h})
            page.screenshot(path=str(ARTIFACTS / f"poster-admin-{w}.png"), full_page=True)
        assert errors == []
