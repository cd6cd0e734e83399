"""The report page printed to PDF by headless Chromium (Playwright driving the system ``chromium``,
the browser ``make run`` installs for the tests too): a real layout engine, the page's own print CSS,
and the CJK glyphs embedded from the installed Noto fonts (a PDF viewer needs no Chinese font).

One browser per call: a report is asked for a few times a month, and a long-lived browser would hold
~150 MB and need supervising; launching costs about a second.
"""

from __future__ import annotations

import shutil

from server.errors import DomainError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    return next((p for name in CHROMIUM_NAMES if (p := shutil.which(name))), None)


async def to_pdf(html: str) -> bytes:
    path = chromium_path()
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # pragma: no cover - the dependency is declared
        path = None
    if path is None:
        raise DomainError(
            "pdf_unavailable", "服务器未安装 Chromium，暂时无法生成 PDF，请先下载 XLSX 或打印网页", status=503
        )
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = await browser.new_page()
            # Nothing in the page loads from outside (inline CSS and SVG); block anything that would.
            await page.route("**/*", lambda route: route.abort())
            await page.set_content(html, wait_until="load")
            return await page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            await browser.close()
