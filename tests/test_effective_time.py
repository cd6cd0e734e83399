"""Effective time (DESIGN.md §3, PROTOCOL.md "Effective time", server/clock.py): an act done offline
counts at its device time corrected by the batch's clock offset, clamped between the order's previous
event and the receive time; the receive time and the raw device time stay as evidence."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.clock import effective_time
from server.orders.models import Order, OrderEvent, Step
from tests.support.orders import create_order
from tests.test_progress_support import make_link
from tests.walks_support import Device

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_the_rule_corrects_by_the_offset_and_clamps_between_the_previous_event_and_the_receipt():
    received = T0 + timedelta(hours=1)
    # A phone 3 minutes slow: corrected, not flagged.
    assert effective_time(T0, 180_000, received_at=received) == (T0 + timedelta(minutes=3), False)
    # A phone an hour slow: corrected and flagged.
    assert effective_time(T0, 3_600_000, received_at=received + timedelta(hours=1)) == (received, True)
    # Never after the receipt; never before the previous event of the record.
    assert effective_time(received + timedelta(hours=2), 0, received_at=received) == (received, True)
    assert effective_time(T0, 0, received_at=received, floor=T0 + timedelta(minutes=30)) == (
        T0 + timedelta(minutes=30),
        True,
    )
    assert effective_time(None, 0, received_at=received) == (received, False)


async def _offline_shift(api, world, clock, *, skew: timedelta):
    """Desk dispatches at 08:00; 李师傅's phone (``skew`` slow) works offline from 08:10 to 08:50 and
    syncs at 09:30 (server time)."""
    oid = await create_order(api, world, assignee_id=str(world.id("tech_a")))
    device = Device(api, "tech_a", skew=skew)
    at = {m: T0 + timedelta(minutes=m) - skew for m in (10, 20, 30, 40, 50)}
    clock.set(T0 + timedelta(minutes=90))
    results = await device.push(
        device.mutation("order.accept", {"order_id": oid}, at=at[10]),
        device.mutation("order.depart", {"order_id": oid}, at=at[20]),
        device.mutation("order.arrive", {"order_id": oid}, at=at[30]),
        device.mutation(
            "step.add",
            {"id": str(uuid.uuid4()), "order_id": oid, "note": "更换弯头", "captured_at": at[40].isoformat()},
            at=at[40],
        ),
        device.mutation("order.complete", {"order_id": oid}, at=at[50]),
    )
    assert [r["status"] for r in results] == ["applied"] * 5, results
    return oid


@pytest.mark.parametrize("skew", [timedelta(0), timedelta(minutes=3), timedelta(hours=1)])
async def test_an_offline_shift_synced_later_shows_the_device_corrected_times_in_order(
    api, world, database, clock, skew
):
    oid = await _offline_shift(api, world, clock, skew=skew)
    received = T0 + timedelta(minutes=90)
    async with database.reader() as s:
        order = await s.get(Order, uuid.UUID(oid))
        events = (
            await s.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.chain_index))
        ).all()
        [step] = (await s.scalars(select(Step).where(Step.order_id == order.id))).all()
    assert order.accepted_at == T0 + timedelta(minutes=10)
    assert order.arrived_at == T0 + timedelta(minutes=30)
    assert order.completed_at == T0 + timedelta(minutes=50)
    # The response SLA (repair: 30 minutes to accept) is credited at the effective time, not the sync.
    assert order.contact_late is False
    acts = {e.action: e for e in events}
    assert [acts[a].effective_at for a in ("accept", "depart", "arrive", "complete")] == [
        T0 + timedelta(minutes=m) for m in (10, 20, 30, 50)
    ]
    assert step.effective_at == T0 + timedelta(minutes=40)
    # Evidence: the receipt and the raw device time are kept; a correction beyond 5 minutes is flagged.
    assert {e.server_time for a, e in acts.items() if a != "dispatch" and a != "create"} == {received}
    assert acts["accept"].client_time == T0 + timedelta(minutes=10) - skew
    assert step.captured_at == T0 + timedelta(minutes=40) - skew
    assert acts["complete"].skew_flag is (skew > timedelta(minutes=5))
    # The staff timeline and the owner page read the effective time.
    detail = (await api.get("desk", f"/api/orders/{oid}")).json()
    shown = {e["action"]: e["effective_at"] for e in detail["timeline"]["events"]}
    assert shown["accept"] == (T0 + timedelta(minutes=10)).isoformat()
    assert detail["order"]["accepted_at"] == (T0 + timedelta(minutes=10)).isoformat()
    link = await make_link(api, oid)
    page = (await api.client.get(link["url"].split("testserver.local")[-1])).text
    assert page.index("16:10") < page.index("16:30") < page.index("16:40") < page.index("16:50")
    assert "17:30" not in page


async def test_an_act_the_device_dates_before_the_previous_event_counts_just_after_it(api, world, database, clock):
    oid = await create_order(api, world, assignee_id=str(world.id("tech_a")))
    device = Device(api, "tech_a")
    clock.set(T0 + timedelta(minutes=20))
    # The phone claims it accepted at 07:00, before the order existed (08:00).
    [r] = await device.push(device.mutation("order.accept", {"order_id": oid}, at=T0 - timedelta(hours=1)))
    assert r["status"] == "applied"
    async with database.reader() as s:
        order = await s.get(Order, uuid.UUID(oid))
        accept = await s.scalar(
            select(OrderEvent).where(OrderEvent.order_id == order.id, OrderEvent.action == "accept")
        )
    assert accept.effective_at == T0
    assert accept.skew_flag is True
    assert order.accepted_at == T0


# --- bounds on client-supplied times (issue 18, finding 9) ---------------------------------------------


@pytest.mark.parametrize(
    "eta",
    [
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59+00:00",
        "2026-11-22T07:50:00+00:00",
        "2026-12-23T08:00:00+00:00",
    ],
)
async def test_an_eta_outside_five_minutes_ago_to_thirty_days_ahead_is_refused_and_changes_nothing(
    api, world, database, eta
):
    oid = await create_order(api, world, assignee_id=str(world.id("tech_a")))
    r = await api.post("desk", f"/api/orders/{oid}/eta", json={"eta": eta})
    assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
    r = await api.post("tech_a", f"/api/orders/{oid}/actions/accept", json={})
    r = await api.post("tech_a", f"/api/orders/{oid}/actions/depart", json={"eta": eta})
    assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
    device = Device(api, "tech_a")
    [res] = await device.push(device.mutation("order.set_eta", {"order_id": oid, "eta": eta}))
    assert (res["status"], res["code"]) == ("rejected", "validation_error")
    async with database.reader() as s:
        order = await s.get(Order, uuid.UUID(oid))
        assert order.eta is None and order.status.value == "accepted"


async def test_an_eta_within_bounds_is_taken(api, world):
    oid = await create_order(api, world, assignee_id=str(world.id("tech_a")))
    for eta in ("2026-11-22T07:56:00+00:00", "2026-12-21T08:00:00+00:00"):
        r = await api.post("desk", f"/api/orders/{oid}/eta", json={"eta": eta})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "captured", ["0001-01-01T00:00:00+00:00", "9999-12-31T00:00:00+00:00", "2026-10-01T08:00:00+00:00"]
)
async def test_a_step_captured_at_a_broken_clock_time_is_refused_and_never_reaches_the_owner(
    api, world, database, captured
):
    oid = await create_order(api, world, assignee_id=str(world.id("tech_a")))
    for action in ("accept", "depart", "arrive"):
        assert (await api.post("tech_a", f"/api/orders/{oid}/actions/{action}", json={})).status_code == 200
    r = await api.post("tech_a", f"/api/orders/{oid}/steps", json={"note": "检测漏点", "captured_at": captured})
    assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
    device = Device(api, "tech_a")
    [res] = await device.push(
        device.mutation(
            "step.add", {"id": str(uuid.uuid4()), "order_id": oid, "note": "检测漏点", "captured_at": captured}
        )
    )
    assert (res["status"], res["code"]) == ("rejected", "validation_error")
    async with database.reader() as s:
        assert (await s.scalars(select(Step).where(Step.order_id == uuid.UUID(oid)))).all() == []
    link = await make_link(api, oid)
    page = (await api.client.get(link["url"].split("testserver.local")[-1])).text
    assert "检测漏点" not in page and "1月1日" not in page
