"""The service analysis report of seed 003 (总量, 类型分布, 高峰时段, 平均处理时长, 满意度, 部门效率,
根因分析) over a China-time month, quarter or year, for one estate or for every estate the caller sees.

The period's orders are read once (the columns of the covering ``ix_orders_kpi`` index plus channel,
household and assignee) and every table is counted from those rows in Python, so SQLite and
PostgreSQL give the same figures with the same code; the headline figures come from
``server.orders.kpi.compute`` (the dashboard's definitions). Hotspots join the complaints to their
household's unit and building.

Tables (each also an XLSX sheet, see ``server.reports.xlsx``): summary (headline figures against the
targets and the previous period), trend (orders per day of a month, per month of a quarter or year),
kinds, categories, channels, heat map (weekday × hour), departments (median / p90 resolution),
satisfaction (levels) and 不满意 reasons (comments), hotspots (complaints per building / unit /
category with ≥ 2), recurring problems (household + category with ≥ 2 orders, their numbers),
stewards (per grid they look after) and technicians (per assignee), and per estate for the company.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Role, Staff, StaffGrid
from server.accounts.scope import Actor
from server.errors import NotFound
from server.orders import kpi
from server.orders.models import Kind, Order, Rating, RatingLevel
from server.sites.models import Building, Estate, Household, Unit

Period = Literal["month", "quarter", "year"]
READERS = (Role.admin, Role.supervisor, Role.team_lead)
GOOD = (RatingLevel.very_satisfied, RatingLevel.satisfied)
HEADLINE = (
    "orders",
    "complaints",
    "complaint_timeliness",
    "repeat_complaint_rate",
    "satisfaction",
    "callback_rate",
    "interaction_rate",
    "convenience_coverage",
    "response_speedup",
)
LOWER_IS_BETTER = {"repeat_complaint_rate"}
PER_ESTATE = (
    "orders",
    "complaints",
    "complaint_timeliness",
    "satisfaction",
    "interaction_rate",
    "convenience_coverage",
    "response_speedup",
)
RECURRING_MIN = 2
TOP = 10


def bounds(period: Period, year: int, number: int) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a China-time month (number 1–12), quarter (1–4) or year (number ignored)."""
    if period == "month":
        first, months = (year, number), 1
    elif period == "quarter":
        first, months = (year, 3 * (number - 1) + 1), 3
    else:
        first, months = (year, 1), 12
    start = datetime(first[0], first[1], 1, tzinfo=kpi.CHINA)
    end_month = first[1] - 1 + months
    end = datetime(first[0] + end_month // 12, end_month % 12 + 1, 1, tzinfo=kpi.CHINA)
    return start.astimezone(UTC), end.astimezone(UTC)


def previous(period: Period, year: int, number: int) -> tuple[int, int]:
    if period == "year":
        return year - 1, 1
    last = 12 if period == "month" else 4
    return (year - 1, last) if number == 1 else (year, number - 1)


def label(period: Period, year: int, number: int) -> str:
    if period == "month":
        return f"{year}年{number}月"
    if period == "quarter":
        return f"{year}年第{number}季度"
    return f"{year}年"


async def estates_for(session: AsyncSession, actor: Actor, estate_id: uuid.UUID | None) -> list[Estate]:
    """The estates the report covers: the one asked for (404 outside the caller's scope), or every
    estate of the company the caller sees (an admin: all; a supervisor or team lead: her own)."""
    actor.require_role(*READERS)
    if estate_id is not None:
        estate = await session.get(Estate, estate_id)
        if estate is None or estate.company_id != actor.company_id or not actor.sees_estate(estate.id):
            raise NotFound("estate")
        return [estate]
    return list(
        (
            await session.scalars(
                select(Estate)
                .where(Estate.company_id == actor.company_id, actor.where_estate(Estate.id))
                .order_by(Estate.name)
            )
        ).all()
    )


def _minutes(a: datetime | None, b: datetime | None) -> float | None:
    return (b - a).total_seconds() / 60 if a and b else None


def _dur(values: list[float]) -> dict:
    return asdict(kpi.durations(values))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def _orders(session: AsyncSession, estate_ids: list[uuid.UUID], start: datetime, end: datetime) -> list:
    return list(
        (
            await session.execute(
                select(
                    Order.id,
                    Order.estate_id,
                    Order.grid_id,
                    Order.household_id,
                    Order.kind,
                    Order.category,
                    Order.channel,
                    Order.department,
                    Order.assignee_id,
                    Order.status,
                    Order.created_at,
                    Order.accepted_at,
                    Order.completed_at,
                    Order.contact_late,
                    Order.resolve_late,
                    Order.due_at,
                    Order.repeat_of_id,
                    Order.number,
                ).where(Order.estate_id.in_(estate_ids), Order.created_at >= start, Order.created_at < end)
            )
        ).all()
    )


def _buckets(period: Period, start: datetime, end: datetime) -> list[str]:
    out = []
    day = start.astimezone(kpi.CHINA)
    stop = end.astimezone(kpi.CHINA)
    while day < stop:
        out.append(day.strftime("%m-%d") if period == "month" else day.strftime("%Y-%m"))
        day = day + timedelta(days=1) if period == "month" else (day + timedelta(days=32)).replace(day=1)
    return out


def _bucket(period: Period, at: datetime) -> str:
    local = at.astimezone(kpi.CHINA)
    return local.strftime("%m-%d") if period == "month" else local.strftime("%Y-%m")


def _scope(estates: list[Estate], start: datetime, end: datetime) -> kpi.Scope:
    ids = tuple(e.id for e in estates)
    return kpi.Scope(ids[0], start, end, estate_ids=ids if len(ids) > 1 else ())


async def _headline(
    session: AsyncSession, estates: list[Estate], start, end, now, *, shifts: bool = True, keep: dict | None = None
) -> dict:
    """kpi.compute over the estate, or over all of them at once (the company: one set of queries)."""
    k = await kpi.compute(session, _scope(estates, start, end), now, shifts=shifts, interacting_out=keep)
    return k.as_dict()


async def _per_estate(session, estates, rows, ratings, start, end, now, interacting: dict) -> list[dict]:
    """The headline figures per estate, counted from the period's rows and a few grouped queries
    (the same definitions as kpi.compute, which the single-estate test holds them to)."""
    scope = _scope(estates, start, end)
    out = {
        e.id: {"orders": 0, "complaints": 0, "judged": 0, "late": 0, "ratings": 0, "good": 0, "response": []}
        for e in estates
    }
    for r in rows:
        o = out[r.estate_id]
        o["orders"] += 1
        response = _minutes(r.created_at, r.accepted_at)
        if response is not None:
            o["response"].append(response)
        if r.kind is not Kind.complaint and str(r.kind) != "complaint":
            continue
        o["complaints"] += 1
        overdue_open = r.resolve_late is None and r.due_at is not None and r.due_at < now
        if r.resolve_late is not None or r.contact_late or overdue_open:
            o["judged"] += 1
            o["late"] += bool(r.contact_late or r.resolve_late or overdue_open)
    for lv, _c, _a, _n, _oid, _cat, estate_id in ratings:
        out[estate_id]["ratings"] += 1
        out[estate_id]["good"] += lv in GOOD
    counts = {e: (occ, res) for e, occ, res in (await session.execute(kpi.household_counts(scope))).all()}
    talked = Counter(interacting.values())  # the headline's households (kpi.interacting), by estate
    served = dict((await session.execute(kpi.served_query(scope))).all())
    table = []
    for e in estates:
        o = out[e.id]
        occupied, resident = counts.get(e.id, (0, 0))
        speedup = None
        if e.response_baseline_from and e.response_baseline_to:
            k = kpi.Kpis(start="", end="", response=kpi.durations(o["response"]))
            await kpi.baseline_figures(session, session.bind.dialect.name, kpi.Scope(e.id, start, end), k)
            speedup = k.response_speedup
        table.append(
            {
                "estate_id": str(e.id),
                "estate": e.name,
                "orders": o["orders"],
                "complaints": o["complaints"],
                "complaint_timeliness": _ratio(o["judged"] - o["late"], o["judged"]),
                "satisfaction": _ratio(o["good"], o["ratings"]),
                "interaction_rate": _ratio(talked.get(e.id, 0), occupied),
                "convenience_coverage": _ratio(served.get(e.id, 0), resident),
                "response_speedup": speedup,
            }
        )
    return table


async def report(
    session: AsyncSession,
    actor: Actor,
    estate_id: uuid.UUID | None,
    period: Period,
    year: int,
    number: int,
    now: datetime,
) -> dict[str, Any]:
    estates = await estates_for(session, actor, estate_id)
    if not estates:
        raise NotFound("estate")
    start, end = bounds(period, year, number)
    py, pn = previous(period, year, number)
    p_start, p_end = bounds(period, py, pn)
    ids = [e.id for e in estates]
    rows = await _orders(session, ids, start, end)
    talked: dict = {}
    headline = await _headline(session, estates, start, end, now, keep=talked)
    prev_headline = await _headline(session, estates, p_start, p_end, now, shifts=False)
    names = dict(
        (await session.execute(select(Staff.id, Staff.name).where(Staff.company_id == actor.company_id))).all()
    )

    trend = Counter(_bucket(period, r.created_at) for r in rows)
    heat = [[0] * 24 for _ in range(7)]  # Monday first
    shifts: dict[str, dict[str, list]] = {"office": defaultdict(list), "after_hours": defaultdict(list)}
    departments: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    techs: dict[Any, dict[str, Any]] = defaultdict(lambda: {"orders": 0, "done": 0, "late": 0, "resolution": []})
    for r in rows:
        local = r.created_at.astimezone(kpi.CHINA)
        heat[local.weekday()][local.hour] += 1
        response, resolution = _minutes(r.created_at, r.accepted_at), _minutes(r.created_at, r.completed_at)
        shift = shifts["after_hours" if kpi.is_after_hours(r.created_at) else "office"]
        shift["orders"].append(r.id)
        if response is not None:
            shift["response"].append(response)
        if resolution is not None:
            shift["resolution"].append(resolution)
        if r.contact_late is not None or r.resolve_late is not None:
            shift["judged"].append(not (r.contact_late or r.resolve_late))
        d = departments[r.department]
        d["orders"].append(r.id)
        if resolution is not None:
            d["resolution"].append(resolution)
        if r.assignee_id is not None:
            t = techs[r.assignee_id]
            t["orders"] += 1
            t["done"] += r.status in kpi.DONE
            t["late"] += bool(r.resolve_late)
            if resolution is not None:
                t["resolution"].append(resolution)

    ratings = (
        await session.execute(
            select(
                Rating.level,
                Rating.comment,
                Order.assignee_id,
                Order.number,
                Order.id,
                Order.category,
                Rating.estate_id,
            )
            .join(Order, Order.id == Rating.order_id)
            .where(Rating.estate_id.in_(ids), Rating.order_created_at >= start, Rating.order_created_at < end)
        )
    ).all()
    levels = Counter(str(lv) for lv, *_ in ratings)
    reasons: Counter[str] = Counter()
    reason_orders: dict[str, list[str]] = defaultdict(list)
    for lv, comment, assignee, num, _oid, _cat, _estate in ratings:
        if assignee is not None:
            t = techs[assignee]
            t.setdefault("ratings", 0)
            t.setdefault("good", 0)
            t["ratings"] += 1
            t["good"] += lv in GOOD
        if lv is RatingLevel.unsatisfied or str(lv) == "unsatisfied":
            reason = (comment or "").strip() or "（未填写原因）"
            reasons[reason] += 1
            reason_orders[reason].append(num)

    hot = (
        await session.execute(
            select(Building.name, Unit.name, Order.category, Order.number, Order.estate_id)
            .join(Household, Household.id == Order.household_id)
            .join(Unit, Unit.id == Household.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .where(
                Order.estate_id.in_(ids),
                Order.kind == Kind.complaint,
                Order.created_at >= start,
                Order.created_at < end,
            )
        )
    ).all()
    estate_names = {e.id: e.name for e in estates}
    spots: dict[tuple, list[str]] = defaultdict(list)
    for b, u, cat, num, est in hot:
        spots[(estate_names[est], b, u, str(cat))].append(num)
    hotspots = sorted(
        (
            {"estate": k[0], "building": k[1], "unit": k[2], "category": k[3], "count": len(v), "orders": sorted(v)}
            for k, v in spots.items()
            if len(v) >= RECURRING_MIN
        ),
        key=lambda h: (-h["count"], h["building"], h["unit"], h["category"]),
    )[:TOP]

    problems: dict[tuple, list] = defaultdict(list)
    for r in rows:
        if r.household_id is not None and r.kind in (Kind.complaint, Kind.repair, Kind.emergency):
            problems[(r.household_id, str(r.category))].append(r)
    labels = {}
    if problems:
        hids = list({h for h, _ in problems})
        found = await session.execute(select(Household.id, Household.label).where(Household.id.in_(hids)))
        labels = dict(found.all())
    recurring = sorted(
        (
            {
                "household": labels.get(h, ""),
                "category": cat,
                "count": len(v),
                "orders": [o.number for o in sorted(v, key=lambda o: o.created_at)],
                "order_ids": [str(o.id) for o in sorted(v, key=lambda o: o.created_at)],
            }
            for (h, cat), v in problems.items()
            if len(v) >= RECURRING_MIN
        ),
        key=lambda p: (-p["count"], p["household"], p["category"]),
    )[:TOP]

    stewards = await _stewards(session, ids, rows, ratings)

    def shift_out(s: dict[str, list]) -> dict:
        judged = s["judged"]
        return {
            "orders": len(s["orders"]),
            "judged": len(judged),
            "sla_timeliness": _ratio(sum(judged), len(judged)),
            "response": _dur(s["response"]),
            "resolution": _dur(s["resolution"]),
        }

    changes = {}
    for name in HEADLINE:
        cur, before = headline.get(name), prev_headline.get(name)
        changes[name] = {
            "current": cur,
            "previous": before,
            "delta": None if cur is None or before is None else round(cur - before, 4),
        }
    return {
        "scope": "estate" if estate_id else "company",
        "estates": [{"id": str(e.id), "name": e.name} for e in estates],
        "period": period,
        "year": year,
        "number": number,
        "label": label(period, year, number),
        "previous_label": label(period, py, pn),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "generated_at": now.isoformat(),
        "targets": kpi.TARGETS,
        "headline": headline,
        "changes": changes,
        "trend": [{"bucket": b, "orders": trend.get(b, 0)} for b in _buckets(period, start, end)],
        "by_kind": dict(Counter(str(r.kind) for r in rows).most_common()),
        "by_category": dict(Counter(str(r.category) for r in rows).most_common()),
        "by_channel": dict(Counter(str(r.channel) for r in rows).most_common()),
        "heatmap": heat,
        "shifts": {name: shift_out(s) for name, s in shifts.items()},
        "departments": [
            {"department": dep, "orders": len(d["orders"]), "resolution": _dur(d["resolution"])}
            for dep, d in sorted(departments.items(), key=lambda kv: -len(kv[1]["orders"]))
        ],
        "satisfaction": {lv.value: levels.get(lv.value, 0) for lv in RatingLevel},
        "unsatisfied_reasons": [
            {"reason": text, "count": n, "orders": sorted(reason_orders[text])} for text, n in reasons.most_common(TOP)
        ],
        "hotspots": hotspots,
        "recurring": recurring,
        "stewards": stewards,
        "technicians": sorted(
            (
                {
                    "id": str(sid),
                    "name": names.get(sid, ""),
                    "orders": t["orders"],
                    "done": t["done"],
                    "resolve_late": t["late"],
                    "resolution": _dur(t["resolution"]),
                    "ratings": t.get("ratings", 0),
                    "satisfaction": _ratio(t.get("good", 0), t.get("ratings", 0)),
                }
                for sid, t in techs.items()
            ),
            key=lambda t: (-t["orders"], t["name"]),
        ),
        "per_estate": (
            [{"estate_id": str(estates[0].id), "estate": estates[0].name, **{n: headline[n] for n in PER_ESTATE}}]
            if len(estates) == 1
            else await _per_estate(session, estates, rows, ratings, start, end, now, talked)
        ),
    }


async def _stewards(session: AsyncSession, estate_ids: list[uuid.UUID], rows: list, ratings: list) -> list[dict]:
    """Per steward: the orders, complaints, repeats and satisfaction of the grids she looks after."""
    pairs = (
        await session.execute(
            select(Staff.id, Staff.name, StaffGrid.grid_id)
            .join(StaffGrid, StaffGrid.staff_id == Staff.id)
            .where(Staff.role == Role.steward, Staff.estate_id.in_(estate_ids))
        )
    ).all()
    grids_of: dict[Any, set] = defaultdict(set)
    name_of = {}
    for sid, name, gid in pairs:
        grids_of[sid].add(gid)
        name_of[sid] = name
    by_grid: dict[Any, list] = defaultdict(list)
    for r in rows:
        by_grid[r.grid_id].append(r)
    grid_of_order = {r.id: r.grid_id for r in rows}
    rated_by_grid: dict[Any, list] = defaultdict(list)
    for lv, _c, _a, _n, oid, _cat, _e in ratings:
        rated_by_grid[grid_of_order.get(oid)].append(lv)
    out = []
    for sid, grids in grids_of.items():
        mine = [r for g in grids for r in by_grid.get(g, ())]
        complaints = [r for r in mine if r.kind is Kind.complaint or str(r.kind) == "complaint"]
        rated = [lv for g in grids for lv in rated_by_grid.get(g, ())]
        judged = [r for r in complaints if r.resolve_late is not None or r.contact_late]
        out.append(
            {
                "id": str(sid),
                "name": name_of[sid],
                "orders": len(mine),
                "complaints": len(complaints),
                "repeats": sum(r.repeat_of_id is not None for r in complaints),
                "complaint_timeliness": _ratio(
                    sum(not (r.contact_late or r.resolve_late) for r in judged), len(judged)
                ),
                "ratings": len(rated),
                "satisfaction": _ratio(sum(lv in GOOD for lv in rated), len(rated)),
                "done": sum(r.status in kpi.DONE for r in mine),
            }
        )
    return sorted(out, key=lambda s: s["name"])


# The drill-down filters each figure of the report sets (see routes: GET /api/reports/orders).
def drill_where(
    estate_ids: list[uuid.UUID],
    start: datetime,
    end: datetime,
    dialect: str,
    *,
    kind: str | None = None,
    category: str | None = None,
    channel: str | None = None,
    department: str | None = None,
    weekday: int | None = None,
    hour: int | None = None,
    shift: str | None = None,
    assignee_id: uuid.UUID | None = None,
    grid_ids: list[uuid.UUID] | None = None,
    order_ids: list[uuid.UUID] | None = None,
    late: bool | None = None,
):
    clauses = [Order.estate_id.in_(estate_ids), Order.created_at >= start, Order.created_at < end]
    if kind:
        clauses.append(Order.kind == kind)
    if category:
        clauses.append(Order.category == category)
    if channel:
        clauses.append(Order.channel == channel)
    if department:
        clauses.append(Order.department == department)
    if weekday is not None:  # Monday = 0, as the heat map
        clauses.append(kpi.china_weekday(dialect, Order.created_at) == (weekday + 1) % 7)
    if hour is not None:
        clauses.append(kpi._china_hour(dialect, Order.created_at) == hour)
    if shift == "after_hours":
        clauses.append(kpi.after_hours_clause(dialect))
    elif shift == "office":
        clauses.append(~kpi.after_hours_clause(dialect))
    if assignee_id is not None:
        clauses.append(Order.assignee_id == assignee_id)
    if grid_ids is not None:
        clauses.append(Order.grid_id.in_(grid_ids))
    if order_ids is not None:
        clauses.append(Order.id.in_(order_ids))
    if late:
        clauses.append(or_(Order.contact_late.is_(True), Order.resolve_late.is_(True)))
    return and_(*clauses)
