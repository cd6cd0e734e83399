"""Creating orders and moving them through the transition table (the only place status changes)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Department, Role, Staff
from server.accounts.scope import Actor
from server.clock import SKEW_LIMIT, effective_time
from server.duty import service as duty
from server.errors import Conflict, DomainError, Forbidden, NotFound
from server.ids import uuid7
from server.notifications.service import notify
from server.orders import evidence, routing, sla
from server.orders.access import QUEUE_STATUSES, audiences, can_see, in_queue_of
from server.orders.models import Category, Channel, Kind, Order, OrderEvent, Status
from server.orders.numbers import next_number
from server.orders.routing import DEPARTMENT_OF_CATEGORY  # noqa: F401 - re-exported for older callers
from server.orders.transitions import BY_ACTION, Transition, rule_for
from server.sites.models import Estate, Household
from server.syncing import changelog
from server.syncing.batch import PushBatch

REPEAT_WINDOW = timedelta(days=30)


KIND_LABEL = {
    "inquiry": "咨询",
    "complaint": "投诉",
    "repair": "报修",
    "convenience": "便民",
    "emergency": "紧急",
    "callback": "回访",
}


@dataclass(frozen=True)
class Origin:
    """Where an act comes from: evidence kept on every event."""

    source: str = "http"  # http | sync | system | owner
    client_time: datetime | None = None
    clock_offset_ms: int | None = None  # server time − device time, estimated per push batch
    ip: str | None = None

    def skewed(self) -> bool:
        return self.clock_offset_ms is not None and abs(self.clock_offset_ms) > SKEW_LIMIT.total_seconds() * 1000

    def effective(self, now: datetime, floor: datetime | None, device_time: datetime | None = None):
        """``(effective time, skew flag)`` of an act from here received at ``now`` (server/clock.py)."""
        return effective_time(device_time or self.client_time, self.clock_offset_ms, received_at=now, floor=floor)


ETA_PAST = timedelta(minutes=5)
ETA_FUTURE = timedelta(days=30)


CAPTURE_PAST = timedelta(days=30)
CAPTURE_FUTURE = timedelta(days=1)


def check_capture_time(captured_at: datetime, origin: Origin, now: datetime, field: str = "captured_at") -> None:
    """A device's time for an act, corrected by the batch's offset, must lie within 30 days before
    and one day after it reached the server (year 1 or 9999 is a broken clock, not a time); inside
    that window the effective-time clamp decides where it counts."""
    if captured_at.tzinfo is None:
        raise DomainError("validation_error", f"{field} needs a time zone", status=422, details={"field": field})
    corrected = captured_at + timedelta(milliseconds=origin.clock_offset_ms or 0)
    if not now - CAPTURE_PAST <= corrected <= now + CAPTURE_FUTURE:
        raise DomainError(
            "validation_error",
            f"{field} must lie between 30 days before and one day after the moment it is received",
            status=422,
            details={"field": field, "value": captured_at.isoformat()},
        )


def check_ahead(value: datetime | None, now: datetime, *, field: str = "eta", what: str = "the ETA") -> None:
    """A time someone sets ahead (an ETA, a callback's retry time) is a moment of the next 30 days
    (5 minutes of slack behind): anything else is a typo."""
    if value is None:
        return
    if value.tzinfo is None:
        raise DomainError("validation_error", f"{what} needs a time zone", status=422, details={"field": field})
    if not now - ETA_PAST <= value <= now + ETA_FUTURE:
        raise DomainError(
            "validation_error",
            f"{what} must lie between 5 minutes ago and 30 days ahead",
            status=422,
            details={"field": field, "min": (now - ETA_PAST).isoformat(), "max": (now + ETA_FUTURE).isoformat()},
        )


def check_eta(eta: datetime | None, now: datetime) -> None:
    check_ahead(eta, now)


HTTP_ORIGIN = Origin()


@dataclass
class NewOrder:
    kind: Kind
    category: Category
    channel: Channel
    description: str
    household_id: uuid.UUID | None = None
    estate_id: uuid.UUID | None = None
    location: str = ""
    priority: str = "normal"
    reporter_name: str = ""
    reporter_phone: str = ""
    assignee_id: uuid.UUID | None = None
    department: Department | None = None
    eta: datetime | None = None
    internal_note: str = ""
    id: uuid.UUID | None = None
    follow_up_of_id: uuid.UUID | None = None
    rework_of_id: uuid.UUID | None = None
    finding_id: uuid.UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def load_for_update(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    return await session.scalar(select(Order).where(Order.id == order_id).with_for_update())


async def visible_order(session: AsyncSession, actor: Actor, order_id: uuid.UUID, *, lock: bool = False) -> Order:
    """The order, or 404 if it does not exist or the actor may not see it (the same answer: no oracle)."""
    order = await (load_for_update(session, order_id) if lock else session.get(Order, order_id))
    if order is None or not can_see(actor, order):
        raise NotFound("order")
    return order


async def add_event(
    session: AsyncSession,
    order: Order,
    *,
    action: str,
    actor_id: uuid.UUID | None,
    actor_kind: str,
    origin: Origin,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
    data: dict | None = None,
    at: tuple[datetime, bool] | None = None,
) -> OrderEvent:
    """``at``: the act's effective time and skew flag (default: received now, flagged by the offset)."""
    effective, flagged = at or (now, origin.skewed())
    event = OrderEvent(
        id=uuid7(),
        order_id=order.id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor_id=actor_id,
        actor_kind=actor_kind,
        source=origin.source,
        server_time=now,
        client_time=origin.client_time,
        effective_at=effective,
        clock_offset_ms=origin.clock_offset_ms,
        skew_flag=flagged or origin.skewed(),
        note=note,
        data=data or {},
    )
    evidence.append(order, event)
    session.add(event)
    order.updated_at = now
    return event


async def publish(session: AsyncSession, order: Order, *extra_tables: tuple[str, list[uuid.UUID]]) -> None:
    """Record the order (and any new child records) for pull, to everyone who may see it."""
    await session.flush()
    targets = audiences(order)
    await changelog.record(session, "orders", [order.id], targets)
    for table, ids in extra_tables:
        await changelog.record(session, table, ids, targets)
    if order.finding_id is not None:
        from server.walks.service import order_changed  # walks depends on orders, not the reverse

        await order_changed(session, order)


def publish_batched(batch: PushBatch, order: Order, *extra_tables: tuple[str, list[uuid.UUID]]) -> None:
    """:func:`publish` for a push batch: the change rows are written at the batch's next flush."""
    # A hundred steps on ten orders ask for the same few audiences: remembered per batch, by what
    # ``audiences`` reads (so a transition in the batch that changes them is seen).
    key = (order.estate_id, order.grid_id, order.assignee_id, order.status, order.department)
    memo = batch.cache.setdefault("audiences", {})
    targets = memo.get(key)
    if targets is None:
        targets = memo[key] = tuple(sorted(audiences(order)))
    batch.record("orders", [order.id], targets)
    for table, ids in extra_tables:
        batch.record(table, ids, targets)
    if order.finding_id is not None:
        from server.walks.service import order_changed

        session = batch.session
        batch.on_flush(("order_changed", order.id), lambda: order_changed(session, order))


async def _assignee(session: AsyncSession, order: Order, staff_id: uuid.UUID) -> Staff:
    staff = await guard.in_scope(session, None, Staff, staff_id, estate_id=order.estate_id)
    if not staff.active:
        raise DomainError("invalid_assignee", "the assignee must be an active staff member of this estate", status=422)
    if staff.role not in (Role.technician, Role.steward, Role.team_lead) and not (
        staff.role is Role.front_desk and order.kind in routing.PEOPLE_KINDS
    ):
        raise DomainError(
            "invalid_assignee",
            "orders are assigned to technicians, stewards or team leads (complaints and callbacks also to the desk)",
            status=422,
        )
    return staff


async def _find_repeat(session: AsyncSession, order: Order, now: datetime) -> uuid.UUID | None:
    if order.kind is not Kind.complaint or order.household_id is None:
        return None
    return await session.scalar(
        select(Order.id)
        .where(
            Order.household_id == order.household_id,
            Order.kind == Kind.complaint,
            Order.category == order.category,
            Order.created_at >= now - REPEAT_WINDOW,
            Order.id != order.id,
        )
        .order_by(Order.created_at.desc(), Order.number.desc())
        .limit(1)
    )


async def create_order(
    session: AsyncSession, actor: Actor | None, new: NewOrder, *, now: datetime, origin: Origin = HTTP_ORIGIN
) -> Order:
    """Create an order (staff, or ``actor=None`` for the owner report form / system follow-ups)."""
    household = None
    if new.household_id is not None:
        household = await guard.in_scope(session, actor, Household, new.household_id, estate_id=new.estate_id)
        estate_id = household.estate_id
    else:
        estate_id = new.estate_id or (actor.estate_id if actor else None)
        if estate_id is None:
            raise DomainError("estate_required", "an order needs a household or an estate", status=422)
        await guard.in_scope(session, actor, Estate, estate_id)
    if new.id is not None and await session.get(Order, new.id) is not None:
        raise Conflict("duplicate_id", "an order with this id exists")
    if not new.description.strip():
        raise DomainError("description_required", "describe the problem", status=422)
    estate = await session.get(Estate, estate_id)
    routed = None
    if new.department is not None:
        department = str(Department(new.department))
        await routing.require_staffed(session, estate_id, department)
    else:
        routed = await routing.route(session, estate_id, new.category)
        department = routed.department
    if new.kind is Kind.emergency:
        new.priority = "urgent"
    check_eta(new.eta, now)
    order = Order(
        id=new.id or uuid7(),
        number=await next_number(session, estate, now),
        estate_id=estate_id,
        grid_id=household.grid_id if household else None,
        household_id=new.household_id,
        kind=new.kind,
        channel=new.channel,
        category=new.category,
        priority=new.priority,
        description=new.description.strip(),
        location=new.location,
        reporter_name=new.reporter_name or (household.owner_name if household else ""),
        reporter_phone=new.reporter_phone or (household.owner_phone if household else ""),
        internal_note=new.internal_note,
        status=Status.new,
        department=str(department),
        assignee_id=None,
        eta=new.eta,
        created_by=actor.staff_id if actor else None,
        created_at=now,
        updated_at=now,
        last_update_at=now,
        follow_up_of_id=new.follow_up_of_id,
        rework_of_id=new.rework_of_id,
        finding_id=new.finding_id,
        chain_length=0,
        chain_head="",
        completion_no=0,
    )
    session.add(order)
    await session.flush()
    order.repeat_of_id = await _find_repeat(session, order, now)
    sla.on_create(order, await sla.policy_for(session, estate_id, order.kind), now)
    data = {"kind": str(order.kind), "channel": str(order.channel), "category": str(order.category)}
    if order.repeat_of_id:
        data["repeat_of"] = str(order.repeat_of_id)
    if order.rework_of_id:
        data["rework_of"] = str(order.rework_of_id)
    event = await add_event(
        session,
        order,
        action="create",
        actor_id=actor.staff_id if actor else None,
        actor_kind="staff" if actor else ("owner" if origin.source == "owner" else "system"),
        origin=origin,
        now=now,
        to_status=Status.new.value,
        data=data,
    )
    await publish(session, order, ("order_events", [event.id]))
    if new.assignee_id is not None and actor is not None:
        await transition(
            session, actor, order.id, "dispatch", now=now, origin=origin, data={"assignee_id": new.assignee_id}
        )
    elif (
        not (new.follow_up_of_id or new.rework_of_id)
        and (person := await duty.first_on_duty(session, order, now)) is not None
    ):
        # Outside office hours a complaint or emergency goes to the person on duty (server/duty/).
        await transition(
            session,
            None,
            order.id,
            "dispatch",
            now=now,
            origin=origin,
            system=True,
            note=f"非办公时间，派给值班人{person.name}",
            data={"assignee_id": person.id},
        )
    elif (
        routed is not None
        and routed.assignee_id
        and new.kind is not Kind.inquiry
        and not new.follow_up_of_id
        and not new.rework_of_id
    ):
        # A follow-up of a 不满意 rating belongs to the household's grid steward, a 返修 to whoever did
        # the first repair (feedback.py), not to the category's handler.
        await dispatch_routed(session, order, routed, now=now, origin=origin)
    return order


async def dispatch_routed(session: AsyncSession, order: Order, routed: routing.Route, *, now, origin) -> None:
    """Fire the estate's routing rule as the system: to its handler, or to the team lead with the
    warning that the category's queue has nobody (server/orders/routing.py)."""
    data = {"assignee_id": routed.assignee_id, "routing_warning": routed.warning}
    note = routed.warning or "按分派规则派单"
    await transition(session, None, order.id, "dispatch", now=now, origin=origin, system=True, note=note, data=data)


# --- transitions -----------------------------------------------------------------------------------------

Effect = Callable[["Act"], Awaitable[None]]


@dataclass
class Act:
    session: AsyncSession
    actor: Actor | None
    order: Order
    rule: Transition
    now: datetime
    origin: Origin
    note: str
    data: dict[str, Any]
    policy: sla.Policy
    event_data: dict[str, Any] = field(default_factory=dict)
    left: list[uuid.UUID] = field(default_factory=list)  # staff whose scope the order leaves
    queue_before: str | None = None  # the department queue the order sat in before this act
    entered: list[uuid.UUID] = field(default_factory=list)  # staff whose scope it enters
    at: datetime | None = None  # the act's effective time (``now`` unless it was done offline)
    skewed: bool = False

    @property
    def when(self) -> datetime:
        return self.at or self.now


# Other domains' reactions to an order act, in its transaction (server/notify: the owner's SMS).
TRANSITION_HOOKS: list[Callable[[AsyncSession, Order, str, datetime], Awaitable[None]]] = []


def _allowed(actor: Actor | None, order: Order, rule: Transition, owner: bool, system: bool) -> bool:
    if system:
        return rule.who != "owner"
    if rule.who == "owner":
        return owner
    if actor is None:
        return False
    if rule.kinds and order.kind not in rule.kinds:
        return False
    if actor.role not in rule.roles and actor.role is not Role.admin:
        return False
    if rule.who == "assignee":
        return order.assignee_id == actor.staff_id
    if rule.who == "queue":
        return in_queue_of(actor, order) or (order.assignee_id == actor.staff_id and order.status is Status.dispatched)
    if rule.who == "assignee_or_lead":
        return order.assignee_id == actor.staff_id or actor.role in (Role.team_lead, Role.supervisor, Role.admin)
    return True


def check(actor: Actor | None, order: Order, action: str, *, owner: bool = False, system: bool = False) -> Transition:
    if action not in BY_ACTION:
        raise DomainError("unknown_action", f"no such order action: {action}", status=400)
    rule = rule_for(action, order.status, order.kind)
    if rule is None:
        raise Conflict(
            "illegal_transition",
            f"cannot {action} an order that is {order.status.value}",
            details={"status": order.status.value, "action": action},
        )
    if not _allowed(actor, order, rule, owner, system):
        raise Forbidden(f"you may not {action} this order", code="transition_forbidden")
    return rule


def allowed_actions(actor: Actor, order: Order) -> list[str]:
    out = []
    for action in BY_ACTION:
        try:
            check(actor, order, action)
        except DomainError:
            continue
        out.append(action)
    return out


async def _assign(act: Act) -> None:
    order, session = act.order, act.session
    assignee_id = act.data.get("assignee_id")
    department = act.data.get("department")
    previous = order.assignee_id
    if assignee_id is not None:
        staff = await _assignee(session, order, uuid.UUID(str(assignee_id)))
        if staff.id == previous and act.rule.action == "reassign":
            raise Conflict("same_assignee", "the order is already assigned to this person")
        order.assignee_id = staff.id
        order.department = str(staff.department)
        act.event_data.update(assignee_id=str(staff.id), assignee_name=staff.name)
        act.entered.append(staff.id)
    elif department is not None:
        await routing.require_staffed(session, order.estate_id, str(Department(department)))
        order.assignee_id = None
        order.department = str(Department(department))
        act.event_data.update(department=order.department)
    else:
        raise DomainError("assignee_required", "name an assignee or a department queue", status=422)
    if previous is not None and previous != order.assignee_id:
        act.left.append(previous)
        act.event_data["previous_assignee_id"] = str(previous)
    if act.data.get("routing_warning"):
        act.event_data["routing_warning"] = act.data["routing_warning"]
    order.dispatched_at = act.when
    order.status_before_pause = None


async def _take(act: Act) -> None:
    act.order.assignee_id = act.actor.staff_id
    act.order.accepted_at = act.when
    act.entered.append(act.actor.staff_id)
    sla.on_contact(act.order, act.when)


async def _accept(act: Act) -> None:
    act.order.accepted_at = act.when
    sla.on_contact(act.order, act.when)


async def _depart(act: Act) -> None:
    if "eta" in act.data and act.data["eta"] is not None:
        check_eta(act.data["eta"], act.when)
        act.order.eta = act.data["eta"]
        act.event_data["eta"] = act.data["eta"].isoformat()


async def _arrive(act: Act) -> None:
    act.order.arrived_at = act.when
    if act.data.get("gps"):
        act.event_data["gps"] = act.data["gps"]


PAUSE_REASONS = ("waiting_owner", "parts_on_order", "other")


async def _pause(act: Act) -> None:
    reason = act.data.get("reason")
    if reason not in PAUSE_REASONS:
        raise DomainError("invalid_reason", f"pause reason must be one of {', '.join(PAUSE_REASONS)}", status=422)
    act.order.status_before_pause = act.order.status
    act.order.pause_reason = reason
    act.order.paused_at = act.when
    act.event_data["reason"] = reason


async def _resume(act: Act) -> None:
    order = act.order
    paused_for = act.when - order.paused_at if order.paused_at else timedelta(0)
    act.event_data["paused_seconds"] = int(paused_for.total_seconds())
    order.paused_at = None
    order.pause_reason = None
    act.data["_paused_for"] = paused_for


async def _complete(act: Act) -> None:
    act.order.completed_at = act.when
    act.order.completion_no += 1


async def _close(act: Act) -> None:
    act.order.closed_at = act.when


async def _reopen(act: Act) -> None:
    order = act.order
    order.completed_at = None
    order.closed_at = None
    order.accepted_at = None
    if order.assignee_id is None:
        order.status = Status.dispatched


async def _callback(act: Act) -> None:
    act.event_data["result"] = act.data.get("result")
    if act.order.kind is Kind.callback:  # the call was the work of a callback order
        act.order.completed_at = act.when


async def _cancel(act: Act) -> None:
    if not act.note.strip():
        raise DomainError("reason_required", "say why the order is cancelled", status=422)


EFFECTS: dict[str, Effect] = {
    "dispatch": _assign,
    "reassign": _assign,
    "take": _take,
    "accept": _accept,
    "depart": _depart,
    "arrive": _arrive,
    "pause": _pause,
    "resume": _resume,
    "complete": _complete,
    "answer": _complete,
    "close": _close,
    "reopen": _reopen,
    "cancel": _cancel,
    "callback": _callback,
}


def _sla_after(act: Act) -> None:
    order, action = act.order, act.rule.action
    if action in ("complete", "answer"):
        sla.on_complete(order, act.policy, act.when)
    elif action == "pause":
        sla.on_pause(order)
    elif action == "resume":
        sla.on_resume(order, act.data.pop("_paused_for"))
    elif action == "reopen":
        sla.on_reopen(order, act.policy, act.when)
    elif action in ("close", "cancel"):
        sla.on_end(order)
    elif action == "callback":
        sla.on_callback(order, act.when)
    else:
        sla.on_progress(order, act.policy, act.when)


async def transition(
    session: AsyncSession,
    actor: Actor | None,
    order_id: uuid.UUID,
    action: str,
    *,
    now: datetime,
    origin: Origin = HTTP_ORIGIN,
    note: str = "",
    data: dict[str, Any] | None = None,
    owner: bool = False,
    system: bool = False,
    order: Order | None = None,
) -> Order:
    """Fire ``action`` on the order if the table allows it for this actor; record the event."""
    if order is None:
        order = await load_for_update(session, order_id)
        if order is None or (actor is not None and not can_see(actor, order)):
            raise NotFound("order")
    rule = check(actor, order, action, owner=owner, system=system)
    act = Act(
        session,
        actor,
        order,
        rule,
        now,
        origin,
        note,
        dict(data or {}),
        await sla.policy_for(session, order.estate_id, order.kind),
    )
    act.at, act.skewed = origin.effective(now, order.last_update_at or order.created_at)
    before = order.status
    if order.assignee_id is None and order.status in QUEUE_STATUSES:
        act.queue_before = order.department
    effect = EFFECTS.get(action)
    if effect is not None:
        await effect(act)
    if rule.target is not None:
        order.status = rule.target
    elif action == "resume":
        order.status = order.status_before_pause or Status.accepted
        order.status_before_pause = None
    if action == "reopen" and order.assignee_id is None:
        order.status = Status.dispatched
    order.last_update_at = act.at
    _sla_after(act)
    event = await add_event(
        session,
        order,
        action=action,
        actor_id=actor.staff_id if actor else None,
        actor_kind="owner" if owner else ("system" if system or actor is None else "staff"),
        origin=origin,
        now=now,
        from_status=before.value,
        to_status=order.status.value,
        note=note,
        data=act.event_data,
        at=(act.at, act.skewed),
    )
    await publish(session, order, ("order_events", [event.id]))
    await _scope_moves(act)
    await _notify_transition(act)
    for hook in TRANSITION_HOOKS:
        await hook(session, order, action, now)
    return order


async def _scope_moves(act: Act) -> None:
    """Tell devices that lose the order to drop it; give devices that gain it the whole history."""
    from server.orders.models import OrderEvent as E
    from server.orders.models import Step

    session, order = act.session, act.order
    for staff_id in act.left:
        await changelog.record_leave(session, "orders", order.id, [changelog.staff_audience(staff_id)])
    if act.queue_before and order.assignee_id is not None:
        # It left the department queue: colleagues who could take it must drop it.
        await changelog.record_leave(
            session, "orders", order.id, [changelog.dept_audience(order.estate_id, act.queue_before)]
        )
    if act.entered:
        step_ids = list((await session.scalars(select(Step.id).where(Step.order_id == order.id))).all())
        event_ids = list((await session.scalars(select(E.id).where(E.order_id == order.id))).all())
        targets = [changelog.staff_audience(s) for s in act.entered]
        await changelog.record(session, "order_events", event_ids, targets)
        await changelog.record(session, "steps", step_ids, targets)


async def building_of(session: AsyncSession, order: Order) -> str:
    """The building name only: what a lock screen may show (no room, no owner)."""
    from server.sites.models import Building, Unit

    if order.household_id is None:
        return order.location[:20]
    name = await session.scalar(
        select(Building.name)
        .join(Unit, Unit.building_id == Building.id)
        .join(Household, Household.unit_id == Unit.id)
        .where(Household.id == order.household_id)
    )
    return name or ""


async def assignment_body(session: AsyncSession, order: Order, building: str) -> str:
    """Two lines: the first is what a lock screen may show (the building, see push.outbox.payload);
    the second is what the app's feed shows: where exactly and what is wrong ("1栋1单元101 · 厨房水管漏水")."""
    label = order.location
    if order.household_id is not None:
        label = await session.scalar(select(Household.label).where(Household.id == order.household_id)) or label
    problem = " ".join((order.description or "").split())
    problem = problem if len(problem) <= 60 else problem[:59] + "…"
    return f"{building}\n{' · '.join(p for p in (label, problem) if p)}"


async def _notify_transition(act: Act) -> None:
    order, session = act.order, act.session
    kind = KIND_LABEL.get(str(order.kind), "")
    building = await building_of(session, order) if act.entered else ""
    body = await assignment_body(session, order, building) if act.entered else ""
    urgent = "high" if order.kind is Kind.emergency or order.priority == "urgent" else "normal"
    for staff_id in act.entered:
        if act.actor is not None and staff_id == act.actor.staff_id:
            continue
        await notify(
            session,
            staff_id=staff_id,
            kind="assigned",
            title=f"新{kind}工单 {order.number}",
            body=body,
            now=act.now,
            order_id=order.id,
            urgency=urgent,
            topic=f"order-{order.number}"[-32:],
            data={"number": order.number, "kind": str(order.kind)},
        )
    for staff_id in act.left:
        await notify(
            session,
            staff_id=staff_id,
            kind="unassigned",
            title=f"工单 {order.number} 已改派",
            body="",
            now=act.now,
            order_id=order.id,
            topic=f"order-{order.number}"[-32:],
            data={"number": order.number},
        )


async def set_eta(
    session: AsyncSession,
    actor: Actor,
    order_id: uuid.UUID,
    eta: datetime,
    *,
    now: datetime,
    origin: Origin = HTTP_ORIGIN,
) -> Order:
    """Last writer wins by server order; the replaced value stays in the event history."""
    order = await visible_order(session, actor, order_id, lock=True)
    may = order.assignee_id == actor.staff_id or actor.role in (
        Role.front_desk,
        Role.team_lead,
        Role.supervisor,
        Role.admin,
    )
    if not may:
        raise Forbidden("only the assignee or the desk may set the ETA", code="transition_forbidden")
    if order.status in (Status.completed, Status.rated, Status.called_back, Status.closed, Status.cancelled):
        raise Conflict(
            "illegal_transition",
            f"cannot set an ETA on an order that is {order.status.value}",
            details={"status": order.status.value, "action": "set_eta"},
        )
    at = origin.effective(now, order.last_update_at or order.created_at)
    check_eta(eta, at[0])
    previous = order.eta
    order.eta = eta
    event = await add_event(
        session,
        order,
        action="set_eta",
        actor_id=actor.staff_id,
        actor_kind="staff",
        origin=origin,
        now=now,
        data={"eta": eta.isoformat(), "previous": previous.isoformat() if previous else None},
        at=at,
    )
    await publish(session, order, ("order_events", [event.id]))
    return order


async def set_internal_note(
    session: AsyncSession, actor: Actor, order_id: uuid.UUID, note: str, *, now: datetime
) -> Order:
    order = await visible_order(session, actor, order_id, lock=True)
    actor.require_role(Role.front_desk, Role.team_lead, Role.supervisor, Role.admin, Role.steward)
    previous = order.internal_note
    order.internal_note = note
    event = await add_event(
        session,
        order,
        action="note",
        actor_id=actor.staff_id,
        actor_kind="staff",
        origin=Origin(),
        now=now,
        data={"internal": True, "previous_length": len(previous)},
    )
    await publish(session, order, ("order_events", [event.id]))
    return order
