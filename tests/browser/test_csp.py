"""The security headers hold in real Chromium (issue 18, finding 6): the main screens of the phone
app, the console, the owner pages and the printables run under their Content-Security-Policy without
a single violation, and another origin cannot frame the console."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from server.progress.tokens import grid_token
from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, desktop
from tests.support.live_server import SECRET
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser

# Playwright injects this before any page script (over CDP: the page's CSP does not apply to it).
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def listen(page) -> list[str]:
    """CSP violations seen on ``page``: its console messages (frames included) and the events."""
    seen: list[str] = []
    page.add_init_script(LISTEN)
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def violations(page, seen: list[str]) -> list[str]:
    events = []
    for frame in page.frames:
        try:
            events += frame.evaluate("window.__csp || []")
        except Exception:  # noqa: BLE001 - a frame that navigated away meanwhile has nothing to tell
            pass
    return seen + events


@contextmanager
def staff(server, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=15) as c:
        r = c.post("/api/auth/login", json={"phone": server.world.phone(key), "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield c


def new_order_with_link(server) -> tuple[str, str]:
    with staff(server, "desk") as desk:
        r = desk.post(
            "/api/orders/",
            json={
                "kind": "repair",
                "category": "water_electric",
                "channel": "phone",
                "description": "客厅插座没电",
                "household_id": str(server.world.households["1栋1单元101"].id),
                "assignee_id": str(server.world.id("tech_a")),
            },
        )
        assert r.status_code == 201, r.text
        oid = r.json()["order"]["id"]
        link = desk.post(f"/api/orders/{oid}/progress-link").json()
    return oid, "/p/" + link["token"]


def test_the_phone_app_runs_its_screens_without_a_csp_violation(chromium, server):
    context = chromium.new_context(**PHONE)
    try:
        page = context.new_page()
        seen = listen(page)
        page.goto(f"{server.base_url}/app/")
        page.fill("input[name=phone]", server.world.phone("tech_a"))
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("nav.bottom")
        for link in page.locator("nav.bottom a").all():
            link.click()
            page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTIFACTS / "csp-phone.png"))
        assert violations(page, seen) == []
    finally:
        context.close()


def test_the_console_screens_and_the_slip_preview_run_without_a_csp_violation(chromium, server):
    oid, _ = new_order_with_link(server)
    with desktop(chromium, server, "supervisor") as (page, _errors):
        seen = listen(page)
        page.reload()
        page.wait_for_selector(".console .side")
        for href in ("#/desk", "#/desk/board", "#/desk/answers", "#/desk/dashboard", "#/desk/walks"):
            page.goto(f"{server.base_url}/app/{href}")
            page.wait_for_load_state("networkidle")
        page.goto(f"{server.base_url}/app/#/desk/orders/{oid}")
        page.click("button[data-action=slip]")
        page.frame_locator("iframe.slip-frame").locator("svg").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "csp-console-slip.png"))
        assert violations(page, seen) == []


def test_owner_pages_and_printables_run_without_a_csp_violation(chromium, server):
    oid, path = new_order_with_link(server)
    context = chromium.new_context(**PHONE)
    try:
        page = context.new_page()
        seen = listen(page)
        page.goto(server.base_url + path)
        page.wait_for_selector("ol.tl")
        page.wait_for_timeout(300)  # the page's own polling script has started
        assert page.evaluate("getComputedStyle(document.querySelector('.top')).color") == "rgb(255, 255, 255)"
        page.screenshot(path=str(ARTIFACTS / "csp-owner-page.png"))
        page.goto(f"{server.base_url}/r/{grid_token(SECRET, server.world.grids[0].id)}")
        page.wait_for_selector("form")
        assert page.evaluate("getComputedStyle(document.querySelector('fieldset')).borderTopStyle") == "none"
        page.screenshot(path=str(ARTIFACTS / "csp-report-form.png"))
        assert violations(page, seen) == []
    finally:
        context.close()
    # The poster and the slip opened as documents of their own (their own policy, print button).
    with staff(server, "supervisor") as c:
        token = c.headers["Authorization"]
    context = chromium.new_context(**DESKTOP, extra_http_headers={"Authorization": token})
    try:
        page = context.new_page()
        seen = listen(page)
        for url in (f"/api/grids/{server.world.grids[0].id}/poster", f"/api/orders/{oid}/slip"):
            page.goto(server.base_url + url)
            page.wait_for_selector("svg")
            page.evaluate("window.print = () => { window.__printed = true }")
            page.click("#print")
            assert page.evaluate("window.__printed === true"), url
        assert violations(page, seen) == []
    finally:
        context.close()


def test_another_origin_cannot_frame_the_console(chromium, server):
    context = chromium.new_context(**DESKTOP)
    try:
        page = context.new_page()
        evil = "http://evil.example/"
        page.route(
            evil,
            lambda route: route.fulfill(
                content_type="text/html",
                body=f'<h1>win a prize</h1><iframe id="f" src="{server.base_url}/app/"></iframe>',
            ),
        )
        page.goto(evil)
        page.wait_for_timeout(1500)
        [child] = [f for f in page.frames if f is not page.main_frame]
        assert child.url.startswith("chrome-error://")  # refused: frame-ancestors 'none', X-Frame-Options
        assert child.locator("input[name=phone]").count() == 0  # the console did not render in the frame
        page.screenshot(path=str(ARTIFACTS / "csp-framed.png"))
    finally:
        context.close()
