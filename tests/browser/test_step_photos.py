"""The step form and the photos phones really take: every JPEG a current phone writes becomes a photo
of the step and reaches the server; a file that cannot be used is named on screen with the reason
(不完整 / 格式不支持 / 太大), never dropped without a word."""

from __future__ import annotations

import pytest

from server.progress.tokens import grid_token
from tests.browser.conftest import ARTIFACTS, desktop, wait_for
from tests.browser.test_pwa import LOADED_THUMBS, new_order, order_detail
from tests.support.camera_jpegs import bomb_png, camera_jpeg, not_an_image_bytes, phone_jpegs, truncated_jpeg
from tests.support.live_server import SECRET

pytestmark = pytest.mark.browser

VIEWPORTS = [(360, 640), (390, 844)]
THUMBS = "document.querySelectorAll('.add-step .thumb img').length"


def open_step_form(page, server, order) -> None:
    page.wait_for_selector(f"a[data-order='{order['number']}']", timeout=20000)
    page.click(f"a[data-order='{order['number']}']")
    for action in ("accept", "depart", "arrive"):
        page.click(f"button[data-action={action}]")
    page.click("button[data-action=add-step]")
    page.wait_for_selector(".add-step input[type=file]", state="attached")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_a_photo_that_cannot_be_used_is_named_with_the_reason(chromium, server, tmp_path, viewport):
    order = new_order(server, "卫生间镜前灯不亮", label="2栋1单元201")
    files = {
        "IMG_0001.jpg": camera_jpeg((1200, 900), 6),
        "IMG_0002.jpg": truncated_jpeg(),  # the phone's file was cut short in transfer
        "合同.jpg": not_an_image_bytes(),  # named .jpg, but not a picture
        "全景.png": bomb_png(20_000, 20_000),  # 400 megapixels
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    with desktop(chromium, server, "tech_a", viewport=viewport, ready="nav.bottom") as (page, errors):
        open_step_form(page, server, order)
        page.set_input_files(".add-step input[type=file]", paths)
        page.wait_for_selector("[data-test=photo-problems]")
        page.wait_for_function(f"() => {THUMBS} === 1", timeout=20000)  # the good one is in
        assert "照片 (1/9)" in page.inner_text(".add-step h3:has-text('照片')")
        shown = page.locator("[data-test=photo-problems] li").all_inner_texts()
        assert shown == [
            "IMG_0002.jpg：照片不完整（文件没有传完或已损坏），请重新拍摄",
            "合同.jpg：格式不支持，请选择 JPEG、PNG 或 WebP 照片",
            "全景.png：照片太大（超过 50 MB 或 1.2 亿像素），请用相机的普通模式重拍",
        ]
        box = page.locator("[data-test=photo-problems]").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport[0]  # readable without scrolling sideways
        page.locator("[data-test=photo-problems]").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"step-photo-problems-{viewport[0]}x{viewport[1]}.png"))
        page.fill("textarea[name=note]", "更换灯管")
        page.click("button.primary.big")
        page.wait_for_selector(".detail")
        assert errors == []


def test_the_jpegs_todays_phones_write_become_photos_of_the_step_and_reach_the_server(chromium, server, tmp_path):
    order = new_order(server, "电梯厅墙面渗水", label="2栋1单元101")
    jpegs = phone_jpegs()
    paths = []
    for name, data in jpegs.items():
        (tmp_path / f"{name}.jpg").write_bytes(data)
        paths.append(str(tmp_path / f"{name}.jpg"))
    batches = [paths[:9], paths[9:]]
    with desktop(chromium, server, "tech_a", viewport=(390, 844), ready="nav.bottom") as (page, errors):
        open_step_form(page, server, order)
        for i, batch in enumerate(batches):
            if i:
                page.click("button[data-action=add-step]")
            page.fill("textarea[name=note]", f"现场照片 {i + 1}")
            page.set_input_files(".add-step input[type=file]", batch)
            page.wait_for_function(f"() => {THUMBS} === {len(batch)}", timeout=30000)
            assert page.locator("[data-test=photo-problems]").count() == 0
            if i == 0:
                page.screenshot(path=str(ARTIFACTS / "step-phone-jpegs-390x844.png"), full_page=True)
            page.click("button.primary.big")
            page.wait_for_selector(".detail")

        def all_uploaded():
            steps = order_detail(server, order["id"])["timeline"]["steps"]
            shas = [p["sha256"] for s in steps for p in s["photos"] if p["uploaded"]]
            return len(shas) == len(jpegs) and shas

        shas = wait_for(all_uploaded, 60)
        with desktop(chromium, server, "desk") as (desk, desk_errors):
            desk.goto(f"{server.base_url}/app/#/desk/orders/{order['id']}")
            desk.wait_for_function(f"() => {LOADED_THUMBS} === {len(shas)}", timeout=30000)  # the server's derivatives
            assert desk_errors == []
        assert errors == []


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_the_owner_form_names_each_photo_it_cannot_use_and_why(chromium, server, tmp_path, viewport):
    files = {
        "IMG_2041.jpg": truncated_jpeg(),
        "扫描件.jpg": not_an_image_bytes(),
        "IMG_2042.jpg": phone_jpegs()["ultrahdr"],
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    context = chromium.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        user_agent="Mozilla/5.0 (Linux; Android 13) MicroMessenger/8.0.47",
        java_script_enabled=False,
    )
    try:
        page = context.new_page()
        page.goto(f"{server.base_url}/r/{grid_token(SECRET, server.world.grids[0].id)}")
        page.select_option("select[name=building]", "1栋")
        page.select_option("select[name=unit]", "1单元")
        page.select_option("select[name=room]", "102")
        page.locator("label:has-text('报修')").tap()
        page.select_option("select[name=category]", "water_electric")
        page.fill("textarea[name=description]", "厨房下水管漏水")
        page.fill("input[name=phone]", "13800138000")
        page.set_input_files("input[name=photos]", [str(tmp_path / n) for n in files])
        with page.expect_navigation():
            page.locator("button[type=submit]").tap()
        items = page.locator("[data-test=photo-problems] li").all_inner_texts()
        assert items == [
            "第 1 张照片「IMG_2041.jpg」不完整（文件没有传完或已损坏），请重新拍摄或选择",
            "第 2 张照片「扫描件.jpg」格式不支持，请选择 JPEG、PNG 或 WebP 照片",
        ]  # the UltraHDR photo is fine and not blamed
        assert page.input_value("textarea[name=description]") == "厨房下水管漏水"
        page.locator("[data-test=photo-problems]").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"owner-form-photo-problems-{viewport[0]}x{viewport[1]}.png"))
        # Chosen again without the bad ones: the UltraHDR photo goes through.
        page.set_input_files("input[name=photos]", [str(tmp_path / "IMG_2042.jpg")])
        with page.expect_navigation():
            page.locator("button[type=submit]").tap()
        assert "/p/" in page.url and "您上传的照片" in page.inner_text("main")
    finally:
        context.close()
