"""After-hours duty (server/duty/): office hours and the roster per estate; outside office hours a new
complaint or emergency goes to the person on duty, then down the roster when not accepted in time,
then to the team leads; claimed once; the editing endpoints check their input and their scope."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.clock import CHINA
from server.duty.models import DutyPage, OfficeHours
from server.duty.scan import _pass_on, scan
from server.duty.service import slot_at
from server.notifications.models import Notification
from server.orders.models import Order
from tests.support.orders import post_order

pytestmark = pytest.mark.anyio

MONDAY_NIGHT = datetime(2026, 11, 23, 22, 0, tzinfo=CHINA).astimezone(UTC)  # 2026-11-23 is a Monday
HOURS = {"opens": "08:30", "closes": "17:30", "workdays": "12345", "accept_minutes": 10}


def china(y, mo, d, h, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CHINA)


def test_the_shift_covering_a_moment():
    hours = OfficeHours(opens="08:30", closes="17:30", workdays="12345", accept_minutes=10)
    assert slot_at(hours, china(2026, 11, 23, 10)) is None  # Monday, office open
    assert slot_at(hours, china(2026, 11, 23, 17, 30)) == (date(2026, 11, 23), "night")  # closing time
    assert slot_at(hours, china(2026, 11, 24, 8, 29)) == (date(2026, 11, 23), "night")  # the small hours
    assert slot_at(hours, china(2026, 11, 24, 8, 30)) is None
    assert slot_at(hours, china(2026, 11, 28, 11)) == (date(2026, 11, 28), "day")  # Saturday daytime
    assert slot_at(hours, china(2026, 11, 29, 3)) == (date(2026, 11, 28), "night")  # Saturday night
    # The same instant in UTC: the shift follows China time.
    assert slot_at(hours, china(2026, 11, 23, 22).astimezone(UTC)) == (date(2026, 11, 23), "night")


async def configure(api, world, people=("tech_a", "tech_b"), duty_date="2026-11-23", shift="night") -> None:
    r = await api.put("supervisor", f"/api/estates/{world.estate.id}/office-hours", json=HOURS)
    assert r.status_code == 200, r.text
    ids = [str(world.id(k)) for k in people]
    r = await api.put("lead", f"/api/estates/{world.estate.id}/duty/{duty_date}/{shift}", json={"staff_ids": ids})
    assert r.status_code == 200, r.text


async def run_scan(database, clock) -> int:
    async with database.writer() as s:
        moved = await scan(s, clock.now())
        await s.commit()
    return moved


async def order_row(database, oid) -> Order:
    async with database.reader() as s:
        return await s.get(Order, uuid.UUID(oid))


async def notes(database, staff_id) -> list[tuple[str, str]]:
    async with database.reader() as s:
        rows = await s.scalars(
            select(Notification).where(Notification.staff_id == staff_id).order_by(Notification.created_at)
        )
        return [(n.kind, n.title) for n in rows]


async def test_an_after_hours_complaint_walks_down_the_roster_then_reaches_the_team_lead(api, world, clock, database):
    clock.set(MONDAY_NIGHT)
    await configure(api, world)
    order = await post_order(api, world, kind="complaint", category="noise", description="楼上深夜装修噪音")
    row = await order_row(database, order["id"])
    assert (row.status.value, row.assignee_id) == ("dispatched", world.id("tech_a"))
    assert [k for k, _ in await notes(database, world.id("tech_a"))] == ["assigned"]

    clock.advance(minutes=9)
    assert await run_scan(database, clock) == 0  # still within the 10 minutes
    clock.advance(minutes=1)
    assert await run_scan(database, clock) == 1
    row = await order_row(database, order["id"])
    assert row.assignee_id == world.id("tech_b")
    assert [k for k, _ in await notes(database, world.id("tech_b"))] == ["assigned"]
    assert await run_scan(database, clock) == 0  # the same moment again changes nothing

    timeline = (await api.get("supervisor", f"/api/orders/{order['id']}")).json()
    assert any("值班人李师傅10分钟未接单" in (e.get("note") or "") for e in timeline["timeline"]["events"])

    clock.advance(minutes=10)
    assert await run_scan(database, clock) == 1
    lead_notes = await notes(database, world.id("lead"))
    assert [k for k, _ in lead_notes] == ["duty_unanswered"] and order["number"] in lead_notes[0][1]
    assert (await order_row(database, order["id"])).assignee_id == world.id("tech_b")  # stays with the last
    clock.advance(minutes=30)
    assert await run_scan(database, clock) == 0
    assert len(await notes(database, world.id("lead"))) == 1


async def test_accepted_in_time_it_stays_and_nobody_else_is_called(api, world, clock, database):
    clock.set(MONDAY_NIGHT + timedelta(hours=4))  # 02:00 on Tuesday: still Monday's night shift
    await configure(api, world)
    order = await post_order(api, world, kind="emergency", category="water_electric", description="水管爆裂")
    assert (await order_row(database, order["id"])).assignee_id == world.id("tech_a")
    r = await api.post("tech_a", f"/api/orders/{order['id']}/actions/accept", json={})
    assert r.status_code == 200, r.text
    clock.advance(minutes=30)
    assert await run_scan(database, clock) == 0
    async with database.reader() as s:
        page = await s.scalar(select(DutyPage).where(DutyPage.order_id == uuid.UUID(order["id"])))
    assert (page.outcome, page.closed_at is not None) == ("accepted", True)
    assert await notes(database, world.id("tech_b")) == []


async def test_office_hours_repairs_and_empty_shifts_route_as_usual(api, world, clock, database):
    await configure(api, world)
    clock.set(china(2026, 11, 23, 10).astimezone(UTC))  # Monday morning: the office is open
    complaint = await post_order(api, world, kind="complaint", category="noise", description="白天噪音")
    assert (await order_row(database, complaint["id"])).assignee_id != world.id("tech_a")
    clock.set(MONDAY_NIGHT)
    repair = await post_order(api, world, description="水龙头滴水")  # not urgent: the queue in the morning
    assert (await order_row(database, repair["id"])).assignee_id is None
    clock.set(MONDAY_NIGHT + timedelta(days=1))  # Tuesday night: nobody on the roster
    nobody = await post_order(api, world, kind="complaint", category="noise", description="没有值班")
    assert (await order_row(database, nobody["id"])).assignee_id != world.id("tech_a")
    async with database.reader() as s:
        assert (await s.scalars(select(DutyPage.order_id))).all() == []


async def test_of_two_scanners_only_one_passes_an_order_on(api, world, clock, database):
    clock.set(MONDAY_NIGHT)
    await configure(api, world, people=("tech_a", "tech_b", "steward_a"))
    order = await post_order(api, world, kind="complaint", category="noise", description="噪音")
    clock.advance(minutes=10)
    async with database.reader() as s:
        seen = await s.scalar(select(DutyPage).where(DutyPage.order_id == uuid.UUID(order["id"])))
        stale = DutyPage(**{c: getattr(seen, c) for c in ("order_id", "attempt", "staff_id", "duty_date", "shift")})
    assert await run_scan(database, clock) == 1  # the first process
    async with database.writer() as s:  # the second, with the page as it read it before
        assert await _pass_on(s, stale, await s.get(Order, uuid.UUID(order["id"])), clock.now()) is False
        await s.commit()
    assert (await order_row(database, order["id"])).assignee_id == world.id("tech_b")
    assert await notes(database, world.id("steward_a")) == []


async def test_the_roster_screen_reads_and_edits_with_checks(api, world, clock):
    clock.set(MONDAY_NIGHT)
    url = f"/api/estates/{world.estate.id}"
    r = await api.get("desk", f"{url}/duty")
    assert r.status_code == 200 and r.json()["office_hours"] is None and r.json()["after_hours_now"] is None
    await configure(api, world)
    got = (await api.get("desk", f"{url}/duty")).json()
    assert got["office_hours"] == HOURS
    assert got["after_hours_now"]["shift"] == "night"
    assert [p["name"] for p in got["after_hours_now"]["people"]] == ["李师傅", "王师傅"]
    night = next(x for x in got["roster"] if (x["date"], x["shift"]) == ("2026-11-23", "night"))
    assert [p["name"] for p in night["people"]] == ["李师傅", "王师傅"]
    assert {c["name"] for c in got["candidates"]} >= {"李师傅", "张管家", "陈组长"}

    bad = [
        ({**HOURS, "opens": "8:30"}, 400),
        ({**HOURS, "opens": "18:00"}, 422),
        ({**HOURS, "workdays": "128"}, 400),
        ({**HOURS, "workdays": "115"}, 422),
        ({**HOURS, "accept_minutes": 0}, 400),
    ]
    for body, status in bad:
        r = await api.put("supervisor", f"{url}/office-hours", json=body)
        assert r.status_code == status, (body, r.text)
    assert (await api.put("tech_a", f"{url}/office-hours", json=HOURS)).status_code == 403
    assert (await api.put("desk", f"{url}/duty/2026-11-24/night", json={"staff_ids": []})).status_code == 403
    tech = str(world.id("tech_a"))
    for path, body, status, code in [
        ("2026-11-24/evening", {"staff_ids": [tech]}, 422, "validation_error"),
        ("2026-11-24/night", {"staff_ids": [tech, tech]}, 422, "validation_error"),
        ("2026-11-24/night", {"staff_ids": [str(world.id("desk"))]}, 422, "invalid_assignee"),
        ("2026-11-21/night", {"staff_ids": [tech]}, 422, "validation_error"),  # before yesterday
        ("2026-13-01/night", {"staff_ids": [tech]}, 400, "validation_error"),
        ("tomorrow/night", {"staff_ids": [tech]}, 400, "validation_error"),
    ]:
        r = await api.put("supervisor", f"{url}/duty/{path}", json=body)
        assert (r.status_code, r.json()["code"]) == (status, code), (path, body, r.text)
    assert (await api.put("supervisor", f"{url}/duty/2026-11-23/night", json={"staff_ids": []})).status_code == 200
    got = (await api.get("desk", f"{url}/duty")).json()
    assert got["after_hours_now"]["people"] == []
