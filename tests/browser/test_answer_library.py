"""Issue 17 · 话术库 and the call draft, in Chromium against a real server with the standard library.

The desk types the caller's problem and the matching standard answers appear, one click fills the
reply; a look at 话术库 mid-call keeps the household and the half-typed order until it is saved or
discarded, and the draft is hers alone (gone after sign-out, unseen by the next person); the desk
proposes an answer, the supervisor rejects one with a reason and approves another, and only then is
it served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.answers.library import library, load_library
from server.db.engine import Database
from tests.browser.conftest import ARTIFACTS, REPO, desktop, wait_for
from tests.support.live_server import LiveServer, prepare_database, seed
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser

SIZES = {"1280x800": {"size": (1280, 800)}, "390x844": {"viewport": (390, 844)}, "360x640": {"viewport": (360, 640)}}


async def _with_library(url: str):
    world, _ = await seed(url)
    db = Database(url)
    try:
        async with db.writer() as s:
            await load_library(s, world.company.id)
            await s.commit()
    finally:
        await db.dispose()
    return world


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    """The browser suite's live server, with the standard answer library loaded as the demo has it."""
    assert (REPO / "pwa" / "dist" / "index.html").exists(), "run `npm run build` in pwa/ first"
    root = tmp_path_factory.mktemp("answers")
    with ThreadPoolExecutor(1) as pool:
        url = pool.submit(prepare_database, f"sqlite+aiosqlite:///{root / 'live.sqlite3'}").result()
        world = pool.submit(asyncio.run, _with_library(url)).result()
    live = LiveServer(url, root / "data")
    live.world = world
    live.start()
    yield live
    live.stop()


def pick(page, typed: str, label: str) -> None:
    page.fill("input[name=q]", typed)
    page.click(f"button.result[data-household='{label}']")
    page.wait_for_selector("form.new-order")


def suggestions(page) -> list[str]:
    page.wait_for_selector("[data-test=suggestions] [data-suggestion]")
    return page.locator("[data-test=suggestions] [data-suggestion]").evaluate_all(
        "els => els.map(e => e.dataset.suggestion)"
    )


@pytest.mark.parametrize("name", list(SIZES))
def test_typing_the_problem_brings_the_standard_answers_and_one_click_fills_the_reply(chromium, server, name):
    with desktop(chromium, server, "desk", **SIZES[name]) as (page, errors):
        pick(page, "1-1-201", "1栋1单元201")
        page.click("button[data-kind=inquiry]")
        page.fill("textarea[name=description]", "业主问物业费怎么交")
        wait_for(lambda: suggestions(page)[:1] == ["物业费怎么交？有哪些缴费方式？"])
        first = page.locator("[data-test=suggestions] [data-suggestion]").first
        first.locator("button[data-action=fill-reply]").click()
        assert "在线缴费" in page.input_value("textarea[name=reply]")
        page.locator("[data-test=suggestions]").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"answers-suggest-fees-{name}.png"))
        page.fill("textarea[name=description]", "车位")
        wait_for(lambda: "我的车位被别人占了怎么办？" in suggestions(page))
        kinds = page.locator("[data-test=suggestions] .kind").all_inner_texts()
        assert kinds[:3] == ["停车"] * 3
        page.screenshot(path=str(ARTIFACTS / f"answers-suggest-parking-{name}.png"))
        # Answered on the call: the reply given is what the order keeps.
        page.fill("textarea[name=description]", "物业费怎么交")
        wait_for(lambda: suggestions(page)[:1] == ["物业费怎么交？有哪些缴费方式？"])
        page.locator("[data-test=suggestions] button[data-action=fill-reply]").first.click()
        page.click("button[data-action=answered]")
        page.wait_for_selector("[data-test=created]")
        assert errors == []


def test_a_look_at_the_library_mid_call_keeps_the_draft_until_discarded_and_only_for_her(chromium, server):
    with desktop(chromium, server, "desk", size=(1280, 800)) as (page, errors):
        pick(page, "2-1-101", "2栋1单元101")
        page.click("button[data-kind=complaint]")
        page.fill("textarea[name=description]", "楼上晚上十一点还在装修，电钻声")
        page.fill("input[name=internal_note]", "业主语气很急")
        page.click("aside.side a[href='#/desk/answers']")
        page.wait_for_selector("[data-test=answer-count]")
        count = int(page.get_attribute("[data-test=answer-count]", "data-count"))
        assert page.locator("[data-test=answer-count]").inner_text() == f"共 {count} 条"
        assert count == len(library().entries) >= 120  # the demo's library, served in full
        assert page.locator(".answer-list .answer .kind").first.inner_text() == "接待用语"  # the scenes' order
        page.screenshot(path=str(ARTIFACTS / "answers-library-1280x800.png"))
        page.click("aside.side a[href='#/desk']")
        page.wait_for_selector("[data-test=history] h2:text('2栋1单元101')")
        assert page.input_value("textarea[name=description]") == "楼上晚上十一点还在装修，电钻声"
        assert page.input_value("input[name=internal_note]") == "业主语气很急"
        assert page.get_attribute("button[data-kind=complaint]", "aria-checked") == "true"
        page.screenshot(path=str(ARTIFACTS / "answers-draft-restored-1280x800.png"))
        # A reload of the tab keeps it too.
        page.reload()
        page.wait_for_selector("[data-test=history] h2:text('2栋1单元101')")
        assert page.input_value("textarea[name=description]") == "楼上晚上十一点还在装修，电钻声"
        # 放弃草稿 ends it.
        page.once("dialog", lambda d: d.accept())
        page.click("button[data-action=discard-draft]")
        page.wait_for_selector("[data-test=history]", state="detached")
        page.click("aside.side a[href='#/desk/answers']")
        page.wait_for_selector("[data-test=answer-count]")
        page.click("aside.side a[href='#/desk']")
        page.wait_for_selector(".call")
        assert page.locator("form.new-order").count() == 0 and page.input_value("input[name=q]") == ""

        # A new draft, then sign-out: the next person on this browser does not see it, nor does she later.
        pick(page, "2-1-102", "2栋1单元102")
        page.fill("textarea[name=description]", "门禁卡刷不开")
        page.click("aside.side a[href='#/settings']")
        page.click("text=退出登录")
        page.wait_for_selector("input[name=phone]")
        assert page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('wuye.calldraft')).length") == 0
        for key in ("lead", "desk"):
            page.fill("input[name=phone]", server.world.phone(key))
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("text=退出登录")  # sign-in keeps the hash: back on 设置
            # The console reopened as a desk PC would be (a reload would also restore a kept draft).
            page.goto(f"{server.base_url}/app/#/desk")
            page.reload()
            page.wait_for_selector(".console .call")
            assert page.locator("form.new-order").count() == 0, key
            assert page.input_value("input[name=q]") == "", key
            if key == "lead":
                page.click("aside.side a[href='#/settings']")
                page.click("text=退出登录")
                page.wait_for_selector("input[name=phone]")
        assert errors == []


def test_the_desk_proposes_the_supervisor_reviews_and_only_approved_answers_are_served(chromium, server):
    with desktop(chromium, server, "desk", size=(1280, 800)) as (desk, desk_errors):
        desk.goto(f"{server.base_url}/app/#/desk/answers")
        for question, answer in (
            ("小区能不能装共享充电宝？", "这个建议很好，我登记后转给项目负责人，3个工作日内答复您。"),
            ("地库信号差打不了电话", "我们已联系运营商评估地库信号覆盖，有进展会在业主群通知，给您添麻烦了。"),
        ):
            desk.click("button[data-action=propose-answer]")
            desk.select_option("select[name=answer_category]", "convenience")
            desk.fill("[data-test=answer-editor] input[name=question]", question)
            desk.fill("[data-test=answer-editor] textarea[name=answer]", answer)
            desk.fill("[data-test=answer-editor] input[name=keywords]", "建议 信号")
            desk.click("button[data-action=save-answer]")
            desk.wait_for_selector(f"[data-test=my-proposals] [data-proposal='{question}'][data-status=proposed]")
        desk.fill("input[name=answer_q]", "充电宝")
        desk.wait_for_selector(".answers p.empty")  # not served while waiting
        desk.screenshot(path=str(ARTIFACTS / "answers-proposed-desk-1280x800.png"))

        with desktop(chromium, server, "supervisor", size=(1280, 800)) as (sup, sup_errors):
            sup.goto(f"{server.base_url}/app/#/desk/answers")
            queue = "[data-test=review-queue]"
            sup.wait_for_selector(f"{queue} [data-proposal='地库信号差打不了电话']")
            sup.screenshot(path=str(ARTIFACTS / "answers-review-queue-1280x800.png"))
            item = sup.locator(f"{queue} [data-proposal='地库信号差打不了电话']")
            item.locator("button[data-action=reject]").click()
            item.locator("input[name=reject_reason]").fill("已有同类话术：见“电话信号”")
            item.locator("button[data-action=confirm-reject]").click()
            sup.wait_for_selector(f"{queue} [data-proposal='地库信号差打不了电话']", state="detached")
            sup.locator(f"{queue} [data-proposal='小区能不能装共享充电宝？'] button[data-action=approve]").click()
            sup.wait_for_selector(queue, state="detached")
            assert sup_errors == []

        desk.reload()
        mine = "[data-test=my-proposals] [data-proposal='小区能不能装共享充电宝？']"
        desk.wait_for_selector(f"{mine}[data-status=approved]")
        rejected = desk.locator("[data-test=my-proposals] [data-proposal='地库信号差打不了电话']")
        assert rejected.get_attribute("data-status") == "rejected"
        assert rejected.locator("[data-test=review-note]").inner_text() == "已有同类话术：见“电话信号”"
        assert "已驳回" in rejected.inner_text()
        desk.fill("input[name=answer_q]", "充电宝")
        desk.wait_for_selector(".answer-list [data-answer='小区能不能装共享充电宝？']")
        desk.screenshot(path=str(ARTIFACTS / "answers-reviewed-desk-1280x800.png"))
        for w, h in ((390, 844), (360, 640)):
            desk.set_viewport_size({"width": w, "height": h})
            desk.fill("input[name=answer_q]", "")
            desk.wait_for_selector("[data-test=my-proposals]")
            desk.screenshot(path=str(ARTIFACTS / f"answers-my-proposals-{w}x{h}.png"), full_page=False)
        assert desk_errors == []
