"""The evidence chain. Every timeline record of an order (event, step, rating, callback) stores the
sha256 of its canonical form chained to the previous record's hash, with its photos' hashes inside
the canonical form — so an edited row, a deleted row or a swapped photo file is detectable."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.orders.models import Callback, ChainedRecord, Order, OrderEvent, Rating, Step

GENESIS = "0" * 64
_encoder = msgspec.json.Encoder(order="sorted")


_last_time: tuple[datetime | None, str | None] = (None, None)


def _t(value: datetime | None) -> str | None:
    # Normalised to UTC: the database gives back UTC whatever zone the device sent. The last value
    # is remembered: a push's steps all carry its one receipt time.
    global _last_time
    last, text = _last_time
    if value is last:
        return text
    text = value.astimezone(UTC).isoformat() if value else None
    _last_time = (value, text)
    return text


def _event_form(record: OrderEvent) -> dict[str, Any]:
    return {
        "type": "event",
        "id": record.id,
        "order_id": record.order_id,
        "action": record.action,
        "from": record.from_status,
        "to": record.to_status,
        "actor_id": record.actor_id,
        "actor_kind": record.actor_kind,
        "source": record.source,
        "server_time": _t(record.server_time),
        "client_time": _t(record.client_time),
        "note": record.note,
        "data": record.data or {},
    }


def _step_form(record: Step | StepDraft) -> dict[str, Any]:
    return {
        "type": "step",
        "id": record.id,
        "order_id": record.order_id,
        "position": record.position,
        "note": record.note,
        "materials": record.materials or [],
        "photos": list(record.photos or []),
        "gps": record.gps,
        "author_id": record.author_id,
        "captured_at": _t(record.captured_at),
        "received_at": _t(record.received_at),
    }


def _rating_form(record: Rating) -> dict[str, Any]:
    return {
        "type": "rating",
        "id": record.id,
        "order_id": record.order_id,
        "completion_no": record.completion_no,
        "level": str(record.level),
        "comment": record.comment,
        "source": record.source,
        "created_at": _t(record.created_at),
    }


def _callback_form(record: Callback) -> dict[str, Any]:
    return {
        "type": "callback",
        "id": record.id,
        "order_id": record.order_id,
        "staff_id": record.staff_id,
        "result": record.result,
        "note": record.note,
        "created_at": _t(record.created_at),
    }


@dataclass(slots=True)
class StepDraft:
    """A step as plain values, for the batched sync path (``server/orders/steps.py``): chained like a
    :class:`Step` (same canonical form, so the same hash) and inserted as a row, without the cost of
    an ORM object. :meth:`row` is the ``order_steps`` row."""

    id: uuid.UUID
    order_id: uuid.UUID
    position: int
    note: str
    materials: list[dict[str, Any]]
    photos: list[str]
    gps: dict[str, Any] | None
    author_id: uuid.UUID
    captured_at: datetime
    received_at: datetime
    clock_offset_ms: int | None
    skew_flag: bool
    effective_at: datetime | None = None  # always set by the step path; not part of the hash
    chain_index: int = 0
    prev_hash: str = ""
    hash: str = ""

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


_FORMS = {
    OrderEvent: _event_form,
    Step: _step_form,
    StepDraft: _step_form,
    Rating: _rating_form,
    Callback: _callback_form,
}


def canonical(record: ChainedRecord | StepDraft) -> dict[str, Any]:
    """The fields that are evidence, in a stable JSON-able form (hash columns excluded). Ids stay
    UUIDs: the encoder writes them as ``str(uuid)`` reads, and that text is what is hashed."""
    form = _FORMS.get(type(record))
    if form is None:
        raise TypeError(f"not a timeline record: {type(record).__name__}")
    return form(record)


def digest(prev_hash: str, record: ChainedRecord | StepDraft) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + _encoder.encode(canonical(record))).hexdigest()


def append(order: Order, record: ChainedRecord | StepDraft) -> None:
    """Link ``record`` at the end of ``order``'s chain (the order row must be locked for update).
    The record must be complete, its id included: what is hashed now is what is stored."""
    if getattr(record, "id", None) is None:
        raise ValueError("assign the record's id before chaining it")
    order.chain_length += 1
    record.chain_index = order.chain_length
    record.prev_hash = order.chain_head or GENESIS
    record.hash = digest(record.prev_hash, record)
    order.chain_head = record.hash


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    records: int
    first_broken: dict[str, Any] | None
    photos_checked: int
    photos_pending: list[str]


async def timeline_records(session: AsyncSession, order_id: uuid.UUID) -> list[ChainedRecord]:
    records: list[ChainedRecord] = []
    for model in (OrderEvent, Step, Rating, Callback):
        records.extend((await session.scalars(select(model).where(model.order_id == order_id))).all())
    return sorted(records, key=lambda r: r.chain_index)


def _describe(record: ChainedRecord, problem: str) -> dict[str, Any]:
    c = canonical(record)
    return {"type": c["type"], "id": str(c["id"]), "chain_index": record.chain_index, "problem": problem}


async def verify(session: AsyncSession, order: Order, photo_ok) -> ChainReport:
    """Recompute the chain. ``photo_ok(sha) -> bool | None`` checks a stored photo file (None: not
    uploaded yet, which is not a break)."""
    records = await timeline_records(session, order.id)
    prev = GENESIS
    checked, pending = 0, []
    for expected_index, record in enumerate(records, start=1):
        if record.chain_index != expected_index:
            return ChainReport(
                False, len(records), _describe(record, "missing record before this one"), checked, pending
            )
        if record.prev_hash != prev:
            return ChainReport(
                False, len(records), _describe(record, "link to previous record broken"), checked, pending
            )
        if digest(prev, record) != record.hash:
            return ChainReport(
                False, len(records), _describe(record, "content changed after it was recorded"), checked, pending
            )
        for sha in getattr(record, "photos", None) or []:
            ok = photo_ok(sha)
            if ok is None:
                pending.append(sha)
                continue
            checked += 1
            if not ok:
                return ChainReport(
                    False, len(records), {**_describe(record, "photo file altered"), "photo": sha}, checked, pending
                )
        prev = record.hash
    if len(records) != order.chain_length or (records and order.chain_head != prev):
        last = records[-1] if records else None
        problem = {
            "type": "order",
            "id": str(order.id),
            "problem": "records missing at the end of the chain",
            "chain_index": last.chain_index if last else 0,
        }
        return ChainReport(False, len(records), problem, checked, pending)
    return ChainReport(True, len(records), None, checked, pending)
