"""Every delivery visible, in real Chromium against a real server process: a supervisor sets the
estate's channels on 通知设置; an order's messages (owner SMS, WeCom and SMS fallbacks to the
technician) appear on the order page and in 通知记录 with their time and, for a provider that is not
configured, why they failed, in Chinese. The owner turns SMS off from the progress page's link, on
phones of 360×640 and 390×844."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.clock import Clock
from server.config import Settings
from server.db.engine import Database
from server.outbound import Outbound
from server.push.sender import drain
from server.web.context import AppContext
from tests.browser.conftest import ARTIFACTS, PHONE, desktop, wait_for
from tests.browser.test_console import api

pytestmark = pytest.mark.browser


def run_sender(server) -> int:
    """One drain of the outbox, as the server's background job would (the test server runs none)."""

    async def go() -> int:
        db = Database(server.database_url)
        env = {"WUYE_DATABASE_URL": server.database_url, "WUYE_DATA_DIR": str(server.data_dir)}
        outbound = Outbound()
        http = outbound.client()
        ctx = AppContext(settings=Settings.from_env(env), db=db, clock=Clock(),
                         services={"http": http, "outbound": outbound, "push_sender": None})  # fmt: skip
        try:
            return await drain(ctx)
        finally:
            await http.aclose()
            await db.dispose()

    with ThreadPoolExecutor(1) as pool:  # Playwright keeps an event loop running in this thread
        return pool.submit(asyncio.run, go()).result()


def test_a_supervisor_configures_channels_and_sees_every_delivery(chromium, server):
    estate = str(server.world.estate.id)
    with api(server, "supervisor") as sup, api(server, "desk") as desk, api(server, "tech_a") as tech:
        policy = {
            "staff": {"new_assignment": {"channels": ["webpush", "wecom", "sms"], "fallback_minutes": 5}},
            "owner": {"accepted": True, "completed": True},
            "quiet_start": "00:00",
            "quiet_end": "00:00",  # no quiet hours: the test runs at any time of day
            "sms": {"sign_name": "翠湖花园物业"},
        }
        assert sup.put(f"/api/notify/{estate}/policy", json=policy).status_code == 200
        r = desk.post(
            "/api/orders/",
            json={
                "kind": "repair", "category": "water_electric", "channel": "phone", "description": "阳台地漏堵塞",
                "household_id": str(server.world.households["1栋1单元101"].id),
                "assignee_id": str(server.world.id("tech_a")),
            },
        )  # fmt: skip
        oid, number = r.json()["order"]["id"], r.json()["order"]["number"]
        assert tech.post(f"/api/orders/{oid}/actions/accept", json={}).status_code == 200
        # The sender tries the owner's SMS at once: no provider is configured.
        assert run_sender(server) >= 1
        wait_for(lambda: any(d["state"] == "failed" for d in desk.get(f"/api/notify/orders/{oid}/deliveries").json()))

    with desktop(chromium, server, "supervisor") as (page, errors):
        page.goto(f"{server.base_url}/app/#/desk/orders/{oid}")
        page.wait_for_selector("[data-test=deliveries] tr[data-channel=sms][data-state=failed]")
        reason = page.locator("tr[data-channel=sms][data-state=failed] [data-test=delivery-reason]").first.inner_text()
        assert reason == "未配置短信服务商（签名、密钥）"
        pending = page.locator("[data-test=deliveries] tr[data-channel=wecom][data-state=pending]")
        assert "预计发送" in pending.inner_text()  # the fallback, due five minutes after the assignment
        page.screenshot(path=str(ARTIFACTS / "notify-order-deliveries.png"), full_page=True)

        page.goto(f"{server.base_url}/app/#/desk/deliveries")
        page.wait_for_selector(f"[data-test=deliveries] a:text('{number}')")
        page.wait_for_selector("[data-test=sms-usage]")
        page.click("button[data-channel-filter=sms]")
        page.wait_for_selector("[data-test=deliveries] tr[data-channel=sms]")
        assert page.locator("[data-test=deliveries] tr[data-channel=wecom]").count() == 0
        page.screenshot(path=str(ARTIFACTS / "notify-log.png"), full_page=True)

        page.goto(f"{server.base_url}/app/#/desk/notify-policy")
        page.wait_for_selector("[data-test=owner-rules] tr[data-event=completed]")
        assert page.is_checked("input[name='new_assignment.sms']")
        assert "/s/${code}" in page.locator("[data-test=owner-rules] tr[data-event=completed]").inner_text()
        page.fill("input[name='sms.sign_name']", "翠湖物业")
        page.fill("input[name='template.completed']", "SMS_276105123")
        page.check("input[name='owner.step_done']")
        page.click("button[data-action=save-policy]")
        with api(server, "supervisor") as sup:
            saved = wait_for(
                lambda: (
                    (p := sup.get(f"/api/notify/{estate}/policy").json()["policy"])["sms"]["sign_name"] == "翠湖物业"
                    and p
                )
            )
        assert saved["sms"]["templates"]["completed"] == "SMS_276105123" and saved["owner"]["step_done"]
        page.screenshot(path=str(ARTIFACTS / "notify-policy.png"), full_page=True)
        assert errors == []

    with api(server, "desk") as desk:
        token = desk.post(f"/api/orders/{oid}/progress-link").json()["url"].rsplit("/p/", 1)[1].split("?")[0]
    for w, h in ((360, 640), (390, 844)):
        context = chromium.new_context(**{**PHONE, "viewport": {"width": w, "height": h}})
        try:
            owner = context.new_page()
            owner.goto(f"{server.base_url}/p/{token}")
            owner.click("[data-test=sms-settings]")
            owner.wait_for_selector("[data-test=sms-state]")
            if "已退订" not in owner.inner_text("[data-test=sms-state]"):
                owner.click("[data-test=sms-toggle]")
            owner.wait_for_selector("[data-test=sms-state]:has-text('已退订')")
            box = owner.locator("[data-test=sms-toggle]").bounding_box()
            assert box["width"] <= w and box["height"] >= 40  # a thumb-sized button inside the screen
            owner.screenshot(path=str(ARTIFACTS / f"notify-owner-optout-{w}x{h}.png"))
        finally:
            context.close()
