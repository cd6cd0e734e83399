"""回访 on the phone and at the desk (360×640 and 390×844, zh-CN, Chromium, a real server).

The steward's callback order offers no technician buttons but a result form with nothing chosen;
未联系上 takes a retry time from quick choices, offline, and syncs with its own time; 已联系·不满意
opens a 返修 shown on the timeline; 待回访 lists her grid's calls by due time; the desk has the same
worklist and a phone-rating form that does not default to 满意. Screenshots: test-artifacts/callback-*.png.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, desktop, wait_for
from tests.browser.test_hurried_user import LARGE, SMALL, api, new_order, phone, sync
from tests.browser.test_walks import outbox_names

pytestmark = pytest.mark.browser

VISIT_BUTTONS = ", ".join(f"[data-action={a}]" for a in ("accept", "take", "depart", "arrive", "add-step"))


def completed_order(server, text: str, flat: str) -> dict:
    order = new_order(server, text, "tech_a", flat=flat)
    with api(server, "tech_a") as tech:
        for action in ("accept", "depart", "arrive", "complete"):
            assert tech.post(f"/api/orders/{order['id']}/actions/{action}", json={}).status_code == 200
    return order


def follow_up(server, order: dict) -> dict:
    """The owner said 不满意 on the phone: the desk enters it, which opens a callback for the steward."""
    with api(server, "desk") as desk:
        r = desk.post(f"/api/orders/{order['id']}/rating", json={"level": "unsatisfied", "comment": "还在漏"})
        assert r.status_code == 201, r.text
        return desk.get(f"/api/orders/{r.json()['follow_up_id']}").json()["order"]


def server_order(server, order_id: str) -> dict:
    with api(server, "desk") as desk:
        return desk.get(f"/api/orders/{order_id}").json()


@pytest.mark.parametrize("viewport", [SMALL, LARGE], ids=["360x640", "390x844"])
def test_the_steward_records_callbacks_on_her_phone(chromium, server, viewport):
    w = viewport["width"]
    rated = completed_order(server, f"厨房龙头漏水 {w}", "1栋1单元101")
    call = follow_up(server, rated)
    pending = completed_order(server, f"卫生间灯不亮 {w}", "1栋1单元102")
    with phone(chromium, server, "steward_a", viewport=viewport) as (context, page, errors):
        # 待回访: the callback order and the completed repair still to call; the rated order is not
        # listed beside its own callback order.
        box = page.wait_for_selector("[data-test=callbacks-due]")
        wait_for(lambda: call["number"] in box.inner_text() and pending["number"] in box.inner_text())
        assert page.locator(f"[data-test=callbacks-due] a[data-order='{rated['number']}']").count() == 0
        assert "回访" in box.inner_text() and "待回访" in box.inner_text()
        page.screenshot(path=str(ARTIFACTS / f"callback-worklist-{w}.png"), full_page=True)

        # The callback order: no visit acts, a form with nothing chosen and a save that waits for a choice.
        page.click(f"[data-test=callbacks-due] a[data-order='{call['number']}']")
        form = page.wait_for_selector("[data-test=callback-form]")
        assert page.locator(VISIT_BUTTONS).count() == 0
        assert page.locator("[data-test=callback-form] .seg button.on").count() == 0
        assert page.locator("[data-action=save-callback]").is_disabled()
        assert [b.strip() for b in page.locator("[data-test=callback-form] .seg button").all_inner_texts()] == [
            "已联系·满意",
            "已联系·不满意",
            "未联系上",
        ]
        page.screenshot(path=str(ARTIFACTS / f"callback-form-{w}.png"), full_page=True)

        # Offline: 未联系上, call again tomorrow morning. Saving needs the retry time first.
        context.set_offline(True)
        page.click("[data-result=unreachable]")
        page.click("[data-action=save-callback]")
        assert "请选择再次回访时间" in page.inner_text("[data-test=callback-missing]")
        assert page.locator("[data-retry]").all_inner_texts()[-1] == "明天上午"
        page.click("[data-retry=cb_tomorrow]")
        assert "09:00" in page.inner_text("[data-test=retry-chosen]")
        page.fill("textarea[name=callback_note]", "无人接听")
        page.click("[data-action=save-callback]")
        wait_for(lambda: "order.callback" in outbox_names(page))
        page.wait_for_selector("text=待上传")
        assert "回访：未联系上" in page.inner_text("ol.timeline")
        page.screenshot(path=str(ARTIFACTS / f"callback-offline-{w}.png"), full_page=True)
        del form

        context.set_offline(False)
        sync(page)
        wait_for(lambda: server_order(server, call["id"])["order"]["callback_retry_at"], 20)
        d = server_order(server, call["id"])
        assert d["order"]["status"] == "dispatched"  # still to be called
        [event] = [e for e in d["timeline"]["events"] if e["action"] == "callback"]
        assert event["source"] == "sync" and event["actor_name"] == "张管家" and event["note"] == "无人接听"
        assert "09:00" in page.inner_text("[data-test=retry-line]")
        timeline = page.inner_text("ol.timeline")
        assert timeline.count("回访：") == 1 and "⟳" not in timeline, timeline  # one row per callback

        # The completed repair: 已联系·不满意 opens a 返修, shown on the timeline.
        page.click("button.link")  # ← 返回
        page.click(f"[data-test=callbacks-due] a[data-order='{pending['number']}']")
        page.wait_for_selector("[data-test=callback-form]")
        page.click("[data-result=reached_unsatisfied]")
        assert "返修" in page.inner_text("[data-test=callback-form]")
        page.fill("textarea[name=callback_note]", "灯还是不亮")
        page.click("[data-action=save-callback]")
        sync(page)
        page.wait_for_selector("text=已生成返修工单", timeout=20000)
        assert page.locator("[data-test=callback-form]").count() == 0
        timeline = page.inner_text("ol.timeline")
        assert "回访：已联系·不满意" in timeline and timeline.count("回访：") == 1, timeline
        page.screenshot(path=str(ARTIFACTS / f"callback-rework-{w}.png"), full_page=True)
        assert errors == []
    first = server_order(server, pending["id"])
    [link] = [e["data"] for e in first["timeline"]["events"] if e["action"] == "rework"]
    rework = server_order(server, link["rework_id"])["order"]
    assert rework["assignee_id"] == str(server.world.id("tech_a")) and rework["rework_of_id"] == pending["id"]


@pytest.mark.parametrize("viewport", [(360, 640), (390, 844)], ids=["360x640", "390x844"])
def test_the_desk_has_the_worklist_and_a_phone_rating_without_a_default(chromium, server, viewport):
    w = viewport[0]
    order = completed_order(server, f"门锁打不开 {w}", "1栋1单元201")
    with desktop(chromium, server, "desk", viewport=viewport) as (page, errors):
        page.goto(f"{server.base_url}/app/#/desk/callbacks")
        table = page.wait_for_selector("[data-test=desk-callbacks]")
        wait_for(lambda: order["number"] in table.inner_text())
        page.screenshot(path=str(ARTIFACTS / f"callback-desk-worklist-{w}.png"), full_page=True)
        page.click(f"tr[data-order='{order['number']}'] a")
        page.wait_for_selector("[data-test=order-detail]")
        # Phone rating: nothing chosen, saving refused until a level is picked.
        assert page.input_value("select[name=rating]") == ""
        assert page.locator("[data-action=rate]").is_disabled()
        # The callback form starts empty too.
        assert page.locator("[data-test=callback-form] .seg button.on").count() == 0
        assert page.locator("[data-action=save-callback]").is_disabled()
        page.screenshot(path=str(ARTIFACTS / f"callback-desk-order-{w}.png"), full_page=True)
        page.select_option("select[name=rating]", "satisfied")
        page.click("[data-action=rate]")
        page.wait_for_selector(".console-timeline li:has-text('已评价')")
        assert errors == []
