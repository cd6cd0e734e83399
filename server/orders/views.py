"""Reading orders: lists within scope, the timeline, and the record shapes shared by the HTTP API
and sync pull (``orders``, ``order_events``, ``steps``, ``ratings``, ``callbacks``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Staff
from server.accounts.scope import Actor
from server.orders.access import where_visible
from server.orders.models import Callback, Order, OrderEvent, Rating, Status, Step
from server.sites.models import Household
from server.syncing.rows import iso_time, json_value, uuid_text


def _t(v):
    """ISO 8601; a value read through ``iso_time`` is already text."""
    return v if v is None or isinstance(v, str) else v.isoformat()


def _s(v):
    return str(v) if v is not None else None


async def _names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict((await session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids)))).all())


async def _phones(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict((await session.execute(select(Staff.id, Staff.phone).where(Staff.id.in_(ids)))).all())


async def _labels(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict((await session.execute(select(Household.id, Household.label).where(Household.id.in_(ids)))).all())


def order_dict(o: Order, names: dict, labels: dict, phones: dict | None = None) -> dict[str, Any]:
    return {
        "id": str(o.id),
        "number": o.number,
        "kind": str(o.kind),
        "channel": str(o.channel),
        "category": str(o.category),
        "priority": o.priority,
        "status": str(o.status),
        "status_before_pause": _s(o.status_before_pause),
        "pause_reason": o.pause_reason,
        "description": o.description,
        "location": o.location,
        "estate_id": str(o.estate_id),
        "grid_id": _s(o.grid_id),
        "household_id": _s(o.household_id),
        "household_label": labels.get(o.household_id, ""),
        "reporter_name": o.reporter_name,
        "reporter_phone": o.reporter_phone,
        "assignee_id": _s(o.assignee_id),
        "assignee_name": names.get(o.assignee_id, ""),
        "assignee_phone": (phones or {}).get(o.assignee_id, ""),
        "department": o.department,
        "eta": _t(o.eta),
        "due_at": _t(o.due_at),
        "due_stage": o.due_stage,
        "contact_due_at": _t(o.contact_due_at),
        "update_due_at": _t(o.update_due_at),
        "resolve_due_at": _t(o.resolve_due_at),
        "callback_due_at": _t(o.callback_due_at),
        "callback_retry_at": _t(o.callback_retry_at),
        "created_at": _t(o.created_at),
        "updated_at": _t(o.updated_at),
        "accepted_at": _t(o.accepted_at),
        "completed_at": _t(o.completed_at),
        "closed_at": _t(o.closed_at),
        "repeat_of_id": _s(o.repeat_of_id),
        "follow_up_of_id": _s(o.follow_up_of_id),
        "rework_of_id": _s(o.rework_of_id),
        "finding_id": _s(o.finding_id),
        "completion_no": o.completion_no,
    }


def event_dict(e: OrderEvent, names: dict) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "order_id": str(e.order_id),
        "action": e.action,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "actor_id": _s(e.actor_id),
        "actor_name": names.get(e.actor_id, ""),
        "actor_kind": e.actor_kind,
        "source": e.source,
        "server_time": _t(e.server_time),
        "client_time": _t(e.client_time),
        "effective_at": _t(e.effective_at),
        "skew_flag": e.skew_flag,
        "note": e.note,
        "data": e.data or {},
    }


def step_dict(s: Step, names: dict, uploaded: set[str]) -> dict[str, Any]:
    """A step as the API and the phones see it (``steps_by_id`` builds the same from plain rows)."""
    return {
        "id": str(s.id),
        "order_id": str(s.order_id),
        "position": s.position,
        "note": s.note,
        "materials": s.materials or [],
        "photos": [{"sha256": p, "uploaded": p in uploaded} for p in s.photos or []],
        "gps": s.gps,
        "captured_at": _t(s.captured_at),
        "received_at": _t(s.received_at),
        "effective_at": _t(s.effective_at),
        "author_id": str(s.author_id),
        "author_name": names.get(s.author_id, ""),
        "skew_flag": s.skew_flag,
    }


def rating_dict(r: Rating) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "order_id": str(r.order_id),
        "completion_no": r.completion_no,
        "level": str(r.level),
        "comment": r.comment,
        "created_at": _t(r.created_at),
        "follow_up_id": _s(r.follow_up_id),
    }


def callback_dict(c: Callback, names: dict) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "order_id": str(c.order_id),
        "staff_id": str(c.staff_id),
        "staff_name": names.get(c.staff_id, ""),
        "result": c.result,
        "note": c.note,
        "created_at": _t(c.created_at),
    }


async def uploaded(session: AsyncSession, shas: set[str]) -> set[str]:
    """Which of these photos have arrived complete (the rest show as "uploading")."""
    from server.photos.models import Blob

    if not shas:
        return set()
    return set((await session.scalars(select(Blob.sha256).where(Blob.sha256.in_(sorted(shas))))).all())


async def orders_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Order).where(Order.id.in_(ids)))).all()
    staff = {o.assignee_id for o in rows}
    names, phones = await _names(session, staff), await _phones(session, staff)
    labels = await _labels(session, {o.household_id for o in rows})
    return [order_dict(o, names, labels, phones) for o in rows]


# Pull renders up to 1,000 records per page from plain rows (attribute access works on them as on
# instances): building and tracking ORM instances, and the evidence-chain columns nobody sends,
# cost more than the query. Steps and events are the bulk of a fresh device's pull; their ids and
# JSON are read in wire form (server/syncing/rows.py), so ``names`` is keyed by the id's text.
_EVENT_COLUMNS = (
    uuid_text(OrderEvent.id).label("id"),
    uuid_text(OrderEvent.order_id).label("order_id"),
    OrderEvent.action,
    OrderEvent.from_status,
    OrderEvent.to_status,
    uuid_text(OrderEvent.actor_id).label("actor_id"),
    OrderEvent.actor_kind,
    OrderEvent.source,
    iso_time(OrderEvent.server_time),
    iso_time(OrderEvent.client_time),
    iso_time(OrderEvent.effective_at),
    OrderEvent.skew_flag,
    OrderEvent.note,
    json_value(OrderEvent.data),
)
_STEP_COLUMNS = (
    uuid_text(Step.id).label("id"),
    uuid_text(Step.order_id).label("order_id"),
    Step.position,
    Step.note,
    json_value(Step.materials),
    json_value(Step.photos),
    json_value(Step.gps),
    iso_time(Step.captured_at),
    iso_time(Step.received_at),
    iso_time(Step.effective_at),
    uuid_text(Step.author_id).label("author_id"),
    Step.skew_flag,
)


async def _names_by_text(session: AsyncSession, ids: set[str | None]) -> dict[str, str]:
    names = await _names(session, {uuid.UUID(i) for i in ids if i is not None})
    return {str(k): v for k, v in names.items()}


async def events_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    conn = await session.connection()
    rows = (await conn.execute(select(*_EVENT_COLUMNS).where(OrderEvent.id.in_(ids)))).all()
    names = await _names_by_text(session, {e.actor_id for e in rows})
    return [event_dict(e, names) for e in rows]


async def steps_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    conn = await session.connection()
    rows = (await conn.execute(select(*_STEP_COLUMNS).where(Step.id.in_(ids)))).all()
    names = await _names_by_text(session, {s.author_id for s in rows})
    arrived = await uploaded(session, {p for s in rows for p in s.photos or []})
    # Positional unpacking: a Row's attribute access costs ~1 µs a field, a pull page renders 1,000.
    return [
        {
            "id": id_,
            "order_id": order_id,
            "position": position,
            "note": note,
            "materials": materials or [],
            "photos": [{"sha256": p, "uploaded": p in arrived} for p in photos or []],
            "gps": gps,
            "captured_at": captured_at,
            "received_at": received_at,
            "effective_at": effective_at,
            "author_id": author_id,
            "author_name": names.get(author_id, ""),
            "skew_flag": skew_flag,
        }
        for (
            id_,
            order_id,
            position,
            note,
            materials,
            photos,
            gps,
            captured_at,
            received_at,
            effective_at,
            author_id,
            skew_flag,
        ) in rows
    ]


async def ratings_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    return [rating_dict(r) for r in (await session.scalars(select(Rating).where(Rating.id.in_(ids)))).all()]


async def callbacks_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Callback).where(Callback.id.in_(ids)))).all()
    names = await _names(session, {c.staff_id for c in rows})
    return [callback_dict(c, names) for c in rows]


async def list_orders(
    session: AsyncSession,
    actor: Actor,
    *,
    status: list[Status] | None = None,
    assignee_id: uuid.UUID | None = None,
    household_id: uuid.UUID | None = None,
    limit: int = 100,
    open_only: bool = False,
) -> list[dict[str, Any]]:
    stmt = select(Order.id).where(where_visible(actor))
    if status:
        stmt = stmt.where(Order.status.in_(status))
    if open_only:
        stmt = stmt.where(Order.status.not_in((Status.closed, Status.cancelled)))
    if assignee_id:
        stmt = stmt.where(Order.assignee_id == assignee_id)
    if household_id:
        stmt = stmt.where(Order.household_id == household_id)
    ids = list((await session.scalars(stmt.order_by(Order.created_at.desc(), Order.number.desc()).limit(limit))).all())
    rows = {r["id"]: r for r in await orders_by_id(session, ids)}
    return [rows[str(i)] for i in ids]


async def timeline(session: AsyncSession, order: Order) -> dict[str, list[dict[str, Any]]]:
    events = (
        await session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.chain_index)
        )
    ).all()
    steps = (await session.scalars(select(Step).where(Step.order_id == order.id).order_by(Step.position))).all()
    ratings = (await session.scalars(select(Rating).where(Rating.order_id == order.id))).all()
    callbacks = (await session.scalars(select(Callback).where(Callback.order_id == order.id))).all()
    names = await _names(
        session, {e.actor_id for e in events} | {s.author_id for s in steps} | {c.staff_id for c in callbacks}
    )
    arrived = await uploaded(session, {p for s in steps for p in s.photos or []})
    return {
        "events": [event_dict(e, names) for e in events],
        "steps": [step_dict(s, names, arrived) for s in steps],
        "ratings": [rating_dict(r) for r in ratings],
        "callbacks": [callback_dict(c, names) for c in callbacks],
    }
