"""Bulletin rules: the week's figures, the team lead's draft (checked), publication and revocation.

Figures of a week (Monday 00:00 – next Monday 00:00, China time; the same bounds as the KPI "week"):

- ``done``: repair and emergency orders of the estate whose ``completed_at`` falls in the week and
  that are done now (completed, rated, called back or closed: a reopened one is not done);
  ``by_category`` splits them by category.
- ``received``: repair and emergency orders created in the week.

What reaches owners (page and image) holds no owner data. A notable repair shows only its building
(``3栋``, or 公共区域 when the order names no household), its category, the day it was done, the
team lead's caption and one photo of the technician's repair steps (the "after" picture; the owner's
own report photos are never offered), served as a derivative (EXIF/GPS stripped). Names, phones,
rooms, descriptions and step notes are never copied. The captions, areas and the note are typed by
staff; text that looks like a mobile number or a room (3栋1单元201) is refused.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Role
from server.accounts.scope import Actor
from server.bulletins.models import Bulletin
from server.errors import DomainError, NotFound
from server.orders.kpi import CHINA, DONE
from server.orders.models import Kind, Order, Step
from server.orders.views import uploaded
from server.progress.tokens import new_poster_key
from server.sites.models import Building, Estate, Household, Unit

REPAIR_KINDS = (Kind.repair, Kind.emergency)
EDITORS = (Role.team_lead, Role.supervisor, Role.admin)
READERS = (*EDITORS, Role.front_desk)
MAX_PLANS = 12
MAX_HIGHLIGHTS = 4
PUBLIC_AREA = "公共区域"
PLAN_KINDS = (
    "water_cut",  # 停水
    "power_cut",  # 停电
    "lift_maintenance",  # 电梯维保
    "fire_check",  # 消防检查
    "gas_check",  # 燃气安检
    "pest_control",  # 消杀
    "greening",  # 绿化养护
    "cleaning",  # 清洗保洁
    "other",
)

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
_ROOM = re.compile(r"\d+\s*(栋|幢|号楼)\s*\d+\s*单元\s*\d{3,4}|\d+\s*(栋|幢|号楼)\s*\d{3,4}\s*(室|房)?(?!\d)")


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    start = datetime.combine(week_start, time(), tzinfo=CHINA)
    return start, start + timedelta(days=7)


def week_of(now: datetime) -> date:
    local = now.astimezone(CHINA).date()
    return local - timedelta(days=local.weekday())


def check_monday(week_start: date, now: datetime) -> None:
    if week_start.weekday() != 0:
        raise DomainError("not_a_monday", "week_start must be a Monday", details={"week_start": week_start.isoformat()})
    if week_start > week_of(now):
        raise DomainError("future_week", "a bulletin reports a week that has begun", status=422)


def owner_data_in(text: str) -> str | None:
    """What in ``text`` looks like owner data (a phone or a room), else None."""
    for kind, pattern in (("phone", _MOBILE), ("phone", _LANDLINE), ("room", _ROOM)):
        if pattern.search(text or ""):
            return kind
    return None


@dataclass
class Candidate:
    """A repair done in the week, as the team lead sees it when picking notable ones (staff only)."""

    order_id: uuid.UUID
    number: str
    building: str
    category: str
    completed_at: datetime
    photos: list[str]


@dataclass
class Figures:
    week_start: date
    done: int = 0
    received: int = 0
    by_category: dict[str, int] = field(default_factory=dict)


async def figures(session: AsyncSession, estate_id: uuid.UUID, week_start: date) -> Figures:
    start, end = week_bounds(week_start)
    repairs = (Order.estate_id == estate_id, Order.kind.in_(REPAIR_KINDS))
    rows = (
        await session.execute(
            select(Order.category, func.count())
            .where(*repairs, Order.completed_at >= start, Order.completed_at < end, Order.status.in_(DONE))
            .group_by(Order.category)
        )
    ).all()
    by_category = {str(c): n for c, n in sorted(rows, key=lambda r: (-r[1], str(r[0])))}
    received = await session.scalar(
        select(func.count()).select_from(Order).where(*repairs, Order.created_at >= start, Order.created_at < end)
    )
    return Figures(week_start, sum(by_category.values()), received or 0, by_category)


async def candidates(session: AsyncSession, estate_id: uuid.UUID, week_start: date) -> list[Candidate]:
    """The week's done repairs with the uploaded photos of their steps, latest step's last first."""
    start, end = week_bounds(week_start)
    rows = (
        await session.execute(
            select(Order.id, Order.number, Order.category, Order.completed_at, Building.name)
            .outerjoin(Household, Household.id == Order.household_id)
            .outerjoin(Unit, Unit.id == Household.unit_id)
            .outerjoin(Building, Building.id == Unit.building_id)
            .where(
                Order.estate_id == estate_id,
                Order.kind.in_(REPAIR_KINDS),
                Order.completed_at >= start,
                Order.completed_at < end,
                Order.status.in_(DONE),
            )
            .order_by(Order.completed_at.desc())
        )
    ).all()
    ids = [r[0] for r in rows]
    photos: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    if ids:
        steps = await session.execute(
            select(Step.order_id, Step.photos).where(Step.order_id.in_(ids)).order_by(Step.position.desc())
        )
        for order_id, shas in steps.all():
            photos[order_id].extend(reversed(shas or []))
    arrived = await uploaded(session, {s for shas in photos.values() for s in shas}) if ids else set()
    return [
        Candidate(oid, number, building or PUBLIC_AREA, str(cat), done, [s for s in photos[oid] if s in arrived])
        for oid, number, cat, done, building in rows
    ]


# --- the draft -------------------------------------------------------------------------------------------


async def estate_for(session: AsyncSession, actor: Actor, estate_id: uuid.UUID | None) -> Estate:
    wanted = estate_id or actor.estate_id
    if wanted is None:
        raise NotFound("estate")
    return await guard.in_scope(session, actor, Estate, wanted)


async def visible(session: AsyncSession, actor: Actor, bulletin_id: uuid.UUID, *, lock: bool = False) -> Bulletin:
    """The bulletin if the actor may read it; 404 for another estate's, as if it did not exist."""
    actor.require_role(*READERS)
    row = await session.get(Bulletin, bulletin_id, with_for_update=lock)
    if row is None:
        raise NotFound("bulletin")
    await guard.in_scope(session, actor, Estate, row.estate_id, what="bulletin")
    return row


async def open_week(session: AsyncSession, actor: Actor, estate_id: uuid.UUID | None, week_start: date, now: datetime):
    """The estate's bulletin of that week, created as an empty draft if none; ``(bulletin, created)``."""
    actor.require_role(*EDITORS)
    estate = await estate_for(session, actor, estate_id)
    check_monday(week_start, now)
    found = await session.scalar(
        select(Bulletin).where(Bulletin.estate_id == estate.id, Bulletin.week_start == week_start)
    )
    if found is not None:
        return found, False
    row = Bulletin(
        estate_id=estate.id,
        week_start=week_start,
        status="draft",
        note="",
        plans=[],
        highlights=[],
        published=None,
        share_key=new_poster_key(),
        created_by=actor.staff_id,
        created_at=now,
        updated_by=actor.staff_id,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row, True


@dataclass(frozen=True)
class Plan:
    kind: str
    day: date
    start: str  # HH:MM
    end: str
    area: str
    title: str = ""


@dataclass(frozen=True)
class Highlight:
    order_id: uuid.UUID
    photo: str | None
    caption: str = ""


def _refuse_owner_data(where: str, text: str) -> None:
    found = owner_data_in(text)
    if found:
        raise DomainError(
            "owner_data_in_text",
            f"{where} looks like it holds a {found}; the bulletin is public, leave owners' details out",
            details={"field": where, "found": found},
        )


def _check_plans(plans: list[Plan], week_start: date) -> list[dict[str, Any]]:
    if len(plans) > MAX_PLANS:
        raise DomainError("too_many_plans", f"at most {MAX_PLANS} planned works", details={"max": MAX_PLANS})
    first, last = week_start + timedelta(days=7), week_start + timedelta(days=13)
    out = []
    for i, p in enumerate(plans):
        if not first <= p.day <= last:
            raise DomainError(
                "plan_not_next_week",
                "planned works are for the week after the bulletin's week",
                status=422,
                details={"index": i, "from": first.isoformat(), "to": last.isoformat()},
            )
        if p.end <= p.start:
            raise DomainError("plan_times", "a planned work ends after it starts", status=422, details={"index": i})
        if p.kind == "other" and not p.title.strip():
            raise DomainError("plan_title", "say what the work is", status=422, details={"index": i})
        _refuse_owner_data(f"plans[{i}].area", p.area)
        _refuse_owner_data(f"plans[{i}].title", p.title)
        out.append(
            {
                "kind": p.kind,
                "day": p.day.isoformat(),
                "start": p.start,
                "end": p.end,
                "area": p.area.strip(),
                "title": p.title.strip(),
            }
        )
    return sorted(out, key=lambda p: (p["day"], p["start"]))


async def _check_highlights(session: AsyncSession, row: Bulletin, highlights: list[Highlight]) -> list[dict]:
    if len(highlights) > MAX_HIGHLIGHTS:
        raise DomainError(
            "too_many_highlights", f"at most {MAX_HIGHLIGHTS} notable repairs", details={"max": MAX_HIGHLIGHTS}
        )
    offered = {c.order_id: c for c in await candidates(session, row.estate_id, row.week_start)}
    out = []
    for i, h in enumerate(dict((h.order_id, h) for h in highlights).values()):
        c = offered.get(h.order_id)
        if c is None:
            # Another estate's order, or one not done in this week: answered as not found either way.
            order = await session.get(Order, h.order_id)
            if order is None or order.estate_id != row.estate_id:
                raise NotFound("order")
            raise DomainError(
                "not_done_this_week", "only repairs done in the bulletin's week", status=422, details={"index": i}
            )
        if h.photo is not None and h.photo not in c.photos:
            raise DomainError(
                "photo_not_of_order", "pick one of the repair's own step photos", status=422, details={"index": i}
            )
        _refuse_owner_data(f"highlights[{i}].caption", h.caption)
        out.append({"order_id": str(h.order_id), "photo": h.photo, "caption": h.caption.strip()})
    return out


async def save_draft(
    session: AsyncSession,
    actor: Actor,
    row: Bulletin,
    *,
    note: str,
    plans: list[Plan],
    highlights: list[Highlight],
    now: datetime,
) -> Bulletin:
    actor.require_role(*EDITORS)
    if row.status != "draft":
        raise DomainError("bulletin_published", "withdraw the bulletin before editing it", status=409)
    _refuse_owner_data("note", note)
    row.plans = _check_plans(plans, row.week_start)
    row.highlights = await _check_highlights(session, row, highlights)
    row.note = note.strip()
    row.updated_by, row.updated_at = actor.staff_id, now
    return row


async def public_content(session: AsyncSession, row: Bulletin) -> dict[str, Any]:
    """Everything the page and the image show, owner-safe (see the module docstring)."""
    estate = await session.get(Estate, row.estate_id)
    figs = await figures(session, row.estate_id, row.week_start)
    offered = {str(c.order_id): c for c in await candidates(session, row.estate_id, row.week_start)}
    notable = []
    for h in row.highlights:
        c = offered.get(h["order_id"])
        if c is None:  # reopened since it was picked: no longer a repair done this week
            continue
        notable.append(
            {
                "building": c.building,
                "category": c.category,
                "done_on": c.completed_at.astimezone(CHINA).date().isoformat(),
                "caption": h.get("caption") or "",
                "photo": h.get("photo") if h.get("photo") in c.photos else None,
            }
        )
    return {
        "estate": estate.name,
        "hotline": estate.hotline,
        "week_start": row.week_start.isoformat(),
        "done": figs.done,
        "received": figs.received,
        "by_category": figs.by_category,
        "notable": notable,
        "plans": list(row.plans),
        "note": row.note,
    }


async def publish(session: AsyncSession, actor: Actor, row: Bulletin, now: datetime) -> Bulletin:
    actor.require_role(*EDITORS)
    if row.status != "draft":
        raise DomainError("bulletin_published", "the bulletin is already published", status=409)
    row.published = await public_content(session, row)
    row.status, row.published_at, row.published_by = "published", now, actor.staff_id
    row.updated_by, row.updated_at = actor.staff_id, now
    return row


async def withdraw(session: AsyncSession, actor: Actor, row: Bulletin, now: datetime) -> Bulletin:
    """Back to a draft: the public page and image answer 404 until it is published again."""
    actor.require_role(*EDITORS)
    if row.status != "published":
        raise DomainError("bulletin_not_published", "the bulletin is not published", status=409)
    row.status, row.published = "draft", None
    row.updated_by, row.updated_at = actor.staff_id, now
    return row


async def new_link(session: AsyncSession, actor: Actor, row: Bulletin, now: datetime) -> Bulletin:
    """Revoke every share link given out so far (the QR in the groups stops working)."""
    actor.require_role(*EDITORS)
    row.share_key = new_poster_key()
    row.updated_by, row.updated_at = actor.staff_id, now
    return row


async def listing(session: AsyncSession, actor: Actor, estate_id: uuid.UUID | None) -> tuple[Estate, list[Bulletin]]:
    actor.require_role(*READERS)
    estate = await estate_for(session, actor, estate_id)
    rows = (
        await session.scalars(
            select(Bulletin).where(Bulletin.estate_id == estate.id).order_by(Bulletin.week_start.desc()).limit(30)
        )
    ).all()
    return estate, list(rows)
