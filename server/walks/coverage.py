"""Coverage of checkpoints (was each one visited on time?) and a steward's daily log.

Rules. Estate-local time is Asia/Shanghai (``server.orders.kpi.CHINA``). Every active checkpoint
yields *slots* over the period (a day, an ISO week; a month for the scorecard); a slot is included
when it overlaps the period, so a day's coverage shows the weekly slot of that day's week. Slots that
ended before the checkpoint was created are left out (a label put up at noon cannot miss 7 am).
Inactive checkpoints yield no slots.

- ``daily {by_hour}`` (default 18): one slot per local day. The first visit before ``by_hour:00`` is
  ``on_time``; a visit later that day is ``late``; none by the end of the day is ``missed``.
- ``twice_daily {hours}`` (default [7, 17]; the window is 120 minutes): one slot per hour *h*. A visit
  in [h − 30 min, h + 120 min] is ``on_time``; after that and before the next slot's start
  (its h − 30 min), or the end of the day for the last slot, it is ``late``; none → ``missed``.
- ``weekly {weekday}`` (ISO 1–7, default 7 = Sunday): one slot per ISO week; a visit by the end of
  ``weekday`` is ``on_time``, later that week ``late``, none → ``missed``.
- A slot that is not filled and whose window has not closed yet (server clock) is ``pending``.
- A visit fills at most one slot: visits are taken in time order and each fills the earliest
  unfilled slot of its checkpoint whose window contains it. A second visit in the same window
  fills nothing.

Which time counts. A steward offline in a basement syncs hours later, so the server's receive time
would make every offline visit late. Coverage therefore uses the device's ``visited_at`` corrected
by the device clock offset the sync engine estimates per push batch (``ctx.clock_offset_ms`` =
server time − device time), stored as ``counted_at`` on the visit. It is clamped: a corrected time
after the server received the visit is impossible, so it becomes the receive time. A visit is
``skew_flag``-ged like repair steps when the offset or the clamp moves it by more than 5 minutes;
the flag is shown to leads, never silently hidden. This is the effective-time rule of
``server/clock.py``, the one implementation order events and steps use too.

Totals per grid count all slots of its checkpoints. Totals per steward count the slots she filled
(``on_time``/``late``, credited to whoever visited) plus the unfilled slots (``missed``/``pending``)
of the grids she owns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Role, Staff, StaffGrid
from server.accounts.scope import Actor
from server.errors import DomainError, NotFound
from server.exports import to_csv
from server.orders.kpi import CHINA
from server.orders.models import Callback, Order
from server.sites.models import Grid
from server.walks.models import Checkpoint, CheckpointVisit, Finding, Walk, WalkRoute
from server.walks.service import WALKERS, require_reader, visible_grid
from server.walks.views import findings_by_id, walks_by_id

EARLY = timedelta(minutes=30)
WINDOW = timedelta(minutes=120)
LEADS = (Role.team_lead, Role.supervisor, Role.admin)


@dataclass
class Slot:
    start: datetime  # the window opens
    due: datetime  # on time until here
    end: datetime  # late until here; missed after
    inclusive: bool = False  # on time also exactly at ``due`` (twice_daily: "h + 120 min" is on time)
    status: str = "pending"
    visit: CheckpointVisit | None = None

    def contains(self, t: datetime) -> bool:
        return self.start <= t < self.end or (self.inclusive and t == self.due)

    def on_time(self, t: datetime) -> bool:
        return t <= self.due if self.inclusive else t < self.due


def _local_midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=CHINA)


def slots_for(frequency: dict[str, Any], start: datetime, end: datetime) -> list[Slot]:
    """The slots of one checkpoint overlapping [start, end) (aware datetimes), in time order."""
    kind = frequency["kind"]
    first = start.astimezone(CHINA).date()
    last = (end - timedelta(microseconds=1)).astimezone(CHINA).date()
    out: list[Slot] = []
    if kind == "weekly":
        monday = first - timedelta(days=first.weekday())
        while monday <= last:
            week = _local_midnight(monday)
            out.append(Slot(week, week + timedelta(days=frequency["weekday"]), week + timedelta(days=7)))
            monday += timedelta(days=7)
        return out
    d = first
    while d <= last:
        midnight = _local_midnight(d)
        next_day = midnight + timedelta(days=1)
        if kind == "daily":
            out.append(Slot(midnight, midnight + timedelta(hours=frequency["by_hour"]), next_day))
        else:
            hours = frequency["hours"]
            for i, h in enumerate(hours):
                at = midnight + timedelta(hours=h)
                due = at + WINDOW
                close = (midnight + timedelta(hours=hours[i + 1]) - EARLY) if i + 1 < len(hours) else next_day
                out.append(Slot(at - EARLY, due, max(close, due), inclusive=True))
        d += timedelta(days=1)
    return out


def assign(slots: list[Slot], visits: list[CheckpointVisit], now: datetime) -> None:
    """Fill slots with visits (each visit at most one slot, the earliest open one) and decide them."""
    for visit in sorted(visits, key=lambda v: v.counted_at):
        t = visit.counted_at
        for slot in slots:
            if slot.visit is None and slot.contains(t):
                slot.visit = visit
                slot.status = "on_time" if slot.on_time(t) else "late"
                break
    for slot in slots:
        if slot.visit is None:
            slot.status = "missed" if now >= slot.end else "pending"


def period_bounds(period: str, day: date) -> tuple[datetime, datetime]:
    midnight = _local_midnight(day)
    if period == "day":
        return midnight, midnight + timedelta(days=1)
    if period == "week":
        start = midnight - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if period == "month":
        start = _local_midnight(day.replace(day=1))
        return start, _local_midnight((day.replace(day=28) + timedelta(days=4)).replace(day=1))
    raise DomainError("validation_error", "period must be day or week", status=400)


def today(now: datetime) -> date:
    return now.astimezone(CHINA).date()


async def _person(session: AsyncSession, actor: Actor, staff_id: uuid.UUID) -> Staff:
    """A walker the actor may report on: herself, or one of their estate for leads (else 404)."""
    staff = await session.get(Staff, staff_id)
    if staff is None or staff.role not in WALKERS or staff.company_id != actor.company_id:
        raise NotFound("steward")
    if staff.id == actor.staff_id:
        return staff
    if actor.role not in (*LEADS, Role.front_desk) or staff.estate_id is None or not actor.sees_estate(staff.estate_id):
        raise NotFound("steward")
    return staff


async def _grids(session: AsyncSession, actor: Actor, grid_id: uuid.UUID | None, steward: Staff | None) -> list[Grid]:
    if grid_id is not None:
        grids = [await visible_grid(session, actor, grid_id)]
    else:
        grids = list(
            (
                await session.scalars(select(Grid).where(actor.where_grid(Grid.estate_id, Grid.id)).order_by(Grid.name))
            ).all()
        )
    if steward is not None and steward.role is Role.steward:
        own = set((await session.scalars(select(StaffGrid.grid_id).where(StaffGrid.staff_id == steward.id))).all())
        grids = [g for g in grids if g.id in own]
    return grids


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(CHINA).isoformat() if dt else None


def _counts() -> dict[str, Any]:
    return {"slots": 0, "on_time": 0, "late": 0, "missed": 0, "pending": 0}


def _rate(c: dict[str, Any]) -> dict[str, Any]:
    decided = c["on_time"] + c["late"] + c["missed"]
    c["on_time_rate"] = round(c["on_time"] / decided, 4) if decided else None
    return c


async def coverage(
    session: AsyncSession,
    actor: Actor,
    *,
    now: datetime,
    grid_id: uuid.UUID | None = None,
    steward_id: uuid.UUID | None = None,
    period: str = "day",
    day: date | None = None,
) -> dict[str, Any]:
    require_reader(actor)
    steward = await _person(session, actor, steward_id) if steward_id else None
    if steward is None and actor.role is Role.steward and grid_id is None:
        steward = await _person(session, actor, actor.staff_id)
    grids = await _grids(session, actor, grid_id, steward)
    day = day or today(now)
    start, end = period_bounds(period, day)
    grid_names = {g.id: g.name for g in grids}
    checkpoints = (
        (
            await session.scalars(
                select(Checkpoint)
                .where(Checkpoint.grid_id.in_(list(grid_names)), Checkpoint.active)
                .order_by(Checkpoint.grid_id, Checkpoint.route_id, Checkpoint.position)
            )
        ).all()
        if grid_names
        else []
    )
    slots = {}
    for cp in checkpoints:
        slots[cp.id] = [s for s in slots_for(cp.frequency, start, end) if s.end > cp.created_at]
    lo = min((s.start for ss in slots.values() for s in ss), default=start)
    hi = max((s.end for ss in slots.values() for s in ss), default=end)
    visits: dict[uuid.UUID, list[CheckpointVisit]] = {}
    if slots:
        rows = (
            await session.scalars(
                select(CheckpointVisit).where(
                    CheckpointVisit.checkpoint_id.in_(list(slots)),
                    CheckpointVisit.counted_at >= lo.astimezone(UTC),
                    CheckpointVisit.counted_at <= hi.astimezone(UTC),
                )
            )
        ).all()
        for v in rows:
            visits.setdefault(v.checkpoint_id, []).append(v)
    for cp_id, ss in slots.items():
        assign(ss, visits.get(cp_id, []), now)

    # Names: routes, visitors, grid owners.
    route_ids = {cp.route_id for cp in checkpoints}
    routes = (
        dict((await session.execute(select(WalkRoute.id, WalkRoute.name).where(WalkRoute.id.in_(route_ids)))).all())
        if route_ids
        else {}
    )
    owners: dict[uuid.UUID, list[uuid.UUID]] = {}
    if grid_names:
        for sid, gid in (
            await session.execute(
                select(StaffGrid.staff_id, StaffGrid.grid_id)
                .join(Staff, Staff.id == StaffGrid.staff_id)
                .where(StaffGrid.grid_id.in_(list(grid_names)), Staff.role == Role.steward, Staff.active)
            )
        ).all():
            owners.setdefault(gid, []).append(sid)
    people = {s.visit.author_id for ss in slots.values() for s in ss if s.visit} | {
        sid for ids in owners.values() for sid in ids
    }
    if steward is not None:
        people.add(steward.id)
    names = (
        dict((await session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(people)))).all()) if people else {}
    )

    grid_totals = {gid: {"grid_id": str(gid), "grid_name": name, **_counts()} for gid, name in grid_names.items()}
    steward_totals: dict[uuid.UUID, dict[str, Any]] = {}

    def credit(staff_id: uuid.UUID, status: str) -> None:
        if steward is not None and staff_id != steward.id:
            return
        row = steward_totals.setdefault(
            staff_id, {"steward_id": str(staff_id), "steward_name": names.get(staff_id, ""), **_counts()}
        )
        row["slots"] += 1
        row[status] += 1

    if steward is not None:  # she is listed even with nothing to count
        steward_totals[steward.id] = {"steward_id": str(steward.id), "steward_name": steward.name, **_counts()}
    out_rows = []
    for cp in checkpoints:
        slot_rows = []
        for s in slots[cp.id]:
            g = grid_totals[cp.grid_id]
            g["slots"] += 1
            g[s.status] += 1
            if s.visit is not None:
                credit(s.visit.author_id, s.status)
            else:
                for sid in owners.get(cp.grid_id, []):
                    credit(sid, s.status)
            slot_rows.append(
                {
                    "start": _iso(s.start),
                    "due": _iso(s.due),
                    "end": _iso(s.end),
                    "status": s.status,
                    "visit_id": str(s.visit.id) if s.visit else None,
                    "visited_at": _iso(s.visit.visited_at) if s.visit else None,
                    "counted_at": _iso(s.visit.counted_at) if s.visit else None,
                    "skew_flag": s.visit.skew_flag if s.visit else False,
                    "steward_id": str(s.visit.author_id) if s.visit else None,
                    "steward_name": names.get(s.visit.author_id, "") if s.visit else None,
                }
            )
        out_rows.append(
            {
                "checkpoint_id": str(cp.id),
                "name": cp.name,
                "code": cp.code,
                "location": cp.location,
                "grid_id": str(cp.grid_id),
                "grid_name": grid_names[cp.grid_id],
                "route_id": str(cp.route_id),
                "route_name": routes.get(cp.route_id, ""),
                "checklist_type": cp.checklist_type,
                "frequency": dict(cp.frequency),
                "slots": slot_rows,
            }
        )
    overall = _counts()
    for g in grid_totals.values():
        for k in ("slots", "on_time", "late", "missed", "pending"):
            overall[k] += g[k]
    return {
        "period": period,
        "day": day.isoformat(),
        "start": _iso(start),
        "end": _iso(end),
        "now": _iso(now),
        "checkpoints": out_rows,
        "totals": {
            "all": _rate(overall),
            "grids": [_rate(g) for g in grid_totals.values()],
            "stewards": [_rate(s) for s in steward_totals.values()],
        },
    }


COVERAGE_CSV = (
    "grid",
    "route",
    "checkpoint",
    "code",
    "frequency",
    "slot_start",
    "due",
    "slot_end",
    "status",
    "visited_at",
    "counted_at",
    "steward",
    "skew_flag",
)


def _freq_text(f: dict[str, Any]) -> str:
    if f["kind"] == "daily":
        return f"daily<{f['by_hour']:02d}:00"
    if f["kind"] == "twice_daily":
        return "twice_daily@" + "/".join(f"{h:02d}" for h in f["hours"])
    return f"weekly<=day{f['weekday']}"


def coverage_csv(report: dict[str, Any]) -> str:
    """One row per slot, the same values as the JSON (times in China time, ISO 8601)."""
    rows = []
    for cp in report["checkpoints"]:
        for s in cp["slots"]:
            rows.append(
                [
                    cp["grid_name"],
                    cp["route_name"],
                    cp["name"],
                    cp["code"],
                    _freq_text(cp["frequency"]),
                    s["start"],
                    s["due"],
                    s["end"],
                    s["status"],
                    s["visited_at"],
                    s["counted_at"],
                    s["steward_name"],
                    "1" if s["skew_flag"] else "0",
                ]
            )
    return to_csv(COVERAGE_CSV, rows)


# --- a steward's daily log ------------------------------------------------------------------------------


async def daily_log(
    session: AsyncSession, actor: Actor, *, now: datetime, steward_id: uuid.UUID | None = None, day: date | None = None
) -> dict[str, Any]:
    """Her walks (started that day), findings (captured that day), orders she raised and callbacks she
    made (server time, that day). She reads her own; team leads, supervisors and admins any of their
    estate; others get 404."""
    require_reader(actor)
    staff = await _person(session, actor, steward_id or actor.staff_id)
    if staff.id != actor.staff_id and actor.role not in LEADS:
        raise NotFound("steward")
    day = day or today(now)
    start, end = (t.astimezone(UTC) for t in period_bounds("day", day))
    walk_ids = list(
        (
            await session.scalars(
                select(Walk.id)
                .where(Walk.steward_id == staff.id, Walk.started_at >= start, Walk.started_at < end)
                .order_by(Walk.started_at)
            )
        ).all()
    )
    finding_ids = list(
        (
            await session.scalars(
                select(Finding.id)
                .where(Finding.author_id == staff.id, Finding.captured_at >= start, Finding.captured_at < end)
                .order_by(Finding.captured_at)
            )
        ).all()
    )
    walks = {r["id"]: r for r in await walks_by_id(session, walk_ids)}
    findings = {r["id"]: r for r in await findings_by_id(session, finding_ids)}
    orders = (
        await session.scalars(
            select(Order)
            .where(Order.created_by == staff.id, Order.created_at >= start, Order.created_at < end)
            .order_by(Order.created_at, Order.number)
        )
    ).all()
    callbacks = (
        await session.execute(
            select(Callback, Order.number)
            .join(Order, Order.id == Callback.order_id)
            .where(Callback.staff_id == staff.id, Callback.created_at >= start, Callback.created_at < end)
            .order_by(Callback.created_at)
        )
    ).all()
    return {
        "steward": {"id": str(staff.id), "name": staff.name},
        "day": day.isoformat(),
        "walks": [walks[str(i)] for i in walk_ids],
        "findings": [findings[str(i)] for i in finding_ids],
        "orders_raised": [
            {
                "id": str(o.id),
                "number": o.number,
                "kind": str(o.kind),
                "category": str(o.category),
                "status": str(o.status),
                "finding_id": str(o.finding_id) if o.finding_id else None,
                "created_at": o.created_at.isoformat(),
            }
            for o in orders
        ],
        "callbacks_done": [
            {
                "id": str(c.id),
                "order_id": str(c.order_id),
                "order_number": number,
                "result": c.result,
                "created_at": c.created_at.isoformat(),
            }
            for c, number in callbacks
        ],
    }


DAILY_CSV = ("type", "time", "id", "summary", "status")


def daily_log_csv(log: dict[str, Any]) -> str:
    rows = []
    for w in log["walks"]:
        rows.append(
            ["walk", w["started_at"], w["id"], f"{w['visit_count']} visits, {w['finding_count']} findings", w["status"]]
        )
    for f in log["findings"]:
        rows.append(["finding", f["captured_at"], f["id"], f"{f['category']}: {f['note']}", f["order_number"] or ""])
    for o in log["orders_raised"]:
        rows.append(["order", o["created_at"], o["id"], f"{o['number']} {o['kind']}/{o['category']}", o["status"]])
    for c in log["callbacks_done"]:
        rows.append(["callback", c["created_at"], c["id"], c["order_number"], c["result"]])
    return to_csv(DAILY_CSV, rows)


async def month_figures(
    session: AsyncSession, actor: Actor, steward: Staff, start: datetime, end: datetime, now: datetime
) -> dict:
    """For the monthly scorecard: her walks and the on-time share of her grids' checkpoint slots.

    Only slots already due count (``checkpoint_slots`` = on time + late + missed): in the middle of a
    month the slots still to come are ``checkpoints_pending``, not failures and not part of the base."""
    walks = len(
        (
            await session.scalars(
                select(Walk.id).where(Walk.steward_id == steward.id, Walk.started_at >= start, Walk.started_at < end)
            )
        ).all()
    )
    report = await coverage(
        session, actor, now=now, steward_id=steward.id, period="month", day=start.astimezone(CHINA).date()
    )
    mine = next((s for s in report["totals"]["stewards"] if s["steward_id"] == str(steward.id)), _rate(_counts()))
    return {
        "walks": walks,
        "checkpoint_slots": mine["on_time"] + mine["late"] + mine["missed"],
        "checkpoints_on_time": mine["on_time"],
        "checkpoints_late": mine["late"],
        "checkpoints_missed": mine["missed"],
        "checkpoints_pending": mine["pending"],
        "checkpoints_on_time_rate": mine["on_time_rate"],
    }
