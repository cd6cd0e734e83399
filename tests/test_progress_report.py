"""The owner report form behind a grid poster: only that grid's households, real photos only, a QR
order with a progress link, honeypot drops, per-phone and per-IP limits across processes."""

from __future__ import annotations

import re
import uuid

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from server.app import create_app
from server.orders.models import Order, OrderEvent
from server.photos.models import Blob
from server.progress.models import ReportAttempt
from server.progress.report import ReportPolicy, normalise_phone
from server.progress.tokens import grid_from_token, grid_token
from tests.support.camera_jpegs import camera_jpeg, gif_bytes, not_an_image_bytes, phone_jpegs, truncated_jpeg

pytestmark = pytest.mark.anyio

PER_PHONE, PER_IP = 3, 5


@pytest.fixture
def settings(settings):
    # Small limits keep the abuse tests short; the defaults are checked separately.
    return settings.with_(extra={"report_per_phone_per_hour": str(PER_PHONE), "report_per_ip_per_hour": str(PER_IP)})


def form_url(settings, world, grid: int = 0) -> str:
    return f"/r/{grid_token(settings.secret, world.grids[grid].id)}"


def fields(**over) -> dict:
    return {
        "building": "1栋",
        "unit": "1单元",
        "room": "201",
        "kind": "repair",
        "category": "water_electric",
        "description": "阳台地漏返水",
        "phone": "138 0013 8000",
        "name": "陈女士",
        "website": "",
        **over,
    }


async def submit(client, url: str, files=None, **over):
    return await client.post(url, data=fields(**over), files=files or [], follow_redirects=False)


async def count(database, model, *where) -> int:
    async with database.reader() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


def test_default_limits_are_five_per_phone_and_twenty_per_ip_per_hour():
    policy = ReportPolicy.from_extra({})
    assert (policy.per_phone, policy.per_ip, policy.window.total_seconds()) == (5, 20, 3600)
    assert policy.max_photos == 3 and policy.max_photo_bytes == 8 * 2**20


@pytest.mark.parametrize(
    ("raw", "phone"),
    [("138 0013 8000", "13800138000"), ("+86 138-0013-8000", "13800138000"), ("8613800138000", "13800138000")],
)
def test_phone_numbers_are_normalised(raw, phone):
    assert normalise_phone(raw) == phone


async def test_form_offers_only_the_households_of_that_grid(client, world, settings):
    r = await client.get(form_url(settings, world))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<option value="1栋"' in html and "2栋" not in html and "9栋" not in html
    assert 'enctype="multipart/form-data"' in html and 'name="website"' in html
    assert "翠湖花园" in html and "东区" in html
    assert "<script" not in html  # works without JavaScript
    west = await client.get(form_url(settings, world, grid=1))
    assert '<option value="2栋"' in west.text and '<option value="1栋"' not in west.text


async def test_report_creates_a_qr_order_with_photos_and_opens_its_progress_page(client, world, settings, database):
    photos = [camera_jpeg((2400, 1800), 6, quality=100), camera_jpeg((400, 300), 1)]
    # Larger than the app-wide body limit: this route has its own.
    assert sum(map(len, photos)) > settings.max_body_bytes
    files = [("photos", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    r = await submit(client, form_url(settings, world), files=files)
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert re.fullmatch(r"/p/[A-Za-z0-9_-]{32}\?lang=zh&m=reported", location)
    async with database.reader() as s:
        order = await s.scalar(select(Order))
        events = (await s.scalars(select(OrderEvent).order_by(OrderEvent.chain_index))).all()
        blobs = set((await s.scalars(select(Blob.sha256))).all())
    assert order.channel.value == "qr" and order.household_id == world.households["1栋1单元201"].id
    assert order.created_by is None and order.reporter_phone == "13800138000" and order.reporter_name == "陈女士"
    assert [e.action for e in events] == ["create", "report_photos"]
    assert events[0].actor_kind == "owner" and events[1].actor_kind == "owner"
    shas = events[1].data["photos"]
    assert len(shas) == 2 and set(shas) <= blobs
    page = await client.get(location)
    assert page.status_code == 200 and order.number in page.text and "已提交" in page.text
    assert "您上传的照片" in page.text and "1栋1单元201" in page.text
    thumb = await client.get(location.split("?")[0] + f"/photos/{shas[0]}/thumb")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"


async def test_household_of_another_grid_is_not_accepted(client, world, settings, database):
    r = await submit(client, form_url(settings, world), building="2栋", room="101")
    assert r.status_code == 422 and "没有找到这个房号" in r.text
    assert await count(database, Order) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (not_an_image_bytes(), "第 1 张照片「x.jpg」格式不支持"),
        (gif_bytes(), "第 1 张照片「x.jpg」格式不支持"),
        (truncated_jpeg(), "第 1 张照片「x.jpg」不完整"),
        (b"\xff" * (8 * 2**20 + 1), "第 1 张照片「x.jpg」太大，每张照片不超过 8 MB"),
    ],
)
async def test_a_non_image_or_too_large_photo_gets_a_friendly_error(client, world, settings, database, data, message):
    files = [("photos", ("x.jpg", data, "image/jpeg"))]
    r = await submit(client, form_url(settings, world), files=files)
    assert r.status_code == 422 and message in r.text
    assert "阳台地漏返水" in r.text  # what the owner typed is kept
    assert "not a JPEG" not in r.text and "只能上传照片" not in r.text
    assert await count(database, Order) == 0


async def test_each_unusable_photo_is_named_with_what_is_wrong_with_it(client, world, settings, database):
    files = [
        ("photos", ("IMG_0001.jpg", camera_jpeg((320, 240)), "image/jpeg")),
        ("photos", ("IMG_0002.jpg", truncated_jpeg(), "image/jpeg")),
        ("photos", ("scan.gif", gif_bytes(), "image/gif")),
    ]
    r = await submit(client, form_url(settings, world), files=files)
    assert r.status_code == 422
    assert "第 2 张照片「IMG_0002.jpg」不完整（文件没有传完或已损坏）" in r.text
    assert "第 3 张照片「scan.gif」格式不支持" in r.text
    assert "IMG_0001.jpg" not in r.text  # the good one is not blamed
    en = await submit(client, form_url(settings, world) + "?lang=en", files=files)
    assert "Photo 2「IMG_0002.jpg」 is incomplete" in en.text and "Photo 3「scan.gif」 is in a format" in en.text
    assert await count(database, Order) == 0


@pytest.mark.parametrize(
    "names", [("ultrahdr", "iphone_mpo", "progressive"), ("cmyk", "exif_samsung_trailer", "exif_big_endian")]
)
async def test_the_jpegs_todays_phones_write_are_taken_by_the_owner_form(client, world, settings, database, names):
    jpegs = phone_jpegs()
    files = [("photos", (f"{n}.jpg", jpegs[n], "image/jpeg")) for n in names]
    r = await submit(client, form_url(settings, world), files=files)
    assert r.status_code == 303, r.text
    async with database.reader() as s:
        events = (await s.scalars(select(OrderEvent).order_by(OrderEvent.chain_index))).all()
    assert len(events[1].data["photos"]) == 3


async def test_more_than_three_photos_are_refused(client, world, settings, database):
    files = [("photos", (f"{i}.jpg", camera_jpeg((64, 48)), "image/jpeg")) for i in range(4)]
    r = await submit(client, form_url(settings, world), files=files)
    assert r.status_code == 422 and "最多上传 3 张照片" in r.text
    assert await count(database, Order) == 0 and await count(database, Blob) == 0


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"phone": "12345"}, "请填写 11 位手机号"),
        ({"description": "  "}, "请描述问题"),
        ({"kind": "emergency"}, "请选择类型"),
        ({"category": "spaceship"}, "请选择类别"),
    ],
)
async def test_invalid_fields_are_shown_back_without_an_order(client, world, settings, database, over, message):
    r = await submit(client, form_url(settings, world), **over)
    assert r.status_code == 422 and message in r.text
    assert await count(database, Order) == 0


async def test_xss_in_the_form_is_shown_back_escaped(client, world, settings):
    r = await submit(
        client, form_url(settings, world), description="</textarea><script>alert(1)</script>", name='"><b>x', phone="1"
    )
    assert r.status_code == 422
    assert "<script>alert(1)" not in r.text and "&lt;/textarea&gt;&lt;script&gt;" in r.text
    assert 'value="&quot;&gt;&lt;b&gt;x"' in r.text


async def test_honeypot_submission_looks_accepted_but_creates_nothing(client, world, settings, database):
    r = await submit(client, form_url(settings, world), website="http://spam.example")
    assert r.status_code == 303
    assert re.fullmatch(r"/p/[A-Za-z0-9_-]{32}\?lang=zh&m=reported", r.headers["location"])
    assert await count(database, Order) == 0
    assert (await client.get(r.headers["location"])).status_code == 404
    assert await count(database, ReportAttempt, ReportAttempt.outcome == "dropped") == 1


async def test_too_many_reports_from_one_phone_get_429_with_retry_after(client, world, settings, database, clock):
    url = form_url(settings, world)
    for _ in range(PER_PHONE):
        assert (await submit(client, url)).status_code == 303
        clock.advance(minutes=1)
    r = await submit(client, url)
    assert r.status_code == 429 and "提交太频繁" in r.text and r.headers["content-type"].startswith("text/html")
    retry = int(r.headers["retry-after"])
    assert 3600 - 3 * 60 <= retry <= 3600 - 2 * 60
    assert await count(database, Order) == PER_PHONE
    assert (await submit(client, url, phone="13900001111")).status_code == 303  # another phone may
    clock.advance(seconds=retry)
    assert (await submit(client, url)).status_code == 303


async def test_too_many_reports_from_one_ip_get_429_even_with_new_phones(client, world, settings, database):
    url = form_url(settings, world)
    for i in range(PER_IP):
        assert (await submit(client, url, phone=f"1390000{i:04d}")).status_code == 303
    r = await submit(client, url, phone="13700000000")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert await count(database, Order) == PER_IP


async def test_limits_hold_across_app_instances(client, world, settings, database, clock):
    """Attempts live in the database, so a second process (here: a second app) sees them."""
    url = form_url(settings, world)
    for _ in range(PER_PHONE):
        assert (await submit(client, url)).status_code == 303
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as other:
        assert (await submit(other, url)).status_code == 429


async def test_honeypot_submissions_count_against_the_ip(client, world, settings, database):
    url = form_url(settings, world)
    for _ in range(PER_IP):
        assert (await submit(client, url, website="x")).status_code == 303
    assert (await submit(client, url)).status_code == 429
    assert await count(database, Order) == 0


async def test_tampered_or_foreign_grid_tokens_get_a_friendly_404(client, world, settings):
    good = form_url(settings, world)[3:]
    for token in (
        good[:-1] + ("A" if good[-1] != "A" else "B"),
        "x" * 38,
        "short",
        grid_token("z" * 40, world.grids[0].id),
    ):
        r = await client.get(f"/r/{token}")
        assert r.status_code == 404 and "二维码无效" in r.text, token
        assert (await submit(client, f"/r/{token}")).status_code == 404


def test_only_the_canonical_spelling_of_a_poster_token_verifies():
    # 28 bytes take 38 base64 characters with 4 spare bits in the last one: 16 spellings decode
    # to the same bytes, and only the printed one may open the form.
    secret, grid_id = "s" * 40, uuid.uuid4()
    token = grid_token(secret, grid_id)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    accepted = [c for c in alphabet if grid_from_token(secret, token[:-1] + c) == grid_id]
    assert accepted == [token[-1]]


async def test_an_oversized_upload_is_refused_with_a_friendly_page(client, world, settings, database):
    files = [("photos", (f"{i}.jpg", b"\0" * (9 * 2**20), "image/jpeg")) for i in range(3)]
    r = await submit(client, form_url(settings, world), files=files)
    assert r.status_code == 413 and "照片太大" in r.text
    assert await count(database, Order) == 0
