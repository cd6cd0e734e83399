"""What the screens say: every time in Beijing time whatever the device's zone, no raw code or
English error on a Chinese screen (the notification tap), translated texts in English mode."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.conftest import ARTIFACTS, desktop
from tests.browser.test_console import api
from tests.browser.test_pwa import new_order, order_detail
from tests.support.camera_jpegs import camera_jpeg
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser

VIEWPORTS = [(360, 640), (390, 844)]
BEIJING = timezone(timedelta(hours=8))


def beijing(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%m-%d %H:%M")


def unsatisfied_follow_up(server) -> dict:
    """A completed repair in steward_a's grid rated 不满意: the follow-up order is hers, with a notification."""
    order = new_order(server, "楼道灯不亮", label="1栋1单元201")
    with api(server, "tech_a") as tech, api(server, "desk") as desk:
        for action in ("accept", "complete"):
            assert tech.post(f"/api/orders/{order['id']}/actions/{action}", json={}).status_code == 200
        assert desk.post(f"/api/orders/{order['id']}/rating", json={"level": "unsatisfied"}).status_code == 201
    return order


@pytest.mark.parametrize(("key", "viewport"), [("tech_a", (360, 640)), ("steward_a", (390, 844))])
def test_tapping_a_notification_opens_its_order_without_an_error_toast(chromium, server, key, viewport):
    if key == "tech_a":
        order = new_order(server, "厨房插座跳闸", label="2栋1单元101")
        number = order["number"]
    else:
        number = unsatisfied_follow_up(server)["number"]
    with desktop(chromium, server, key, viewport=viewport, ready="nav.bottom") as (page, errors):
        page.goto(f"{server.base_url}/app/#/notifications")
        note = page.locator(f"button.note:not(.read):has-text('{number}')").first
        note.wait_for(timeout=20000)
        toasts: list[str] = []
        page.expose_function("__toast", lambda text: toasts.append(text))
        page.evaluate(
            """() => new MutationObserver(() => {
                 const t = document.querySelector('.toast'); if (t) window.__toast(t.textContent);
               }).observe(document.body, { childList: true, subtree: true })"""
        )
        note.click()
        page.wait_for_selector("section.detail")
        page.screenshot(path=str(ARTIFACTS / f"notification-tap-{key}-{viewport[0]}x{viewport[1]}.png"))
        page.goto(f"{server.base_url}/app/#/notifications")
        page.wait_for_selector(f"button.note.read:has-text('{number}')")  # marked read, locally
        assert toasts == []  # no "Table notifications not part of transaction"
        assert errors == []


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_times_are_beijing_time_on_a_phone_set_to_another_zone(chromium, server, viewport):
    order = new_order(server, "卫生间排风扇不转", label="2栋1单元102")
    created = order_detail(server, order["id"])["timeline"]["events"][0]["server_time"]
    context = chromium.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        locale="zh-CN",
        timezone_id="Europe/London",
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        page.goto(f"{server.base_url}/app/")
        page.fill("input[name=phone]", server.world.phone("tech_a"))
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector(f"a[data-order='{order['number']}']", timeout=20000)
        page.goto(f"{server.base_url}/app/#/orders/{order['id']}")
        page.wait_for_selector(".timeline time")
        assert page.locator(".timeline time").first.inner_text() == beijing(created)
        page.goto(f"{server.base_url}/app/#/notifications")
        stamp = page.locator(f"button.note:has-text('{order['number']}') time").first
        stamp.wait_for()
        later = (datetime.fromisoformat(created) + timedelta(minutes=1)).isoformat()
        assert stamp.inner_text() in (beijing(created), beijing(later))  # written in the same instant
        page.screenshot(path=str(ARTIFACTS / f"beijing-times-{viewport[0]}x{viewport[1]}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_the_scorecard_walk_row_reads_as_words_not_json(chromium, server, viewport):
    steward = server.world.id("steward_a")
    with desktop(chromium, server, "supervisor", viewport=viewport) as (page, errors):
        page.goto(f"{server.base_url}/app/#/desk/scorecard/{steward}")
        row = page.locator("[data-test=scorecard] tr:has(th:text-is('巡查')) td").first
        row.wait_for()
        text = row.inner_text()
        assert "{" not in text and "walks" not in text
        assert text.startswith("0 次 · 到期巡查点按时 ")
        page.screenshot(path=str(ARTIFACTS / f"scorecard-walks-{viewport[0]}x{viewport[1]}.png"), full_page=True)
        assert errors == []


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_an_offline_photo_says_waiting_to_upload_not_uploading(chromium, server, tmp_path, viewport):
    order = new_order(server, "阳台推拉门卡住", label="1栋1单元101")
    (tmp_path / "door.jpg").write_bytes(camera_jpeg((800, 600), 1))
    with desktop(chromium, server, "tech_a", viewport=viewport, ready="nav.bottom") as (page, errors):
        page.wait_for_selector(f"a[data-order='{order['number']}']", timeout=20000)
        page.context.set_offline(True)
        page.click(f"a[data-order='{order['number']}']")
        for action in ("accept", "depart", "arrive"):
            page.click(f"button[data-action={action}]")
        page.click("button[data-action=add-step]")
        page.fill("textarea[name=note]", "调整滑轮")
        page.set_input_files(".add-step input[type=file]", [str(tmp_path / "door.jpg")])
        page.wait_for_selector(".add-step [data-test=upload-state]")
        assert page.inner_text(".add-step [data-test=upload-state]") == "待上传"
        page.click("button.primary.big")
        page.wait_for_selector(".timeline [data-test=upload-state]")
        assert page.inner_text(".timeline [data-test=upload-state]") == "待上传"
        page.screenshot(path=str(ARTIFACTS / f"offline-photo-waiting-{viewport[0]}x{viewport[1]}.png"), full_page=True)
        page.context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_selector(".timeline [data-test=upload-state]", state="detached", timeout=30000)
        assert errors == []


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_english_mode_writes_notifications_and_material_chips_in_english(chromium, server, viewport):
    order = new_order(server, "Kitchen tap leaking", label="2栋1单元201")
    with desktop(chromium, server, "tech_a", viewport=viewport, ready="nav.bottom") as (page, errors):
        page.evaluate("localStorage.setItem('wuye.lang', 'en')")
        page.goto(f"{server.base_url}/app/#/notifications")
        page.reload()
        note = page.locator(f"button.note:has-text('{order['number']}')").first
        note.wait_for(timeout=20000)
        assert note.locator("strong").inner_text() == f"New Repair order {order['number']}"
        page.screenshot(path=str(ARTIFACTS / f"english-notifications-{viewport[0]}x{viewport[1]}.png"))
        page.goto(f"{server.base_url}/app/#/orders/{order['id']}")
        for action in ("accept", "depart", "arrive"):
            page.click(f"button[data-action={action}]")
        page.click("button[data-action=add-step]")
        page.wait_for_selector(".add-step button.chip[data-unit]")
        chips = page.locator(".add-step button.chip").all_inner_texts()
        assert "Elbow" in chips and "PTFE tape" in chips
        assert not [c for c in chips if any("\u4e00" <= ch <= "\u9fff" for ch in c)], chips  # no Chinese left
        page.click("button.chip:text-is('Elbow')")
        assert page.inner_text(".add-step ul.materials li").startswith("Elbow ×1 pc")
        page.screenshot(path=str(ARTIFACTS / f"english-materials-{viewport[0]}x{viewport[1]}.png"), full_page=True)
        assert errors == []


RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\bSteps \d")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_the_desk_timeline_has_no_raw_codes_and_no_doubled_rating_or_callback(chromium, server, tmp_path, viewport):
    order = new_order(server, "热水器不出热水", label="2栋1单元101")
    with api(server, "tech_a") as tech, api(server, "desk") as desk:
        for action in ("accept", "depart", "arrive"):
            assert tech.post(f"/api/orders/{order['id']}/actions/{action}", json={}).status_code == 200
        r = tech.post(f"/api/orders/{order['id']}/actions/complete", json={})
        assert r.status_code == 200, r.text
        assert desk.post(f"/api/orders/{order['id']}/rating", json={"level": "neutral"}).status_code == 201
        r = desk.post(f"/api/orders/{order['id']}/callbacks", json={"result": "reached_satisfied", "note": "业主确认"})
        assert r.status_code == 201, r.text
    with desktop(chromium, server, "desk", viewport=viewport) as (page, errors):
        page.goto(f"{server.base_url}/app/#/desk/orders/{order['id']}")
        page.wait_for_selector(".console-timeline li.callback")
        rows = page.locator(".console-timeline li").all_inner_texts()
        assert not [r for r in rows if RAW_CODE.search(r)], rows
        heads = [r.split("\n")[1] for r in rows]
        assert sum(h.startswith("已评价") for h in heads) == 1 and not [h for h in heads if h.startswith("评价")]
        assert sum(h.startswith("回访") for h in heads) == 1, heads  # the record, not also its event
        page.screenshot(path=str(ARTIFACTS / f"desk-timeline-{viewport[0]}x{viewport[1]}.png"), full_page=True)
        assert errors == []


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
@pytest.mark.parametrize("javascript", [False, True], ids=["js-off", "js-on"])
def test_the_owner_page_says_it_updates_itself_only_when_it_can(chromium, server, viewport, javascript):
    order = new_order(server, "门禁卡失灵", label="1栋1单元102")
    with api(server, "desk") as c:
        url = c.put(f"/api/orders/{order['id']}/progress-link").json()["url"]
    context = chromium.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47",
        java_script_enabled=javascript,
    )
    try:
        page = context.new_page()
        page.goto(url)
        footer = page.inner_text("footer")
        assert ("页面会自动更新" in footer) is javascript, footer
        assert "已收到您的报修" in page.inner_text("main")
        shot = f"owner-page-{'js' if javascript else 'nojs'}-{viewport[0]}x{viewport[1]}.png"
        page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    finally:
        context.close()
