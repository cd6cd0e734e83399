"""The callback (回访) flow: results on completed orders and on callback orders, from the phone
through the sync path, the 待回访 worklist, and the 返修 a 已联系·不满意 opens."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from server.orders.feedback import rate
from server.orders.models import RatingLevel
from tests.support.orders import create_order
from tests.walks_support import Device

pytestmark = pytest.mark.anyio


async def completed(api, world, label: str = "1栋1单元101", tech: str = "tech_a") -> str:
    oid = await create_order(api, world, label=label, description="水龙头滴水", assignee_id=str(world.id(tech)))
    for action in ("accept", "depart", "arrive", "complete"):
        assert (await api.post(tech, f"/api/orders/{oid}/actions/{action}", json={})).status_code == 200
    return oid


async def follow_up_of(api, world, database, clock, oid: str) -> dict:
    """The callback order an owner's 不满意 opens (for the grid's steward)."""
    async with database.writer() as s:
        rating = await rate(s, uuid.UUID(oid), RatingLevel.unsatisfied, "还是漏水", now=clock.now())
        await s.commit()
    r = await api.get("steward_a", f"/api/orders/{rating.follow_up_id}")
    return r.json()


async def detail(api, oid: str, key: str = "desk") -> dict:
    r = await api.get(key, f"/api/orders/{oid}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_callback_order_offers_no_visit_acts_and_refuses_them(api, world, database, clock):
    oid = await completed(api, world)
    f = await follow_up_of(api, world, database, clock, oid)
    assert f["order"]["kind"] == "callback" and f["order"]["assignee_id"] == str(world.id("steward_a"))
    assert "callback" in f["allowed_actions"]
    assert not {"accept", "take", "depart", "arrive", "complete"} & set(f["allowed_actions"])
    r = await api.post("steward_a", f"/api/orders/{f['order']['id']}/actions/accept", json={})
    assert r.status_code == 403 and r.json()["code"] == "transition_forbidden"


async def test_the_phone_records_a_callback_offline_with_its_own_time_and_author(api, world, database, clock):
    oid = await completed(api, world)
    f = (await follow_up_of(api, world, database, clock, oid))["order"]
    phone = Device(api, "steward_a")
    called_at = phone.device_now()
    clock.advance(minutes=40)  # back in signal 40 minutes later
    [result] = await phone.push(
        phone.mutation(
            "order.callback",
            {"order_id": f["id"], "result": "reached_satisfied", "note": "业主说已修好"},
            at=called_at,
        ),
        client_time=phone.device_now(),
    )
    assert result["status"] == "applied", result
    d = await detail(api, f["id"])
    assert d["order"]["status"] == "called_back" and d["order"]["due_at"] is None
    [event] = [e for e in d["timeline"]["events"] if e["action"] == "callback"]
    assert event["actor_id"] == str(world.id("steward_a")) and event["source"] == "sync"
    assert datetime.fromisoformat(event["effective_at"]) == called_at
    assert event["data"]["result"] == "reached_satisfied" and event["note"] == "业主说已修好"
    [cb] = d["timeline"]["callbacks"]
    assert datetime.fromisoformat(cb["created_at"]) == called_at and cb["staff_name"] == "张管家"
    assert f["id"] not in {o["id"] for o in (await api.get("steward_a", "/api/orders/callbacks")).json()}


async def test_unreachable_keeps_the_callback_pending_until_its_retry_time(api, world, clock):
    early = await completed(api, world, "1栋1单元101")
    clock.advance(hours=1)
    late = await completed(api, world, "1栋1单元102")
    # Both due 48 h after completion: the earlier one first.
    due = [o["number"] for o in (await api.get("steward_a", "/api/orders/callbacks")).json()]
    numbers = {(await detail(api, i))["order"]["number"]: i for i in (early, late)}
    assert [numbers[n] for n in due] == [early, late]
    retry = clock.now() + timedelta(days=2, hours=1)  # after the other's 48 h: it moves behind it
    r = await api.post(
        "steward_a",
        f"/api/orders/{early}/callbacks",
        json={"result": "unreachable", "note": "无人接听", "retry_at": retry.isoformat()},
    )
    assert r.status_code == 201, r.text
    d = await detail(api, early)
    assert d["order"]["status"] == "completed"  # still to be called back
    assert d["order"]["callback_due_at"] is not None  # the 48 h the KPI measures does not move
    assert datetime.fromisoformat(d["order"]["callback_retry_at"]) == retry
    rows = (await api.get("steward_a", "/api/orders/callbacks")).json()
    assert [o["id"] for o in rows] == [late, early]
    assert datetime.fromisoformat(rows[1]["worklist_due_at"]) == retry and rows[1]["overdue"] is False
    clock.advance(days=3)
    rows = (await api.get("desk", "/api/orders/callbacks")).json()
    assert [o["id"] for o in rows] == [late, early] and all(o["overdue"] for o in rows)
    # The second try reaches the owner: off the list.
    r = await api.post("steward_a", f"/api/orders/{early}/callbacks", json={"result": "reached_satisfied"})
    assert r.status_code == 201
    assert [o["id"] for o in (await api.get("steward_a", "/api/orders/callbacks")).json()] == [late]
    assert (await detail(api, early))["order"]["status"] == "called_back"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"result": "unreachable", "retry_at": "2020-01-01T08:00:00+00:00"}, "retry_at"),
        ({"result": "unreachable", "retry_at": "2099-01-01T08:00:00+00:00"}, "retry_at"),
        ({"result": "reached_satisfied", "retry_at": "2026-12-05T08:00:00+00:00"}, "retry_at"),
    ],
)
async def test_a_bad_retry_time_is_refused_and_changes_nothing(api, world, body, field):
    oid = await completed(api, world)
    r = await api.post("steward_a", f"/api/orders/{oid}/callbacks", json=body)
    assert r.status_code == 422 and r.json()["details"]["field"] == field, r.text
    d = await detail(api, oid)
    assert d["timeline"]["callbacks"] == [] and d["order"]["status"] == "completed"


async def test_callbacks_stay_within_the_callers_scope(api, world, database, clock):
    oid = await completed(api, world)
    f = (await follow_up_of(api, world, database, clock, oid))["order"]
    # Another grid's steward: the order does not exist for her, on the API and on the sync path.
    for target in (oid, f["id"]):
        r = await api.post("steward_b", f"/api/orders/{target}/callbacks", json={"result": "reached_satisfied"})
        assert r.status_code == 404
        phone = Device(api, "steward_b")
        [res] = await phone.push(phone.mutation("order.callback", {"order_id": target, "result": "unreachable"}))
        assert (res["status"], res["code"]) == ("rejected", "not_found")
    assert [o["id"] for o in (await api.get("steward_b", "/api/orders/callbacks")).json()] == []
    # A technician does not make callbacks.
    r = await api.post("tech_a", f"/api/orders/{oid}/callbacks", json={"result": "reached_satisfied"})
    assert r.status_code == 403
    assert (await api.get("tech_a", "/api/orders/callbacks")).status_code == 403
    # The rated order itself is not listed beside its callback order: that call is the callback.
    assert {o["id"] for o in (await api.get("steward_a", "/api/orders/callbacks")).json()} == {f["id"]}


async def test_reached_unsatisfied_opens_a_linked_rework_for_the_first_handler(api, world, database, clock):
    oid = await completed(api, world, tech="tech_b")
    f = (await follow_up_of(api, world, database, clock, oid))["order"]
    r = await api.post(
        "steward_a",
        f"/api/orders/{f['id']}/callbacks",
        json={"result": "reached_unsatisfied", "note": "水池下面还在滴"},
    )
    assert r.status_code == 201, r.text
    first, call = await detail(api, oid), await detail(api, f["id"])
    assert call["order"]["status"] == "called_back"
    links = [e["data"] for e in first["timeline"]["events"] if e["action"] == "rework"]
    assert len(links) == 1 and [e for e in call["timeline"]["events"] if e["action"] == "rework"]
    rework = await detail(api, links[0]["rework_id"])
    o = rework["order"]
    assert o["rework_of_id"] == oid and o["kind"] == "repair" and o["category"] == first["order"]["category"]
    assert o["assignee_id"] == str(world.id("tech_b")) and o["status"] == "dispatched"
    assert "水池下面还在滴" in o["description"] and first["order"]["number"] in o["description"]
    assert [e["data"]["rework_of_number"] for e in rework["timeline"]["events"] if e["action"] == "rework"] == [
        first["order"]["number"]
    ]
    # The first repair keeps its completion (no reopen) and the technician sees the new work.
    assert first["order"]["status"] == "rated" and first["order"]["completed_at"] is not None
    assert o["id"] in {x["id"] for x in (await api.get("tech_b", "/api/orders/")).json()}


async def test_the_owner_page_tells_of_the_rework_and_of_a_missed_call(api, world, clock):
    from tests.test_progress_support import make_link, page_path, timeline_items

    oid = await completed(api, world)
    retry = (clock.now() + timedelta(hours=2)).isoformat()
    r = await api.post("desk", f"/api/orders/{oid}/callbacks", json={"result": "unreachable", "retry_at": retry})
    assert r.status_code == 201
    r = await api.post("desk", f"/api/orders/{oid}/callbacks", json={"result": "reached_unsatisfied"})
    assert r.status_code == 201
    rework_number = next(
        e["data"]["rework_number"] for e in (await detail(api, oid))["timeline"]["events"] if e["action"] == "rework"
    )
    page = await api.client.get(page_path(await make_link(api, oid)))
    lines = [text for _, text in timeline_items(page.text)]
    assert "客服来电未能接通，稍后将再次联系您" in lines
    assert f"已安排返修（返修单 {rework_number}）" in lines
    assert "客服已回访" in lines


async def test_an_unanswered_call_does_not_count_as_a_callback_in_the_kpi(api, world, clock):
    oid = await completed(api, world)
    retry = (clock.now() + timedelta(hours=2)).isoformat()
    r = await api.post("steward_a", f"/api/orders/{oid}/callbacks", json={"result": "unreachable", "retry_at": retry})
    assert r.status_code == 201

    async def rate_now() -> float | None:
        r = await api.get("supervisor", "/api/kpi/", params={"period": "month", "date": clock.now().date().isoformat()})
        return r.json()["current"]["callback_rate"]

    assert await rate_now() == 0.0
    assert (
        await api.post("steward_a", f"/api/orders/{oid}/callbacks", json={"result": "reached_satisfied"})
    ).status_code == 201
    assert await rate_now() == 1.0
