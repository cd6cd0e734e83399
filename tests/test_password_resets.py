"""Issue 18 finding 7: a manager resets passwords only downwards in the role order, never their own
(their own goes through ``/api/auth/password`` with the old one)."""

from __future__ import annotations

import pytest

from tests.support.world import PASSWORD

pytestmark = pytest.mark.anyio

NEW = "a-brand-new-password"


async def _logs_in(api, phone: str, password: str) -> bool:
    r = await api.client.post("/api/auth/login", json={"phone": phone, "password": password})
    return r.status_code == 200


async def _reset(api, key: str, staff_id) -> object:
    return await api.post(key, f"/api/staff/{staff_id}/password", json={"new_password": NEW})


@pytest.mark.parametrize("key", ["admin", "supervisor"])
async def test_a_manager_cannot_reset_their_own_password_without_the_old_one(api, world, key):
    r = await _reset(api, key, world.id(key))
    assert r.status_code == 403 and r.json()["code"] == "own_password"
    assert await _logs_in(api, world.phone(key), PASSWORD)
    assert not await _logs_in(api, world.phone(key), NEW)


async def test_a_supervisor_cannot_reset_a_peer_supervisor(api, world):
    body = {
        "name": "赵主管",
        "phone": "13900000055",
        "role": "supervisor",
        "department": "service",
        "password": PASSWORD,
        "estate_id": str(world.estate.id),
    }
    r = await api.post("admin", "/api/staff", json=body)
    assert r.status_code == 201, r.text
    r = await _reset(api, "supervisor", r.json()["id"])
    assert r.status_code == 403 and r.json()["code"] == "not_below_you"
    assert await _logs_in(api, "13900000055", PASSWORD)


DOWNWARDS = [("supervisor", "lead"), ("supervisor", "steward_a"), ("admin", "supervisor")]


@pytest.mark.parametrize(("key", "target"), DOWNWARDS)
async def test_a_manager_resets_the_password_of_someone_below_them(api, world, key, target):
    r = await _reset(api, key, world.id(target))
    assert r.status_code == 200, r.text
    assert await _logs_in(api, world.phone(target), NEW)
