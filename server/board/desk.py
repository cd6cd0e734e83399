"""Front-desk helpers: find the caller's household from whatever they say, and show its history.

An owner on the phone says "3栋2单元201", "3-2-201", "三栋…" typed as "3 2 201", gives a name, or
the desk reads the last digits of the calling number. :func:`interpret` turns the query into the
readings worth trying, best first; :func:`find` runs them within the actor's scope and returns each
household once, with its open orders, its complaints of the last 30 days and whether one of those
was a repeat (the same problem again: handle with care).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor, Scope
from server.board.summaries import summaries
from server.errors import Forbidden
from server.orders.access import where_visible
from server.orders.models import Kind, Order, Rating, Status
from server.sites import service as sites
from server.sites.models import Building, Grid, Household, Unit

RECENT_COMPLAINTS = timedelta(days=30)  # the repeat-complaint window (orders.lifecycle.REPEAT_WINDOW)
HISTORY = timedelta(days=90)
OPEN = (Status.new, Status.dispatched, Status.accepted, Status.en_route, Status.on_site, Status.paused)

ADDRESS_WORDS = "栋号楼幢座单元室#-－—/、,，"
NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Reading:
    """One way to read the query: an address (any part may be missing), a name, a phone, a label."""

    how: str  # address | phone | phone_suffix | room | name | label
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    text: str | None = None


def interpret(q: str) -> list[Reading]:
    text = unicodedata.normalize("NFKC", q).strip()
    compact = "".join(text.split())
    if not compact:
        return []
    numbers = NUMBER.findall(text)
    leftover = re.sub(r"[\d\s" + re.escape(ADDRESS_WORDS) + r"]", "", text)
    readings: list[Reading] = []
    if leftover:  # letters or a name: 张伟, 王, A座…
        readings.append(Reading("name", text=compact))
        readings.append(Reading("label", text=compact))
        return readings
    if len(numbers) >= 3:
        readings.append(Reading("address", building=numbers[0], unit=numbers[1], room=numbers[2]))
    elif len(numbers) == 2:
        if re.search(r"\d+\s*单元", text) and not re.search(r"栋|号楼|幢|座", text):
            readings.append(Reading("address", unit=numbers[0], room=numbers[1]))
        else:
            readings.append(Reading("address", building=numbers[0], room=numbers[1]))
            readings.append(Reading("address", building=numbers[0], unit=numbers[1]))
    elif len(numbers) == 1:
        n = numbers[0]
        if re.search(r"栋|号楼|幢|座", text):
            readings.append(Reading("address", building=n))
        elif "单元" in text:
            readings.append(Reading("address", unit=n))
        elif len(n) == 11:
            readings.append(Reading("phone", text=n))
        else:
            readings.append(Reading("room", room=n))
            if len(n) >= 4:
                readings.append(Reading("phone_suffix", text=n))
    readings.append(Reading("label", text=compact))
    return readings


def _number_names(n: str, suffixes: tuple[str, ...]) -> list[str]:
    bare = n.lstrip("0") or "0"
    return sorted({f"{v}{s}" for v in (n, bare) for s in suffixes})


def _clause(r: Reading):
    if r.how == "address":
        parts = []
        if r.building is not None:
            parts.append(Building.name.in_(_number_names(r.building, ("栋", "号楼", "幢", "座", "号", ""))))
        if r.unit is not None:
            parts.append(Unit.name.in_(_number_names(r.unit, ("单元", "号", ""))))
        if r.room is not None:
            parts.append(Household.room.in_([r.room, f"{r.room}室"]))
        return and_(*parts)
    if r.how == "room":
        return Household.room.in_([r.room, f"{r.room}室"])
    if r.how == "phone":
        return Household.owner_phone == r.text
    if r.how == "phone_suffix":
        return Household.owner_phone.endswith(r.text, autoescape=True)
    if r.how == "name":
        return Household.owner_name.contains(r.text, autoescape=True)
    return Household.label.contains(r.text, autoescape=True)


def _require_desk_scope(actor: Actor) -> None:
    if actor.scope is Scope.assignments:
        raise Forbidden("the household finder is for the desk, supervisors and stewards")


async def find(session: AsyncSession, actor: Actor, q: str, now: datetime, *, limit: int = 20) -> list[dict[str, Any]]:
    _require_desk_scope(actor)
    found: list[tuple[Household, str, str, str, str]] = []
    seen: set[uuid.UUID] = set()
    for reading in interpret(q):
        if len(found) >= limit:
            break
        rows = await session.execute(
            select(Household, Building.name, Unit.name, Grid.name)
            .join(Unit, Unit.id == Household.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .join(Grid, Grid.id == Household.grid_id)
            .where(actor.where_grid(Household.estate_id, Household.grid_id), _clause(reading))
            .order_by(Household.label)
            .limit(limit)
        )
        for h, building, unit, grid in rows:
            if h.id not in seen and len(found) < limit:
                seen.add(h.id)
                found.append((h, building, unit, grid, reading.how))
    stats = await _stats(session, actor, [h.id for h, *_ in found], now)
    return [
        {
            "id": str(h.id),
            "label": h.label,
            "building": building,
            "unit": unit,
            "room": h.room,
            "owner_name": h.owner_name,
            "owner_phone": h.owner_phone,
            "estate_id": str(h.estate_id),
            "grid_id": str(h.grid_id),
            "grid_name": grid,
            "matched_by": how,
            **stats.get(h.id, _EMPTY),
        }
        for h, building, unit, grid, how in found
    ]


_EMPTY = {"open_orders": 0, "recent_complaints": 0, "repeat": False}


async def _stats(session: AsyncSession, actor: Actor, ids: list[uuid.UUID], now: datetime) -> dict[uuid.UUID, dict]:
    if not ids:
        return {}
    since = now - RECENT_COMPLAINTS
    complaint = and_(Order.kind == Kind.complaint, Order.created_at >= since)
    rows = await session.execute(
        select(
            Order.household_id,
            func.count().filter(Order.status.in_(OPEN)),
            func.count().filter(complaint),
            func.count().filter(and_(complaint, Order.repeat_of_id.is_not(None))),
        )
        .where(Order.household_id.in_(ids), where_visible(actor))
        .group_by(Order.household_id)
    )
    return {
        hid: {"open_orders": n_open, "recent_complaints": n_complaints, "repeat": n_repeat > 0}
        for hid, n_open, n_complaints, n_repeat in rows
    }


async def history(session: AsyncSession, actor: Actor, household_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """Open orders (whenever raised) and every order of the last 90 days, newest first; 404 outside scope
    (technicians included: they see orders, not households)."""
    h = await sites.household(session, actor, household_id)
    since = now - HISTORY
    orders = list(
        (
            await session.scalars(
                select(Order)
                .where(
                    Order.household_id == h.id,
                    where_visible(actor),
                    or_(Order.status.in_(OPEN), Order.created_at >= since),
                )
                .order_by(Order.created_at.desc(), Order.number.desc())  # numbers break ties in time
            )
        ).all()
    )
    cards = dict(zip((o.id for o in orders), await summaries(session, orders, now), strict=True))
    ratings: dict[uuid.UUID, str] = {}
    if orders:
        for order_id, level in (
            await session.execute(
                select(Rating.order_id, Rating.level)
                .where(Rating.order_id.in_([o.id for o in orders]))
                .order_by(Rating.completion_no)
            )
        ).all():
            ratings[order_id] = str(level)  # the latest completion's rating wins
    for order_id, card in cards.items():
        card["rating"] = ratings.get(order_id)
    recent = [cards[o.id] for o in orders if o.created_at >= since]
    complaints = [c for c in recent if c["kind"] == Kind.complaint.value]
    return {
        "household": {
            "id": str(h.id),
            "label": h.label,
            "room": h.room,
            "owner_name": h.owner_name,
            "owner_phone": h.owner_phone,
            "estate_id": str(h.estate_id),
            "grid_id": str(h.grid_id),
        },
        "open_orders": [cards[o.id] for o in orders if o.status in OPEN],
        "recent_orders": recent,
        "since": since.isoformat(),
        "counts": {
            "open": sum(1 for o in orders if o.status in OPEN),
            "recent": len(recent),
            "complaints": len(complaints),
            "repeat_complaints": sum(1 for c in complaints if c["repeat"]),
        },
    }
