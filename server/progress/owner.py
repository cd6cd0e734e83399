"""What the owner may see of an order: a view built from the order's records, with every staff-only
field left out (internal note, staff ids, reporter details, other households, SLA and note events).

Owner-facing events are whitelisted (``OWNER_ACTIONS``); everything else on the order's event list
(``note``, ``sla_*``, ``set_eta``, and actions added later) stays off the page until listed here.
The ETA appears in the header, not in the timeline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Role, Staff, StaffGrid
from server.orders.feedback import RATABLE
from server.orders.models import Order, OrderEvent, Rating, Status, Step
from server.orders.views import uploaded
from server.sites.models import Household

OWNER_ACTIONS = frozenset(
    {
        "create",
        "report_photos",
        "dispatch",
        "reassign",
        "take",
        "accept",
        "depart",
        "arrive",
        "pause",
        "resume",
        "complete",
        "answer",
        "rate",
        "callback",
        "rework",
        "close",
        "reopen",
        "cancel",
    }
)
REPORT_PHOTOS = "report_photos"  # the owner's photos from the report form, chained as an event


@dataclass(frozen=True)
class Photo:
    sha: str
    uploaded: bool


@dataclass(frozen=True)
class Entry:
    """One line of the owner's timeline: an event (``action``) or a repair step (``action="step"``)."""

    at: datetime
    action: str
    who: str = ""
    department: str = ""
    reason: str = ""
    level: str = ""
    number: str = ""  # the other order of a 返修 pair
    note: str = ""
    materials: tuple[tuple[str, float, str], ...] = ()
    photos: tuple[Photo, ...] = ()


@dataclass(frozen=True)
class Contact:
    role: str  # technician | steward
    name: str
    phone: str


@dataclass(frozen=True)
class OwnerView:
    number: str
    kind: str
    category: str
    status: str
    pause_reason: str | None
    household: str
    location: str
    description: str
    created_at: datetime
    eta: datetime | None
    contacts: tuple[Contact, ...]
    entries: tuple[Entry, ...]
    rating_level: str | None
    rating_comment: str
    can_rate: bool
    expires_at: datetime | None
    photos: frozenset[str] = field(default_factory=frozenset)
    pending: frozenset[str] = field(default_factory=frozenset)


def _materials(raw: list[dict] | None) -> tuple[tuple[str, float, str], ...]:
    out = []
    for m in raw or []:
        try:
            out.append((str(m.get("name", "")), float(m.get("quantity", 0)), str(m.get("unit", ""))))
        except (TypeError, ValueError):
            continue
    return tuple(out)


async def grid_steward(session: AsyncSession, grid_id: uuid.UUID | None) -> Staff | None:
    if grid_id is None:
        return None
    return await session.scalar(
        select(Staff)
        .join(StaffGrid, StaffGrid.staff_id == Staff.id)
        .where(StaffGrid.grid_id == grid_id, Staff.role == Role.steward, Staff.active)
        .order_by(Staff.created_at)
        .limit(1)
    )


async def order_photos(session: AsyncSession, order_id: uuid.UUID) -> set[str]:
    """Every photo hash on this order's owner timeline: its steps' and the owner's report photos."""
    shas: set[str] = set()
    for photos in (await session.scalars(select(Step.photos).where(Step.order_id == order_id))).all():
        shas.update(photos or [])
    for data in (
        await session.scalars(
            select(OrderEvent.data).where(OrderEvent.order_id == order_id, OrderEvent.action == REPORT_PHOTOS)
        )
    ).all():
        shas.update((data or {}).get("photos") or [])
    return shas


async def build(session: AsyncSession, order: Order, *, expires_at: datetime | None) -> OwnerView:
    events = (
        await session.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id == order.id, OrderEvent.action.in_(sorted(OWNER_ACTIONS)))
            .order_by(OrderEvent.chain_index)
        )
    ).all()
    steps = (await session.scalars(select(Step).where(Step.order_id == order.id).order_by(Step.position))).all()
    ratings = (
        await session.scalars(select(Rating).where(Rating.order_id == order.id).order_by(Rating.chain_index))
    ).all()
    rating = next((r for r in ratings if r.completion_no == order.completion_no), None)
    staff_ids = {e.actor_id for e in events if e.actor_id} | ({order.assignee_id} if order.assignee_id else set())
    people = {}
    if staff_ids:
        people = {
            sid: (name, phone)
            for sid, name, phone in (
                await session.execute(select(Staff.id, Staff.name, Staff.phone).where(Staff.id.in_(staff_ids)))
            ).all()
        }
    shas = {p for s in steps for p in s.photos or []}
    for e in events:
        if e.action == REPORT_PHOTOS:
            shas.update((e.data or {}).get("photos") or [])
    arrived = await uploaded(session, shas)

    entries: list[Entry] = []
    for e in events:
        data = e.data or {}
        who = people.get(e.actor_id, ("", ""))[0] if e.actor_id else ""
        if e.action in ("dispatch", "reassign"):
            who = str(data.get("assignee_name") or "")
            entries.append(Entry(e.effective_at, e.action, who=who, department=str(data.get("department") or "")))
        elif e.action == REPORT_PHOTOS:
            photos = tuple(Photo(p, p in arrived) for p in data.get("photos") or [])
            entries.append(Entry(e.effective_at, e.action, photos=photos))
        elif e.action == "pause":
            entries.append(Entry(e.effective_at, e.action, who=who, reason=str(data.get("reason") or "")))
        elif e.action == "rate":
            # The level is on the rating record, which is chained just before its "rate" event.
            rated = [r for r in ratings if r.chain_index < e.chain_index]
            entries.append(Entry(e.effective_at, e.action, level=str(rated[-1].level) if rated else ""))
        elif e.action == "callback" and data.get("result") == "unreachable":
            entries.append(Entry(e.effective_at, "callback_missed"))
        elif e.action == "rework":
            # On the first order: the number of its 返修; on the 返修: the number it re-does.
            first = str(data.get("rework_id")) != str(e.order_id)
            number = data.get("rework_number") if first else data.get("rework_of_number")
            entries.append(Entry(e.effective_at, "rework" if first else "rework_of", number=str(number or "")))
        else:
            entries.append(Entry(e.effective_at, e.action, who=who))
    for s in steps:
        # The effective time (server/clock.py): the capture time, corrected by the device's clock offset.
        at = s.effective_at
        entries.append(
            Entry(
                at,
                "step",
                note=s.note,
                materials=_materials(s.materials),
                photos=tuple(Photo(p, p in arrived) for p in s.photos or []),
            )
        )
    entries.sort(key=lambda x: x.at)

    contacts: list[Contact] = []
    if order.assignee_id and order.assignee_id in people:
        name, phone = people[order.assignee_id]
        contacts.append(Contact("technician", name, phone))
    steward = await grid_steward(session, order.grid_id)
    if steward is not None and steward.id != order.assignee_id:
        contacts.append(Contact("steward", steward.name, steward.phone))
    household = ""
    if order.household_id is not None:
        household = await session.scalar(select(Household.label).where(Household.id == order.household_id)) or ""
    return OwnerView(
        number=order.number,
        kind=str(order.kind),
        category=str(order.category),
        status=str(order.status),
        pause_reason=order.pause_reason,
        household=household,
        location=order.location,
        description=order.description,
        created_at=order.created_at,
        eta=order.eta if order.status in (Status.dispatched, Status.accepted, Status.en_route) else None,
        contacts=tuple(contacts),
        entries=tuple(entries),
        rating_level=str(rating.level) if rating else None,
        rating_comment=rating.comment if rating else "",
        can_rate=rating is None and order.completion_no > 0 and order.status in RATABLE,
        expires_at=expires_at,
        photos=frozenset(shas),
        pending=frozenset(shas - arrived),
    )


async def arrived_since(session: AsyncSession, pending: frozenset[str]) -> bool:
    """Has any of these photos arrived (so a cached page is stale)?"""
    return bool(pending) and bool(await uploaded(session, set(pending)))
