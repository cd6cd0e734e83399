"""值班表 in the console (server/duty/), zh-CN at 360×640, 390×844 and a desk PC: the team lead sets
the office hours and tonight's roster in calling order (add, move up, remove); the front desk has no
such screen. Screenshots: test-artifacts/duty-*.png."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from server.clock import CHINA
from tests.browser.conftest import ARTIFACTS, desktop, wait_for
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser

SIZES = ((360, 640), (390, 844))


def roster(server, key: str) -> dict:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        token = c.post("/api/auth/login", json={"phone": server.world.phone(key), "password": PASSWORD}).json()["token"]
        r = c.get(f"/api/estates/{server.world.estate.id}/duty", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        return r.json()


def tonight(data: dict) -> list[str]:
    today = datetime.now(CHINA).date().isoformat()
    slot = next(x for x in data["roster"] if (x["date"], x["shift"]) == (today, "night"))
    return [p["name"] for p in slot["people"]]


def test_the_team_lead_sets_office_hours_and_tonights_roster_in_order(chromium, server):
    with desktop(chromium, server, "lead", viewport=(360, 640)) as (page, errors):
        page.goto(f"{server.base_url}/app/#/desk/duty")
        form = page.wait_for_selector("[data-test=office-hours]")
        assert "尚未设置办公时间" in form.inner_text()
        page.fill("input[name=opens]", "08:00")
        page.fill("input[name=closes]", "18:00")
        page.fill("input[name=accept_minutes]", "15")
        page.check("input[name=wd6]")
        page.click("button[data-action=save-hours]")
        page.wait_for_selector("[data-test=duty-now]")
        for w, h in SIZES:
            page.set_viewport_size({"width": w, "height": h})
            page.screenshot(path=str(ARTIFACTS / f"duty-hours-{w}x{h}.png"))
        page.set_viewport_size({"width": 360, "height": 640})
        assert roster(server, "lead")["office_hours"] == {
            "opens": "08:00", "closes": "18:00", "workdays": "123456", "accept_minutes": 15,
        }  # fmt: skip

        slot = f"{datetime.now(CHINA).date().isoformat()}-night"
        row = page.locator(f"tr[data-slot='{slot}']")
        select = row.locator("select")
        select.select_option(label="李师傅 · 维修工")
        wait_for(lambda: tonight(roster(server, "lead")) == ["李师傅"])
        row.locator("li:has-text('李师傅')").wait_for()
        select.select_option(label="张管家 · 管家")
        row.locator("li:has-text('张管家')").wait_for()
        row.locator("li:has-text('张管家') button[title=上移]").click()
        wait_for(lambda: tonight(roster(server, "lead")) == ["张管家", "李师傅"])
        row.locator("li:has-text('张管家') >> nth=0").wait_for()
        assert row.locator("ol li").all_inner_texts()[0].startswith("1. 张管家")
        for w, h in SIZES:
            page.set_viewport_size({"width": w, "height": h})
            row.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"duty-roster-{w}x{h}.png"))
        # A day shift only on rest days: Monday to Saturday are workdays now, so Sundays.
        days = page.locator("[data-test=roster] tr[data-slot$='-day'] td:first-child").all_inner_texts()
        assert days and all(d.endswith("周日") for d in days), days
        row.locator("li:has-text('李师傅') button[title=移除]").click()
        wait_for(lambda: tonight(roster(server, "lead")) == ["张管家"])
        assert not errors, errors


def test_the_front_desk_has_no_roster_screen(chromium, server):
    with desktop(chromium, server, "desk") as (page, errors):
        assert page.locator("a[href='#/desk/duty']").count() == 0
        page.goto(f"{server.base_url}/app/#/desk/duty")
        page.wait_for_selector(".console")
        assert page.locator("[data-test=office-hours]").count() == 0
        assert not errors, errors
