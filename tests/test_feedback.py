"""Ratings (once per completion; unsatisfied opens exactly one follow-up) and callbacks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.orders.feedback import rate
from server.orders.models import Order, RatingLevel
from tests.support.orders import create_order

pytestmark = pytest.mark.anyio


async def completed_order(api, world) -> str:
    oid = await create_order(api, world, channel="qr", description="水龙头滴水", assignee_id=str(world.id("tech_a")))
    for action in ("accept", "depart", "arrive", "complete"):
        assert (await api.post("tech_a", f"/api/orders/{oid}/actions/{action}", json={})).status_code == 200
    return oid


async def test_unsatisfied_rating_opens_one_follow_up_for_the_grid_steward(api, world, database, clock):
    import uuid

    from server.errors import DomainError

    oid = await completed_order(api, world)
    async with database.writer() as s:
        await rate(s, uuid.UUID(oid), RatingLevel.unsatisfied, "师傅态度不好", now=clock.now())
        await s.commit()
    async with database.writer() as s:  # the same rating delivered again (double submit, retry)
        with pytest.raises(DomainError) as err:
            await rate(s, uuid.UUID(oid), RatingLevel.unsatisfied, "师傅态度不好", now=clock.now())
        assert err.value.code == "already_rated"
    async with database.reader() as s:
        follow_ups = (await s.scalars(select(Order).where(Order.follow_up_of_id == uuid.UUID(oid)))).all()
        original = await s.get(Order, uuid.UUID(oid))
    assert len(follow_ups) == 1
    f = follow_ups[0]
    assert f.assignee_id == world.id("steward_a") and str(f.status) == "dispatched"
    assert f.kind.value == "callback" and f.due_at is not None
    assert "师傅态度不好" in f.description
    assert str(original.status) == "rated"
    steward_orders = {o["id"] for o in (await api.get("steward_a", "/api/orders/")).json()}
    assert str(f.id) in steward_orders


@pytest.mark.parametrize("level", ["very_satisfied", "satisfied", "neutral"])
async def test_other_ratings_open_no_follow_up(api, world, database, level):
    oid = await completed_order(api, world)
    r = await api.post("desk", f"/api/orders/{oid}/rating", json={"level": level, "comment": "好"})
    assert r.status_code == 201 and r.json()["follow_up_id"] is None
    async with database.reader() as s:
        assert await s.scalar(select(func.count()).select_from(Order).where(Order.follow_up_of_id.is_not(None))) == 0


async def test_rating_before_completion_is_refused(api, world):
    r = await api.post(
        "desk",
        "/api/orders/",
        json={
            "kind": "repair",
            "category": "lift",
            "channel": "phone",
            "description": "电梯停运",
            "household_id": str(world.households["1栋1单元101"].id),
        },
    )
    oid = r.json()["order"]["id"]
    r = await api.post("desk", f"/api/orders/{oid}/rating", json={"level": "satisfied"})
    assert r.status_code == 409 and r.json()["code"] == "not_ratable"


async def test_reopened_order_can_be_rated_again_for_the_new_completion(api, world):
    oid = await completed_order(api, world)
    assert (await api.post("desk", f"/api/orders/{oid}/rating", json={"level": "neutral"})).status_code == 201
    assert (await api.post("lead", f"/api/orders/{oid}/actions/reopen", json={"note": "又漏了"})).status_code == 200
    r = await api.post("lead", f"/api/orders/{oid}/actions/reassign", json={"assignee_id": str(world.id("tech_a"))})
    assert r.status_code in (200, 409)
    for action in ("accept", "depart", "arrive", "complete"):
        r = await api.post("tech_a", f"/api/orders/{oid}/actions/{action}", json={})
        assert r.status_code == 200, r.text
    r = await api.post("desk", f"/api/orders/{oid}/rating", json={"level": "very_satisfied"})
    assert r.status_code == 201 and r.json()["completion_no"] == 2


async def test_callback_results_are_validated_and_recorded(api, world):
    oid = await completed_order(api, world)
    r = await api.post("steward_a", f"/api/orders/{oid}/callbacks", json={"result": "maybe"})
    assert r.status_code == 400
    r = await api.post("steward_a", f"/api/orders/{oid}/callbacks", json={"result": "unreachable", "note": "无人接听"})
    assert r.status_code == 201
    detail = (await api.get("desk", f"/api/orders/{oid}")).json()
    assert detail["order"]["status"] == "completed"  # 未联系上 is an attempt: the callback is still due
    assert detail["timeline"]["callbacks"][0]["note"] == "无人接听"
    assert (
        await api.post("steward_b", f"/api/orders/{oid}/callbacks", json={"result": "unreachable"})
    ).status_code == 404
