"""Browser tests: a real server process (``wuye serve``) and Debian's Chromium driven by Playwright.

Chromium is never downloaded (``make`` installs Debian's package); it runs headless with the flags
this machine needs. Screenshots land in ``test-artifacts/`` for people to look at.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from tests.support.live_server import LiveServer, prepare_database, seed
from tests.support.world import PASSWORD

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
T = TypeVar("T")
# The people using the app are in China: clocks and dates on screen read as they would there.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
DESKTOP = {"viewport": {"width": 1440, "height": 900}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def wait_for(check: Callable[[], T], timeout: float = 10.0, every: float = 0.25) -> T:
    """Poll until ``check`` returns something truthy; fail with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A production-like server process on SQLite with the test world loaded (PWA built by make)."""
    if not (REPO / "pwa" / "dist" / "index.html").exists():
        raise RuntimeError("pwa/dist is missing: run `make test` (it builds the PWA first)")
    root = tmp_path_factory.mktemp("live")
    # Playwright's sync API keeps an event loop running in this thread: set up in another one.
    with ThreadPoolExecutor(1) as pool:
        url = pool.submit(prepare_database, f"sqlite+aiosqlite:///{root / 'live.sqlite3'}").result()
        world, _ = pool.submit(asyncio.run, seed(url)).result()
    live = LiveServer(url, root / "data")
    live.world = world
    live.start()
    yield live
    live.stop()


# Package scope, not session: Playwright's sync API runs an event loop in this thread while it is
# open, and the rest of the suite calls asyncio.run(); so the browser closes when tests/browser ends.
@pytest.fixture(scope="package")
def chromium():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium):
    """A fresh phone: 390×844, touch, its own storage; yields (context, page, console errors)."""
    context = chromium.new_context(**PHONE)
    page = context.new_page()
    errors = watch(page)
    yield context, page, errors
    context.close()


def watch(page) -> list[str]:
    """Collect the page's console errors and uncaught exceptions (network failures aside)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "net::ERR" not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@contextmanager
def desktop(
    chromium,
    server,
    key: str,
    size: tuple[int, int] | None = None,
    *,
    viewport: tuple[int, int] | None = None,
    ready: str = ".console .side",
):
    """A desk PC signed in as ``key``: (page, console errors). ``size`` (w, h) is a desk screen of
    that many CSS pixels; ``viewport`` (w, h) a phone of that size instead; ``ready`` is what the
    signed-in screen shows (the console for desk roles)."""
    if viewport:
        options = {**PHONE, "viewport": {"width": viewport[0], "height": viewport[1]}}
    else:
        options = {**DESKTOP, **({"viewport": {"width": size[0], "height": size[1]}} if size else {})}
    context = chromium.new_context(**options)
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{server.base_url}/app/")
    page.fill("input[name=phone]", server.world.phone(key))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(ready)  # desk roles land on the console, not on "my tasks"
    try:
        yield page, errors
    finally:
        context.close()
