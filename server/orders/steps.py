"""Repair steps (处理步骤): ordered, append-only, with materials and photo references."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.errors import Conflict, DomainError, Forbidden, NotFound
from server.ids import uuid7
from server.orders import evidence, rows, sla
from server.orders.access import can_see
from server.orders.lifecycle import (
    HTTP_ORIGIN,
    Origin,
    check_capture_time,
    load_for_update,
    publish,
    publish_batched,
    visible_order,
)
from server.orders.models import Order, SlaPolicy, Step
from server.orders.transitions import STEP_STATUSES
from server.syncing.batch import PushBatch

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PHOTOS = 9


@dataclass
class NewStep:
    note: str
    captured_at: datetime
    materials: list[dict[str, Any]] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    gps: dict[str, Any] | None = None
    id: uuid.UUID | None = None


# Other domains' reactions to a new step, in its transaction (server/notify: the owner's SMS).
STEP_HOOKS: list[Callable[[AsyncSession, Any, str, datetime], Awaitable[None]]] = []


def _check(new: NewStep) -> None:
    if not new.note.strip() and not new.photos:
        raise DomainError("empty_step", "a step needs a note or a photo", status=422)
    if len(new.photos) > MAX_PHOTOS:
        raise DomainError("too_many_photos", f"a step holds at most {MAX_PHOTOS} photos", status=422)
    for sha in new.photos:
        if not SHA256.match(sha):
            raise DomainError("invalid_photo_ref", f"not a sha256: {sha!r}", status=422)
    for m in new.materials:
        if not str(m.get("name", "")).strip() or not isinstance(m.get("quantity"), int | float) or m["quantity"] <= 0:
            raise DomainError("invalid_material", "each material needs a name and a positive quantity", status=422)


def _admit(actor: Actor, order: Order, new: NewStep, origin: Origin, now: datetime) -> None:
    """Every refusal of a step, decided before anything is written."""
    if order.assignee_id != actor.staff_id:
        raise Forbidden("only the assigned person records steps", code="not_assignee")
    if order.status not in STEP_STATUSES:
        raise Conflict(
            "illegal_transition",
            f"cannot add a step to an order that is {order.status.value}",
            details={"status": order.status.value, "action": "step.add"},
        )
    _check(new)
    check_capture_time(new.captured_at, origin, now)


def _duplicate() -> Conflict:
    return Conflict("duplicate_id", "a step with this id exists")


def _columns(
    new: NewStep, step_id: uuid.UUID, order: Order, position: int, actor: Actor, now: datetime, origin: Origin
) -> dict[str, Any]:
    """A new step's columns; both paths build them here, so both chain the same hash. A step counts
    at its effective time: its capture time corrected and clamped after the order's last progress."""
    effective, flagged = origin.effective(now, order.last_update_at or order.created_at, new.captured_at)
    return {
        "id": step_id,
        "order_id": order.id,
        "position": position,
        "note": new.note.strip(),
        "materials": new.materials,
        "photos": list(dict.fromkeys(new.photos)),
        "gps": new.gps,
        "author_id": actor.staff_id,
        "captured_at": new.captured_at,
        "received_at": now,
        "effective_at": effective,
        "clock_offset_ms": origin.clock_offset_ms,
        "skew_flag": flagged or origin.skewed(),
    }


def _progress(order: Order, policy: sla.Policy, at: datetime, now: datetime) -> None:
    """A step is progress the owner sees: it moves the update deadline (from its effective time)."""
    order.last_update_at = at
    order.updated_at = now
    sla.on_progress(order, policy, at)


async def add_step(
    session: AsyncSession,
    actor: Actor,
    order_id: uuid.UUID,
    new: NewStep,
    *,
    now: datetime,
    origin: Origin = HTTP_ORIGIN,
) -> Step:
    order = await visible_order(session, actor, order_id, lock=True)
    _admit(actor, order, new, origin, now)
    if new.id is not None and await session.get(Step, new.id) is not None:
        raise _duplicate()
    position = (await session.scalar(select(func.max(Step.position)).where(Step.order_id == order.id)) or 0) + 1
    step = Step(**_columns(new, new.id or uuid7(), order, position, actor, now, origin))
    evidence.append(order, step)
    session.add(step)
    _progress(order, await sla.policy_for(session, order.estate_id, order.kind), step.effective_at, now)
    await session.flush()
    await publish(session, order, ("steps", [step.id]))
    for hook in STEP_HOOKS:
        await hook(session, order, step.note, now)
    return step


# --- the batched sync path -------------------------------------------------------------------------


@dataclass
class StepCache:
    """What the ``step.add`` mutations of one push batch share (in ``PushBatch.cache``): the orders,
    loaded and locked once; each order's last step position; which step ids are taken; SLA policies.
    Everything here is either read in :func:`prepare_steps` or kept current by :func:`add_step_batched`
    itself; the batch drops it whenever something else may have changed it."""

    orders: dict[uuid.UUID, Order | rows.OrderRow | None] = field(default_factory=dict)  # None: missing
    positions: dict[uuid.UUID, int] = field(default_factory=dict)
    checked_ids: set[uuid.UUID] = field(default_factory=set)  # looked up: taken ones are in ``taken``
    taken: set[uuid.UUID] = field(default_factory=set)
    policies: dict[tuple[uuid.UUID, str], sla.Policy] = field(default_factory=dict)
    # (order, now) whose deadlines this batch's steps have moved already: ``_progress`` with the same
    # ``now`` sets the same values again (a push has one ``now``), so once per order is enough.
    progressed: set[tuple[uuid.UUID, datetime]] = field(default_factory=set)

    def order_rows(self) -> list[rows.OrderRow]:
        return [o for o in self.orders.values() if isinstance(o, rows.OrderRow)]

    @staticmethod
    def of(batch: PushBatch) -> StepCache:
        cache = batch.cache.get("steps")
        if cache is None:
            cache = batch.cache["steps"] = StepCache()
        return cache

    async def order(self, session: AsyncSession, actor: Actor, order_id: uuid.UUID) -> Order:
        if order_id not in self.orders:
            self.orders[order_id] = await load_for_update(session, order_id)
        order = self.orders[order_id]
        if order is None or not can_see(actor, order):
            raise NotFound("order")
        return order

    async def is_taken(self, session: AsyncSession, step_id: uuid.UUID) -> bool:
        if step_id not in self.checked_ids:
            self.checked_ids.add(step_id)
            if await session.scalar(select(Step.id).where(Step.id == step_id)) is not None:
                self.taken.add(step_id)
        return step_id in self.taken

    async def next_position(self, session: AsyncSession, order_id: uuid.UUID) -> int:
        if order_id not in self.positions:
            last = await session.scalar(select(func.max(Step.position)).where(Step.order_id == order_id))
            self.positions[order_id] = last or 0
        self.positions[order_id] += 1
        return self.positions[order_id]

    async def policy(self, session: AsyncSession, order: Order) -> sla.Policy:
        key = (order.estate_id, str(order.kind))
        if key not in self.policies:
            self.policies[key] = await sla.policy_for(session, order.estate_id, order.kind)
        return self.policies[key]


# The two statements of prepare_steps, built once (each push runs them with its own ids). Core, on the
# tables: the orders come back as plain rows (see server/orders/rows.py), the SLA override as columns.
_orders = rows.ORDERS
_steps = Step.__table__
_policies = SlaPolicy.__table__
_MINUTES = ("contact_minutes", "update_minutes", "resolve_minutes", "callback_minutes")
_LAST_POSITION = (
    select(func.max(_steps.c.position)).where(_steps.c.order_id == _orders.c.id).correlate(_orders)
).scalar_subquery()
_ORDERS_FOR_STEPS = (
    select(_orders, _LAST_POSITION, _policies.c.id, *(_policies.c[m] for m in _MINUTES))
    .outerjoin(_policies, and_(_policies.c.estate_id == _orders.c.estate_id, _policies.c.kind == _orders.c.kind))
    .where(_orders.c.id.in_(bindparam("ids", expanding=True)))
    .with_for_update(of=_orders)
)
_TAKEN_STEP_IDS = select(_steps.c.id).where(_steps.c.id.in_(bindparam("ids", expanding=True)))


class _Override(NamedTuple):
    """An estate's ``sla_policies`` row, as ``sla.merged`` reads it."""

    contact_minutes: int | None
    update_minutes: int | None
    resolve_minutes: int | None
    callback_minutes: int | None


async def prepare_steps(session: AsyncSession, batch: PushBatch, order_ids: set[uuid.UUID], step_ids: set[uuid.UUID]):
    """Read what a batch of steps needs in two queries, whatever its size: the orders (locked) with
    their last step position and their estate's SLA override, and which of the new ids are taken."""
    cache = StepCache.of(batch)
    unknown = order_ids - cache.orders.keys()
    n = len(rows.COLUMNS)
    if unknown:
        result = await session.execute(_ORDERS_FOR_STEPS, {"ids": list(unknown)})  # autoflush first
        cache.orders.update(dict.fromkeys(unknown))
        for values in result:
            order = rows.order_row(values[:n])
            position, policy_id, *minutes = values[n:]
            cache.orders[order.id] = order
            cache.positions.setdefault(order.id, position or 0)
            override = None if policy_id is None else _Override(*minutes)
            cache.policies.setdefault((order.estate_id, str(order.kind)), sla.merged(override, order.kind))
    unchecked = step_ids - cache.checked_ids
    if unchecked:
        cache.taken.update((await session.scalars(_TAKEN_STEP_IDS, {"ids": list(unchecked)})).all())
        cache.checked_ids.update(unchecked)


async def add_step_batched(
    session: AsyncSession,
    batch: PushBatch,
    actor: Actor,
    order_id: uuid.UUID,
    new: NewStep,
    *,
    now: datetime,
    origin: Origin,
) -> None:
    """:func:`add_step` for a push batch: the same checks, chain and deadlines, but the step row and
    the change-log rows go to ``batch`` and the order is updated in memory (written at its flush).
    Every refusal is raised before anything is written or changed."""
    cache = StepCache.of(batch)
    # What prepare_steps read is taken from the cache without a coroutine each (four per step).
    order = cache.orders.get(order_id)
    if order is None or not can_see(actor, order):
        order = await cache.order(session, actor, order_id)
    _admit(actor, order, new, origin, now)
    step_id = new.id or uuid7()
    taken = step_id in cache.taken if step_id in cache.checked_ids else await cache.is_taken(session, step_id)
    if taken:
        raise _duplicate()
    if order.id in cache.positions:
        position = cache.positions[order.id] = cache.positions[order.id] + 1
    else:
        position = await cache.next_position(session, order.id)
    draft = evidence.StepDraft(**_columns(new, step_id, order, position, actor, now, origin))
    cache.taken.add(step_id)
    cache.checked_ids.add(step_id)
    evidence.append(order, draft)
    batch.insert(Step.__table__, draft.row())
    if (order.id, draft.effective_at) not in cache.progressed:
        _progress(order, await cache.policy(session, order), draft.effective_at, now)
        cache.progressed.add((order.id, draft.effective_at))
    publish_batched(batch, order, ("steps", [step_id]))
    for hook in STEP_HOOKS:
        await hook(session, order, new.note, now)
    if isinstance(order, rows.OrderRow):
        batch.on_flush("order_rows", lambda: rows.write_changed(session, cache.order_rows()))
