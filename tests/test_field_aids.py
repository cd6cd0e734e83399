"""What a hurried technician needs from the server: an assignment's feed entry says where and what
(the lock screen still shows the building only), and the step form's material chips fit the order's
category, each with the unit it is counted in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.notifications.models import Notification
from server.push.outbox import payload

pytestmark = pytest.mark.anyio


async def test_an_assignment_in_the_feed_names_building_unit_room_and_the_problem(api, world, database):
    r = await api.post(
        "desk",
        "/api/orders/",
        json={
            "kind": "repair",
            "category": "water_electric",
            "channel": "phone",
            "description": "厨房水管\n漏水",
            "household_id": str(world.households["1栋1单元101"].id),
            "assignee_id": str(world.id("tech_a")),
        },
    )
    assert r.status_code == 201, r.text
    async with database.reader() as s:
        [note] = (await s.scalars(select(Notification).where(Notification.staff_id == world.id("tech_a")))).all()
    assert note.body.split("\n")[-1] == "1栋1单元101 · 厨房水管 漏水"
    assert payload(note)["body"] == "1栋"  # the lock screen: the building only


async def test_material_chips_fit_the_category_with_units(api):
    meta = (await api.get("tech_a", "/api/meta")).json()
    sets = meta["material_sets"]
    water = {m["name"]: m["unit"] for m in sets["water_electric"]}
    assert water["PPR管"] == "米" and water["生料带"] == "卷" and water["弯头"] == "个"
    assert "PPR管" not in {m["name"] for m in sets["lift"]}
    assert {m["name"] for m in sets["landscaping"]} >= {"苗木", "肥料"}
    assert "other" in sets and all(m["unit"] for s in sets.values() for m in s)


async def test_the_grid_poster_shows_the_estates_hotline_beside_the_steward(api, world):
    grid = world.grids[0]
    page = (await api.get("desk", f"/api/grids/{grid.id}/poster")).text
    assert "物业服务中心" in page and "0571-88886666" in page


async def test_a_supervisor_sets_the_estate_hotline_and_the_poster_prints_it(api, world):
    estate = str(world.estate.id)
    r = await api.put("supervisor", f"/api/estates/{estate}/settings", json={"hotline": "0571-8888 1234 转 8"})
    assert r.status_code == 200, r.text
    assert r.json()["hotline"] == "0571-8888 1234 转 8"
    [listed] = [e for e in (await api.get("desk", "/api/estates")).json() if e["id"] == estate]
    assert listed["hotline"] == "0571-8888 1234 转 8"
    assert "0571-8888 1234 转 8" in (await api.get("desk", f"/api/grids/{world.grids[0].id}/poster")).text


@pytest.mark.parametrize(
    ("key", "estate", "body", "status"),
    [
        ("desk", "own", {"hotline": "0571-88886666"}, 403),
        ("steward_a", "own", {"hotline": "0571-88886666"}, 403),
        ("other_supervisor", "own", {"hotline": "0571-88886666"}, 404),
        ("supervisor", "other", {"hotline": "0571-88886666"}, 404),
        ("supervisor", "own", {"hotline": "请拨打前台"}, 400),
        ("supervisor", "own", {"hotline": "1" * 31}, 400),
        ("supervisor", "own", {"hotline": 5718888}, 400),
        ("supervisor", "own", {}, 400),
        ("supervisor", "own", {"hotline": "0571-88886666", "extra": 1}, 400),
    ],
)
async def test_estate_settings_refuse_bad_input_and_other_peoples_estates(api, world, key, estate, body, status):
    target = world.estate.id if estate == "own" else world.other_estate.id
    r = await api.put(key, f"/api/estates/{target}/settings", json=body)
    assert r.status_code == status, r.text
    assert {"code", "message"} <= set(r.json())
    [own] = [e for e in (await api.get("supervisor", "/api/estates")).json() if e["id"] == str(world.estate.id)]
    assert own["hotline"] == "0571-88886666"  # nothing changed
