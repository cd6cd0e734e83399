"""KPI figures against a hand-computed fixture (every number below was worked out by hand)."""

from __future__ import annotations

import csv
import io

import pytest

pytestmark = pytest.mark.anyio


async def order(api, world, clock, kind, category, room, accept_after, complete_after=None):
    r = await api.post(
        "desk",
        "/api/orders/",
        json={
            "kind": kind,
            "category": category,
            "channel": "phone",
            "description": "测试工单",
            "household_id": str(world.households[f"1栋1单元{room}"].id),
            "assignee_id": str(world.id("tech_a")),
        },
    )
    oid = r.json()["order"]["id"]
    clock.advance(minutes=accept_after)
    assert (await api.post("tech_a", f"/api/orders/{oid}/actions/accept", json={})).status_code == 200
    if complete_after is not None:
        clock.advance(minutes=complete_after)
        assert (await api.post("tech_a", f"/api/orders/{oid}/actions/complete", json={})).status_code == 200
    return oid


@pytest.fixture
async def month(api, world, clock):
    c1 = await order(api, world, clock, "complaint", "noise", "101", 10, 50)
    await order(api, world, clock, "complaint", "cleaning", "101", 20, 100)  # first contact 5 min late
    await order(api, world, clock, "complaint", "noise", "101", 1, 29)  # repeat of c1
    r1 = await order(api, world, clock, "repair", "water_electric", "102", 30, 90)  # exactly on the deadline
    r2 = await order(api, world, clock, "repair", "water_electric", "201", 5, 55)
    await order(api, world, clock, "complaint", "parking", "102", 5)  # left open past its 48 h
    for oid, level in ((c1, "very_satisfied"), (r1, "satisfied"), (r2, "unsatisfied")):
        assert (await api.post("desk", f"/api/orders/{oid}/rating", json={"level": level})).status_code == 201
    for oid in (c1, r1):
        assert (
            await api.post("desk", f"/api/orders/{oid}/callbacks", json={"result": "reached_satisfied"})
        ).status_code == 201
    clock.advance(hours=49)
    api.sign_out_all()


async def test_kpis_match_the_hand_computed_figures(api, world, month):
    r = await api.get("supervisor", "/api/kpi/", params={"period": "month", "date": "2026-11-22"})
    assert r.status_code == 200, r.text
    k = r.json()["current"]
    assert k["orders"] == 7  # 6 + the follow-up opened by the unsatisfied rating
    assert k["by_kind"] == {"complaint": 4, "repair": 2, "callback": 1}
    assert k["complaints"] == 4 and k["complaints_judged"] == 4
    assert k["complaint_timeliness"] == 0.5
    assert k["repeat_complaint_rate"] == 0.25
    assert k["ratings"] == 3 and k["satisfaction"] == 0.6667
    assert k["callbacks_due"] == 5 and k["callback_rate"] == 0.4
    assert k["response"] == {"count": 6, "median_min": 7.5, "p90_min": 25.0, "mean_min": 11.8}
    assert k["resolution"] == {"count": 5, "median_min": 60.0, "p90_min": 120.0, "mean_min": 78.0}
    assert sum(k["by_hour"]) == 7
    assert r.json()["previous"]["orders"] == 0
    assert r.json()["targets"]["satisfaction"] == 0.9


async def test_kpi_csv_has_the_same_figures(api, world, month):
    j = (await api.get("supervisor", "/api/kpi/", params={"period": "month", "date": "2026-11-22"})).json()["current"]
    r = await api.get("supervisor", "/api/kpi/csv", params={"period": "month", "date": "2026-11-22"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = {row["metric"]: row for row in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff")))}
    assert float(rows["complaint_timeliness"]["current"]) == j["complaint_timeliness"]
    assert float(rows["satisfaction"]["current"]) == j["satisfaction"]
    assert float(rows["response_median_min"]["current"]) == j["response"]["median_min"]
    assert int(rows["kind:complaint"]["current"]) == 4


async def test_kpis_are_scoped(api, world, month):
    assert (await api.get("tech_a", "/api/kpi/")).status_code == 403
    assert (
        await api.get("other_supervisor", "/api/kpi/", params={"estate_id": str(world.estate.id)})
    ).status_code == 404
    r = await api.get("steward_a", "/api/kpi/", params={"grid_id": str(world.grids[0].id), "date": "2026-11-22"})
    assert r.status_code == 200 and r.json()["current"]["orders"] == 7
    # A grid's ratings come through the order join, the estate's from the ratings' own copy: same figures.
    assert r.json()["current"]["ratings"] == 3 and r.json()["current"]["satisfaction"] == 0.6667
    assert (await api.get("steward_a", "/api/kpi/", params={"grid_id": str(world.grids[1].id)})).status_code == 404


def test_percentile_interpolates_between_ranks():
    from server.orders.kpi import percentile

    assert percentile([1, 5, 5, 10, 20, 30], 0.5) == 7.5
    assert percentile([1, 5, 5, 10, 20, 30], 0.9) == 25
    assert percentile([], 0.5) is None
    assert percentile([4], 0.9) == 4
