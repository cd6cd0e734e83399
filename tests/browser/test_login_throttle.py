"""The sign-in screen under the login throttle, in Chinese on a phone: after five wrong passwords it
says how long to wait (from Retry-After), never the server's English message."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, PHONE

SIZES = {"360x640": {"width": 360, "height": 640}, "390x844": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size,key", [("360x640", "tech_a"), ("390x844", "tech_b")])
def test_too_many_wrong_passwords_say_in_chinese_how_long_to_wait(chromium, server, size, key):
    context = chromium.new_context(**{**PHONE, "viewport": SIZES[size]})
    page = context.new_page()
    try:
        page.goto(f"{server.base_url}/app/")
        page.fill("input[name=phone]", server.world.phone(key))
        for _ in range(5):
            page.fill("input[name=password]", "guess-guess")
            page.click("button[type=submit]")
            page.wait_for_selector("p.error:has-text('手机号或密码错误')")
            page.evaluate("document.querySelector('p.error').remove()")
        page.fill("input[name=password]", "guess-guess")
        page.click("button[type=submit]")
        alert = page.wait_for_selector("p.error:has-text('密码错误次数过多')")
        assert alert.inner_text() == "密码错误次数过多，请 30 秒后再试"
        page.screenshot(path=str(ARTIFACTS / f"login-throttled-{size}.png"))
    finally:
        context.close()
