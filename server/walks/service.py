"""Walk-abouts (巡查): the rules. Routes and checkpoints are set up by the estate's leads; walks,
checkpoint visits and findings arrive from the steward's phone (``walk.*`` mutations, see
mutations.py) and a finding becomes a dispatched work order in one step.

Scope: a steward reads and walks the grids she owns; team leads, supervisors and admins walk and read
within their estate (the front desk reads); technicians see no walk records at all (403 on the HTTP
API, nothing in pull). A record outside the actor's scope is 404, the same as a missing one.
Every syncable change is recorded for the audiences ``grid:<grid>`` and ``estate:<estate>``.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Role
from server.accounts.scope import Actor
from server.clock import effective_time
from server.errors import Conflict, DomainError, Forbidden, NotFound
from server.ids import uuid7
from server.orders import lifecycle, routing
from server.orders.lifecycle import HTTP_ORIGIN, NewOrder, Origin
from server.orders.models import Category, Channel, Kind, Order, OrderEvent, Status
from server.photos.models import photo_refs_any
from server.sites.models import Building, Grid, Household, Unit
from server.syncing import changelog
from server.walks.models import Checkpoint, CheckpointVisit, Finding, Walk, WalkRoute

WALKERS = (Role.steward, Role.team_lead, Role.supervisor, Role.admin)
EDITORS = (Role.team_lead, Role.supervisor, Role.admin)
READERS = (*WALKERS, Role.front_desk)
MAX_PHOTOS = 9
SHA256 = re.compile(r"^[0-9a-f]{64}$")
ITEM_KEY = re.compile(r"^[a-z0-9_]{1,40}$")
# 10 characters from A–Z and 2–9 without the look-alikes I, L, O (0 and 1 are not in the set).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10

STANDARD_CHECKLIST = (
    {"key": "hydrant_ok", "label": "消防栓完好"},
    {"key": "corridor_clear", "label": "楼道无杂物"},
    {"key": "lighting_ok", "label": "照明正常"},
    {"key": "trash_cleared", "label": "垃圾已清运"},
)
# 二次装修巡查: a flat under renovation.
RENOVATION_CHECKLIST = (
    {"key": "permit_posted", "label": "装修许可证已张贴"},
    {"key": "no_structural_change", "label": "无拆改承重结构"},
    {"key": "waterproofing_checked", "label": "防水已验收"},
    {"key": "working_hours", "label": "在规定时间施工"},
    {"key": "debris_cleared", "label": "建筑垃圾已清运"},
)
DEFAULT_CHECKLISTS = {"standard": STANDARD_CHECKLIST, "renovation": RENOVATION_CHECKLIST}

DEFAULT_BY_HOUR = 18
DEFAULT_HOURS = (7, 17)
DEFAULT_WEEKDAY = 7  # ISO: Sunday


def invalid(message: str, code: str = "validation_error") -> DomainError:
    return DomainError(code, message, status=422)


# --- scope ---------------------------------------------------------------------------------------------


def may_read(actor: Actor, estate_id: uuid.UUID, grid_id: uuid.UUID) -> bool:
    return actor.role in READERS and actor.sees_grid(estate_id, grid_id)


def require_reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise Forbidden("walk records are for stewards and estate staff")


def require_walker(actor: Actor) -> None:
    if actor.role not in WALKERS:
        raise Forbidden("only stewards and their leads walk a grid")


async def visible_grid(session: AsyncSession, actor: Actor, grid_id: uuid.UUID) -> Grid:
    require_reader(actor)
    grid = await session.get(Grid, grid_id)
    if grid is None or not actor.sees_grid(grid.estate_id, grid.id):
        raise NotFound("grid")
    return grid


async def _visible(session: AsyncSession, actor: Actor, model, record_id: uuid.UUID, what: str, *, lock=False):
    require_reader(actor)
    if lock:
        row = await session.scalar(select(model).where(model.id == record_id).with_for_update())
    else:
        row = await session.get(model, record_id)
    if row is None or not actor.sees_grid(row.estate_id, row.grid_id):
        raise NotFound(what)
    return row


def audiences(estate_id: uuid.UUID, grid_id: uuid.UUID) -> list[str]:
    return [changelog.grid_audience(grid_id), changelog.estate_audience(estate_id)]


async def _publish(session: AsyncSession, row, table: str) -> None:
    await session.flush()
    await changelog.record(session, table, [row.id], audiences(row.estate_id, row.grid_id))


# --- routes and checkpoints ----------------------------------------------------------------------------


def normalize_frequency(raw: dict[str, Any]) -> dict[str, Any]:
    """``{kind, hours | by_hour | weekday}`` with defaults filled in; anything else is a 422."""
    kind = raw.get("kind")
    if kind == "daily":
        by_hour = raw.get("by_hour", DEFAULT_BY_HOUR)
        if by_hour is None:
            by_hour = DEFAULT_BY_HOUR
        if not isinstance(by_hour, int) or not 1 <= by_hour <= 24:
            raise invalid("daily by_hour must be an hour from 1 to 24", "invalid_frequency")
        return {"kind": "daily", "by_hour": by_hour}
    if kind == "twice_daily":
        hours = raw.get("hours") or list(DEFAULT_HOURS)
        if (
            not isinstance(hours, list | tuple)
            or not 1 <= len(hours) <= 6
            or not all(isinstance(h, int) and 0 <= h <= 23 for h in hours)
            or list(hours) != sorted(set(hours))
        ):
            raise invalid("twice_daily hours must be distinct ascending hours 0–23", "invalid_frequency")
        return {"kind": "twice_daily", "hours": list(hours)}
    if kind == "weekly":
        weekday = raw.get("weekday", DEFAULT_WEEKDAY)
        if weekday is None:
            weekday = DEFAULT_WEEKDAY
        if not isinstance(weekday, int) or not 1 <= weekday <= 7:
            raise invalid("weekly weekday must be 1 (Monday) to 7 (Sunday)", "invalid_frequency")
        return {"kind": "weekly", "weekday": weekday}
    raise invalid("frequency kind must be daily, twice_daily or weekly", "invalid_frequency")


def normalize_checklist(items: list[dict[str, str]] | None, checklist_type: str) -> list[dict[str, str]]:
    if checklist_type not in DEFAULT_CHECKLISTS:
        raise invalid("checklist_type must be standard or renovation")
    if items is None:
        return [dict(i) for i in DEFAULT_CHECKLISTS[checklist_type]]
    if not 1 <= len(items) <= 30:
        raise invalid("a checklist has 1 to 30 items", "invalid_checklist")
    out, seen = [], set()
    for item in items:
        key, label = str(item.get("key", "")), str(item.get("label", "")).strip()
        if not ITEM_KEY.match(key) or not label or key in seen:
            raise invalid("each item needs a unique key ([a-z0-9_]) and a label", "invalid_checklist")
        seen.add(key)
        out.append({"key": key, "label": label[:50]})
    return out


async def new_code(session: AsyncSession) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if await session.scalar(select(Checkpoint.id).where(Checkpoint.code == code)) is None:
            return code


async def create_route(
    session: AsyncSession, actor: Actor, grid_id: uuid.UUID, name: str, *, now: datetime
) -> WalkRoute:
    grid = await visible_grid(session, actor, grid_id)
    actor.require_role(*EDITORS)
    if not name.strip():
        raise invalid("name the route")
    route = WalkRoute(id=uuid7(), estate_id=grid.estate_id, grid_id=grid.id, name=name.strip(), created_at=now)
    session.add(route)
    await session.flush()
    return route


async def create_checkpoint(
    session: AsyncSession,
    actor: Actor,
    route_id: uuid.UUID,
    *,
    name: str,
    location: str = "",
    checklist_type: str = "standard",
    checklist: list[dict[str, str]] | None = None,
    frequency: dict[str, Any],
    now: datetime,
    code: str | None = None,
) -> Checkpoint:
    route = await _visible(session, actor, WalkRoute, route_id, "route")
    actor.require_role(*EDITORS)
    if not name.strip():
        raise invalid("name the checkpoint")
    position = (
        await session.scalar(select(func.max(Checkpoint.position)).where(Checkpoint.route_id == route.id)) or 0
    ) + 1
    cp = Checkpoint(
        id=uuid7(),
        estate_id=route.estate_id,
        grid_id=route.grid_id,
        route_id=route.id,
        name=name.strip(),
        location=location.strip(),
        code=code or await new_code(session),
        checklist=normalize_checklist(checklist, checklist_type),
        checklist_type=checklist_type,
        frequency=normalize_frequency(frequency),
        position=position,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(cp)
    await _publish(session, cp, "checkpoints")
    return cp


UPDATABLE = ("name", "location", "checklist", "frequency", "active")


async def update_checkpoint(
    session: AsyncSession, actor: Actor, checkpoint_id: uuid.UUID, changes: dict[str, Any], *, now: datetime
) -> Checkpoint:
    cp = await _visible(session, actor, Checkpoint, checkpoint_id, "checkpoint", lock=True)
    actor.require_role(*EDITORS)
    if "name" in changes:
        if not str(changes["name"]).strip():
            raise invalid("name the checkpoint")
        cp.name = str(changes["name"]).strip()
    if "location" in changes:
        cp.location = str(changes["location"]).strip()
    if "checklist" in changes:
        cp.checklist = normalize_checklist(changes["checklist"], cp.checklist_type)
    if "frequency" in changes:
        cp.frequency = normalize_frequency(changes["frequency"])
    if "active" in changes:
        cp.active = bool(changes["active"])
    cp.updated_at = now
    await _publish(session, cp, "checkpoints")
    return cp


async def checkpoint_by_code(session: AsyncSession, code: str) -> Checkpoint | None:
    return await session.scalar(select(Checkpoint).where(Checkpoint.code == code.upper()))


# --- walks --------------------------------------------------------------------------------------------


def counted_time(device_time: datetime, origin: Origin, received_at: datetime) -> tuple[datetime, bool]:
    """The time coverage counts for a device-stamped act, and whether to flag it (see coverage.py):
    its effective time, the one rule of server/clock.py shared with order events and steps."""
    return effective_time(device_time, origin.clock_offset_ms, received_at=received_at)


async def _own_walk(session: AsyncSession, actor: Actor, walk_id: uuid.UUID, *, lock: bool = True) -> Walk:
    require_walker(actor)
    walk = await _visible(session, actor, Walk, walk_id, "walk", lock=lock)
    if walk.steward_id != actor.staff_id:
        raise Forbidden("this walk belongs to someone else", code="not_your_walk")
    return walk


def _not_ended(walk: Walk) -> None:
    if walk.status == "ended":
        raise Conflict("walk_ended", "this walk has already ended", details={"status": "ended", "action": "walk"})


async def start_walk(
    session: AsyncSession,
    actor: Actor,
    walk_id: uuid.UUID,
    grid_id: uuid.UUID,
    started_at: datetime,
    *,
    now: datetime,
    origin: Origin = HTTP_ORIGIN,
) -> Walk:
    require_walker(actor)
    grid = await visible_grid(session, actor, grid_id)
    if await session.get(Walk, walk_id) is not None:
        raise Conflict("duplicate_id", "a walk with this id exists")
    walk = Walk(
        id=walk_id,
        estate_id=grid.estate_id,
        grid_id=grid.id,
        steward_id=actor.staff_id,
        status="active",
        started_at=started_at,
        ended_at=None,
        received_at=now,
        ended_received_at=None,
        clock_offset_ms=origin.clock_offset_ms,
        skew_flag=origin.skewed(),
    )
    session.add(walk)
    await _publish(session, walk, "walks")
    return walk


@dataclass
class Answer:
    item: str
    ok: bool
    note: str = ""
    photos: list[str] = field(default_factory=list)


def _check_photos(photos: list[str]) -> list[str]:
    if len(photos) > MAX_PHOTOS:
        raise invalid(f"at most {MAX_PHOTOS} photos", "too_many_photos")
    for sha in photos:
        if not SHA256.match(sha):
            raise invalid(f"not a sha256: {sha!r}", "invalid_photo_ref")
    return list(dict.fromkeys(photos))


async def visit_checkpoint(
    session: AsyncSession,
    actor: Actor,
    *,
    visit_id: uuid.UUID,
    walk_id: uuid.UUID,
    checkpoint_id: uuid.UUID,
    method: str,
    visited_at: datetime,
    answers: list[Answer],
    now: datetime,
    origin: Origin = HTTP_ORIGIN,
) -> CheckpointVisit:
    walk = await _own_walk(session, actor, walk_id)
    _not_ended(walk)
    cp = await session.get(Checkpoint, checkpoint_id)
    if cp is None or cp.grid_id != walk.grid_id:
        raise NotFound("checkpoint")
    if not cp.active:
        raise Conflict("checkpoint_inactive", "this checkpoint is no longer in use")
    if method not in ("scan", "manual"):
        raise invalid("method must be scan or manual")
    if await session.get(CheckpointVisit, visit_id) is not None:
        raise Conflict("duplicate_id", "a visit with this id exists")
    keys = {i["key"] for i in cp.checklist}
    stored, seen = [], set()
    for a in answers:
        if a.item not in keys:
            raise invalid(f"{a.item!r} is not an item of this checklist")
        if a.item in seen:
            raise invalid(f"{a.item!r} is answered twice")
        seen.add(a.item)
        photos = _check_photos(a.photos)
        if not a.ok and not a.note.strip() and not photos:
            raise invalid(f"a failed item ({a.item}) needs a note or a photo")
        stored.append({"item": a.item, "ok": a.ok, "note": a.note.strip(), "photos": photos})
    counted, flag = counted_time(visited_at, origin, now)
    visit = CheckpointVisit(
        id=visit_id,
        walk_id=walk.id,
        checkpoint_id=cp.id,
        estate_id=walk.estate_id,
        grid_id=walk.grid_id,
        author_id=actor.staff_id,
        method=method,
        answers=stored,
        failed_count=sum(1 for a in stored if not a["ok"]),
        visited_at=visited_at,
        received_at=now,
        counted_at=counted,
        clock_offset_ms=origin.clock_offset_ms,
        skew_flag=flag,
    )
    session.add(visit)
    await _publish(session, visit, "checkpoint_visits")
    await _publish(session, walk, "walks")  # its visit_count changed
    return visit


async def end_walk(
    session: AsyncSession,
    actor: Actor,
    walk_id: uuid.UUID,
    ended_at: datetime,
    *,
    now: datetime,
    origin: Origin = HTTP_ORIGIN,
) -> Walk:
    walk = await _own_walk(session, actor, walk_id)
    _not_ended(walk)
    if ended_at < walk.started_at:
        raise invalid("a walk cannot end before it started")
    walk.status = "ended"
    walk.ended_at = ended_at
    walk.ended_received_at = now
    await _publish(session, walk, "walks")
    return walk


# --- findings -----------------------------------------------------------------------------------------


async def _location(session: AsyncSession, actor: Actor, grid: Grid, raw: dict[str, Any] | None) -> dict | None:
    """Check the ids of a finding's location against the grid's estate and add a readable label."""
    if not raw:
        return None
    out: dict[str, Any] = {}
    labels: list[str] = []
    # Buildings and units of the grid's estate are public places any walker may name; a household
    # must also be one the walker may see.
    if raw.get("building_id"):
        b = await guard.in_scope(session, None, Building, uuid.UUID(str(raw["building_id"])), estate_id=grid.estate_id)
        out["building_id"] = str(b.id)
        labels.append(b.name)
    if raw.get("unit_id"):
        u = await guard.in_scope(session, None, Unit, uuid.UUID(str(raw["unit_id"])), estate_id=grid.estate_id)
        out["unit_id"] = str(u.id)
        if not labels:
            labels.append((await session.get(Building, u.building_id)).name)
        labels.append(u.name)
    if raw.get("household_id"):
        household_id = uuid.UUID(str(raw["household_id"]))
        h = await guard.in_scope(session, actor, Household, household_id, estate_id=grid.estate_id)
        out["household_id"] = str(h.id)
        labels = [h.label]
    text = str(raw.get("text") or "").strip()[:100]
    if text:
        out["text"] = text
        labels.append(text)
    if raw.get("gps"):
        out["gps"] = raw["gps"]
    out["label"] = " ".join(labels)
    return out


async def add_finding(
    session: AsyncSession,
    actor: Actor,
    *,
    finding_id: uuid.UUID,
    grid_id: uuid.UUID,
    category: Category,
    note: str,
    photos: list[str],
    captured_at: datetime,
    walk_id: uuid.UUID | None = None,
    location: dict[str, Any] | None = None,
    now: datetime,
    origin: Origin = HTTP_ORIGIN,
) -> Finding:
    require_walker(actor)
    grid = await visible_grid(session, actor, grid_id)
    walk = None
    if walk_id is not None:
        walk = await _own_walk(session, actor, walk_id)
        _not_ended(walk)
        if walk.grid_id != grid.id:
            raise invalid("a finding on a walk belongs to the walk's grid", "grid_mismatch")
    photos = _check_photos(photos)
    if not note.strip() and not photos:
        raise invalid("a finding needs a note or a photo", "empty_finding")
    if await session.get(Finding, finding_id) is not None:
        raise Conflict("duplicate_id", "a finding with this id exists")
    _, flag = counted_time(captured_at, origin, now)
    finding = Finding(
        id=finding_id,
        walk_id=walk.id if walk else None,
        estate_id=grid.estate_id,
        grid_id=grid.id,
        author_id=actor.staff_id,
        category=str(Category(category)),
        note=note.strip(),
        photos=photos,
        location=await _location(session, actor, grid, location),
        captured_at=captured_at,
        received_at=now,
        clock_offset_ms=origin.clock_offset_ms,
        skew_flag=flag,
    )
    session.add(finding)
    await _publish(session, finding, "findings")
    if walk is not None:
        await _publish(session, walk, "walks")  # its finding_count changed
    return finding


RAISABLE_KINDS = (Kind.repair, Kind.complaint, Kind.convenience, Kind.emergency, Kind.inquiry)


async def finding_to_order(
    session: AsyncSession,
    actor: Actor,
    finding_id: uuid.UUID,
    *,
    order_id: uuid.UUID,
    kind: Kind,
    category: Category,
    household_id: uuid.UUID | None = None,
    description: str | None = None,
    now: datetime,
    origin: Origin = HTTP_ORIGIN,
) -> Order:
    """Raise the finding as a work order (channel ``steward``) and dispatch it to the department queue.

    The transition table lets only the desk and leads fire ``dispatch``; a steward may not. Routing a
    finding is not her judgement, though, but the department rule (``DEPARTMENT_OF_CATEGORY``), so the
    dispatch is fired **as the system** (``actor=None, system=True``): the event shows actor_kind
    ``system`` and ``data.department``, so nobody can mistake it for a desk decision, and the table's
    rule for people stays as it is. The order is linked both ways (``order.finding_id`` and
    ``finding.order_id``); a second attempt for the same finding is ``409 already_raised``.
    """
    require_walker(actor)
    finding = await _visible(session, actor, Finding, finding_id, "finding", lock=True)
    if finding.order_id is not None:
        raise Conflict("already_raised", "an order has already been raised for this finding")
    if kind not in RAISABLE_KINDS:
        raise invalid("a finding is raised as a repair, complaint, convenience, emergency or inquiry")
    location = finding.location or {}
    if household_id is None and location.get("household_id"):
        household_id = uuid.UUID(location["household_id"])
    text = (description or "").strip() or finding.note or "巡查发现"
    order = await lifecycle.create_order(
        session,
        actor,
        NewOrder(
            id=order_id,
            kind=kind,
            category=category,
            channel=Channel.steward,
            description=text,
            household_id=household_id,
            estate_id=finding.estate_id,
            location=str(location.get("label", ""))[:100],
            finding_id=finding.id,
        ),
        now=now,
        origin=origin,
    )
    if order.grid_id is None:
        # A public place (快递柜, 健身区): the order belongs to the finding's grid, so her steward sees it.
        order.grid_id = finding.grid_id
    await lifecycle.add_event(
        session,
        order,
        action="finding",
        actor_id=actor.staff_id,
        actor_kind="staff",
        origin=origin,
        now=now,
        data={"finding_id": str(finding.id), "photos": list(finding.photos or [])},
    )
    if order.status is Status.new:  # the estate's rule named a queue: dispatch it there
        routed = await routing.route(session, order.estate_id, Category(category))
        await lifecycle.transition(
            session,
            None,
            order.id,
            "dispatch",
            now=now,
            origin=origin,
            system=True,
            note="巡查发现自动派单 / dispatched by the department rule",
            data={"assignee_id": routed.assignee_id} if routed.assignee_id else {"department": routed.department},
            order=order,
        )
    finding.order_id = order.id
    events = list((await session.scalars(select(OrderEvent.id).where(OrderEvent.order_id == order.id))).all())
    await lifecycle.publish(session, order, ("order_events", events))
    await _publish(session, finding, "findings")
    return order


async def order_changed(session: AsyncSession, order: Order) -> None:
    """Called by ``lifecycle.publish`` for an order raised from a finding: the finding's record shows
    the order's number and status (computed by its loader), so it is sent again to the finding's
    audiences whenever the order changes."""
    finding = await session.get(Finding, order.finding_id)
    if finding is not None and finding.order_id == order.id:
        await changelog.record(session, "findings", [finding.id], audiences(finding.estate_id, finding.grid_id))


# Built once: every arriving photo runs them.
_WITH_PHOTOS = [
    (table, select(model.id, model.estate_id, model.grid_id).where(model.id.in_(photo_refs_any(table))))
    for model, table in ((CheckpointVisit, "checkpoint_visits"), (Finding, "findings"))
]


async def photos_arrived(session: AsyncSession, shas: list[str]) -> None:
    """Photos arrived: visits and findings referencing them are sent again (their badge clears)."""
    connection = await session.connection()  # Core rows: every arriving photo runs this
    for table, statement in _WITH_PHOTOS:
        for rid, estate_id, grid_id in await connection.execute(statement, {"shas": shas}):
            await changelog.record(session, table, [rid], audiences(estate_id, grid_id))
