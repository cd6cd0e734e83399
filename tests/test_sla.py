"""SLA clocks on server time, with a controllable clock."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from server.notifications.models import Notification
from server.orders.models import SlaAlert
from server.orders.sla_scan import scan

pytestmark = pytest.mark.anyio


async def complaint(api, world, assignee=None, kind="complaint"):
    body = {
        "kind": kind,
        "category": "noise",
        "channel": "phone",
        "description": "楼上深夜噪音",
        "household_id": str(world.households["1栋1单元101"].id),
    }
    if assignee:
        body["assignee_id"] = str(world.id(assignee))
    r = await api.post("desk", "/api/orders/", json=body)
    assert r.status_code == 201
    return r.json()["order"]


async def run_scan(database, clock):
    async with database.writer() as s:
        alerts = await scan(s, clock.now())
        await s.commit()
    return [(a.stage, a.level) for a in alerts]


async def notes(database, kind):
    async with database.reader() as s:
        return [(n.staff_id, n.title) for n in (await s.scalars(select(Notification).where(Notification.kind == kind)))]


async def test_complaint_deadlines_come_from_the_defaults(api, world, clock):
    o = await complaint(api, world)
    created = clock.now()
    assert (
        o["contact_due_at"]
        == (created.replace(microsecond=0) + __import__("datetime").timedelta(minutes=15)).isoformat()
    )
    assert o["due_stage"] == "contact"


async def test_untouched_complaint_is_breached_and_escalated_exactly_once(api, world, clock, database):
    await complaint(api, world, assignee="tech_a")
    clock.advance(minutes=11)
    assert await run_scan(database, clock) == []  # 11 of 15 minutes: not yet 80 %
    clock.advance(minutes=1)
    assert await run_scan(database, clock) == [("contact", "near")]
    clock.advance(minutes=4)
    assert await run_scan(database, clock) == [("contact", "breach")]
    assert await run_scan(database, clock) == []  # idempotent
    leads = await notes(database, "sla_breach")
    assert {sid for sid, _ in leads} == {world.id("lead"), world.id("tech_a")}
    clock.advance(minutes=15)
    assert ("contact", "escalated") in await run_scan(database, clock)
    assert {sid for sid, _ in await notes(database, "sla_escalated")} == {world.id("supervisor")}
    assert await run_scan(database, clock) == []
    async with database.reader() as s:
        assert len((await s.scalars(select(SlaAlert))).all()) == 3


async def test_a_deadline_in_a_notification_is_beijing_time_whatever_the_server_zone(
    api, world, clock, database, monkeypatch
):
    monkeypatch.setenv("TZ", "UTC")  # servers usually run in UTC
    time.tzset()
    try:
        await complaint(api, world, assignee="tech_a")  # 08:00 UTC: 16:00 in Beijing, 15 minutes to answer
        clock.advance(minutes=12)
        assert await run_scan(database, clock) == [("contact", "near")]
        async with database.reader() as s:
            [note] = (await s.scalars(select(Notification).where(Notification.kind == "sla_near"))).all()
        assert note.body == "响应时限 11-22 16:15"
        # What a phone in English writes the text from.
        assert note.data == {
            "number": note.title.split()[-1],
            "kind": "complaint",
            "level": "near",
            "stage": "contact",
            "due_at": "2026-11-22T08:15:00+00:00",
        }
    finally:
        monkeypatch.undo()
        time.tzset()


async def test_accepting_in_time_stops_the_contact_clock(api, world, clock, database):
    o = await complaint(api, world, assignee="tech_a")
    clock.advance(minutes=10)
    r = await api.post("tech_a", f"/api/orders/{o['id']}/actions/accept", json={})
    assert r.json()["order"]["contact_due_at"] is None
    clock.advance(minutes=10)
    assert ("contact", "breach") not in await run_scan(database, clock)


async def test_pausing_stops_the_clock_and_resuming_shifts_deadlines(api, world, clock, database):
    from datetime import datetime

    o = await complaint(api, world, assignee="tech_a")
    oid = o["id"]
    await api.post("tech_a", f"/api/orders/{oid}/actions/accept", json={})
    before = (await api.get("desk", f"/api/orders/{oid}")).json()["order"]
    r = await api.post("tech_a", f"/api/orders/{oid}/actions/pause", json={"reason": "waiting_owner"})
    assert r.json()["order"]["due_at"] is None
    clock.advance(hours=5)  # far past the 2 h update deadline, but paused
    assert await run_scan(database, clock) == []
    r = await api.post("tech_a", f"/api/orders/{oid}/actions/resume", json={})
    after = r.json()["order"]
    shift = datetime.fromisoformat(after["resolve_due_at"]) - datetime.fromisoformat(before["resolve_due_at"])
    assert shift.total_seconds() == 5 * 3600
    assert r.json()["timeline"]["events"][-1]["data"]["paused_seconds"] == 5 * 3600


async def test_completion_stops_the_clocks_and_starts_the_callback_clock(api, world, clock, database):
    o = await complaint(api, world, assignee="tech_a")
    oid = o["id"]
    for action in ("accept", "depart", "arrive", "complete"):
        r = await api.post("tech_a", f"/api/orders/{oid}/actions/{action}", json={})
        assert r.status_code == 200, r.text
    order = r.json()["order"]
    assert order["resolve_due_at"] is None and order["update_due_at"] is None
    assert order["due_stage"] == "callback"
    clock.advance(hours=47)
    assert await run_scan(database, clock) == [("callback", "near")]
    await api.post("desk", f"/api/orders/{oid}/callbacks", json={"result": "reached_satisfied"})
    clock.advance(hours=5)
    assert await run_scan(database, clock) == []


async def test_emergency_has_the_tightest_clock(api, world, clock, database):
    o = await complaint(api, world, kind="emergency")
    assert o["priority"] == "urgent"
    clock.advance(minutes=5)
    assert ("contact", "breach") in await run_scan(database, clock)


async def test_estate_policy_overrides_the_default(api, world, clock, database):
    from server.orders.models import Kind, SlaPolicy

    async with database.writer() as s:
        s.add(SlaPolicy(estate_id=world.estate.id, kind=Kind.complaint, contact_minutes=60))
        await s.commit()
    await complaint(api, world)
    clock.advance(minutes=20)
    assert await run_scan(database, clock) == []


async def test_supervisor_sets_the_estate_policy_and_new_orders_follow_it(api, world, clock, database):
    url = f"/api/estates/{world.estate.id}/sla-policy"
    before = {p["kind"]: p for p in (await api.get("desk", url)).json()}
    assert before["complaint"]["contact_minutes"] == 15
    assert (await api.put("desk", url, json={"kind": "complaint", "contact_minutes": 30})).status_code == 403
    r = await api.put("supervisor", url, json={"kind": "complaint", "contact_minutes": 30})
    assert r.status_code == 200
    assert {p["kind"]: p for p in r.json()}["complaint"]["contact_minutes"] == 30
    assert (await api.get("other_supervisor", url)).status_code == 404
    await complaint(api, world)
    clock.advance(minutes=20)
    assert await run_scan(database, clock) == []  # 20 of 30 minutes: below 80 %
