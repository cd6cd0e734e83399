"""Front-desk helpers: the household finder (every way a caller names a flat) and household history."""

from __future__ import annotations

import pytest

from server.board.desk import Reading, interpret
from tests.support.orders import post_order

pytestmark = pytest.mark.anyio


async def order(api, world, label="1栋1单元101", key="desk", **over) -> dict:
    """A noise complaint unless ``over`` says otherwise."""
    defaults = {"kind": "complaint", "category": "noise", "description": "楼上晚上很吵"}
    return await post_order(api, world, key, label, **{**defaults, **over})


async def find(api, q: str, key: str = "desk") -> list[dict]:
    r = await api.get(key, "/api/desk/households", params={"q": q})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(
    "q",
    ["1-1-101", "1栋1单元101", "1 1 101", "1号楼1单元101室", "1栋1单元101", "1#1-101", "１栋１单元１０１", "1栋101"],
)
async def test_the_finder_reads_every_way_of_saying_an_address(api, world, q):
    rows = await find(api, q)
    assert rows[0]["label"] == "1栋1单元101" and rows[0]["matched_by"] == "address"
    assert (rows[0]["building"], rows[0]["unit"], rows[0]["room"]) == ("1栋", "1单元", "101")
    assert rows[0]["grid_name"] == "东区"


async def test_the_finder_matches_owner_names_and_phone_suffixes(api, world):
    h = world.households["2栋1单元102"]
    [by_name] = await find(api, h.owner_name)
    assert by_name["id"] == str(h.id) and by_name["matched_by"] == "name"
    rows = await find(api, h.owner_phone[-4:])
    assert str(h.id) in {r["id"] for r in rows if r["matched_by"] == "phone_suffix"}
    [by_phone] = await find(api, h.owner_phone)
    assert by_phone["id"] == str(h.id) and by_phone["matched_by"] == "phone"
    rooms = await find(api, "201")
    assert {r["label"] for r in rooms} == {"1栋1单元201", "2栋1单元201"}  # not 9栋: another estate


def test_queries_are_read_in_order_of_likelihood():
    assert interpret("3-2-201")[0] == Reading("address", building="3", unit="2", room="201")
    assert interpret("2单元201")[0] == Reading("address", unit="2", room="201")
    assert interpret("3栋")[0] == Reading("address", building="3")
    assert [r.how for r in interpret("5678")] == ["room", "phone_suffix", "label"]
    assert [r.how for r in interpret("13812345678")] == ["phone", "label"]
    assert [r.how for r in interpret("张伟")] == ["name", "label"]
    assert interpret("   ") == []


async def test_each_household_carries_open_orders_recent_complaints_and_the_repeat_flag(api, world, clock):
    first = await order(api, world)
    clock.advance(days=2)
    second = await order(api, world)
    assert second["repeat_of_id"] == first["id"]
    await order(api, world, label="1栋1单元102", kind="repair", category="water_electric", description="水管漏水")
    rows = {r["label"]: r for r in await find(api, "1栋")}
    assert (
        rows["1栋1单元101"]["open_orders"],
        rows["1栋1单元101"]["recent_complaints"],
        rows["1栋1单元101"]["repeat"],
    ) == (2, 2, True)
    assert (
        rows["1栋1单元102"]["open_orders"],
        rows["1栋1单元102"]["recent_complaints"],
        rows["1栋1单元102"]["repeat"],
    ) == (1, 0, False)
    assert (rows["1栋1单元201"]["open_orders"], rows["1栋1单元201"]["repeat"]) == (0, False)
    clock.advance(days=31)
    api.sign_out_all()
    [row] = await find(api, "1-1-101")
    assert (row["open_orders"], row["recent_complaints"], row["repeat"]) == (2, 0, False)


async def test_the_finder_keeps_to_the_callers_scope(api, world):
    assert [r["label"] for r in await find(api, "1-1-101", key="steward_a")] == ["1栋1单元101"]
    assert await find(api, "2-1-101", key="steward_a") == []
    assert await find(api, "1-1-101", key="other_supervisor") == []
    r = await api.get("tech_a", "/api/desk/households", params={"q": "1-1-101"})
    assert r.status_code == 403
    assert (await api.get("desk", "/api/desk/households")).status_code == 400


async def test_history_shows_open_orders_and_ninety_days_with_repeat_flags(api, world, clock):
    h = world.households["1栋1单元101"]
    old_open = await order(api, world, kind="repair", category="water_electric", description="阳台漏水")
    old_done = await order(api, world, category="cleaning", description="楼道垃圾")
    r = await api.post("desk", f"/api/orders/{old_done['id']}/actions/cancel", json={"note": "业主撤销"})
    assert r.status_code == 200, r.text
    clock.advance(days=91)
    api.sign_out_all()
    first = await order(api, world)
    second = await order(api, world)
    r = await api.get("desk", f"/api/households/{h.id}/history")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["household"]["label"] == "1栋1单元101"
    assert [o["id"] for o in body["open_orders"]] == [second["id"], first["id"], old_open["id"]]
    assert [(o["id"], o["repeat"]) for o in body["recent_orders"]] == [(second["id"], True), (first["id"], False)]
    assert old_done["id"] not in {o["id"] for o in body["open_orders"] + body["recent_orders"]}
    assert body["counts"] == {"open": 3, "recent": 2, "complaints": 2, "repeat_complaints": 1}
    card = body["recent_orders"][0]
    assert card["number"].startswith("CH-") and card["kind"] == "complaint" and card["household_label"] == "1栋1单元101"


async def test_history_is_404_outside_scope(api, world):
    h = world.households["1栋1单元101"]
    assert (await api.get("steward_a", f"/api/households/{h.id}/history")).status_code == 200
    for key in ("steward_b", "tech_a", "other_supervisor"):
        r = await api.get(key, f"/api/households/{h.id}/history")
        assert r.status_code == 404 and r.json()["code"] == "not_found", key
    missing = "00000000-0000-7000-8000-000000000000"
    assert (await api.get("desk", f"/api/households/{missing}/history")).status_code == 404
