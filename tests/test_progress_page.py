"""The owner's progress page: the timeline owners expect in China time, nothing staff-only, inert
XSS, owner-safe photos of this order only, the polling state, rating once, and its size."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from server.orders.models import Order, Rating
from server.progress.i18n import pick_lang
from tests.support.camera_jpegs import BLUE, GREEN, MAKE, RED, camera_jpeg, jpeg_segments, marker_side
from tests.test_progress_support import (
    act,
    completed_order,
    make_link,
    new_order,
    on_site_order,
    page_path,
    step,
    store_photo,
    timeline_items,
    uuid_strings,
)

pytestmark = pytest.mark.anyio

CHINA_1005 = datetime(2026, 11, 22, 2, 5, tzinfo=UTC)  # 10:05 in China


def china(hh: int, mm: int) -> datetime:
    return datetime(2026, 11, 22, hh - 8, mm, tzinfo=UTC)


async def repair_with_steps(api, world, clock) -> tuple[str, dict]:
    """The repair from the brief: 10:05 接单 … 11:30 测试完毕, then completed at 11:31."""
    clock.set(CHINA_1005)
    oid = (await new_order(api, world, assignee_id=str(world.id("tech_a"))))["id"]
    link = await make_link(api, oid)
    clock.set(china(10, 8))
    await act(api, "tech_a", oid, "accept")
    clock.set(china(10, 20))
    await act(api, "tech_a", oid, "depart", eta=china(10, 40).isoformat())
    clock.set(china(10, 38))
    await act(api, "tech_a", oid, "arrive")
    clock.set(china(10, 41))
    await step(api, oid, "检测漏点", at=china(10, 40))
    clock.set(china(11, 15))
    await step(api, oid, "更换弯头", at=china(11, 15), materials=[{"name": "弯头", "quantity": 1, "unit": "个"}])
    clock.set(china(11, 30))
    await step(api, oid, "测试完毕", at=china(11, 30))
    clock.set(china(11, 31))
    await act(api, "tech_a", oid, "complete")
    return oid, link


async def test_timeline_reads_like_the_owner_expects_in_china_time(api, world, clock):
    oid, link = await repair_with_steps(api, world, clock)
    r = await api.client.get(page_path(link))
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert timeline_items(r.text) == [
        ("10:05", "已收到您的报修"),
        ("10:05", "已派单给李师傅"),
        ("10:08", "李师傅接单"),
        ("10:20", "李师傅出发"),
        ("10:38", "李师傅到场"),
        ("10:40", "检测漏点"),
        ("11:15", "更换弯头 材料: 弯头 ×1个"),
        ("11:30", "测试完毕"),
        ("11:31", "处理完毕"),
    ]
    html = r.text
    assert '<html lang="zh-CN">' in html and "11月22日" in html
    assert "已处理完毕，请您评价" in html and 'name="level"' in html
    assert 'href="tel:13900000021"' in html and "李师傅" in html  # the technician, tap to call
    assert 'href="tel:13900000011"' in html  # the grid steward


async def test_eta_shows_while_the_technician_is_on_the_way(api, world, clock):
    clock.set(CHINA_1005)
    oid = (await new_order(api, world, assignee_id=str(world.id("tech_a"))))["id"]
    link = await make_link(api, oid)
    await act(api, "tech_a", oid, "accept")
    await act(api, "tech_a", oid, "depart", eta=china(10, 40).isoformat())
    html = (await api.client.get(page_path(link))).text
    assert "师傅正在路上" in html and "预计到达" in html and "11月22日 10:40" in html


async def test_english_by_query_or_accept_language(api, world, clock):
    oid, link = await repair_with_steps(api, world, clock)
    en = await api.client.get(page_path(link) + "?lang=en")
    assert '<html lang="en">' in en.text and "Li Shifu" not in en.text
    assert "Done — please rate the service" in en.text and "Work done" in en.text
    by_header = await api.client.get(page_path(link), headers={"Accept-Language": "en-US,en;q=0.9,zh-CN;q=0.5"})
    assert '<html lang="en">' in by_header.text
    zh = await api.client.get(page_path(link), headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="zh-CN">' in zh.text


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "zh"),
        ("en", "zh-CN", "en"),
        ("zh", "en", "zh"),
        (None, "en-GB,en;q=0.8", "en"),
        (None, "fr-FR,en;q=0.5,zh;q=0.9", "zh"),
        (None, "de", "zh"),
        ("xx", "en", "en"),
    ],
)
def test_language_choice(query, header, expected):
    assert pick_lang(query, header) == expected


async def test_no_staff_only_field_reaches_the_page_or_state(api, world, clock):
    secret_note = "业主脾气急，注意沟通"
    order = await new_order(
        api,
        world,
        assignee_id=str(world.id("tech_a")),
        internal_note=secret_note,
        reporter_name="王秘密",
        reporter_phone="13711112222",
    )
    oid = order["id"]
    link = await make_link(api, oid)
    await act(api, "tech_a", oid, "accept")
    r = await api.post("desk", f"/api/orders/{oid}/note", json={"internal_note": secret_note + "2"})
    assert r.status_code == 200
    r = await api.post("desk", f"/api/orders/{oid}/eta", json={"eta": china(17, 0).isoformat()})
    assert r.status_code == 200
    other = await new_order(api, world, household="1栋1单元102")
    html = (await api.client.get(page_path(link))).text
    state = (await api.client.get(page_path(link) + "/state")).text
    staff_ids = uuid_strings(*(s.id for s in world.staff.values()), world.estate.id, world.grids[0].id)
    for text in [secret_note, "王秘密", "13711112222", other["number"], "1栋1单元102", oid, *staff_ids]:
        assert text not in html, text
        assert text not in state, text
    assert set((await api.client.get(page_path(link) + "/state")).json()) == {"version", "status", "updated_at"}
    assert "note" not in [t for _, t in timeline_items(html)]
    assert len(timeline_items(html)) == 3  # create, dispatch, accept: no note or ETA events


XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "<svg/onload=alert(3)>",
    "javascript:alert(4)//'",
]


async def test_xss_in_description_notes_and_comment_is_inert(api, world, database, clock):
    oid = await on_site_order(api, world, description="漏水 " + XSS[0] + XSS[1])
    link = await make_link(api, oid)
    await step(api, oid, XSS[1] + XSS[2], at=clock.now(), materials=[{"name": XSS[0][:50], "quantity": 1}])
    await act(api, "tech_a", oid, "complete")
    r = await api.client.post(
        page_path(link) + "/rating",
        data={"level": "satisfied", "comment": XSS[3] + XSS[0]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    html = (await api.client.get(page_path(link))).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;svg/onload=alert(3)&gt;" in html
    assert "<script>alert" not in html and "<img src=x" not in html and "<svg/onload" not in html
    assert "onerror=alert(2)>" not in html and "&#x27;" in html
    assert html.count("<script>") == 1  # the page's own polling script only
    csp = (await api.client.get(page_path(link))).headers["content-security-policy"]
    assert "script-src 'sha256-" in csp and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
    async with database.reader() as s:
        assert (await s.scalar(select(Rating.comment))) == XSS[3] + XSS[0]


async def test_state_version_changes_with_progress_and_when_a_photo_arrives(api, world, app, database, clock):
    oid = await on_site_order(api, world)
    link = await make_link(api, oid)
    state = page_path(link) + "/state"
    v1 = (await api.client.get(state)).json()["version"]
    assert (await api.client.get(state)).json()["version"] == v1
    photo = camera_jpeg((320, 240), 1)
    import hashlib

    sha = hashlib.sha256(photo).hexdigest()
    await step(api, oid, "拆开检查", at=clock.now(), photos=[sha])
    v2 = (await api.client.get(state)).json()["version"]
    assert v2 != v1
    page = await api.client.get(page_path(link))
    assert "上传中" in page.text and f"/photos/{sha}/thumb" not in page.text
    assert f'data-v="{v2}"' in page.text
    await store_photo(app, database, photo, clock.now())
    v3 = (await api.client.get(state)).json()["version"]
    assert v3 != v2
    page = await api.client.get(page_path(link))
    assert "上传中" not in page.text
    assert f'<a href="{page_path(link)}/photos/{sha}/view"><img src="{page_path(link)}/photos/{sha}/thumb"' in page.text
    assert 'loading="lazy"' in page.text


def _corners(im: Image.Image) -> tuple:
    c = marker_side(im.size) // 2
    w, h = im.size
    return im.getpixel((c, c)), im.getpixel((w - 1 - c, c)), im.getpixel((c, h - 1 - c))


def _near(pixel, colour, tolerance=60) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


@pytest.mark.parametrize("size", ["thumb", "view"])
async def test_photos_are_upright_metadata_free_derivatives_cached_privately_for_an_hour(
    api, world, app, database, clock, size
):
    original = camera_jpeg((800, 600), 6)  # stored sideways, with GPS, make/model and an ICC profile
    sha = await store_photo(app, database, original, clock.now())
    oid = await on_site_order(api, world)
    link = await make_link(api, oid)
    await step(api, oid, "现场照片", at=clock.now(), photos=[sha])
    url = f"{page_path(link)}/photos/{sha}/{size}"
    r = await api.client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    # Issue 18 finding 10: the URL carries the token, so no shared cache and no year (revocation holds).
    assert r.headers["cache-control"] == "private, max-age=3600"
    etag = r.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{64}"', etag)  # strong
    data = r.content
    assert not {*range(0xE1, 0xF0), 0xFE} & set(jpeg_segments(data))  # no EXIF/XMP/ICC/comment segments
    assert MAKE.encode() not in data
    with Image.open(io.BytesIO(data)) as im:
        assert len(im.getexif()) == 0 and im.size == ((360, 480) if size == "thumb" else (600, 800))
        top_left, top_right, bottom_left = _corners(im.convert("RGB"))
    assert _near(top_left, RED) and _near(top_right, GREEN) and _near(bottom_left, BLUE)
    again = await api.client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag


async def test_a_revoked_link_stops_serving_its_photos(api, world, app, database, clock):
    sha = await store_photo(app, database, camera_jpeg((320, 240)), clock.now())
    oid = await on_site_order(api, world)
    link = await make_link(api, oid)
    await step(api, oid, "现场照片", at=clock.now(), photos=[sha])
    url = f"{page_path(link)}/photos/{sha}/thumb"
    assert (await api.client.get(url)).status_code == 200
    assert (await api.delete("desk", f"/api/orders/{oid}/progress-link")).status_code == 200
    r = await api.client.get(url)
    assert r.status_code == 404 and "immutable" not in r.headers.get("cache-control", "")


async def test_a_token_cannot_reach_another_orders_photos(api, world, app, database, clock):
    mine = await on_site_order(api, world)
    theirs = await on_site_order(api, world, household="1栋1单元102")
    my_link = await make_link(api, mine)
    their_link = await make_link(api, theirs)
    their_sha = await store_photo(app, database, camera_jpeg((200, 150)), clock.now())
    my_sha = await store_photo(app, database, camera_jpeg((200, 150)), clock.now())
    await step(api, theirs, "他们的照片", at=clock.now(), photos=[their_sha])
    await step(api, mine, "我的照片", at=clock.now(), photos=[my_sha])
    assert (await api.client.get(f"{page_path(their_link)}/photos/{their_sha}/thumb")).status_code == 200
    assert (await api.client.get(f"{page_path(my_link)}/photos/{my_sha}/thumb")).status_code == 200
    r = await api.client.get(f"{page_path(my_link)}/photos/{their_sha}/thumb")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert (await api.client.get(f"{page_path(my_link)}/photos/{their_sha}/view")).status_code == 404
    assert (await api.client.get(f"{page_path(my_link)}/photos/{my_sha}/original")).status_code == 404
    assert (await api.client.get(f"{page_path(my_link)}/photos/{'0' * 64}/thumb")).status_code == 404
    await api.delete("desk", f"/api/orders/{mine}/progress-link")
    assert (await api.client.get(f"{page_path(my_link)}/photos/{my_sha}/thumb")).status_code == 404


async def test_unknown_or_malformed_tokens_get_the_friendly_404(api, world):
    for token in ("A" * 32, "short", "<script>alert(1)", "A" * 31 + "!", "A" * 33):
        r = await api.client.get(f"/p/{token}")
        assert r.status_code == 404 and "链接无效或已过期" in r.text, token
        assert "<script>alert" not in r.text
        en = await api.client.get(f"/p/{token}?lang=en")
        assert "Link not valid" in en.text


async def test_owner_rates_once_and_an_unsatisfied_rating_opens_exactly_one_follow_up(api, world, database):
    oid = await completed_order(api, world)
    link = await make_link(api, oid)
    first = await api.client.post(
        page_path(link) + "/rating", data={"level": "unsatisfied", "comment": "师傅迟到"}, follow_redirects=False
    )
    assert first.status_code == 303 and first.headers["location"] == f"{page_path(link)}?lang=zh&m=thanks"
    page = await api.client.get(first.headers["location"])
    assert "感谢您的评价" in page.text and "我们已安排管家尽快与您联系" in page.text
    assert 'name="level"' not in page.text and "师傅迟到" in page.text
    assert timeline_items(page.text)[-1][1] == "您的评价：不满意"
    second = await api.client.post(
        page_path(link) + "/rating", data={"level": "unsatisfied", "comment": "再来一次"}, follow_redirects=False
    )
    assert second.status_code == 303 and second.headers["location"].endswith("m=already")
    assert "本次服务已评价过" in (await api.client.get(second.headers["location"])).text
    async with database.reader() as s:
        assert await s.scalar(select(func.count()).select_from(Rating)) == 1
        follow_ups = (await s.scalars(select(Order).where(Order.follow_up_of_id.is_not(None)))).all()
        rating = await s.scalar(select(Rating))
    assert len(follow_ups) == 1 and rating.source == "owner" and rating.level.value == "unsatisfied"


async def test_rating_before_completion_or_without_a_level_is_refused_kindly(api, world, database):
    oid = await on_site_order(api, world)
    link = await make_link(api, oid)
    early = await api.client.post(page_path(link) + "/rating", data={"level": "satisfied"}, follow_redirects=False)
    assert early.headers["location"].endswith("m=not_ratable")
    assert "工单处理完毕后才能评价" in (await api.client.get(early.headers["location"])).text
    await act(api, "tech_a", oid, "complete")
    blank = await api.client.post(
        page_path(link) + "/rating", data={"comment": "x", "lang": "en"}, follow_redirects=False
    )
    assert blank.headers["location"] == f"{page_path(link)}?lang=en&m=pick"
    async with database.reader() as s:
        assert await s.scalar(select(func.count()).select_from(Rating)) == 0


async def test_a_rating_comment_with_control_characters_or_too_long_is_refused_and_stores_nothing(api, world, database):
    oid = await on_site_order(api, world)
    link = await make_link(api, oid)
    await act(api, "tech_a", oid, "complete")
    for comment, notice, text in (
        ("好\x00的", "comment_bad_text", "特殊字符"),
        ("好\x1b[31m", "comment_bad_text", "特殊字符"),
        ("很" * 501, "comment_too_long", "最多 500 字"),
    ):
        answer = await api.client.post(
            page_path(link) + "/rating", data={"level": "satisfied", "comment": comment}, follow_redirects=False
        )
        assert answer.headers["location"].endswith(f"m={notice}")
        assert text in (await api.client.get(answer.headers["location"])).text
    async with database.reader() as s:
        assert await s.scalar(select(func.count()).select_from(Rating)) == 0
    # A textarea's line breaks arrive as CRLF: they are a comment's normal text, kept as newlines.
    fine = await api.client.post(
        page_path(link) + "/rating", data={"level": "satisfied", "comment": "师傅很好\r\n谢谢"}, follow_redirects=False
    )
    assert fine.headers["location"].endswith("m=thanks")
    async with database.reader() as s:
        assert (await s.scalar(select(Rating))).comment == "师傅很好\n谢谢"


async def test_closed_order_stays_readable_with_its_rating_and_expiry_date(api, world, clock):
    oid = await completed_order(api, world)
    link = await make_link(api, oid)
    await api.client.post(page_path(link) + "/rating", data={"level": "very_satisfied"})
    await act(api, "desk", oid, "close")
    html = (await api.client.get(page_path(link))).text
    expires = clock.now() + timedelta(days=30)
    assert "工单已完结" in html and "非常满意" in html and "工单完结" in html
    assert f"本页面将于 {expires.month}月{expires.day}日 后失效" in html


async def test_page_of_a_ten_step_order_is_under_40_kb(api, world, app, database, clock):
    oid = await on_site_order(api, world, description="卫生间墙面渗水，楼下天花板有水渍，" * 5)
    link = await make_link(api, oid)
    for i in range(10):
        shas = [await store_photo(app, database, camera_jpeg((64, 48)), clock.now()) for _ in range(2)]
        await step(
            api,
            oid,
            f"第{i + 1}步：检查管道接口并更换密封圈，确认无渗漏后清理现场。" * 2,
            at=clock.now(),
            photos=shas,
            materials=[
                {"name": "密封圈", "quantity": 2, "unit": "个"},
                {"name": "生料带", "quantity": 1, "unit": "卷"},
            ],
        )
        clock.advance(minutes=7)
    await act(api, "tech_a", oid, "complete")
    r = await api.client.get(page_path(link))
    assert len(timeline_items(r.text)) == 6 + 10  # create … arrive, ten steps, complete
    assert r.text.count("/thumb") == 20
    size = len(r.content)
    assert size < 40 * 1024, size


async def test_unchanged_page_is_revalidated_with_304(api, world, clock):
    oid = await on_site_order(api, world)
    link = await make_link(api, oid)
    r = await api.client.get(page_path(link))
    etag = r.headers["etag"]
    again = await api.client.get(page_path(link), headers={"If-None-Match": etag})
    assert again.status_code == 304
    await step(api, oid, "新进展", at=clock.now())
    changed = await api.client.get(page_path(link), headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "新进展" in changed.text
