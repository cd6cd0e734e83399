"""Who sees which households and grids (least privilege, refusals tested, not only happy paths)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio


def _labels(r) -> set[str]:
    assert r.status_code == 200, r.text
    return {h["label"] for h in r.json()}


async def test_steward_sees_only_her_grid_households(api, world):
    own = world.grids[0]
    r = await api.get("steward_a", f"/api/grids/{own.id}/households")
    assert _labels(r) == {"1栋1单元101", "1栋1单元102", "1栋1单元201"}
    assert _labels(await api.get("steward_a", "/api/households")) == _labels(r)


@pytest.mark.parametrize("target", ["other_grid_same_estate", "other_estate"])
async def test_steward_cannot_read_another_grids_households(api, world, target):
    grid = world.grids[1] if target == "other_grid_same_estate" else world.other_grid
    r = await api.get("steward_a", f"/api/grids/{grid.id}/households")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    label = "2栋1单元101" if target == "other_grid_same_estate" else "9栋1单元101"
    r = await api.get("steward_a", f"/api/households/{world.households[label].id}")
    assert r.status_code == 404
    assert label not in _labels(await api.get("steward_a", f"/api/households?q={label}"))


async def test_missing_and_forbidden_household_answer_identically(api, world):
    missing = await api.get("steward_a", "/api/households/00000000-0000-7000-8000-000000000000")
    forbidden = await api.get("steward_a", f"/api/households/{world.households['2栋1单元101'].id}")
    assert missing.status_code == forbidden.status_code == 404
    assert missing.json() == forbidden.json()


@pytest.mark.parametrize("key", ["supervisor", "lead", "desk"])
async def test_estate_roles_see_every_grid_of_their_estate_only(api, world, key):
    grids = {g["name"] for g in (await api.get(key, "/api/grids")).json()}
    assert grids == {"东区", "西区"}
    labels = _labels(await api.get(key, "/api/households?limit=200"))
    assert labels == {lbl for lbl in world.households if not lbl.startswith("9栋")}
    r = await api.get(key, f"/api/households/{world.households['9栋1单元101'].id}")
    assert r.status_code == 404


async def test_admin_sees_everything(api, world):
    assert len(_labels(await api.get("admin", "/api/households?limit=200"))) == len(world.households)
    assert len((await api.get("admin", "/api/grids")).json()) == 3


async def test_technician_lists_no_households_directly(api, world):
    assert _labels(await api.get("tech_a", "/api/households")) == set()
    r = await api.get("tech_a", f"/api/households/{world.households['1栋1单元101'].id}")
    assert r.status_code == 404


async def test_household_search_matches_owner_name_phone_and_label(api, world):
    h = world.households["1栋1单元102"]
    for q in (h.owner_phone[-6:], h.owner_name, "1栋1单元102"):
        assert "1栋1单元102" in _labels(await api.get("desk", f"/api/households?q={q}"))


async def test_staff_list_is_limited_to_the_estate(api, world):
    names = {s["name"] for s in (await api.get("desk", "/api/staff")).json()}
    assert "李师傅" in names and "外项目主管" not in names


async def test_supervisor_cannot_reset_a_password_in_another_estate(api, world):
    r = await api.post(
        "supervisor", f"/api/staff/{world.id('other_steward')}/password", json={"new_password": "another-long-pw"}
    )
    assert r.status_code == 404
