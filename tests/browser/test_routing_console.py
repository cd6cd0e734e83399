"""Routing in the console (server/orders/routing.py), in zh-CN at 360×640 and 390×844: the
supervisor's 分派规则 screen shows where each category goes and warns where nobody can take it; the
desk's new-order form offers only staffed queues and, for a complaint, says 处理人 and lists stewards
and the desk."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, desktop

pytestmark = pytest.mark.browser

SIZES = ((360, 640), (390, 844))


@pytest.mark.parametrize("size", SIZES)
def test_the_supervisor_sees_where_each_category_goes_and_the_warning_where_nobody_can(chromium, server, size):
    with desktop(chromium, server, "supervisor", size) as (page, errors):
        page.goto(f"{server.base_url}/app/#/desk/admin")
        page.click("button[data-tab=routing]")
        row = page.locator("[data-test=routing-table] tr[data-category=noise]")
        row.wait_for()
        assert "秩序部没有在岗人员" in row.inner_text()
        options = page.locator("select[name='route.noise'] option").all_inner_texts()
        assert not any("秩序部" in o and "队列" in o for o in options)  # no queue without members
        assert any("张管家" in o for o in options)
        page.screenshot(path=str(ARTIFACTS / f"routing-admin-{size[0]}x{size[1]}.png"), full_page=True)
        assert not errors, errors


@pytest.mark.parametrize("size", SIZES)
def test_the_desk_form_says_handler_for_a_complaint_and_offers_only_staffed_queues(chromium, server, size):
    with desktop(chromium, server, "desk", size) as (page, errors):
        page.fill("input[name=q]", "1-1-102")
        page.wait_for_selector("button.result[data-household='1栋1单元102']")
        page.keyboard.press("Enter")
        page.click("button[data-kind=complaint]")
        page.select_option("select[name=category]", "noise")
        label = page.locator("label:has(select[name=assignee])")
        page.wait_for_selector("select[name=assignee] option:has-text('刘前台')", state="attached")
        assert label.inner_text().startswith("处理人")
        options = page.locator("select[name=assignee] option").all_inner_texts()
        assert any("张管家" in o for o in options) and any("刘前台" in o for o in options)
        assert not any("秩序部" in o for o in options)
        page.locator("[data-test=routing-warning]").wait_for()
        assert "组长" in page.locator("[data-test=routing-warning]").inner_text()
        page.locator("select[name=assignee]").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"routing-desk-complaint-{size[0]}x{size[1]}.png"), full_page=True)
        assert not errors, errors
