"""The office console in real headless Chromium at 1440×900 against a real server process.

A front-desk user takes a call (finds the household, creates and dispatches a repair, opens the
slip); the technician's PWA in a second browser context (390×844) receives the order and accepts
it; the desk's dispatch board shows the acceptance live, without a reload. The supervisor
dashboard shows exactly the figures of the KPI API for the same period.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.browser.conftest import ARTIFACTS, PHONE, desktop, wait_for, watch
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser


@contextmanager
def api(server, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        r = c.post("/api/auth/login", json={"phone": server.world.phone(key), "password": PASSWORD})
        c.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield c


def test_a_call_taken_dispatched_received_by_the_technician_and_accepted_live(chromium, server):
    with desktop(chromium, server, "desk") as (desk, desk_errors):
        assert desk.url.endswith("#/desk")
        # The desktop layout: a side navigation and a three-column call screen, no phone bottom bar.
        assert desk.locator("aside.side").bounding_box()["width"] < 260
        assert not desk.locator("nav.bottom").is_visible()

        # 1. Find the household from what the caller says: "1栋1单元102" typed as 1-1-102.
        desk.fill("input[name=q]", "1-1-102")
        desk.wait_for_selector("button.result[data-household='1栋1单元102']")
        desk.keyboard.press("Enter")  # the best match
        desk.wait_for_selector("[data-test=history] h2:text('1栋1单元102')")
        columns = [desk.locator(f".call .col.{c}").bounding_box() for c in ("find", "history", "form")]
        assert columns[0]["x"] < columns[1]["x"] < columns[2]["x"]  # side by side, not stacked

        # 2. The order: kind, category, description, technician; owner's name and phone are prefilled.
        desk.click("button[data-kind=repair]")
        desk.select_option("select[name=category]", "water_electric")
        desk.fill("textarea[name=description]", "卫生间水管漏水，楼下天花板渗水")
        assert desk.input_value("input[name=reporter_phone]") == server.world.households["1栋1单元102"].owner_phone
        tech_id = str(server.world.id("tech_a"))
        desk.select_option("select[name=assignee]", tech_id)
        desk.click("button[data-action=create-order]")
        number = desk.locator("[data-test=created-number]").inner_text(timeout=10000).strip()
        assert number.startswith("CH-")
        desk.click("button[data-action=slip]")
        frame = desk.frame_locator("iframe.slip-frame")
        frame.locator(f".no:text('{number}')").wait_for()
        assert frame.locator("svg").count() >= 1  # the progress-link QR code
        desk.screenshot(path=str(ARTIFACTS / "console-call-created.png"))

        with api(server, "desk") as c:
            [order] = [o for o in c.get("/api/orders/", params={"open": "true"}).json() if o["number"] == number]
            assert (order["status"], order["assignee_id"]) == ("dispatched", tech_id)
            assert order["description"] == "卫生间水管漏水，楼下天花板渗水"

        # 3. The dispatch board shows it in the technician's lane, connected to the live stream.
        desk.goto(f"{server.base_url}/app/#/desk/board")
        desk.wait_for_selector("[data-test=live].on")
        card = f".lane[data-lane='李师傅'] .bcard[data-order='{number}']"
        desk.wait_for_selector(f"{card}[data-status=dispatched]")
        desk.evaluate("window.__sameDocument = true")

        # 4. The technician's phone (second browser context) receives it and accepts it.
        phone_ctx = chromium.new_context(**PHONE)
        try:
            phone = phone_ctx.new_page()
            phone_errors = watch(phone)
            phone.goto(f"{server.base_url}/app/")
            phone.fill("input[name=phone]", server.world.phone("tech_a"))
            phone.fill("input[name=password]", PASSWORD)
            phone.click("button[type=submit]")
            phone.wait_for_selector(f"a[data-order='{number}']", timeout=20000)
            assert phone.locator(".console").count() == 0  # technicians never get the console
            phone.screenshot(path=str(ARTIFACTS / "console-tech-phone-received.png"))
            phone.click(f"a[data-order='{number}']")
            phone.click("button[data-action=accept]")

            # 5. The board moves the card without a reload (SSE → refetch).
            desk.wait_for_selector(f"{card}[data-status=accepted]", timeout=20000)
            assert desk.evaluate("window.__sameDocument") is True
            desk.screenshot(path=str(ARTIFACTS / "console-board-live.png"))
            assert phone_errors == []
        finally:
            phone_ctx.close()

        # 6. The order detail: the whole timeline, and a callback form only once there is work done.
        desk.click(f"{card} a")
        desk.wait_for_selector("[data-test=order-detail]")
        events = desk.locator(".console-timeline li.event").all_inner_texts()
        assert [e.split("\n")[1].split(" ")[0] for e in events] == ["创建", "派单", "接单"]
        desk.fill("textarea[name=internal_note]", "业主下午在家")
        desk.click("button[data-action=save-note]")
        wait_for(lambda: order_detail(server, order["id"])["order"]["internal_note"] == "业主下午在家")
        desk.screenshot(path=str(ARTIFACTS / "console-order-detail.png"), full_page=True)
        assert desk_errors == []


def order_detail(server, order_id: str) -> dict:
    with api(server, "desk") as c:
        return c.get(f"/api/orders/{order_id}").json()


def make_history(server) -> None:
    """Complaints and repairs, completed, rated (good and bad) and called back: figures to compare."""
    world = server.world
    with api(server, "desk") as desk, api(server, "tech_a") as tech:
        for label, kind, category, level, call_back in (
            ("1栋1单元101", "complaint", "noise", "satisfied", True),
            ("1栋1单元201", "complaint", "noise", "unsatisfied", False),
            ("2栋1单元101", "repair", "water_electric", "very_satisfied", True),
            ("2栋1单元102", "repair", "lift", None, False),
        ):
            r = desk.post(
                "/api/orders/",
                json={
                    "kind": kind,
                    "category": category,
                    "channel": "phone",
                    "description": f"{label} {kind}",
                    "household_id": str(world.households[label].id),
                    "assignee_id": str(world.id("tech_a")),
                },
            )
            assert r.status_code == 201, r.text
            oid = r.json()["order"]["id"]
            for action in ("accept", "complete"):
                r = tech.post(f"/api/orders/{oid}/actions/{action}", json={})
                assert r.status_code == 200, r.text
            if level:
                r = desk.post(f"/api/orders/{oid}/rating", json={"level": level})
                assert r.status_code == 201, r.text
            if call_back:
                r = desk.post(f"/api/orders/{oid}/callbacks", json={"result": "reached_satisfied"})
                assert r.status_code == 201, r.text


def test_dashboard_figures_equal_the_kpi_api_for_the_same_period(chromium, server):
    make_history(server)
    with desktop(chromium, server, "supervisor") as (page, errors):
        page.goto(f"{server.base_url}/app/#/desk/dashboard")
        with api(server, "supervisor") as c:
            for period in ("month", "week", "day"):
                page.click(f"button[data-period={period}]")
                day = page.input_value("input[name=date]")
                kpi = c.get("/api/kpi/", params={"period": period, "date": day}).json()
                cur, prev = kpi["current"], kpi["previous"]
                page.wait_for_selector(f".kpis[data-period={period}][data-start='{cur['start']}']")
                assert page.get_attribute("[data-kpi=orders]", "data-value") == str(cur["orders"])
                assert cur["orders"] >= 4  # the history above is in every one of these periods
                for key in ("complaint_timeliness", "repeat_complaint_rate", "satisfaction", "callback_rate"):
                    tile = page.locator(f"[data-kpi={key}]")
                    shown = tile.get_attribute("data-value")
                    assert (float(shown) if shown else None) == cur[key], (period, key)
                    want = "—" if cur[key] is None else f"{cur[key] * 100:.1f}%"
                    assert tile.locator("[data-test=value]").inner_text() == want
                    was = "—" if prev[key] is None else f"{prev[key] * 100:.1f}%"
                    assert was in tile.locator("[data-test=previous]").inner_text()
                median = cur["resolution"]["median_min"]
                assert page.locator("[data-kpi=resolution] [data-test=value]").inner_text() == (
                    "—" if median is None else _js_number(median)
                )
                # Hour bars: one rect per hour, their tooltips carry the API's counts.
                titles = page.locator(".chart svg.bars rect title").evaluate_all("els => els.map(e => e.textContent)")
                assert [int(x.split(": ")[1]) for x in titles] == cur["by_hour"]
                if period == "month":
                    page.wait_for_selector("[data-test=steward-table] td a")
                    page.screenshot(path=str(ARTIFACTS / "console-dashboard.png"), full_page=True)

            # Drill-down: the orders behind the satisfaction figure are the API's (the one unsatisfied rating).
            page.click("button[data-period=month]")
            day = page.input_value("input[name=date]")
            page.click("[data-kpi=satisfaction]")
            behind = c.get(
                "/api/kpi/orders", params={"period": "month", "date": day, "metric": "satisfaction", "outcome": "bad"}
            ).json()
            assert behind["count"] == 1
            page.wait_for_selector(f"[data-test=drill-count]:text-is('{behind['count']}')")
            shown = page.locator("[data-test=drill] a.orow").evaluate_all("els => els.map(e => e.dataset.order)")
            assert shown == [o["number"] for o in behind["orders"]]
            # Per-technician table: every order of the month was tech_a's.
            row = page.locator("[data-test=tech-table] tr:has(td:text-is('李师傅')) td").all_inner_texts()
            volume = c.get(
                "/api/kpi/orders", params={"period": "month", "date": day, "metric": "volume", "outcome": "all"}
            ).json()
            mine = [o for o in volume["orders"] if o["assignee_name"] == "李师傅"]
            assert int(row[1]) == len(mine)
        assert errors == []


def _js_number(x: float) -> str:
    """How JavaScript prints a number (12.0 → "12")."""
    return str(int(x)) if float(x).is_integer() else str(x)
