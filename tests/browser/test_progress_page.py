"""The owner's progress page and report form in headless Chromium on a phone (390×844, touch),
against a real server process (``wuye serve``) on a migrated SQLite database with the test world.

Screenshots go to ``test-artifacts/progress/``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest

from server.db.engine import Database
from server.photos.blobstore import BlobStore
from server.photos.service import record_arrival
from server.progress.tokens import grid_token
from tests.browser.conftest import ARTIFACTS, wait_for
from tests.support.camera_jpegs import camera_jpeg
from tests.support.live_server import SECRET, LiveServer, prepare_database, seed
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "progress"
PAGE_BUDGET = 40 * 1024


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("progress-live")
    # Playwright's sync API keeps an event loop running in this thread: set up in another one.
    with ThreadPoolExecutor(1) as pool:
        url = pool.submit(prepare_database, f"sqlite+aiosqlite:///{root / 'live.sqlite3'}").result()
        world, _ = pool.submit(asyncio.run, seed(url)).result()
    live = LiveServer(url, root / "data")
    live.world = world
    live.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield live
    live.stop()


@contextmanager
def staff(site: LiveServer, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, timeout=15) as c:
        r = c.post("/api/auth/login", json={"phone": site.world.phone(key), "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield c


def store_photos(site: LiveServer, photos: list[bytes]) -> list[str]:
    """Store photos as a finished upload does (blob store + arrival row), from another thread."""
    store = BlobStore(site.data_dir / "photos")
    infos = [store.put(p) for p in photos]

    async def record() -> None:
        db = Database(site.database_url)
        try:
            async with db.writer() as s:
                for info in infos:
                    await record_arrival(s, info, datetime.now(UTC))
                await s.commit()
        finally:
            await db.dispose()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, record()).result()
    return [i.sha256 for i in infos]


def order_on_site(site: LiveServer, description: str) -> tuple[str, str]:
    """An order 李师傅 is working on, with three steps (one photo still uploading); returns (id, page path)."""
    uploaded = store_photos(site, [camera_jpeg((1200, 900), 6), camera_jpeg((900, 1200), 1)])
    pending = hashlib.sha256(b"a photo still on the phone").hexdigest()
    with staff(site, "desk") as desk, staff(site, "tech_a") as tech:
        r = desk.post(
            "/api/orders/",
            json={
                "kind": "repair",
                "category": "water_electric",
                "channel": "phone",
                "description": description,
                "household_id": str(site.world.households["1栋1单元101"].id),
                "assignee_id": str(site.world.id("tech_a")),
                "internal_note": "内部备注：不要给业主看",
            },
        )
        assert r.status_code == 201, r.text
        oid = r.json()["order"]["id"]
        link = desk.post(f"/api/orders/{oid}/progress-link").json()
        for action in ("accept", "depart", "arrive"):
            assert tech.post(f"/api/orders/{oid}/actions/{action}", json={}).status_code == 200
        now = datetime.now(UTC).isoformat()
        for note, photos, materials in (
            ("检测漏点：厨房水槽下方弯头渗水", uploaded[:1], []),
            ("更换弯头", uploaded[1:], [{"name": "弯头", "quantity": 1, "unit": "个"}]),
            ("测试完毕，无渗漏", [pending], []),
        ):
            r = tech.post(
                f"/api/orders/{oid}/steps",
                json={"note": note, "captured_at": now, "photos": photos, "materials": materials},
            )
            assert r.status_code == 201, r.text
    return oid, "/p/" + link["token"]


def complete(site: LiveServer, oid: str) -> None:
    with staff(site, "tech_a") as tech:
        assert tech.post(f"/api/orders/{oid}/actions/complete", json={}).status_code == 200


def order_status(site: LiveServer, oid: str) -> str:
    with staff(site, "desk") as desk:
        return desk.get(f"/api/orders/{oid}").json()["order"]["status"]


def test_progress_page_renders_light_and_clean_on_a_phone(browser_context, site):
    oid, path = order_on_site(site, "厨房水槽下方漏水，柜子里都是水")
    context, page, errors = browser_context
    sizes: dict[str, int] = {}

    def on_response(response) -> None:
        s = response.request.sizes()
        sizes[response.url] = s["responseBodySize"] + s["responseHeadersSize"]

    page.on("response", on_response)
    page.goto(site.base_url + path, wait_until="load")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("h1") == "师傅已到场处理"
    items = page.locator(".tl li:not(.d)")
    assert items.count() == 8  # create, dispatch, accept, depart, arrive, three steps
    assert "上传中" in page.inner_text(".tl")
    assert page.locator("a.call[href='tel:13900000021']").count() == 1
    assert "内部备注" not in page.content()
    page.screenshot(path=str(SHOTS / "progress-on-site.png"), full_page=True)

    before_photos = sum(n for url, n in sizes.items() if "/photos/" not in url)
    assert before_photos < PAGE_BUDGET, sizes
    thumbs = [url for url in sizes if url.endswith("/thumb")]
    assert len(thumbs) == 2
    loaded = page.evaluate("[...document.querySelectorAll('.ph img')].map(i => i.complete && i.naturalWidth)")
    assert loaded and all(w > 0 for w in loaded)
    assert errors == []
    # The larger view behind a thumbnail: a bare JPEG document (Chromium then asks for /favicon.ico).
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    with page.expect_navigation():
        page.locator(".ph a").first.tap()
    assert "/view" in page.url
    assert page.evaluate("document.images[0].naturalWidth") == 900  # upright: 1200×900 stored sideways
    page.screenshot(path=str(SHOTS / "progress-photo-view.png"))
    assert [u for u in failed if not u.endswith("/favicon.ico")] == []


def test_page_follows_the_order_by_itself_and_the_owner_rates_it(browser_context, site):
    oid, path = order_on_site(site, "卫生间地漏堵塞")
    context, page, errors = browser_context
    page.goto(site.base_url + path)
    assert page.locator("form").count() == 0
    # The polling script notices the change (every 15 s) and reloads the page.
    with page.expect_navigation(timeout=40_000):
        complete(site, oid)
    assert page.inner_text("h1") == "已处理完毕，请您评价"
    page.locator("form").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "progress-rate.png"), full_page=True)
    page.locator("label:has-text('满意')").nth(1).tap()  # 非常满意, 满意, …: the second is 满意
    assert page.locator("input[value=satisfied]").is_checked()
    page.fill("textarea[name=comment]", "师傅很专业 <b>谢谢</b>")
    with page.expect_navigation():
        page.locator("button[type=submit]").tap()
    assert "m=thanks" in page.url
    assert "感谢您的评价" in page.inner_text("main")
    assert "师傅很专业 <b>谢谢</b>" in page.inner_text("main")  # shown as text, not markup
    assert page.locator("form").count() == 0
    page.screenshot(path=str(SHOTS / "progress-rated.png"), full_page=True)
    assert order_status(site, oid) == "rated"
    assert errors == []


def test_rating_works_without_javascript(chromium, site):
    oid, path = order_on_site(site, "阳台灯不亮")
    complete(site, oid)
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(site.base_url + path + "?lang=en")
        assert page.inner_text("h1") == "Done — please rate the service"
        page.locator("label:has-text('Unsatisfied')").tap()
        page.fill("textarea[name=comment]", "Came late")
        with page.expect_navigation():
            page.locator("button[type=submit]").tap()
        assert "Thank you for your rating!" in page.inner_text("main")
        assert "Your steward will contact you soon." in page.inner_text("main")
        page.screenshot(path=str(SHOTS / "progress-rated-en-nojs.png"), full_page=True)
    finally:
        context.close()
    assert order_status(site, oid) == "rated"


def test_report_form_on_a_phone_creates_an_order_and_opens_its_page(browser_context, site, tmp_path):
    context, page, errors = browser_context
    url = f"{site.base_url}/r/{grid_token(SECRET, site.world.grids[0].id)}"
    page.goto(url)
    assert page.inner_text("h1") == "报事报修"
    page.screenshot(path=str(SHOTS / "report-form.png"), full_page=True)
    page.select_option("select[name=building]", "1栋")
    page.select_option("select[name=unit]", "1单元")
    page.select_option("select[name=room]", "201")
    page.locator("label:has-text('投诉')").tap()
    page.select_option("select[name=category]", "noise")
    page.fill("textarea[name=description]", "楼上每晚十一点后装修噪音")
    photo = tmp_path / "noise.jpg"
    photo.write_bytes(camera_jpeg((1600, 1200), 6))
    page.set_input_files("input[name=photos]", str(photo))
    page.fill("input[name=phone]", "13800138000")
    assert errors == []
    # A wrong room first: the form comes back (status 422, which Chromium logs as a console error)
    # with the error and what was typed.
    page.select_option("select[name=room]", "")
    page.evaluate("document.querySelector('select[name=room]').removeAttribute('required')")
    with page.expect_navigation():
        page.locator("button[type=submit]").tap()
    assert "没有找到这个房号" in page.inner_text("main")
    assert page.input_value("textarea[name=description]") == "楼上每晚十一点后装修噪音"
    page.screenshot(path=str(SHOTS / "report-form-error.png"), full_page=True)
    assert [e for e in errors if "422" not in e] == [] and len(errors) == 1
    errors.clear()
    page.select_option("select[name=room]", "201")
    page.set_input_files("input[name=photos]", str(photo))
    with page.expect_navigation():
        page.locator("button[type=submit]").tap()
    assert "/p/" in page.url and "m=reported" in page.url
    assert "已提交" in page.inner_text("main") and "投诉 · 噪音 · 1栋1单元201" in page.inner_text(".top")
    # (wait_for_function would evaluate a string: the page's CSP forbids that, rightly.)
    loaded = "[...document.querySelectorAll('.ph img')].every(i => i.complete && i.naturalWidth > 0)"
    assert page.locator(".ph img").count() == 1
    wait_for(lambda: page.evaluate(loaded), 15)
    page.screenshot(path=str(SHOTS / "report-done.png"), full_page=True)
    assert errors == []


def test_printed_slip_poster_and_the_not_found_page(chromium, site):
    oid, path = order_on_site(site, "客厅插座没电")
    with staff(site, "desk") as desk:
        slip = desk.get(f"/api/orders/{oid}/slip").text
        poster = desk.get(f"/api/grids/{site.world.grids[0].id}/poster").text
    context = chromium.new_context(viewport={"width": 420, "height": 700}, locale="zh-CN")
    try:
        page = context.new_page()
        page.emulate_media(media="print")
        page.set_content(slip)
        page.screenshot(path=str(SHOTS / "slip.png"), full_page=True)
        assert page.locator("button").is_hidden()  # the print button does not print
        page.set_viewport_size({"width": 820, "height": 1160})
        page.set_content(poster)
        page.screenshot(path=str(SHOTS / "poster.png"), full_page=True)
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 390, "height": 844})
        response = page.goto(site.base_url + "/p/" + "x" * 32)
        assert response.status == 404 and page.inner_text("h1") == "链接无效或已过期"
        page.screenshot(path=str(SHOTS / "not-found.png"))
    finally:
        context.close()
