"""One working day, end to end, across five browser contexts against one real server:

1. the desk (a PC) takes the call in the console, creates and dispatches the order, and gets the
   owner's progress link;
2. the technician (a 360×640 phone) is told of the new order, goes offline, accepts, departs,
   arrives, records a step with a photo and a material, completes (after the confirmation), sees it
   under 今日已完成, and syncs once back online: every action arrives exactly once;
3. the owner opens the link in WeChat (its user agent, JavaScript off), sees the repair and rates it
   不满意;
4. the steward of that grid (a 390×844 phone) is told of the follow-up callback order, finds it
   at the top of her 待回访, and records the call (no technician buttons on a callback);
5. the supervisor (a PC) sees the day on the dashboard: the unsatisfied rating counts, and the
   drill-down lists that order.

Screenshots: test-artifacts/day-*.png.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, PHONE, desktop, wait_for
from tests.browser.test_hurried_user import LARGE, SMALL, api, jpegs, phone, sync

pytestmark = pytest.mark.browser

WECHAT = (
    "Mozilla/5.0 (Linux; Android 12; V2049A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/86.0.4240.99 XWEB/4317 MMWEBSDK/20220903 Mobile Safari/537.36 MMWEBID/6170 "
    "MicroMessenger/8.0.28.2240(0x28001C35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)


def test_a_whole_day_from_the_call_to_the_supervisors_dashboard(chromium, server, tmp_path: Path):
    world = server.world
    flat = "1栋1单元101"  # grid 东区, whose steward is 张管家 (steward_a)
    with (
        phone(chromium, server, "tech_a", SMALL) as (tech_ctx, tech, tech_errors),
        phone(chromium, server, "steward_a", LARGE) as (_, steward, steward_errors),
    ):
        # 1. The desk takes the call and dispatches it to 李师傅.
        with desktop(chromium, server, "desk") as (desk, desk_errors):
            desk.fill("input[name=q]", "1-1-101")
            desk.wait_for_selector(f"button.result[data-household='{flat}']")
            desk.click(f"button.result[data-household='{flat}']")
            desk.click("button[data-kind=repair]")
            desk.select_option("select[name=category]", "water_electric")
            desk.fill("textarea[name=description]", "厨房水槽下水管漏水，柜子里全是水")
            desk.select_option("select[name=assignee]", str(world.id("tech_a")))
            desk.click("button[data-action=create-order]")
            number = desk.locator("[data-test=created-number]").inner_text(timeout=10000).strip()
            desk.click("button[data-action=progress-link]")
            link = desk.input_value("[data-test=progress-link]", timeout=10000)
            assert link.startswith(f"{server.base_url}/p/")
            desk.wait_for_selector("[data-test=history] :text('厨房水槽下水管漏水')")  # the panel shows it at once
            desk.screenshot(path=str(ARTIFACTS / "day-1-desk.png"))
            assert desk_errors == []
        with api(server, "desk") as c:
            [order] = [o for o in c.get("/api/orders/", params={"open": "true"}).json() if o["number"] == number]
        assert (order["status"], order["assignee_id"]) == ("dispatched", str(world.id("tech_a")))

        # 2. The technician is told, then works offline.
        sync(tech)
        toast = tech.wait_for_selector("[data-test=arrival]", timeout=20000)
        assert flat in toast.inner_text() and "厨房水槽下水管漏水" in toast.inner_text()
        tech.screenshot(path=str(ARTIFACTS / "day-2-tech-arrival.png"))
        tech_ctx.set_offline(True)
        toast.click()
        for action in ("accept", "depart", "arrive"):
            tech.click(f"button[data-action={action}]")
        tech.wait_for_selector(".detail .status:has-text('已到场')")
        tech.click("button[data-action=add-step]")
        tech.fill("textarea[name=note]", "更换下水管和弯头，试水无渗漏")
        tech.click("button.chip:text-is('弯头')")
        tech.set_input_files("input[type=file]", jpegs(tmp_path, 1))
        tech.wait_for_selector(".add-step .thumb img", timeout=20000)
        tech.click("button.primary.big")
        tech.click("button[data-action=complete]")
        tech.click("button[data-action=confirm-complete]")
        tech.wait_for_selector(".detail .status:has-text('已完工')")
        tech.click("nav.bottom a[data-tab=tasks]")
        tech.wait_for_selector(f"[data-test=done-today] [data-order='{number}']")
        tech.screenshot(path=str(ARTIFACTS / "day-2-tech-done-offline.png"))
        with api(server, "desk") as c:
            assert c.get(f"/api/orders/{order['id']}").json()["order"]["status"] == "dispatched"  # nothing left yet
        tech_ctx.set_offline(False)
        sync(tech)
        with api(server, "desk") as c:

            def synced():
                d = c.get(f"/api/orders/{order['id']}").json()
                steps = d["timeline"]["steps"]
                ok = d["order"]["status"] == "completed" and steps and all(p["uploaded"] for p in steps[0]["photos"])
                return ok and d

            detail = wait_for(synced, 30)
        actions = Counter(e["action"] for e in detail["timeline"]["events"])
        for action in ("accept", "depart", "arrive", "complete"):
            assert actions[action] == 1, actions  # exactly once
        [step] = detail["timeline"]["steps"]
        assert step["note"] == "更换下水管和弯头，试水无渗漏" and len(step["photos"]) == 1
        # Done offline, shown when it was done: effective times follow the order of the acts on the
        # phone (accept, depart, arrive, the step, complete), all before the sync that carried them.
        when = {e["action"]: datetime.fromisoformat(e["effective_at"]) for e in detail["timeline"]["events"]}
        synced_at = {e["action"]: datetime.fromisoformat(e["server_time"]) for e in detail["timeline"]["events"]}
        done_at = datetime.fromisoformat(step["effective_at"])
        assert when["accept"] <= when["depart"] <= when["arrive"] <= done_at <= when["complete"]
        assert when["accept"] < synced_at["accept"]
        assert step["materials"] == [{"name": "弯头", "quantity": 1, "unit": "个"}]
        assert tech_errors == []

        # 3. The owner, in WeChat with JavaScript off, sees the repair and rates it 不满意.
        owner_ctx = chromium.new_context(**{**PHONE, "user_agent": WECHAT, "java_script_enabled": False})
        try:
            owner = owner_ctx.new_page()
            owner.goto(link)
            text = owner.inner_text("main")
            assert number in text and "更换下水管和弯头" in text and "李师傅" in text
            rows = ["李师傅接单", "李师傅出发", "李师傅到场", "更换下水管和弯头", "处理完毕"]
            progress = text[text.index("处理进度") :]
            assert [progress.index(r) for r in rows] == sorted(progress.index(r) for r in rows)  # as done
            assert "内部" not in text
            owner.locator("label:has-text('不满意')").tap()
            owner.fill("textarea[name=comment]", "师傅来得太晚了")
            owner.screenshot(path=str(ARTIFACTS / "day-3-owner-rating.png"), full_page=True)
            with owner.expect_navigation():
                owner.locator("button[type=submit]").tap()
            text = owner.inner_text("main")
            assert "感谢您的评价！" in text and "我们已安排管家尽快与您联系。" in text
            owner.screenshot(path=str(ARTIFACTS / "day-3-owner-rated.png"), full_page=True)
        finally:
            owner_ctx.close()

        # 4. The grid's steward is told of the follow-up and finds it at the top of her 待回访.
        sync(steward)
        toast = steward.wait_for_selector("[data-test=arrival]", timeout=20000)
        assert number in toast.inner_text()  # "业主对工单 CH-… 不满意，请跟进回访"
        steward.screenshot(path=str(ARTIFACTS / "day-4-steward-arrival.png"))
        first = steward.locator("[data-test=callbacks-due] a.task").first
        assert number in first.inner_text() and "不满意" in first.inner_text()
        steward.click("nav.bottom a[data-tab=notifications]")
        assert f"业主不满意：{number}" in steward.wait_for_selector("button.note:not(.read)").inner_text()
        steward.screenshot(path=str(ARTIFACTS / "day-4-steward-feed.png"))
        steward.click("nav.bottom a[data-tab=tasks]")
        steward.locator("[data-test=callbacks-due] a.task").first.click()
        steward.wait_for_selector("[data-test=callback-form]")
        assert steward.locator("[data-action=depart], [data-action=arrive], [data-action=add-step]").count() == 0
        steward.click("[data-result=reached_satisfied]")
        steward.fill("textarea[name=callback_note]", "已道歉，约好明天再上门看")
        steward.click("[data-action=save-callback]")
        sync(steward)
        steward.wait_for_selector("text=回访：已联系·满意", timeout=20000)
        wait_for(lambda: "待上传" not in steward.inner_text("ol.timeline"), 20)  # synced, not only queued
        wait_for(lambda: steward.locator("[data-test=callback-form]").count() == 0, 20)  # the call is done
        steward.screenshot(path=str(ARTIFACTS / "day-4-steward-callback.png"), full_page=True)
        assert steward_errors == []

    # 5. The supervisor sees the day on the dashboard, and the order behind the bad rating.
    with desktop(chromium, server, "supervisor") as (sup, sup_errors):
        sup.goto(f"{server.base_url}/app/#/desk/dashboard")
        sup.click("button[data-period=day]")
        day = sup.input_value("input[name=date]")
        with api(server, "supervisor") as c:
            kpi = c.get("/api/kpi/", params={"period": "day", "date": day}).json()["current"]
        sup.wait_for_selector(f".kpis[data-period=day][data-start='{kpi['start']}']")
        assert kpi["satisfaction"] == 0.0
        assert sup.locator("[data-kpi=satisfaction] [data-test=value]").inner_text() == "0.0%"
        assert int(sup.get_attribute("[data-kpi=orders]", "data-value")) == kpi["orders"] >= 2
        sup.click("[data-kpi=satisfaction]")
        sup.wait_for_selector("[data-test=drill-count]:text-is('1')")
        shown = sup.locator("[data-test=drill] a.orow").evaluate_all("els => els.map(e => e.dataset.order)")
        assert shown == [number]
        sup.screenshot(path=str(ARTIFACTS / "day-5-supervisor.png"), full_page=True)
        assert sup_errors == []
