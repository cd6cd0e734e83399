"""Routing (server/orders/routing.py): a queue is only offered when it has active members who can
take from it; an estate configures who handles each category; a category with nobody falls back to
the team lead with a visible warning; 一键转工单 routes through the same rule."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from server.orders.models import Order, OrderEvent
from tests.support.orders import post_order
from tests.test_walks import finding_args, start_args
from tests.walks_support import Device, statuses

pytestmark = pytest.mark.anyio


async def _routing(api, key="desk", **params):
    r = await api.get(key, "/api/routing/", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_only_staffed_queues_are_offered_and_an_empty_one_is_refused(api, world):
    body = await _routing(api)
    # The test estate has engineering technicians, one cleaner and service stewards; nobody in security.
    assert {q["department"] for q in body["queues"]} == {"engineering", "cleaning", "service"}
    assert {q["department"]: q["members"] for q in body["queues"]}["engineering"] == 2


async def test_a_category_with_nobody_falls_back_to_the_team_lead_with_a_warning(api, world, database):
    order = await post_order(api, world, kind="complaint", category="noise", description="楼上半夜装修")
    assert order["status"] == "dispatched" and order["assignee_id"] == str(world.id("lead"))
    detail = (await api.get("desk", f"/api/orders/{order['id']}")).json()
    [dispatch] = [e for e in detail["timeline"]["events"] if e["action"] == "dispatch"]
    assert dispatch["actor_kind"] == "system"
    assert dispatch["data"]["routing_warning"] == "秩序部没有在岗人员，已转组长陈组长处理"
    assert dispatch["note"] == dispatch["data"]["routing_warning"]
    body = await _routing(api)
    [noise] = [r for r in body["rules"] if r["category"] == "noise"]
    assert noise["route"]["warning"].startswith("秩序部没有在岗人员")
    # A queue with members takes the order as before: no assignee, waiting in the queue.
    cleaning = await post_order(api, world, kind="complaint", category="cleaning")
    assert (cleaning["status"], cleaning["assignee_id"], cleaning["department"]) == ("new", None, "cleaning")


async def test_dispatching_to_a_queue_without_members_is_refused_and_changes_nothing(api, world, database):
    oid = (await post_order(api, world))["id"]
    r = await api.post("desk", f"/api/orders/{oid}/actions/dispatch", json={"department": "security"})
    assert r.status_code == 422 and r.json()["code"] == "empty_queue", r.text
    assert "秩序部" in r.json()["message"]
    r = await api.post("desk", "/api/orders/", json={
        "kind": "repair", "category": "cleaning", "channel": "phone", "description": "楼道脏",
        "household_id": str(world.households["1栋1单元101"].id), "department": "landscaping",
    })  # fmt: skip
    assert r.status_code == 422 and r.json()["code"] == "empty_queue"
    async with database.reader() as s:
        order = await s.get(Order, uuid.UUID(oid))
        assert order.status.value == "new" and order.department == "engineering"
        assert len((await s.scalars(select(Order))).all()) == 1


async def test_a_supervisor_names_the_handler_of_a_category_and_new_orders_follow_it(api, world):
    r = await api.client.put(
        "/api/routing/noise", json={"handler_id": str(world.id("steward_a"))}, headers=await api.headers("desk")
    )
    assert r.status_code == 403
    r = await api.client.put(
        "/api/routing/noise", json={"handler_id": str(world.id("steward_a"))}, headers=await api.headers("supervisor")
    )
    assert r.status_code == 200, r.text
    [noise] = [x for x in r.json()["rules"] if x["category"] == "noise"]
    route = noise["route"]
    assert (noise["handler_name"], route["assignee_name"], route["warning"]) == ("张管家", "张管家", "")
    order = await post_order(api, world, kind="complaint", category="noise")
    assert order["assignee_id"] == str(world.id("steward_a")) and order["status"] == "dispatched"
    # A rule naming an empty queue is refused; another estate's person is not found.
    r = await api.client.put(
        "/api/routing/noise", json={"department": "security"}, headers=await api.headers("supervisor")
    )
    assert r.status_code == 422 and r.json()["code"] == "empty_queue"
    r = await api.client.put(
        "/api/routing/noise",
        json={"handler_id": str(world.id("other_steward"))},
        headers=await api.headers("supervisor"),
    )
    assert r.status_code == 404


async def test_a_complaint_may_be_handled_by_the_desk_or_a_steward_but_a_repair_needs_a_field_worker(api, world):
    body = await _routing(api, kind="complaint")
    roles = {h["role"] for h in body["handlers"]}
    assert {"steward", "front_desk", "team_lead", "technician"} <= roles
    assert "front_desk" not in {h["role"] for h in (await _routing(api, kind="repair"))["handlers"]}
    complaint = await post_order(api, world, kind="complaint", category="fees", assignee_id=str(world.id("desk")))
    assert complaint["assignee_id"] == str(world.id("desk"))
    r = await api.post("desk", "/api/orders/", json={
        "kind": "repair", "category": "water_electric", "channel": "phone", "description": "漏水",
        "household_id": str(world.households["1栋1单元101"].id), "assignee_id": str(world.id("desk")),
    })  # fmt: skip
    assert r.status_code == 422 and r.json()["code"] == "invalid_assignee"


async def test_a_finding_turned_into_an_order_routes_through_the_same_rule(api, world, database, clock):
    world._clock = clock
    dev = Device(api, "steward_a")
    start = start_args(world)
    finding = finding_args(world, start["id"])
    order_id = str(uuid.uuid4())
    to_order = {"finding_id": finding["id"], "order_id": order_id, "kind": "repair", "category": "security"}
    results = await dev.push(
        dev.mutation("walk.start", start),
        dev.mutation("walk.finding.add", finding),
        dev.mutation("walk.finding.to_order", to_order),
    )
    assert statuses(results) == [("applied", None)] * 3
    async with database.reader() as s:
        order = await s.get(Order, uuid.UUID(order_id))
        events = (await s.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id))).all()
    # Nobody in 秩序部: the team lead has it, with the warning, instead of an untakeable queue.
    assert order.assignee_id == world.id("lead") and order.status.value == "dispatched"
    [dispatch] = [e for e in events if e.action == "dispatch"]
    assert dispatch.data["routing_warning"].startswith("秩序部没有在岗人员")


async def test_a_complaint_given_to_the_desk_is_carried_through_by_that_desk_person(api, world):
    """Routing may name the desk or a team lead: that person (and only that person) accepts and
    completes, or the order would be a dead end that breaches."""
    complaint = await post_order(api, world, kind="complaint", category="fees", assignee_id=str(world.id("desk")))
    url = f"/api/orders/{complaint['id']}/actions"
    assert (await api.post("tech_a", f"{url}/accept", json={})).status_code in (403, 404)
    for action in ("accept", "complete"):
        r = await api.post("desk", f"{url}/{action}", json={})
        assert r.status_code == 200, r.text
    assert r.json()["order"]["status"] == "completed"
