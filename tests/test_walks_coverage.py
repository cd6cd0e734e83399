"""Coverage rules (on time / late / missed / pending per frequency kind) on the controllable clock,
device-clock correction, scope of the reports, CSV = JSON, the daily log and the scorecard figures.

The test World's checkpoints (created 2026-11-22 16:00 China time, a Sunday): [0] 快递柜 twice daily
at 7 and 17, [1] 儿童游乐区 daily by 18:00, [2] a renovation flat weekly by Sunday, [3] grid 1's 健身区.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest

from tests.walks_support import Device, iso, local, visit_args

pytestmark = pytest.mark.anyio


class Walker:
    """steward_a's phone walking grid 0, the server clock moved to each act."""

    def __init__(self, api, clock, key="steward_a", skew=timedelta(0)):
        self.api, self.clock = api, clock
        self.device = Device(api, key, skew=skew)
        self.walk_id: str | None = None

    async def visit(self, world, cp_index: int, day: str, hhmm: str, *, visited_at=None) -> dict:
        self.clock.set(local(day, hhmm))
        muts = []
        if self.walk_id is None:
            self.walk_id = str(uuid.uuid4())
            muts.append(
                self.device.mutation(
                    "walk.start",
                    {
                        "id": self.walk_id,
                        "grid_id": str(world.grids[0].id),
                        "started_at": iso(self.device.device_now()),
                    },
                )
            )
        at = visited_at or self.device.device_now()
        muts.append(
            self.device.mutation("walk.checkpoint.visit", visit_args(self.walk_id, world.checkpoints[cp_index], at))
        )
        results = await self.device.push(*muts)
        assert [r["status"] for r in results] == ["applied"] * len(muts), results
        return results


async def cover(api, key="supervisor", **params) -> dict:
    r = await api.get(key, "/api/walks/coverage", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def slots_of(report: dict, checkpoint) -> list[str]:
    [row] = [c for c in report["checkpoints"] if c["checkpoint_id"] == str(checkpoint.id)]
    return [s["status"] for s in row["slots"]]


async def test_twice_daily_on_time_late_missed_pending_and_one_slot_per_visit(api, world, clock):
    cp = world.checkpoints[0]
    g = str(world.grids[0].id)
    w = Walker(api, clock)
    await w.visit(world, 0, "2026-11-23", "07:10")
    await w.visit(world, 0, "2026-11-23", "07:20")  # same window: fills nothing more
    clock.set(local("2026-11-23", "07:30"))
    assert slots_of(await cover(api, grid_id=g, day="2026-11-23"), cp) == ["on_time", "pending"]
    await w.visit(world, 0, "2026-11-23", "19:40")  # after 17:00 + 120 min
    assert slots_of(await cover(api, grid_id=g, day="2026-11-23"), cp) == ["on_time", "late"]
    # Boundaries on the 25th: 06:29 is before the window (fills nothing), 09:01 is late for 7 o'clock,
    # 16:30 (h − 30 min) is on time for 17 o'clock; the 24th had no visit at all.
    await w.visit(world, 0, "2026-11-25", "06:29")
    await w.visit(world, 0, "2026-11-25", "09:01")
    await w.visit(world, 0, "2026-11-25", "16:30")
    clock.set(local("2026-11-26", "00:00"))
    assert slots_of(await cover(api, grid_id=g, day="2026-11-24"), cp) == ["missed", "missed"]
    report = await cover(api, grid_id=g, day="2026-11-25")
    assert slots_of(report, cp) == ["late", "on_time"]
    [row] = [c for c in report["checkpoints"] if c["checkpoint_id"] == str(cp.id)]
    assert row["slots"][0]["counted_at"] == local("2026-11-25", "09:01").isoformat()
    assert row["slots"][0]["start"] == local("2026-11-25", "06:30").isoformat()
    assert row["slots"][0]["due"] == local("2026-11-25", "09:00").isoformat()
    assert row["slots"][0]["steward_name"] == "张管家"
    # The exact end of the window (h + 120 min) still counts as on time.
    await w.visit(world, 0, "2026-11-26", "09:00")
    assert slots_of(await cover(api, grid_id=g, day="2026-11-26"), cp)[0] == "on_time"


async def test_daily_by_hour(api, world, clock):
    cp = world.checkpoints[1]
    g = str(world.grids[0].id)
    w = Walker(api, clock)
    await w.visit(world, 1, "2026-11-23", "17:59")
    await w.visit(world, 1, "2026-11-24", "18:00")
    clock.set(local("2026-11-25", "20:00"))
    report = await cover(api, grid_id=g, period="week", day="2026-11-25")
    assert slots_of(report, cp) == ["on_time", "late", "pending", "pending", "pending", "pending", "pending"]
    clock.set(local("2026-11-26", "00:00"))
    assert slots_of(await cover(api, grid_id=g, day="2026-11-25"), cp) == ["missed"]


async def test_weekly_on_time_late_missed(api, world, clock):
    g = str(world.grids[0].id)
    r = await api.post(
        "lead",
        "/api/walks/checkpoints",
        json={"route_id": str(world.routes[0].id), "name": "3栋大堂", "frequency": {"kind": "weekly", "weekday": 3}},
    )
    assert r.status_code == 201, r.text
    wednesday = r.json()
    sunday = world.checkpoints[2]
    w = Walker(api, clock)
    await w.visit(world, 2, "2026-11-29", "23:59")  # Sunday, the last minute of its due day
    clock.set(local("2026-11-26", "10:00"))
    dev = w.device
    visit = {
        "id": str(uuid.uuid4()),
        "walk_id": w.walk_id,
        "checkpoint_id": wednesday["id"],
        "method": "manual",
        "visited_at": iso(clock.now()),
        "answers": [{"item": "corridor_clear", "ok": True}],
    }
    assert (await dev.push(dev.mutation("walk.checkpoint.visit", visit)))[0]["status"] == "applied"
    clock.set(local("2026-12-07", "00:00"))
    week1 = await cover(api, grid_id=g, period="week", day="2026-11-23")
    week2 = await cover(api, grid_id=g, period="week", day="2026-11-30")
    row = next(c for c in week1["checkpoints"] if c["checkpoint_id"] == wednesday["id"])
    assert [s["status"] for s in row["slots"]] == ["late"]  # Thursday, after Wednesday's end
    assert slots_of(week1, sunday) == ["on_time"]
    assert slots_of(week2, sunday) == ["missed"]
    assert (
        next(c for c in week2["checkpoints"] if c["checkpoint_id"] == wednesday["id"])["slots"][0]["status"] == "missed"
    )
    # Before the week ends, an unvisited weekly slot is pending.
    clock.set(local("2026-12-10", "12:00"))
    assert slots_of(await cover(api, grid_id=g, period="week", day="2026-12-08"), sunday) == ["pending"]


async def test_inactive_checkpoints_yield_no_slots(api, world, clock):
    cp = world.checkpoints[1]
    r = await api.patch("lead", f"/api/walks/checkpoints/{cp.id}", json={"active": False})
    assert r.status_code == 200
    report = await cover(api, grid_id=str(world.grids[0].id), day="2026-11-23")
    assert str(cp.id) not in {c["checkpoint_id"] for c in report["checkpoints"]}


async def test_offline_visit_counts_at_device_time_corrected_by_the_clock_offset(api, world, clock):
    cp = world.checkpoints[0]
    g = str(world.grids[0].id)
    # In a basement at 07:10; synced at 21:00 by a phone with a correct clock: on time, not flagged.
    ok = Walker(api, clock)
    await ok.visit(world, 0, "2026-11-23", "21:00", visited_at=local("2026-11-23", "07:10"))
    # A phone one hour slow: it says 06:15, which is 07:15 server time: on time, but flagged.
    slow = Walker(api, clock, skew=timedelta(hours=1))
    await slow.visit(world, 0, "2026-11-24", "21:00", visited_at=local("2026-11-24", "06:15"))
    # A phone claiming a visit two hours after its own send time: clamped to the receive time.
    future = Walker(api, clock)
    await future.visit(world, 0, "2026-11-25", "17:05", visited_at=local("2026-11-25", "19:05"))
    clock.set(local("2026-11-26", "12:00"))
    rows = {}
    for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
        [row] = [c for c in (await cover(api, grid_id=g, day=day))["checkpoints"] if c["checkpoint_id"] == str(cp.id)]
        rows[day] = row["slots"]
    assert (rows["2026-11-23"][0]["status"], rows["2026-11-23"][0]["skew_flag"]) == ("on_time", False)
    assert rows["2026-11-23"][0]["counted_at"] == local("2026-11-23", "07:10").isoformat()
    assert (rows["2026-11-24"][0]["status"], rows["2026-11-24"][0]["skew_flag"]) == ("on_time", True)
    assert rows["2026-11-24"][0]["counted_at"] == local("2026-11-24", "07:15").isoformat()
    assert rows["2026-11-24"][0]["visited_at"] == local("2026-11-24", "06:15").isoformat()
    assert (rows["2026-11-25"][1]["status"], rows["2026-11-25"][1]["skew_flag"]) == ("on_time", True)
    assert rows["2026-11-25"][1]["counted_at"] == local("2026-11-25", "17:05").isoformat()


async def test_coverage_scope_and_totals_per_grid_and_steward(api, world, clock):
    w = Walker(api, clock)
    await w.visit(world, 0, "2026-11-23", "07:10")
    clock.set(local("2026-11-24", "00:00"))
    g0, g1 = str(world.grids[0].id), str(world.grids[1].id)
    mine = await cover(api, "steward_a", day="2026-11-23")
    assert {c["grid_id"] for c in mine["checkpoints"]} == {g0}
    [steward] = mine["totals"]["stewards"]
    assert steward["steward_name"] == "张管家" and steward["on_time"] == 1
    # 快递柜 2 slots + 儿童游乐区 1 + weekly renovation 1 (pending: its week is not over)
    assert (steward["slots"], steward["missed"], steward["pending"]) == (4, 2, 1)
    assert steward["on_time_rate"] == round(1 / 3, 4)
    everyone = await cover(api, "supervisor", day="2026-11-23")
    grids = {t["grid_id"]: t for t in everyone["totals"]["grids"]}
    assert set(grids) == {g0, g1} and grids[g0]["on_time"] == 1 and grids[g1]["missed"] == 1
    assert {s["steward_name"] for s in everyone["totals"]["stewards"]} == {"张管家", "李管家"}
    assert everyone["totals"]["all"]["slots"] == 5
    filtered = await cover(api, "lead", steward_id=str(world.id("steward_b")), day="2026-11-23")
    assert {c["grid_id"] for c in filtered["checkpoints"]} == {g1}
    # Refusals
    for key, params, status in (
        ("steward_b", {"grid_id": g0}, 404),
        ("steward_a", {"steward_id": str(world.id("steward_b"))}, 404),
        ("other_supervisor", {"grid_id": g0}, 404),
        ("other_supervisor", {"steward_id": str(world.id("steward_a"))}, 404),
        ("tech_a", {}, 403),
        ("lead", {"period": "year"}, 400),
        ("lead", {"day": "2026-13-01"}, 400),
        ("lead", {"grid_id": "nope"}, 400),
    ):
        r = await api.get(key, "/api/walks/coverage", params=params)
        assert r.status_code == status, (key, params, r.text)
        assert set(r.json()) >= {"code", "message"}


async def test_coverage_csv_has_the_same_rows_as_the_json(api, world, clock):
    w = Walker(api, clock)
    await w.visit(world, 0, "2026-11-23", "07:10")
    await w.visit(world, 1, "2026-11-23", "18:30")
    clock.set(local("2026-11-24", "08:00"))
    params = {"grid_id": str(world.grids[0].id), "period": "week", "day": "2026-11-23"}
    report = await cover(api, "lead", **params)
    r = await api.get("lead", "/api/walks/coverage.csv", params=params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    expected = [
        (c["name"], c["code"], s["start"], s["due"], s["status"], s["visited_at"] or "", s["steward_name"] or "")
        for c in report["checkpoints"]
        for s in c["slots"]
    ]
    got = [
        (x["checkpoint"], x["code"], x["slot_start"], x["due"], x["status"], x["visited_at"], x["steward"])
        for x in rows
    ]
    assert got == expected
    assert len(got) == 7 * 2 + 7 + 1  # twice daily, daily, weekly
    assert sorted({x["status"] for x in rows}) == ["late", "missed", "on_time", "pending"]


async def test_daily_log_lists_walks_findings_orders_and_callbacks(api, world, clock):
    clock.set(local("2026-11-23", "07:05"))
    dev = Device(api, "steward_a")
    walk_id, finding_id, order_id = (str(uuid.uuid4()) for _ in range(3))
    hh = world.households["1栋1单元101"]
    results = await dev.push(
        dev.mutation("walk.start", {"id": walk_id, "grid_id": str(world.grids[0].id), "started_at": iso(clock.now())}),
        dev.mutation("walk.checkpoint.visit", visit_args(walk_id, world.checkpoints[0], clock.now())),
        dev.mutation(
            "walk.finding.add",
            {
                "id": finding_id,
                "walk_id": walk_id,
                "grid_id": str(world.grids[0].id),
                "category": "water_electric",
                "note": "101门口水管渗水",
                "photos": [],
                "location": {"household_id": str(hh.id)},
                "captured_at": iso(clock.now()),
            },
        ),
        dev.mutation(
            "walk.finding.to_order",
            {"finding_id": finding_id, "order_id": order_id, "kind": "repair", "category": "water_electric"},
        ),
        dev.mutation("walk.end", {"walk_id": walk_id, "ended_at": iso(clock.now())}),
    )
    assert [r["status"] for r in results] == ["applied"] * 5, results
    for action in ("take", "complete"):
        assert (await api.post("tech_a", f"/api/orders/{order_id}/actions/{action}", json={})).status_code == 200
    r = await api.post("steward_a", f"/api/orders/{order_id}/callbacks", json={"result": "reached_satisfied"})
    assert r.status_code == 201, r.text
    log = (await api.get("steward_a", "/api/walks/daily-log", params={"day": "2026-11-23"})).json()
    assert [x["id"] for x in log["walks"]] == [walk_id] and log["walks"][0]["visit_count"] == 1
    assert [x["id"] for x in log["findings"]] == [finding_id]
    assert (
        log["findings"][0]["location"]["label"] == "1栋1单元101" and log["findings"][0]["order_status"] == "called_back"
    )
    assert [(o["id"], o["finding_id"], o["status"]) for o in log["orders_raised"]] == [
        (order_id, finding_id, "called_back")
    ]
    assert [c["result"] for c in log["callbacks_done"]] == ["reached_satisfied"]
    assert (await api.get("steward_a", "/api/walks/daily-log", params={"day": "2026-11-24"})).json()["walks"] == []
    r = await api.get(
        "lead", "/api/walks/daily-log.csv", params={"steward_id": str(world.id("steward_a")), "day": "2026-11-23"}
    )
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert [x["type"] for x in rows] == ["walk", "finding", "order", "callback"]
    assert rows[2]["id"] == order_id and rows[1]["status"] == log["orders_raised"][0]["number"]
    for key, status in (("steward_b", 404), ("desk", 404), ("other_supervisor", 404), ("tech_a", 403)):
        r = await api.get(key, "/api/walks/daily-log", params={"steward_id": str(world.id("steward_a"))})
        assert r.status_code == status, key
    # The monthly scorecard counts her walk and her on-time checkpoint.
    card = (
        await api.get("lead", f"/api/stewards/{world.id('steward_a')}/scorecard", params={"month": "2026-11"})
    ).json()
    assert card["walks"]["walks"] == 1 and card["walks"]["checkpoints_on_time"] == 1
