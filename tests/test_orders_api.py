"""Work orders over HTTP: the whole lifecycle, dispatch and take, steps, scope refusals (IDOR)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.anyio

SHA = "ab" * 32


async def create(api, world, key="desk", **over):
    body = {
        "kind": "repair",
        "category": "water_electric",
        "channel": "phone",
        "description": "厨房水管漏水",
        "household_id": str(world.households["1栋1单元101"].id),
        **over,
    }
    r = await api.post(key, "/api/orders/", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def act(api, key, order_id, action, expect=200, **body):
    r = await api.post(key, f"/api/orders/{order_id}/actions/{action}", json=body)
    assert r.status_code == expect, r.text
    return r.json()


async def test_full_repair_lifecycle_builds_a_timeline(api, world, clock):
    order = (await create(api, world))["order"]
    assert re.fullmatch(r"CH-\d{8}-0001", order["number"])
    assert order["status"] == "new" and order["reporter_name"].startswith("业主")
    oid = order["id"]
    await act(api, "desk", oid, "dispatch", assignee_id=str(world.id("tech_a")))
    clock.advance(minutes=5)
    detail = await act(api, "tech_a", oid, "accept")
    assert detail["order"]["accepted_at"] and detail["order"]["contact_due_at"] is None
    await act(api, "tech_a", oid, "depart", eta="2026-11-22T08:30:00+00:00")
    await act(api, "tech_a", oid, "arrive")
    r = await api.post(
        "tech_a",
        f"/api/orders/{oid}/steps",
        json={
            "note": "检测漏点",
            "captured_at": "2026-11-22T08:35:00+08:00",
            "materials": [{"name": "弯头", "quantity": 1, "unit": "个"}],
            "photos": [SHA],
        },
    )
    assert r.status_code == 201 and r.json()["position"] == 1
    assert r.json()["photos"] == [{"sha256": SHA, "uploaded": False}]
    detail = await act(api, "tech_a", oid, "complete")
    assert detail["order"]["status"] == "completed" and detail["order"]["callback_due_at"]
    actions = [e["action"] for e in detail["timeline"]["events"]]
    assert actions == ["create", "dispatch", "accept", "depart", "arrive", "complete"]
    assert [s["note"] for s in detail["timeline"]["steps"]] == ["检测漏点"]
    r = await api.post("desk", f"/api/orders/{oid}/callbacks", json={"result": "reached_satisfied"})
    assert r.status_code == 201
    detail = await act(api, "desk", oid, "close")
    assert detail["order"]["status"] == "closed" and detail["order"]["due_at"] is None


async def test_illegal_transition_gets_409_with_code_and_leaves_the_order_unchanged(api, world):
    oid = (await create(api, world))["order"]["id"]
    r = await api.post("desk", f"/api/orders/{oid}/actions/complete", json={})
    assert r.status_code == 409
    assert r.json()["code"] == "illegal_transition" and r.json()["details"] == {"status": "new", "action": "complete"}
    after = (await api.get("desk", f"/api/orders/{oid}")).json()
    assert after["order"]["status"] == "new" and len(after["timeline"]["events"]) == 1


async def test_technician_takes_from_his_department_queue(api, world):
    oid = (await create(api, world))["order"]["id"]
    await act(api, "desk", oid, "dispatch", department="engineering")
    listed = {o["id"] for o in (await api.get("tech_b", "/api/orders/")).json()}
    assert oid in listed
    assert oid not in {o["id"] for o in (await api.get("cleaner", "/api/orders/")).json()}
    detail = await act(api, "tech_b", oid, "take")
    assert detail["order"]["assignee_id"] == str(world.id("tech_b")) and detail["order"]["status"] == "accepted"
    r = await api.post("tech_a", f"/api/orders/{oid}/actions/take", json={})
    assert r.status_code == 404  # no longer in his queue: he cannot even see it


async def test_technician_sees_only_his_assigned_orders(api, world):
    mine = (await create(api, world, assignee_id=str(world.id("tech_a"))))["order"]["id"]
    theirs = (await create(api, world, assignee_id=str(world.id("tech_b"))))["order"]["id"]
    listed = {o["id"] for o in (await api.get("tech_a", "/api/orders/")).json()}
    assert mine in listed and theirs not in listed
    r = await api.get("tech_a", f"/api/orders/{theirs}")
    assert r.status_code == 404
    r = await api.post("tech_a", f"/api/orders/{theirs}/actions/accept", json={})
    assert r.status_code == 404
    r = await api.post(
        "tech_a", f"/api/orders/{theirs}/steps", json={"note": "x", "captured_at": "2026-11-22T08:00:00Z"}
    )
    assert r.status_code == 404
    r = await api.get("tech_a", f"/api/orders/{theirs}/evidence")
    assert r.status_code == 404


async def test_steward_sees_her_grid_orders_only(api, world):
    a = (await create(api, world))["order"]["id"]
    b = (await create(api, world, household_id=str(world.households["2栋1单元101"].id)))["order"]["id"]
    listed = {o["id"] for o in (await api.get("steward_a", "/api/orders/")).json()}
    assert a in listed and b not in listed
    assert (await api.get("steward_a", f"/api/orders/{b}")).status_code == 404
    assert (await api.get("other_supervisor", f"/api/orders/{a}")).status_code == 404


async def test_internal_note_is_hidden_from_technicians(api, world):
    oid = (await create(api, world, assignee_id=str(world.id("tech_a")), internal_note="业主脾气急"))["order"]["id"]
    assert (await api.get("desk", f"/api/orders/{oid}")).json()["order"]["internal_note"] == "业主脾气急"
    assert "internal_note" not in (await api.get("tech_a", f"/api/orders/{oid}")).json()["order"]


async def test_reassign_keeps_history_and_notifies_both(api, world, database):
    from sqlalchemy import select

    from server.notifications.models import Notification

    oid = (await create(api, world, assignee_id=str(world.id("tech_a"))))["order"]["id"]
    detail = await act(api, "lead", oid, "reassign", assignee_id=str(world.id("tech_b")))
    ev = detail["timeline"]["events"][-1]
    assert ev["action"] == "reassign" and ev["data"]["previous_assignee_id"] == str(world.id("tech_a"))
    async with database.reader() as s:
        kinds = {(n.staff_id, n.kind) for n in (await s.scalars(select(Notification))).all()}
    assert (world.id("tech_a"), "assigned") in kinds
    assert (world.id("tech_a"), "unassigned") in kinds
    assert (world.id("tech_b"), "assigned") in kinds
    r = await api.post("lead", f"/api/orders/{oid}/actions/reassign", json={"assignee_id": str(world.id("tech_b"))})
    assert r.status_code == 409 and r.json()["code"] == "same_assignee"


async def test_pause_requires_a_reason_and_resume_returns_to_the_previous_status(api, world):
    oid = (await create(api, world, assignee_id=str(world.id("tech_a"))))["order"]["id"]
    await act(api, "tech_a", oid, "accept")
    await act(api, "tech_a", oid, "depart")
    r = await api.post("tech_a", f"/api/orders/{oid}/actions/pause", json={})
    assert r.status_code == 422 and r.json()["code"] == "invalid_reason"
    d = await act(api, "tech_a", oid, "pause", reason="parts_on_order")
    assert d["order"]["status"] == "paused" and d["order"]["due_at"] is None
    d = await act(api, "tech_a", oid, "resume")
    assert d["order"]["status"] == "en_route"


async def test_cancel_needs_a_reason(api, world):
    oid = (await create(api, world))["order"]["id"]
    r = await api.post("desk", f"/api/orders/{oid}/actions/cancel", json={})
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    d = await act(api, "desk", oid, "cancel", note="业主已自行修好")
    assert d["order"]["status"] == "cancelled"


async def test_eta_is_last_writer_wins_with_history(api, world):
    oid = (await create(api, world, assignee_id=str(world.id("tech_a"))))["order"]["id"]
    await api.post("desk", f"/api/orders/{oid}/eta", json={"eta": "2026-11-22T09:00:00+00:00"})
    d = (await api.post("tech_a", f"/api/orders/{oid}/eta", json={"eta": "2026-11-22T10:00:00+00:00"})).json()
    assert d["order"]["eta"].startswith("2026-11-22T10:00")
    eta_events = [e for e in d["timeline"]["events"] if e["action"] == "set_eta"]
    assert eta_events[-1]["data"]["previous"].startswith("2026-11-22T09:00")


@pytest.mark.parametrize(
    "body,code",
    [
        ({"note": "", "captured_at": "2026-11-22T08:00:00Z"}, "empty_step"),
        ({"note": "x", "captured_at": "2026-11-22T08:00:00Z", "photos": ["nothex"]}, "validation_error"),
        ({"note": "x", "captured_at": "2026-11-22T08:00:00Z", "photos": [SHA] * 10}, "validation_error"),
        (
            {"note": "x", "captured_at": "2026-11-22T08:00:00Z", "materials": [{"name": "弯头", "quantity": 0}]},
            "validation_error",
        ),
    ],
)
async def test_bad_steps_are_refused_precisely(api, world, body, code):
    oid = (await create(api, world, assignee_id=str(world.id("tech_a"))))["order"]["id"]
    await act(api, "tech_a", oid, "accept")
    r = await api.post("tech_a", f"/api/orders/{oid}/steps", json=body)
    assert r.status_code in (400, 422) and r.json()["code"] == code


async def test_steps_only_by_the_assignee_while_working(api, world):
    oid = (await create(api, world, assignee_id=str(world.id("tech_a"))))["order"]["id"]
    step = {"note": "到场", "captured_at": "2026-11-22T08:00:00Z"}
    r = await api.post("tech_a", f"/api/orders/{oid}/steps", json=step)
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"  # not accepted yet
    await act(api, "tech_a", oid, "accept")
    r = await api.post("lead", f"/api/orders/{oid}/steps", json=step)
    assert r.status_code == 403 and r.json()["code"] == "not_assignee"


async def test_repeat_complaint_is_flagged_and_linked(api, world, clock):
    first = (await create(api, world, kind="complaint", category="noise", description="楼上装修噪音"))["order"]
    clock.advance(days=10)
    second = (await create(api, world, kind="complaint", category="noise", description="又有噪音"))["order"]
    assert second["repeat_of_id"] == first["id"]
    other_cat = (await create(api, world, kind="complaint", category="parking", description="车位被占"))["order"]
    assert other_cat["repeat_of_id"] is None
    clock.advance(days=31)
    api.sign_out_all()  # the staff token expired meanwhile
    later = (await create(api, world, kind="complaint", category="parking", description="车位又被占"))["order"]
    assert later["repeat_of_id"] is None


async def test_order_numbers_count_per_estate_and_day(api, world, clock):
    n1 = (await create(api, world))["order"]["number"]
    n2 = (await create(api, world))["order"]["number"]
    clock.advance(days=1)
    n3 = (await create(api, world))["order"]["number"]
    assert n1.endswith("-0001") and n2.endswith("-0002") and n3.endswith("-0001") and n1[:11] != n3[:11]


async def test_technicians_cannot_create_orders_and_desk_cannot_use_other_estates(api, world):
    body = {
        "kind": "repair",
        "category": "lift",
        "channel": "phone",
        "description": "电梯异响",
        "household_id": str(world.households["1栋1单元101"].id),
    }
    assert (await api.post("tech_a", "/api/orders/", json=body)).status_code == 403
    body["household_id"] = str(world.households["9栋1单元101"].id)
    assert (await api.post("desk", "/api/orders/", json=body)).status_code == 404
