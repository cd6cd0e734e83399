"""巡查点 in the office console at 1440×900: a supervisor creates a walk route and a twice-daily
checkpoint through the screen, the server has them, the A6 label preview shows the checkpoint's name,
code and QR, a server validation error is shown with its message, and the checkpoint is deactivated."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS, wait_for
from tests.browser.test_console import api, desktop

pytestmark = pytest.mark.browser


def routes_of(server, grid_id: str) -> list[dict]:
    with api(server, "supervisor") as c:
        r = c.get("/api/walks/routes", params={"grid_id": grid_id})
        assert r.status_code == 200, r.text
        return r.json()


def states(server, grid_id: str, route: str) -> list[bool]:
    return [c["active"] for r in routes_of(server, grid_id) if r["name"] == route for c in r["checkpoints"]]


def test_supervisor_sets_up_a_route_prints_labels_and_deactivates_a_checkpoint(chromium, server):
    grid = server.world.grids[1]  # 西区
    grid_id = str(grid.id)
    with desktop(chromium, server, "supervisor") as (page, errors):
        page.click("aside.side nav a[href='#/desk/walks']")
        page.wait_for_selector(".walk-admin")
        assert page.locator("aside.side nav a.active").inner_text() == "巡查点"
        page.select_option("select[name=grid]", grid_id)
        page.wait_for_selector(".route[data-route='日常巡查']")  # the seeded route of this grid

        # 1. A new route; the form to add its first checkpoint opens by itself.
        page.fill("input[name=route_name]", "夜间安全巡查")
        page.click("button[data-action=create-route]")
        route = page.locator(".route[data-route='夜间安全巡查']")
        route.wait_for()
        form = page.locator("[data-test=checkpoint-form]")
        assert "夜间安全巡查" in form.inner_text()

        # 2. A twice-daily checkpoint, hours in the wrong order first: the server's 422 message shows.
        form.locator("input[name=cp_name]").fill("地下车库入口")
        form.locator("input[name=cp_location]").fill("2栋南侧坡道")
        form.locator("button[data-freq=twice_daily]").click()
        form.locator("input[name=hours]").fill("19:00 / 08:00")
        form.locator("button[data-action=save-checkpoint]").click()
        alert = form.locator("[role=alert]")
        alert.wait_for()
        assert "ascending" in alert.inner_text()
        assert [r["checkpoints"] for r in routes_of(server, grid_id) if r["name"] == "夜间安全巡查"] == [[]]

        form.locator("input[name=hours]").fill("08:00 / 19:00")
        form.locator("input[name=custom_checklist]").check()
        form.locator("input[name=item]").nth(0).fill("道闸正常")
        form.locator("button[data-action=add-item]").click()
        form.locator("input[name=item]").nth(1).fill("照明正常")
        form.locator("button[data-action=save-checkpoint]").click()
        row = route.locator("tr[data-checkpoint]")
        row.wait_for()
        assert row.locator("[data-test=frequency]").inner_text() == "每天两次 08:00 / 19:00"
        assert row.locator("[data-test=state]").inner_text() == "启用"

        [created] = [r for r in routes_of(server, grid_id) if r["name"] == "夜间安全巡查"]
        [cp] = created["checkpoints"]
        assert (cp["name"], cp["location"], cp["checklist_type"]) == ("地下车库入口", "2栋南侧坡道", "standard")
        assert cp["frequency"] == {"kind": "twice_daily", "hours": [8, 19]}
        assert [i["label"] for i in cp["checklist"]] == ["道闸正常", "照明正常"]
        assert all(re.fullmatch(r"[a-z0-9_]{1,40}", i["key"]) for i in cp["checklist"])
        assert row.get_attribute("data-checkpoint") == cp["code"]
        assert cp["code"] in row.inner_text()
        page.screenshot(path=str(ARTIFACTS / "walk-admin-routes.png"))

        # 3. The A6 labels: fetched with the token, previewed in an iframe with a print button.
        route.locator("button[data-action=labels]").click()
        frame = page.frame_locator("iframe.label-frame")
        frame.locator("h1", has_text="地下车库入口").wait_for()
        assert cp["code"] in frame.locator("body").inner_text()
        assert frame.locator("svg").count() == 1
        assert page.locator("button[data-action=print-labels]").is_visible()
        page.screenshot(path=str(ARTIFACTS / "walk-admin-labels.png"))

        # 4. Edit: deactivate it; the list and the server say so.
        row.locator("button[data-action=edit]").click()
        form.locator("button[data-action=deactivate]").click()
        form.locator("button[data-action=reactivate]").wait_for()
        row.locator("[data-test=state]", has_text="已停用").wait_for()  # the list reloads from the server
        wait_for(lambda: states(server, grid_id, "夜间安全巡查") == [False])
        page.screenshot(path=str(ARTIFACTS / "walk-admin-deactivated.png"))

        # English is one click away.
        page.click("[data-action=lang-en]")
        assert row.locator("[data-test=frequency]").inner_text() == "Twice a day 08:00 / 19:00"
        assert page.locator("aside.side nav a.active").inner_text() == "Walk routes"
        page.screenshot(path=str(ARTIFACTS / "walk-admin-en.png"))
        # The only console error is Chromium's own line for the deliberate 422 above.
        assert errors == ["Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]
