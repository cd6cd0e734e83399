"""A hurried user on a cheap phone (360×640 and 390×844, zh-CN, Chromium) against a real server.

New work cannot be missed (a toast on arrival, counts on the 我的任务 and 通知 tabs, a feed entry that
says where and what), tasks read in order of urgency with today's finished work kept (offline too),
countdowns read in words, 完工 asks first, photos can be taken back, the viewer closes, the ETA
is two taps, the material chips fit the job; enabling push that fails says why; stewards pick a
flat building → unit → room and turn a failed checklist item into a finding without typing again;
no two-character button breaks into a column; and the console has the posters, the feed and the
coverage its people need. Screenshots land in test-artifacts/ (hurried-*.png).
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from server.clock import Clock
from server.db.engine import Database
from server.notifications.service import notify
from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, desktop, wait_for, watch
from tests.browser.test_walks import idb_count, outbox_names
from tests.support.camera_jpegs import camera_jpeg
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser

SMALL = {"width": 360, "height": 640}
LARGE = {"width": 390, "height": 844}


@contextmanager
def api(server, key: str):
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        r = c.post("/api/auth/login", json={"phone": server.world.phone(key), "password": PASSWORD})
        c.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield c


def new_order(
    server, text: str, assignee: str, *, flat="1栋1单元101", kind="repair", category="water_electric", **more
):
    with api(server, "desk") as c:
        body = {
            "kind": kind,
            "category": category,
            "channel": "phone",
            "description": text,
            "household_id": str(server.world.households[flat].id),
            "assignee_id": str(server.world.id(assignee)),
            **more,
        }
        r = c.post("/api/orders/", json=body)
        assert r.status_code == 201, r.text
        return r.json()["order"]


@contextmanager
def phone(chromium, server, key: str, viewport=SMALL, **options):
    """A phone signed in as ``key`` whose first pull has finished: (context, page, console errors)."""
    context = chromium.new_context(**{**PHONE, "viewport": viewport, **options})
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{server.base_url}/app/")
    page.fill("input[name=phone]", server.world.phone(key))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("nav.bottom")
    if options.get("service_workers") != "block":
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    wait_for(lambda: meta(page, "last_sync_at"), 20)
    try:
        yield context, page, errors
    finally:
        context.close()


def meta(page, key: str):
    return page.evaluate(
        """(key) => new Promise((ok) => { const r = indexedDB.open('wuye-field');
        r.onsuccess = () => { const q = r.result.transaction('meta').objectStore('meta').get(key);
        q.onsuccess = () => ok(q.result ? q.result.value : null); q.onerror = () => ok(null); };
        r.onerror = () => ok(null); })""",
        key,
    )


def sync(page) -> None:
    """What the phone does when the network comes back: sync now (instead of waiting for the timer)."""
    page.evaluate("window.dispatchEvent(new Event('online'))")


def shoot(page, name: str, *, full=True) -> None:
    """The same screen at both phone sizes."""
    for size in (SMALL, LARGE):
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"hurried-{name}-{size['width']}.png"), full_page=full)
    page.set_viewport_size(SMALL)


def jpegs(tmp_path: Path, n: int) -> list[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = tmp_path / f"p{i}.jpg"
        p.write_bytes(camera_jpeg((1600, 1200), 1))
        out.append(str(p))
    return out


WRAPPED_BUTTONS = """() => [...document.querySelectorAll('button, nav.bottom a, .chip')]
  .filter((b) => b.offsetParent !== null && /^[\\u4e00-\\u9fff]{2}$/.test(b.textContent.replace(/[\\s✓✗✕＋+·]/g, '')))
  .filter((b) => { const r = document.createRange(); r.selectNodeContents(b);
    return new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top))).size > 1; })
  .map((b) => b.textContent.trim())
  .concat([...document.querySelectorAll('main button')]
    .filter((b) => b.offsetParent !== null && b.getBoundingClientRect().right > innerWidth + 1)
    .map((b) => 'off screen: ' + b.textContent.trim()))"""


def test_an_assignment_arrives_with_a_toast_tab_counts_and_a_feed_entry_naming_room_and_problem(chromium, server):
    with phone(chromium, server, "tech_a") as (context, page, errors):
        assert page.locator("[data-test=tasks-count]").count() == 0
        order = new_order(server, "卫生间水管漏水，楼下天花板渗水", "tech_a", flat="1栋1单元102")
        sync(page)
        toast = page.wait_for_selector("[data-test=arrival]", timeout=20000)
        text = toast.inner_text()
        assert "新工单" in text and "1栋1单元102" in text and "卫生间水管漏水" in text
        assert page.inner_text("[data-test=tasks-count]") == "1"
        page.wait_for_selector("[data-test=notifications-count]")
        assert page.inner_text("[data-test=notifications-count]") == "1"
        shoot(page, "arrival", full=False)

        # The toast opens the order; once accepted it no longer counts as new.
        page.click("[data-test=arrival]")
        page.wait_for_selector(f"text={order['number']}")
        page.click("button[data-action=accept]")
        page.wait_for_selector("[data-test=tasks-count]", state="detached")

        # The feed names the flat and the problem; reading it clears the tab's count.
        page.click("nav.bottom a[data-tab=notifications]")
        entry = page.wait_for_selector("button.note:not(.read)")
        assert "1栋1单元102 · 卫生间水管漏水，楼下天花板渗水" in entry.inner_text()
        assert entry.evaluate("(e) => e.scrollWidth <= e.clientWidth + 1")  # a long body wraps, never runs off
        shoot(page, "feed")
        entry.click()
        page.wait_for_selector("[data-test=notifications-count]", state="detached")
        assert page.locator("[data-test=arrival]").count() == 0  # announced once, not again
        assert errors == []


def test_tasks_put_urgent_work_first_keep_todays_finished_orders_offline_and_count_down_in_words(chromium, server):
    later = new_order(server, "楼道灯不亮", "cleaner", flat="1栋1单元201", category="cleaning")
    urgent = new_order(server, "地下车库积水", "cleaner", flat="1栋1单元101", kind="emergency", category="cleaning")
    with phone(chromium, server, "cleaner") as (context, page, errors):
        page.wait_for_selector(f"[data-order='{urgent['number']}']")
        cards = page.locator("[data-test=open-tasks] a.task")
        assert [cards.nth(i).get_attribute("data-order") for i in range(cards.count())][:2] == [
            urgent["number"],
            later["number"],
        ]
        clocks = page.locator("[data-test=open-tasks] .clock").all_inner_texts()
        assert clocks and all(
            re.fullmatch(r"(剩余|已超时) (\d+天\d+小时|\d+小时\d+分|\d+分\d+秒)", c) for c in clocks
        ), clocks
        shoot(page, "tasks")

        # Offline: accept and complete the emergency; it stays on the list, under 今日已完成.
        context.set_offline(True)
        page.click(f"[data-order='{urgent['number']}']")
        page.click("button[data-action=accept]")
        page.click("button[data-action=complete]")
        page.click("button[data-action=confirm-complete]")
        page.wait_for_selector(".detail .status:text('已完工')")
        assert page.locator(".detail .clock").count() == 0  # no countdown on a completed order
        page.click("nav.bottom a[data-tab=tasks]")
        done = page.wait_for_selector("[data-test=done-today]")
        assert urgent["number"] in done.inner_text() and "今日已完成" in done.inner_text()
        assert page.locator("[data-test=done-today] .clock").count() == 0
        assert urgent["number"] not in page.inner_text("[data-test=open-tasks]")
        shoot(page, "tasks-done-offline")

        context.set_offline(False)
        sync(page)
        with api(server, "desk") as c:
            wait_for(lambda: c.get(f"/api/orders/{urgent['id']}").json()["order"]["status"] == "completed", 20)
        page.reload()
        page.wait_for_selector(f"[data-test=done-today] [data-order='{urgent['number']}']")
        assert errors == []


def test_completing_asks_first_photos_can_be_removed_the_viewer_closes_and_the_eta_is_one_tap(
    chromium, server, tmp_path
):
    order = new_order(server, "厨房水管漏水", "tech_b")
    with phone(chromium, server, "tech_b") as (context, page, errors):
        page.goto(f"{server.base_url}/app/#/orders/{order['id']}")
        page.click("button[data-action=accept]")
        page.wait_for_selector("[data-test=eta-quick]")
        shoot(page, "order-eta")
        page.click("button[data-eta='30']")
        page.wait_for_selector(".detail p:has-text('预计到达')")

        # A water/electric job offers pipe by the metre and tape by the roll; no seedlings.
        page.click("button[data-action=add-step]")
        page.wait_for_selector("button.chip[data-unit]")
        chips = dict(
            page.evaluate(
                "() => [...document.querySelectorAll('button.chip')].map((b) => [b.textContent, b.dataset.unit])"
            )
        )
        assert chips["PPR管"] == "米" and chips["生料带"] == "卷" and "苗木" not in chips
        page.click("button.chip:text-is('PPR管')")
        assert "PPR管 ×1米" in page.inner_text("ul.materials")
        page.fill("textarea[name=note]", "更换进水管")
        page.set_input_files("input[type=file]", jpegs(tmp_path, 2))
        page.wait_for_function("() => document.querySelectorAll('.add-step .thumb img').length === 2", timeout=20000)
        page.click(".add-step .thumb >> nth=0 >> button.thumb-open")
        page.wait_for_selector("[data-test=photo-viewer] button[data-action=close-viewer]")
        shoot(page, "viewer", full=False)
        page.click("button[data-action=close-viewer]")
        page.wait_for_selector("[data-test=photo-viewer]", state="detached")
        page.click(".add-step .thumb >> nth=1 >> button[data-action=remove-photo]")
        page.wait_for_function("() => document.querySelectorAll('.add-step .thumb img').length === 1")
        assert "(1/9)" in page.inner_text(".add-step")
        wait_for(lambda: idb_count(page, "photos") == 1)  # the removed photo's bytes are not kept to upload
        shoot(page, "step")
        page.click("button.primary.big")
        page.wait_for_selector("button[data-action=complete]")

        # 完工 asks first: 取消 changes nothing.
        page.click("button[data-action=complete]")
        page.wait_for_selector("[data-test=confirm-complete]")
        shoot(page, "confirm-complete", full=False)
        page.click("[data-test=confirm-complete] button:text-is('取消')")
        assert page.locator("[data-test=confirm-complete]").count() == 0
        assert "order.complete" not in outbox_names(page)
        page.click("button[data-action=complete]")
        page.click("button[data-action=confirm-complete]")
        page.wait_for_selector(".detail .status:has-text('已完工')")

        sync(page)
        with api(server, "desk") as c:
            detail = wait_for(
                lambda: (d := c.get(f"/api/orders/{order['id']}").json())["order"]["status"] == "completed" and d, 20
            )
        eta = datetime.fromisoformat(detail["order"]["eta"])
        assert abs(eta - (datetime.now(UTC) + timedelta(minutes=30))) < timedelta(minutes=3)
        [step] = detail["timeline"]["steps"]
        assert len(step["photos"]) == 1 and step["materials"] == [{"name": "PPR管", "quantity": 1, "unit": "米"}]
        assert errors == []


def test_enabling_push_that_fails_says_why_in_chinese(chromium, server):
    with phone(chromium, server, "steward_b") as (context, page, errors):
        page.click("nav.bottom a[data-tab=settings]")
        page.click("button[data-action=push-on]")  # no permission was given
        toast = page.wait_for_selector(".toast[role=status]").inner_text()
        assert toast.startswith("通知权限被拒绝") or toast.startswith("未允许通知："), toast
        context.grant_permissions(["notifications"])
        page.click("button[data-action=push-on]")  # allowed, but this browser reaches no push service
        page.wait_for_function(
            "() => document.querySelector('.toast[role=status]')?.textContent.startsWith('开启推送失败')", timeout=30000
        )
        toast = page.inner_text(".toast[role=status]")
        assert "新工单仍会在同步时出现在通知里" in toast and not re.search(r"[A-Za-z]{4,}", toast), toast
        shoot(page, "push-failed", full=False)


def test_a_finding_picks_building_then_unit_then_room_sorted_as_numbers(chromium, server):
    grid = server.world.grids[0]
    labels = ["10栋1单元101", "2栋2单元101", "2栋1单元1001", "2栋1单元201", "2栋1单元92"]
    flats = [
        {"id": f"00000000-0000-7000-8000-00000000000{i}", "label": x, "grid_id": str(grid.id)}
        for i, x in enumerate(labels)
    ]
    # No service worker, so that the page's own request for the grid's flats can be answered here.
    with phone(chromium, server, "steward_a", service_workers="block") as (context, page, errors):
        page.route(f"**/api/grids/{grid.id}/households", lambda route: route.fulfill(json=flats))
        page.goto(f"{server.base_url}/app/#/walks/findings/new/{grid.id}")
        page.wait_for_selector("select[name=household-building] option:nth-child(3)", state="attached")
        buildings = page.locator("select[name=household-building] option").all_inner_texts()
        assert buildings[1:] == ["2栋", "10栋"]
        page.select_option("select[name=household-building]", "2栋")
        assert page.locator("select[name=household-unit] option").all_inner_texts()[1:] == ["1单元", "2单元"]
        page.select_option("select[name=household-unit]", "1单元")
        assert page.locator("select[name=household] option").all_inner_texts()[1:] == ["92", "201", "1001"]
        page.select_option("select[name=household]", flats[2]["id"])
        shoot(page, "finding-picker")
        page.select_option("select[name=household-building]", "10栋")  # another building: the room is cleared
        assert page.input_value("select[name=household]") == ""
        assert errors == []


def test_all_ok_in_one_tap_and_a_failed_item_becomes_a_finding_without_typing_again(chromium, server, tmp_path):
    cp = next(c for c in server.world.checkpoints if c.grid_id == server.world.grids[0].id and len(c.checklist) > 1)
    with phone(chromium, server, "steward_a") as (context, page, errors):
        page.goto(f"{server.base_url}/app/#/walks")
        page.click("button[data-action=start-walk]:not([disabled])")
        page.wait_for_selector("[data-test=walk-progress]")
        page.click("button[data-action=scan]")
        page.click("button[data-action=manual]")
        page.click(f"button[data-pick='{cp.code}']")
        page.wait_for_selector(".visit")
        page.click("button[data-action=all-ok]")
        assert page.locator(".checklist .item.good").count() == len(cp.checklist)
        first = cp.checklist[0]
        page.click(f"[data-item={first['key']}] button[data-answer=not_ok]")
        page.fill(f"textarea[name=note-{first['key']}]", "消防通道堆放杂物")
        page.set_input_files(f"input[name=photo-{first['key']}]", jpegs(tmp_path, 1))
        page.wait_for_selector(f"[data-item={first['key']}] .thumb img", timeout=20000)
        assert page.is_checked(f"input[name=finding-{first['key']}]")
        shoot(page, "visit")
        page.click("button[data-action=save-visit]")
        page.wait_for_selector(f"li.cp[data-checkpoint='{cp.code}'].failed")
        finding = page.wait_for_selector("a.task.finding:has-text('消防通道堆放杂物')")
        shoot(page, "walk-finding")
        finding.click()
        page.wait_for_selector("button[data-action=to-order]")
        description = page.input_value("textarea[name=order-description]")
        assert "消防通道堆放杂物" in description and first["label"] in description
        assert page.locator(".finding .thumb").count() == 1
        assert errors == []


def test_no_two_character_button_breaks_into_a_column_at_360_px(chromium, server):
    order = new_order(server, "阳台地漏堵塞，积水严重需要马上疏通", "tech_a", flat="1栋1单元201")
    with phone(chromium, server, "tech_a") as (context, page, errors):
        screens = [
            "#/tasks",
            f"#/orders/{order['id']}",
            "#/settings",
            "#/sync",
            "#/notifications",
        ]
        for i, hash_ in enumerate(screens):
            page.goto(f"{server.base_url}/app/{hash_}")
            page.wait_for_selector("main section")
            if i == 1:
                page.click("button[data-action=accept]")
                page.wait_for_selector("button[data-action=depart]")
                page.click("button[data-action=pause]")
            assert page.evaluate(WRAPPED_BUTTONS) == [], hash_
            page.screenshot(path=str(ARTIFACTS / f"hurried-360-{i}.png"), full_page=True)
        page.goto(f"{server.base_url}/app/#/orders/{order['id']}/step")
        page.wait_for_selector("button.chip")
        assert page.evaluate(WRAPPED_BUTTONS) == []
    with phone(chromium, server, "steward_b") as (context, page, errors):
        page.goto(f"{server.base_url}/app/#/walks")
        page.wait_for_selector("button[data-action=start-walk]")
        assert page.evaluate(WRAPPED_BUTTONS) == []
        page.screenshot(path=str(ARTIFACTS / "hurried-360-walks.png"), full_page=True)


def test_board_cards_show_the_whole_house_number(chromium, server):
    order = new_order(server, "业主反映楼上装修噪音", "tech_b", flat="1栋1单元201", kind="complaint", priority="urgent")
    context = chromium.new_context(**{**DESKTOP, "viewport": {"width": 1024, "height": 768}})
    try:
        page = context.new_page()
        page.goto(f"{server.base_url}/app/")
        page.fill("input[name=phone]", server.world.phone("desk"))
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector(".console .side")
        page.goto(f"{server.base_url}/app/#/desk/board")
        card = page.wait_for_selector(f".bcard[data-order='{order['number']}']")
        house = card.query_selector("[data-test=house]")
        assert house is not None and house.inner_text() == "1栋1单元201"
        assert house.evaluate("(e) => e.scrollWidth <= e.clientWidth + 1")
        page.screenshot(path=str(ARTIFACTS / "hurried-board-1024.png"))
    finally:
        context.close()


def seed_notification(server, key: str, title: str, body: str, order_id: str | None = None) -> None:
    """A notification written by the server's own code into the live server's database."""

    async def write() -> None:
        import uuid

        db = Database(server.database_url)
        try:
            async with db.writer() as session:
                await notify(
                    session,
                    staff_id=server.world.id(key),
                    kind="sla_breach",
                    title=title,
                    body=body,
                    now=Clock().now(),
                    order_id=uuid.UUID(order_id) if order_id else None,
                )
                await session.commit()
        finally:
            await db.dispose()

    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        pool.submit(asyncio.run, write()).result()


def test_the_console_prints_grid_posters_has_the_feed_and_coverage_and_refreshes_the_household(chromium, server):
    order = new_order(server, "电梯按钮失灵", "tech_b", flat="1栋1单元101", category="lift")
    seed_notification(
        server, "lead", f"超时升级：报修工单 {order['number']}", "1栋1单元101 · 电梯按钮失灵", order["id"]
    )
    with desktop(chromium, server, "lead") as (page, errors):
        # 网格海报: each grid's poster, with the steward's and the estate's numbers.
        page.click("aside.side a[href='#/desk/posters']")
        page.click(f"[data-grid='{server.world.grids[0].id}'] button[data-action=poster]")
        frame = page.frame_locator("iframe.poster-frame")
        frame.locator("h1:text('扫码报事报修')").wait_for()
        assert "0571-88886666" in frame.locator(".hotline").inner_text()
        assert "139 0000 0011" in frame.locator(".who").inner_text()
        page.screenshot(path=str(ARTIFACTS / "hurried-console-posters.png"))
        with api(server, "lead") as c:  # printed, it is still one A4 sheet with the hotline on it
            html = c.get(f"/api/grids/{server.world.grids[0].id}/poster").text
        sheet = page.context.new_page()
        sheet.set_content(html)
        pdf = sheet.pdf(format="A4")
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
        sheet.close()

        # The feed, as on the phone, with its unread count in the side navigation.
        page.wait_for_selector("[data-test=console-notifications-count]", timeout=20000)
        page.click("aside.side a[href='#/desk/notifications']")
        entry = page.wait_for_selector("button.note:not(.read)")
        assert order["number"] in entry.inner_text() and "电梯按钮失灵" in entry.inner_text()
        page.screenshot(path=str(ARTIFACTS / "hurried-console-feed.png"))
        entry.click()
        page.wait_for_url(f"**/#/desk/orders/{order['id']}")
        page.wait_for_selector("[data-test=console-notifications-count]", state="detached")

        # Coverage for the team lead, in the console.
        page.click("aside.side a[href='#/desk/coverage']")
        page.wait_for_selector("[data-test=coverage-all] [data-count=missed]")
        assert page.locator(f"[data-steward='{server.world.id('steward_a')}']").count() == 1
        page.screenshot(path=str(ARTIFACTS / "hurried-console-coverage.png"))
        page.click(f"[data-steward='{server.world.id('steward_a')}']")
        page.wait_for_selector(".daily-log h2:has-text('张管家')")
        assert "/#/desk/coverage/" in page.url  # the daily log opens inside the console

        # The household panel counts an order created on this screen at once.
        page.click("aside.side a[href='#/desk']")
        page.fill("input[name=q]", "1-1-102")
        page.wait_for_selector("button.result[data-household='1栋1单元102']")
        page.click("button.result[data-household='1栋1单元102']")
        page.wait_for_selector("[data-test=history] h2:text('1栋1单元102')")
        before = int(page.inner_text("[data-test=history] .stats span:first-child b"))
        page.click("button[data-kind=repair]")
        page.select_option("select[name=category]", "water_electric")
        page.fill("textarea[name=description]", "热水器不出热水")
        page.click("button[data-action=create-order]")
        number = page.locator("[data-test=created-number]").inner_text(timeout=10000).strip()
        page.wait_for_function(
            "() => document.querySelector('[data-test=history] .stats span:first-child b')?.textContent"
            f" === '{before + 1}'"
        )
        assert number.startswith("CH-") and "热水器不出热水" in page.inner_text("[data-test=history]")
        assert errors == []


def test_a_steward_sees_her_own_coverage_on_the_phone(chromium, server):
    with phone(chromium, server, "steward_a") as (context, page, errors):
        page.goto(f"{server.base_url}/app/#/walks")
        page.click("button[data-action=coverage]:text('我的巡查完成情况')")
        page.wait_for_selector("[data-test=coverage-all] [data-count=on_time]")
        for state in ("按时", "迟到", "漏巡"):
            assert state in page.inner_text("[data-test=coverage-all]")
        shoot(page, "steward-coverage")
        assert errors == []


def test_a_supervisor_keeps_the_estate_hotline_where_the_posters_are_printed(chromium, server):
    with desktop(chromium, server, "supervisor") as (page, errors):
        page.click("aside.side a[href='#/desk/posters']")
        field = f"[data-estate='{server.world.estate.id}'] input[name=hotline]"
        page.wait_for_function(f'() => document.querySelector("{field}")?.value === "0571-88886666"')
        page.fill(field, "请打前台")
        page.click(f"[data-estate='{server.world.estate.id}'] button[data-action=save-hotline]")
        assert "请填写电话号码" in page.wait_for_selector(".hotlines .error").inner_text()
        page.fill(field, "0571-8765 4321")
        page.click(f"[data-estate='{server.world.estate.id}'] button[data-action=save-hotline]")
        page.click(f"[data-grid='{server.world.grids[0].id}'] button[data-action=poster]")
        hotline = page.frame_locator("iframe.poster-frame").locator(".hotline")
        hotline.wait_for()
        assert "0571-8765 4321" in hotline.inner_text()
        label = page.locator(f"[data-estate='{server.world.estate.id}'] > span").bounding_box()
        assert label["width"] > 200 and label["height"] < 60  # the label reads across, not down
        page.screenshot(path=str(ARTIFACTS / "hurried-console-hotline.png"))
        assert [e for e in errors if "status of 400" not in e] == []  # the refused number, shown above
