"""园区周报: the week's figures against a hand-computed fixture (both databases), the draft's checks,
publication, the public page and PNG (no owner data, JS-free), revocation and scope refusals."""

from __future__ import annotations

import copy
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from sqlalchemy import update

from server.orders.models import Order, Status
from tests.support.camera_jpegs import camera_jpeg
from tests.test_progress_support import act, decode_png, step, store_photo

pytestmark = pytest.mark.anyio

CHINA = timezone(timedelta(hours=8))
WEEK = "2026-11-23"  # Monday; the week runs to Sunday 29 November, China time
NEXT_MONDAY = "2026-11-30"


def china(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CHINA)


async def repair(api, world, clock, label, category, *, created, done=None, kind="repair", photo=None, key="tech_a"):
    clock.set(created)
    body = {
        "kind": kind,
        "category": category,
        "channel": "phone",
        "description": f"{label}业主报修，电话13912345678",
        "household_id": str(world.households[label].id),
        "assignee_id": str(world.id(key)),
        "reporter_name": "王阿姨",
    }
    r = await api.post("desk", "/api/orders/", json=body)
    assert r.status_code == 201, r.text
    oid = r.json()["order"]["id"]
    for action in ("accept", "depart", "arrive"):
        clock.advance(minutes=5)
        await act(api, key, oid, action)
    if photo:
        await step(api, oid, "已更换水管，王阿姨在家", at=clock.now(), photos=[photo])
    if done is not None:
        clock.set(done)
        await act(api, key, oid, "complete")
    return oid


@pytest.fixture
async def week(api, world, app, database, clock):
    """Hand-computed: done in the week = r0, r1, r2, r3 (4: water_electric 3, lift 1);
    received in the week (repair + emergency created Mon 00:00 – Sun 24:00) = r1, r2, r3, r4, r6 (5)."""
    clock.set(china(22, 9))
    sha = await store_photo(app, database, camera_jpeg((1200, 900), 6), clock.now())
    o = {}
    o["r0"] = await repair(api, world, clock, "1栋1单元102", "water_electric", created=china(22, 20), done=china(23, 9))
    o["r1"] = await repair(
        api, world, clock, "1栋1单元101", "water_electric", created=china(24, 10), done=china(24, 12), photo=sha
    )
    o["r2"] = await repair(
        api, world, clock, "2栋1单元101", "lift", created=china(25, 8), done=china(25, 9), kind="emergency"
    )
    o["r3"] = await repair(
        api, world, clock, "1栋1单元201", "water_electric", created=china(29, 22), done=china(29, 23, 59)
    )
    # Done one minute into the next week: received this week, done next week.
    o["r4"] = await repair(
        api, world, clock, "2栋1单元102", "water_electric", created=china(29, 23, 30), done=china(30, 0, 1)
    )
    o["r5"] = await repair(
        api, world, clock, "2栋1单元201", "noise", created=china(24, 9), done=china(24, 11), kind="complaint"
    )  # not a repair
    o["r6"] = await repair(api, world, clock, "1栋1单元101", "lift", created=china(27, 9))  # still open
    # The other estate: a repair done this week does not count here.
    clock.set(china(24, 9))
    r = await api.post(
        "other_supervisor",
        "/api/orders/",
        json={
            "kind": "repair",
            "category": "lift",
            "channel": "phone",
            "description": "电梯",
            "household_id": str(world.households["9栋1单元101"].id),
        },
    )
    o["other"] = r.json()["order"]["id"]
    async with database.writer() as s:
        await s.execute(
            update(Order)
            .where(Order.id == uuid.UUID(o["other"]))
            .values(status=Status.completed, completed_at=china(24, 10))
        )
        await s.commit()
    clock.set(china(30, 9))  # Monday morning after: the team lead writes last week's bulletin
    api.sign_out_all()
    o["sha"] = sha
    return o


async def open_week(api, key="lead", week_start=WEEK, **over):
    return await api.post(key, "/api/bulletins/", json={"week_start": week_start, **over})


PLANS = [
    {
        "kind": "water_cut",
        "day": "2026-12-02",
        "start": "09:00",
        "end": "12:00",
        "area": "3栋、5栋",
        "title": "二次供水水箱清洗",
    },
    {"kind": "lift_maintenance", "day": "2026-11-30", "start": "14:00", "end": "16:00", "area": "1栋1单元"},
]


async def test_the_weeks_figures_match_the_hand_computed_fixture(api, week):
    r = await open_week(api)
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["status"] == "draft" and b["week_label"] == "2026年11月23日–11月29日"
    c = b["content"]
    assert (c["done"], c["received"]) == (4, 5)
    assert c["by_category"] == {"water_electric": 3, "lift": 1}
    assert {x["order_id"] for x in b["candidates"]} == {week[k] for k in ("r0", "r1", "r2", "r3")}
    r1 = next(x for x in b["candidates"] if x["order_id"] == week["r1"])
    assert r1["building"] == "1栋" and r1["photos"] == [week["sha"]]
    again = await open_week(api)
    assert again.status_code == 200 and again.json()["id"] == b["id"]
    # The week before holds r0's creation only; none done.
    prev = (await open_week(api, week_start="2026-11-16")).json()["content"]
    assert (prev["done"], prev["received"]) == (0, 1)


async def test_draft_publish_page_image_and_revocation(api, world, week, client):
    b = (await open_week(api)).json()
    body = {
        "note": "本周寒潮来袭，请业主关好门窗，注意水管防冻。",
        "plans": PLANS,
        "highlights": [
            {"order_id": week["r1"], "photo": week["sha"], "caption": "更换老化水管"},
            {"order_id": week["r2"]},
        ],
    }
    r = await api.put("lead", f"/api/bulletins/{b['id']}", json=body)
    assert r.status_code == 200, r.text
    assert [p["day"] for p in r.json()["plans"]] == ["2026-11-30", "2026-12-02"]  # in time order
    preview = await api.get("lead", f"/api/bulletins/{b['id']}/image.png")
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    pub = await api.post("lead", f"/api/bulletins/{b['id']}/publish")
    assert pub.status_code == 200, pub.text
    share = pub.json()["share"]
    path = share["url"].split("://", 1)[1].split("/", 1)[1]
    assert re.fullmatch(r"w/[A-Za-z0-9_-]{38}", path)

    page = await client.get("/" + path, headers={"User-Agent": "MicroMessenger/8.0"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for text in (
        "园区周报",
        "翠湖花园",
        "完成维修",
        ">4<",
        "水电",
        "电梯",
        "1栋 · 水电维修 · 11月24日完成",
        "更换老化水管",
        "二次供水水箱清洗",
        "12月2日（周三）09:00–12:00",
        "电梯维保",
        "注意水管防冻",
    ):
        assert text in html, text
    assert "<script" not in html  # nothing needs JavaScript
    assert "script-src" not in page.headers["content-security-policy"]
    _no_owner_data(html, world)
    photo = re.search(r'src="(/w/[^"]+/photos/[0-9a-f]{64}/view)"', html).group(1)
    got = await client.get(photo)
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(got.content)).getexif()  # EXIF (GPS, camera) stripped

    png = await client.get(f"/{path}/bulletin.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    im = Image.open(io.BytesIO(png.content))
    assert im.width == 750 and im.height > 1000
    assert decode_png(png.content) == [share["url"]]  # the QR in the image opens the page
    (Path := __import__("pathlib").Path)("test-artifacts").mkdir(exist_ok=True)
    Path("test-artifacts/bulletin.png").write_bytes(png.content)

    # Published: frozen; edits refused until withdrawn.
    refused = await api.put("lead", f"/api/bulletins/{b['id']}", json=body)
    assert refused.status_code == 409 and refused.json()["code"] == "bulletin_published"

    # A new link revokes the shared one (page, image and photos).
    new = await api.post("supervisor", f"/api/bulletins/{b['id']}/new-link")
    assert new.status_code == 200 and new.json()["share"]["url"] != share["url"]
    for old in ("/" + path, f"/{path}/bulletin.png", photo):
        assert (await client.get(old)).status_code == 404
    new_path = "/" + new.json()["share"]["url"].split("://", 1)[1].split("/", 1)[1]
    assert (await client.get(new_path)).status_code == 200
    # Withdrawn: 404 too.
    assert (await api.post("lead", f"/api/bulletins/{b['id']}/withdraw")).status_code == 200
    assert (await client.get(new_path)).status_code == 404


def _no_owner_data(text: str, world) -> None:
    for h in world.households.values():
        assert h.owner_name not in text and h.owner_phone not in text
    for leak in ("13912345678", "王阿姨", "1单元101", "1单元102", "1单元201", "业主报修", "已更换水管"):
        assert leak not in text, leak
    for s in world.staff.values():
        assert s.phone not in text and s.name not in text


async def test_the_image_holds_no_owner_data(api, world, week):
    """The PNG is drawn from the published content alone (render.image takes nothing else), as is the page."""
    b = (await open_week(api)).json()
    await api.put(
        "lead", f"/api/bulletins/{b['id']}", json={"highlights": [{"order_id": week["r1"], "photo": week["sha"]}]}
    )
    pub = (await api.post("lead", f"/api/bulletins/{b['id']}/publish")).json()
    _no_owner_data(repr(pub["content"]), world)


@pytest.mark.parametrize(
    "body, code",
    [
        ({"note": "有事请打13800001111"}, "owner_data_in_text"),
        ({"note": "感谢3栋1单元201业主"}, "owner_data_in_text"),
        ({"plans": [{**PLANS[0], "area": "5栋1202室"}]}, "owner_data_in_text"),
        ({"plans": [{**PLANS[0], "day": "2026-11-29"}]}, "plan_not_next_week"),
        ({"plans": [{**PLANS[0], "day": "2026-12-07"}]}, "plan_not_next_week"),
        ({"plans": [{**PLANS[0], "end": "08:00"}]}, "plan_times"),
        ({"plans": [{**PLANS[0], "kind": "other", "title": ""}]}, "plan_title"),
        ({"plans": [{**PLANS[0], "start": "9:00"}]}, "validation_error"),
        ({"plans": [{**PLANS[0], "kind": "fireworks"}]}, "validation_error"),
        ({"highlights": [{"order_id": "R4"}]}, "not_done_this_week"),
        ({"highlights": [{"order_id": "R5"}]}, "not_done_this_week"),
        ({"highlights": [{"order_id": "R2", "photo": "SHA"}]}, "photo_not_of_order"),
    ],
)
async def test_bad_drafts_are_refused_and_change_nothing(api, week, body, code):
    b = (await open_week(api)).json()
    body = copy.deepcopy(body)  # the parameter is shared by both databases' runs
    for h in body.get("highlights", []):
        h["order_id"] = week[h["order_id"].lower()]
        if h.get("photo") == "SHA":
            h["photo"] = week["sha"]
    r = await api.put("lead", f"/api/bulletins/{b['id']}", json=body)
    assert 400 <= r.status_code < 500 and r.json()["code"] == code, r.text
    after = (await api.get("lead", f"/api/bulletins/{b['id']}")).json()
    assert (after["note"], after["plans"], after["highlights"]) == ("", [], [])


@pytest.mark.parametrize(
    "week_start, code",
    [("2026-11-24", "not_a_monday"), ("2026-12-07", "future_week"), ("1900-01-01", "validation_error")],
)
async def test_bad_weeks_are_refused(api, week, week_start, code):
    r = await open_week(api, week_start=week_start)
    assert 400 <= r.status_code < 500 and r.json()["code"] == code, r.text


async def test_scope_another_estates_bulletin_is_not_found(api, world, week, client):
    other = await open_week(api, "other_supervisor")
    assert other.status_code == 201, other.text
    oid = other.json()["id"]
    for method, url in (
        ("get", f"/api/bulletins/{oid}"),
        ("get", f"/api/bulletins/{oid}/image.png"),
        ("put", f"/api/bulletins/{oid}"),
        ("post", f"/api/bulletins/{oid}/publish"),
        ("post", f"/api/bulletins/{oid}/withdraw"),
        ("post", f"/api/bulletins/{oid}/new-link"),
    ):
        for key in ("lead", "supervisor", "desk"):
            kw = {"json": {}} if method == "put" else {}
            r = await getattr(api, method)(key, url, **kw)
            assert r.status_code == 404 and r.json()["code"] == "not_found", (key, url, r.text)
    # Roles outside the office: stewards and technicians neither read nor write bulletins.
    own = (await open_week(api)).json()["id"]
    for key in ("steward_a", "tech_a"):
        assert (await api.get(key, f"/api/bulletins/{own}")).status_code == 403
    assert (await api.post("desk", f"/api/bulletins/{own}/publish")).status_code == 403
    # A listing names only the caller's estate; another estate's id is not found.
    listing = await api.get("lead", "/api/bulletins/")
    assert [x["id"] for x in listing.json()["bulletins"]] == [own]
    r = await api.get("lead", "/api/bulletins/", params={"estate_id": str(world.other_estate.id)})
    assert r.status_code == 404
    # Forged tokens: another bulletin's id with this one's tag, or a changed character.
    pub = (await api.post("other_supervisor", f"/api/bulletins/{oid}/publish")).json()
    token = pub["share"]["url"].rsplit("/", 1)[1]
    assert (await client.get(f"/w/{token}")).status_code == 200
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert (await client.get(f"/w/{forged}")).status_code == 404
    assert (await client.get("/w/not-a-token")).status_code == 404


async def test_the_public_page_allows_only_its_own_hashed_style_and_answers_head(api, week, client):
    from tests.test_security_headers import assert_common, assert_inline_allowed_by_hash

    b = (await open_week(api)).json()
    token = (await api.post("lead", f"/api/bulletins/{b['id']}/publish")).json()["share"]["url"].rsplit("/", 1)[1]
    r = await client.get(f"/w/{token}")
    assert r.status_code == 200 and r.headers["referrer-policy"] == "no-referrer"  # the URL is the capability
    policy = assert_common(r)
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy
    assert_inline_allowed_by_hash(r.text, policy)
    head = await client.head(f"/w/{token}")  # WeChat unfurls a shared link with HEAD first
    assert head.status_code == 200 and head.content == b""
