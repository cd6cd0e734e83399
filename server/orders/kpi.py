"""KPIs for an estate (optionally one grid or department) over a period of order creation.

Definitions (the targets come from the source documents, DESIGN.md §1):

- complaint_timeliness: of the complaints created in the period whose outcome is known (resolved,
  or still open past a deadline), the share first contacted and resolved within their SLA.
  Target ≥ 95 %.
- repeat_complaint_rate: complaints flagged as repeats (same household and category within 30 days)
  over all complaints. Target ≤ 3 %.
- satisfaction: (very_satisfied + satisfied) over all ratings of the period's orders. Target ≥ 90 %.
- callback_rate: completed orders of kinds that need a callback (complaint, repair, emergency) that
  have at least one callback, over those completed orders. Target 100 %.
- response / resolution minutes: created → accepted and created → completed; median, p90, mean.
- interaction_rate (业主月度互动率): occupied households (``households.occupied``) of the scope with at
  least one two-way interaction in the period, over the occupied households. An interaction is any
  of: an order created for the household (reported by phone, at the desk, in the owners' group, from
  a poster's QR code or by the steward on a visit — every kind except the system's 回访 orders); a
  rating of one of its orders given in the period; a callback in the period that reached the owner
  (result ``reached_*``); a walk finding (巡查记录) captured in the period whose location names the
  household. The target (≥ 40 %) is set for a month; the dashboard's default period is the month.
- convenience_coverage (便民服务覆盖率): resident households (``households.resident``, 常住户) served by
  at least one 便民 (convenience) order created in the 365 days up to the period's end (rolling
  12 months, whatever the period), over the resident households. Target ≥ 80 %.
- response_speedup (服务响应速度提升50%): baseline median response ÷ this period's median response
  − 1, where the baseline is the median response of the orders created in the estate's baseline
  period (``estates.response_baseline_from/to``, China-time days, set by its supervisor). +50 %
  speed = the median response time down to two thirds of the baseline's. Target ≥ 0.5; None until
  the estate sets a baseline or while either median is unknown.
- after-hours split (seed 002: 晚8点后、周末 接通率仅68%): an order is *after hours* when it was
  created on a Saturday or Sunday, or before 08:00 or from 20:00 on a weekday (China time); else
  *office*. For each: orders, response and resolution minutes, and SLA timeliness = of the orders
  whose first contact or resolution has been judged (contact_late / resolve_late known), the share
  with neither late.
- volume: total, by kind, by category, by hour of day (China time).

Counts are aggregated in SQL; only the response and resolution minutes come back as plain numbers
for the percentiles on SQLite (it has no percentile function); PostgreSQL computes the same
interpolation with ``percentile_cont``, so both databases give the same figures.
The estate/created range is answered from one covering index (``ix_orders_kpi``): a month of a large
estate costs index reads, not lookups of its (wide) order rows.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Integer, and_, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.exports import to_csv as export_csv
from server.orders.models import Callback, Kind, Order, Rating, Status
from server.sites.models import Estate, Household
from server.walks.models import Finding

CHINA = timezone(timedelta(hours=8))
TARGETS = {
    "complaint_timeliness": 0.95,
    "repeat_complaint_rate": 0.03,
    "satisfaction": 0.90,
    "callback_rate": 1.0,
    "interaction_rate": 0.40,
    "convenience_coverage": 0.80,
    "response_speedup": 0.50,
}
COVERAGE_WINDOW = timedelta(days=365)
OFFICE_HOURS = (8, 20)  # weekdays 08:00–20:00 China time; everything else is after hours
CALLBACK_KINDS = (Kind.complaint, Kind.repair, Kind.emergency)
DONE = (Status.completed, Status.rated, Status.called_back, Status.closed)


@dataclass(frozen=True)
class Scope:
    estate_id: uuid.UUID
    start: datetime
    end: datetime
    grid_id: uuid.UUID | None = None
    department: str | None = None
    #: Several estates at once (the company's figures); ``estate_id`` is then the first of them.
    estate_ids: tuple[uuid.UUID, ...] = ()

    def estate(self, col):
        """The WHERE clause keeping rows of the scope's estate(s) in ``col``."""
        return col.in_(self.estate_ids) if self.estate_ids else col == self.estate_id


@dataclass
class Durations:
    count: int = 0
    median_min: float | None = None
    p90_min: float | None = None
    mean_min: float | None = None


@dataclass
class Shift:
    """Office hours or after hours (see the header)."""

    orders: int = 0
    judged: int = 0
    sla_timeliness: float | None = None
    response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)


@dataclass
class Kpis:
    start: str
    end: str
    orders: int = 0
    complaints: int = 0
    complaint_timeliness: float | None = None
    complaints_judged: int = 0
    repeat_complaint_rate: float | None = None
    satisfaction: float | None = None
    ratings: int = 0
    callback_rate: float | None = None
    callbacks_due: int = 0
    response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)
    by_kind: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    interaction_rate: float | None = None
    interacting_households: int = 0
    occupied_households: int = 0
    convenience_coverage: float | None = None
    served_households: int = 0
    resident_households: int = 0
    response_speedup: float | None = None
    baseline: dict | None = None  # {from, to, response: Durations} once the estate set one
    office: Shift = field(default_factory=lambda: Shift())
    after_hours: Shift = field(default_factory=lambda: Shift())

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (the same as numpy's default)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def durations(values: list[float]) -> Durations:
    values = sorted(values)
    if not values:
        return Durations()
    return Durations(
        count=len(values),
        median_min=round(percentile(values, 0.5), 1),
        p90_min=round(percentile(values, 0.9), 1),
        mean_min=round(sum(values) / len(values), 1),
    )


async def _durations_in_sql(session: AsyncSession, where, *columns) -> list[Durations]:
    """PostgreSQL's ``percentile_cont`` is the same linear interpolation as :func:`percentile`, so the
    figures match SQLite's (computed here from the values) without sending every value back."""
    aggregates = []
    for col in columns:
        aggregates += [
            func.count(col),
            func.percentile_cont(0.5).within_group(col),
            func.percentile_cont(0.9).within_group(col),
            func.avg(col),
        ]
    row = (await session.execute(select(*aggregates).where(where))).one()
    out = []
    for i in range(0, len(row), 4):
        n, median, p90, mean = row[i : i + 4]
        out.append(
            Durations(count=n, median_min=round(median, 1), p90_min=round(p90, 1), mean_min=round(float(mean), 1))
            if n
            else Durations()
        )
    return out


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _where(scope: Scope):
    clauses = [scope.estate(Order.estate_id), Order.created_at >= scope.start, Order.created_at < scope.end]
    if scope.grid_id is not None:
        clauses.append(Order.grid_id == scope.grid_id)
    if scope.department is not None:
        clauses.append(Order.department == scope.department)
    return and_(*clauses)


def _minutes_between(dialect: str, a, b):
    """SQL for the minutes from column ``a`` to column ``b`` (NULL if either is NULL)."""
    if dialect == "sqlite":
        return (func.julianday(b) - func.julianday(a)) * 1440.0
    return func.extract("epoch", b - a) / 60.0


def _china_hour(dialect: str, col):
    if dialect == "sqlite":
        return cast(func.strftime("%H", col, "+8 hours"), Integer)
    return cast(func.extract("hour", func.timezone("Asia/Shanghai", col)), Integer)


def china_weekday(dialect: str, col):
    """0 = Sunday … 6 = Saturday, China time (SQLite's %w and PostgreSQL's dow agree)."""
    if dialect == "sqlite":
        return cast(func.strftime("%w", col, "+8 hours"), Integer)
    return cast(func.extract("dow", func.timezone("Asia/Shanghai", col)), Integer)


def after_hours_clause(dialect: str, col=None):
    """True for an order created after hours (weekend, or outside 08:00–20:00 on a weekday)."""
    col = Order.created_at if col is None else col
    hour, dow = _china_hour(dialect, col), china_weekday(dialect, col)
    return or_(dow.in_((0, 6)), hour < OFFICE_HOURS[0], hour >= OFFICE_HOURS[1])


def is_after_hours(at: datetime) -> bool:
    local = at.astimezone(CHINA)
    return local.weekday() >= 5 or not OFFICE_HOURS[0] <= local.hour < OFFICE_HOURS[1]


def sla_clauses():
    """(judged, timely) of an order's SLA: first contact or resolution judged; neither late."""
    judged = or_(Order.contact_late.is_not(None), Order.resolve_late.is_not(None))
    timely = and_(
        or_(Order.contact_late.is_(None), Order.contact_late.is_(False)),
        or_(Order.resolve_late.is_(None), Order.resolve_late.is_(False)),
    )
    return judged, timely


def household_clauses(scope: Scope) -> list:
    clauses = [scope.estate(Household.estate_id)]
    if scope.grid_id is not None:
        clauses.append(Household.grid_id == scope.grid_id)
    return clauses


CHUNK = 900  # ids per IN list (well inside every database's parameter limit)


def _chunks(ids: list) -> list[list]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


async def interacting(session: AsyncSession, scope: Scope) -> dict[str, uuid.UUID]:
    """The occupied households of the scope with an interaction in its period: id (text) → estate.

    Each kind of interaction is read from its own time index (orders by estate and creation, ratings
    by estate and the time given, callbacks by the time made, findings by estate) and the households
    are then looked up by key: no query walks every order of the estate to find a month's ratings."""
    period = (scope.start, scope.end)
    found: set[uuid.UUID] = set(
        (
            await session.scalars(
                select(Order.household_id)
                .where(_where(scope), Order.household_id.is_not(None), Order.kind != Kind.callback)
                .distinct()
            )
        ).all()
    )
    rated = select(Rating.order_id).where(
        scope.estate(Rating.estate_id), Rating.created_at >= period[0], Rating.created_at < period[1]
    )
    reached = select(Callback.order_id).where(
        Callback.created_at >= period[0], Callback.created_at < period[1], Callback.result.like("reached%")
    )
    order_ids = set((await session.scalars(rated)).all()) | set((await session.scalars(reached)).all())
    for chunk in _chunks(sorted(order_ids)):
        found.update(
            (
                await session.scalars(
                    select(Order.household_id).where(
                        Order.id.in_(chunk), scope.estate(Order.estate_id), Order.household_id.is_not(None)
                    )
                )
            ).all()
        )
    # Finding locations hold the id as text (JSON).
    named = Finding.location["household_id"].as_string()
    visited = select(named).where(
        scope.estate(Finding.estate_id),
        named.is_not(None),
        Finding.captured_at >= period[0],
        Finding.captured_at < period[1],
    )
    for text in (await session.scalars(visited.distinct())).all():
        try:
            found.add(uuid.UUID(str(text)))
        except ValueError:
            continue
    out: dict[str, uuid.UUID] = {}
    for chunk in _chunks(sorted(found)):
        rows = await session.execute(
            select(Household.id, Household.estate_id).where(
                Household.id.in_(chunk), *household_clauses(scope), Household.occupied.is_(True)
            )
        )
        out.update({str(h): e for h, e in rows.all()})
    return out


def served_query(scope: Scope):
    """Resident households of the scope with a 便民 order in the 365 days up to the period's end."""
    return (
        select(Household.estate_id, func.count(func.distinct(Order.household_id)))
        .join(Household, Household.id == Order.household_id)
        .where(
            *household_clauses(scope),
            Household.resident.is_(True),
            scope.estate(Order.estate_id),
            Order.kind == Kind.convenience,
            Order.created_at >= scope.end - COVERAGE_WINDOW,
            Order.created_at < scope.end,
        )
        .group_by(Household.estate_id)
    )


def household_counts(scope: Scope):
    """Per estate: (occupied, resident) households of the scope."""
    return (
        select(
            Household.estate_id,
            func.count().filter(Household.occupied.is_(True)),
            func.count().filter(Household.resident.is_(True)),
        )
        .where(*household_clauses(scope))
        .group_by(Household.estate_id)
    )


async def household_figures(session: AsyncSession, scope: Scope, k: Kpis, keep: dict | None = None) -> None:
    counts = (await session.execute(household_counts(scope))).all()
    k.occupied_households = sum(o for _, o, _ in counts)
    k.resident_households = sum(r for _, _, r in counts)
    found = await interacting(session, scope)
    if keep is not None:  # the analysis report splits the same households by estate
        keep.update(found)
    k.interacting_households = len(found)
    k.interaction_rate = _ratio(k.interacting_households, k.occupied_households)
    k.served_households = sum(n for _, n in (await session.execute(served_query(scope))).all())
    k.convenience_coverage = _ratio(k.served_households, k.resident_households)


async def _durations(session: AsyncSession, dialect: str, where) -> tuple[Durations, Durations]:
    response = _minutes_between(dialect, Order.created_at, Order.accepted_at)
    resolution = _minutes_between(dialect, Order.created_at, Order.completed_at)
    if dialect == "postgresql":
        a, b = await _durations_in_sql(session, where, response, resolution)
        return a, b
    rows = (
        await session.execute(
            select(response, resolution).where(
                where, or_(Order.accepted_at.is_not(None), Order.completed_at.is_not(None))
            )
        )
    ).all()
    return durations([r for r, _ in rows if r is not None]), durations([c for _, c in rows if c is not None])


async def shift_figures(session: AsyncSession, dialect: str, where, k: Kpis) -> None:
    """Office hours and after hours in one grouped pass (and on SQLite one read of the minutes)."""
    judged, timely = sla_clauses()
    late = after_hours_clause(dialect).label("after")
    response = _minutes_between(dialect, Order.created_at, Order.accepted_at)
    resolution = _minutes_between(dialect, Order.created_at, Order.completed_at)
    shifts = {False: k.office, True: k.after_hours}
    counts = [func.count(), func.count().filter(judged), func.count().filter(and_(judged, timely))]
    if dialect == "postgresql":
        extra = []
        for col in (response, resolution):
            extra += [
                func.count(col),
                func.percentile_cont(0.5).within_group(col),
                func.percentile_cont(0.9).within_group(col),
                func.avg(col),
            ]
        rows = (await session.execute(select(late, *counts, *extra).where(where).group_by(late))).all()
        for flag, n, n_judged, n_timely, *d in rows:
            shift = shifts[bool(flag)]
            shift.orders, shift.judged, shift.sla_timeliness = n, n_judged, _ratio(n_timely, n_judged)
            shift.response, shift.resolution = (
                Durations(count=c, median_min=round(m, 1), p90_min=round(p, 1), mean_min=round(float(a), 1))
                if c
                else Durations()
                for c, m, p, a in (d[0:4], d[4:8])
            )
        return
    for flag, n, n_judged, n_timely in (await session.execute(select(late, *counts).where(where).group_by(late))).all():
        shift = shifts[bool(flag)]
        shift.orders, shift.judged, shift.sla_timeliness = n, n_judged, _ratio(n_timely, n_judged)
    values = (
        await session.execute(
            select(late, response, resolution).where(
                where, or_(Order.accepted_at.is_not(None), Order.completed_at.is_not(None))
            )
        )
    ).all()
    for flag, shift in shifts.items():
        mine = [(r, c) for f, r, c in values if bool(f) is flag]
        shift.response = durations([r for r, _ in mine if r is not None])
        shift.resolution = durations([c for _, c in mine if c is not None])


async def baseline_figures(session: AsyncSession, dialect: str, scope: Scope, k: Kpis) -> None:
    if scope.estate_ids:  # each estate has its own baseline
        return
    estate = await session.get(Estate, scope.estate_id)
    if estate is None or estate.response_baseline_from is None or estate.response_baseline_to is None:
        return
    start = datetime.combine(estate.response_baseline_from, datetime.min.time(), CHINA).astimezone(UTC)
    end = datetime.combine(estate.response_baseline_to + timedelta(days=1), datetime.min.time(), CHINA).astimezone(UTC)
    base = Scope(scope.estate_id, start, end, scope.grid_id, scope.department)
    response, _ = await _durations(session, dialect, _where(base))
    k.baseline = {
        "from": estate.response_baseline_from.isoformat(),
        "to": estate.response_baseline_to.isoformat(),
        "response": asdict(response),
    }
    if response.median_min and k.response.median_min:
        k.response_speedup = round(response.median_min / k.response.median_min - 1, 4)


async def compute(
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    *,
    extended: bool = True,
    shifts: bool = True,
    interacting_out: dict | None = None,
) -> Kpis:
    """The figures of the header; ``extended=False`` leaves out the household, after-hours and baseline
    figures, ``shifts=False`` only the after-hours split (the report's previous period)."""
    dialect = session.bind.dialect.name
    where = _where(scope)
    k = Kpis(start=scope.start.isoformat(), end=scope.end.isoformat())
    kinds: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    hour = _china_hour(dialect, Order.created_at).label("hour")
    for kind, category, h, n in (
        await session.execute(
            select(Order.kind, Order.category, hour, func.count())
            .where(where)
            .group_by(Order.kind, Order.category, hour)
        )
    ).all():
        kinds[str(kind)] += n
        categories[str(category)] += n
        k.by_hour[int(h)] += n
        k.orders += n
    k.by_kind, k.by_category = dict(kinds), dict(categories)

    # Complaints: judged once resolved (resolve_late known), contacted late, or open past a deadline.
    overdue_open = and_(Order.resolve_late.is_(None), Order.due_at.is_not(None), Order.due_at < now)
    late = or_(Order.contact_late.is_(True), Order.resolve_late.is_(True), overdue_open)
    judged = or_(Order.resolve_late.is_not(None), Order.contact_late.is_(True), overdue_open)
    complaints, repeats, n_judged, n_late = (
        await session.execute(
            select(
                func.count(),
                func.count(Order.repeat_of_id),
                func.coalesce(func.sum(case((judged, 1), else_=0)), 0),
                func.coalesce(func.sum(case((and_(judged, late), 1), else_=0)), 0),
            ).where(where, Order.kind == Kind.complaint)
        )
    ).one()
    k.complaints, k.complaints_judged = complaints, n_judged
    k.complaint_timeliness = _ratio(n_judged - n_late, n_judged)
    k.repeat_complaint_rate = _ratio(repeats, complaints)

    k.response, k.resolution = await _durations(session, dialect, where)

    if scope.grid_id is None and scope.department is None:
        # The common case (a whole estate) reads the ratings' own copy of estate and order time.
        rated = select(Rating.level, func.count()).where(
            scope.estate(Rating.estate_id),
            Rating.order_created_at >= scope.start,
            Rating.order_created_at < scope.end,
        )
    else:
        rated = select(Rating.level, func.count()).join(Order, Order.id == Rating.order_id).where(where)
    levels = (await session.execute(rated.group_by(Rating.level))).all()
    k.ratings = sum(n for _, n in levels)
    k.satisfaction = _ratio(sum(n for lvl, n in levels if str(lvl) in ("very_satisfied", "satisfied")), k.ratings)

    done = and_(_where(scope), Order.kind.in_(CALLBACK_KINDS), Order.status.in_(DONE))
    k.callbacks_due = await session.scalar(select(func.count()).select_from(Order).where(done)) or 0
    called = (
        await session.scalar(
            select(func.count(func.distinct(Callback.order_id)))
            .join(Order, Order.id == Callback.order_id)
            .where(done, Callback.result != "unreachable")  # an attempt that reached nobody is no callback
        )
        or 0
    )
    k.callback_rate = _ratio(called, k.callbacks_due)
    if extended:
        await household_figures(session, scope, k, interacting_out)
        if shifts:
            await shift_figures(session, dialect, where, k)
        await baseline_figures(session, dialect, scope, k)
    return k


def period_bounds(period: str, day: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the China-time day, ISO week or month containing ``day``."""
    local = day.astimezone(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        start, end = local, local + timedelta(days=1)
    elif period == "week":
        start = local - timedelta(days=local.weekday())
        end = start + timedelta(days=7)
    elif period == "month":
        start = local.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise ValueError(f"unknown period {period!r}")
    return start.astimezone(UTC), end.astimezone(UTC)


def previous_bounds(period: str, start: datetime) -> tuple[datetime, datetime]:
    return period_bounds(period, start - timedelta(seconds=1))


CSV_FIELDS = (
    "orders",
    "complaints",
    "complaint_timeliness",
    "repeat_complaint_rate",
    "satisfaction",
    "ratings",
    "callback_rate",
    "callbacks_due",
)


def to_csv(current: Kpis, previous: Kpis) -> str:
    rows = []
    for name in CSV_FIELDS:
        rows.append([name, getattr(current, name), getattr(previous, name), TARGETS.get(name, "")])
    for label, attr in (("response", "response"), ("resolution", "resolution")):
        for part in ("median_min", "p90_min", "mean_min"):
            rows.append(
                [f"{label}_{part}", getattr(getattr(current, attr), part), getattr(getattr(previous, attr), part), ""]
            )
    for kind, n in sorted(current.by_kind.items()):
        rows.append([f"kind:{kind}", n, previous.by_kind.get(kind, 0), ""])
    for cat, n in sorted(current.by_category.items()):
        rows.append([f"category:{cat}", n, previous.by_category.get(cat, 0), ""])
    for hour in range(24):
        rows.append([f"hour:{hour:02d}", current.by_hour[hour], previous.by_hour[hour], ""])
    return export_csv(["metric", "current", "previous", "target"], rows)
