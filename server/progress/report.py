"""The owner report form behind a grid poster (/r/<grid token>): validation, rate limits, photos,
and the order it creates (channel ``qr``, no staff actor).

Rate limits count submissions in the ``report_attempts`` table, so they hold across processes:
per phone and per IP over a sliding window. The final check and the insert run after the sync
clock lock is taken (every write transaction takes it first), which makes them atomic.

The owner's photos are stored through ``BlobStore.put`` (decoded for real; a non-image is refused)
and recorded on the order as a chained ``report_photos`` event right after ``create``: steps need a
staff author, and the create event's data is fixed by ``create_order``.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import anyio
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import DomainError
from server.orders import lifecycle
from server.orders.lifecycle import NewOrder, Origin
from server.orders.models import Category, Channel, Kind, Order
from server.photos.blobstore import BlobInfo, BlobStore
from server.photos.models import PhotoRef
from server.photos.service import record_arrival
from server.progress import links
from server.progress.models import ReportAttempt
from server.progress.owner import REPORT_PHOTOS
from server.progress.tokens import progress_token
from server.sites.models import Building, Grid, Household, Unit
from server.syncing import changelog
from sync.text import CONTROL

OWNER_KINDS = (Kind.repair, Kind.complaint, Kind.inquiry, Kind.convenience)
MOBILE = re.compile(r"1[3-9]\d{9}")
_PHONE_NOISE = re.compile(r"[\s\-()]")


@dataclass(frozen=True)
class ReportPolicy:
    per_phone: int = 5
    per_ip: int = 20
    window: timedelta = timedelta(hours=1)
    max_photos: int = 3
    max_photo_bytes: int = 8 * 2**20
    max_description: int = 1000
    keep_attempts: timedelta = timedelta(days=2)

    @classmethod
    def from_extra(cls, extra: dict[str, str]) -> ReportPolicy:
        """Operators may tune the limits through ``Settings.extra`` (e.g. for a demo day)."""
        keys = {"report_per_phone_per_hour": "per_phone", "report_per_ip_per_hour": "per_ip"}
        return replace(cls(), **{name: int(extra[key]) for key, name in keys.items() if key in extra})


@dataclass
class ReportForm:
    building: str = ""
    unit: str = ""
    room: str = ""
    kind: str = ""
    category: str = ""
    description: str = ""
    phone: str = ""
    name: str = ""
    honeypot: str = ""
    photos: list[bytes] = field(default_factory=list)
    photo_names: list[str] = field(default_factory=list)  # the file names the phone gave, same order


@dataclass(frozen=True)
class PhotoProblem:
    """What is wrong with one photo: ``problem`` is ``incomplete``, ``unsupported`` or ``too_large``;
    ``position`` counts from 1 in the order chosen; ``name`` is the file's name (may be empty)."""

    position: int
    name: str
    problem: str


class FormInvalid(Exception):
    """The owner's input needs fixing: ``errors`` maps a field to a message key (see report_page);
    ``photo_problems`` says which photo is wrong and how (``errors["photos"] == "photo_problems"``)."""

    def __init__(self, errors: dict[str, str], photo_problems: list[PhotoProblem] | None = None):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.photo_problems = photo_problems or []


def _photo_name(form: ReportForm, index: int) -> str:
    return form.photo_names[index] if index < len(form.photo_names) else ""


@dataclass(frozen=True)
class Choices:
    buildings: list[str]
    units: list[str]
    rooms: list[str]


@dataclass(frozen=True)
class Outcome:
    order: Order | None  # None: dropped (honeypot)
    token: str


def normalise_phone(raw: str) -> str:
    phone = _PHONE_NOISE.sub("", raw or "")
    for prefix in ("+86", "0086", "86"):
        if phone.startswith(prefix) and len(phone) == len(prefix) + 11:
            phone = phone[len(prefix) :]
    return phone


def _natural(text: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


async def choices(session: AsyncSession, grid_id: uuid.UUID) -> Choices:
    rows = (
        await session.execute(
            select(Building.name, Unit.name, Household.room)
            .join(Unit, Unit.building_id == Building.id)
            .join(Household, Household.unit_id == Unit.id)
            .where(Building.grid_id == grid_id, Household.grid_id == grid_id)
        )
    ).all()
    return Choices(
        buildings=sorted({b for b, _, _ in rows}, key=_natural),
        units=sorted({u for _, u, _ in rows}, key=_natural),
        rooms=sorted({r for _, _, r in rows}, key=_natural),
    )


async def find_household(session: AsyncSession, grid_id: uuid.UUID, form: ReportForm) -> Household | None:
    """The household of THIS grid with that building, unit and room (never one of another grid)."""
    return await session.scalar(
        select(Household)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(
            Household.grid_id == grid_id,
            Building.grid_id == grid_id,
            Building.name == form.building.strip(),
            Unit.name == form.unit.strip(),
            Household.room == form.room.strip(),
        )
    )


def validate(form: ReportForm, policy: ReportPolicy) -> dict[str, str]:
    errors: dict[str, str] = {}
    if form.kind not in {k.value for k in OWNER_KINDS}:
        errors["kind"] = "kind_invalid"
    if form.category not in {c.value for c in Category}:
        errors["category"] = "category_invalid"
    description = form.description.strip()
    if not description:
        errors["description"] = "description_required"
    elif len(description) > policy.max_description:
        errors["description"] = "description_too_long"
    elif CONTROL.search(description.replace("\r\n", "\n")):  # a form sends its line breaks as CRLF
        errors["description"] = "control_characters"
    if not MOBILE.fullmatch(normalise_phone(form.phone)):
        errors["phone"] = "phone_invalid"
    if len(form.name.strip()) > 20:
        errors["name"] = "name_too_long"
    elif CONTROL.search(form.name):
        errors["name"] = "control_characters"
    if len(form.photos) > policy.max_photos:
        errors["photos"] = "too_many_photos"
    elif any(len(p) > policy.max_photo_bytes for p in form.photos):
        errors["photos"] = "photo_problems"
    return errors


def oversized_photos(form: ReportForm, policy: ReportPolicy) -> list[PhotoProblem]:
    return [
        PhotoProblem(i + 1, _photo_name(form, i), "too_large")
        for i, p in enumerate(form.photos)
        if len(p) > policy.max_photo_bytes
    ]


async def check_rate(session: AsyncSession, policy: ReportPolicy, *, ip: str, phone: str, now: datetime) -> None:
    """429 ``too_many_reports`` with ``retry_after`` seconds when the IP or the phone used its quota."""
    since = now - policy.window
    checks = [(ReportAttempt.ip, ip, policy.per_ip)]
    if phone:
        checks.append((ReportAttempt.phone, phone, policy.per_phone))
    for column, value, limit in checks:
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(ReportAttempt.at)).where(column == value, ReportAttempt.at > since)
            )
        ).one()
        if count >= limit:
            retry_after = max(1, math.ceil((oldest + policy.window - now).total_seconds()))
            raise DomainError(
                "too_many_reports",
                f"too many reports; try again in {retry_after} s",
                status=429,
                details={"retry_after": retry_after},
            )


async def record_attempt(
    session: AsyncSession, policy: ReportPolicy, *, ip: str, phone: str, outcome: str, now: datetime
) -> None:
    session.add(ReportAttempt(ip=ip[:64], phone=phone[:20], outcome=outcome, at=now))
    # Old rows are only needed for the window: prune as we go (indexed on ``at``).
    await session.execute(delete(ReportAttempt).where(ReportAttempt.at < now - policy.keep_attempts))


async def precheck(
    session: AsyncSession, grid_id: uuid.UUID, form: ReportForm, policy: ReportPolicy, *, ip: str, now: datetime
) -> Household | None:
    """Everything that needs only reads, done before any photo is decoded: rate limits, fields, household.

    Returns None for a honeypot submission (to be dropped)."""
    phone = normalise_phone(form.phone)
    await check_rate(session, policy, ip=ip, phone=phone if MOBILE.fullmatch(phone) else "", now=now)
    if form.honeypot:
        return None
    errors = validate(form, policy)
    household = await find_household(session, grid_id, form)
    if household is None:
        errors["household"] = "household_not_found"
    if errors:
        raise FormInvalid(errors, oversized_photos(form, policy) if errors.get("photos") == "photo_problems" else None)
    return household


async def store_photos(store: BlobStore, form: ReportForm) -> list[BlobInfo]:
    """Decode and store each photo (in a worker thread). Every photo that cannot be used is a form
    error naming it and saying why (incomplete, unsupported format, too large), not a 415."""
    infos: dict[str, BlobInfo] = {}
    problems: list[PhotoProblem] = []
    for i, data in enumerate(form.photos):
        try:
            info = await anyio.to_thread.run_sync(store.put, data)
        except DomainError as exc:
            problem = (exc.details or {}).get("problem", "unsupported") if exc.code == "not_an_image" else "too_large"
            problems.append(PhotoProblem(i + 1, _photo_name(form, i), problem))
            continue
        infos.setdefault(info.sha256, info)
    if problems:
        raise FormInvalid({"photos": "photo_problems"}, problems)
    return list(infos.values())


async def submit(
    session: AsyncSession,
    grid: Grid,
    household: Household | None,
    form: ReportForm,
    policy: ReportPolicy,
    *,
    photo_infos: list[BlobInfo],
    ip: str,
    now: datetime,
    secret: str,
    link_days: int,
) -> Outcome:
    """The write transaction: take the sync clock lock, re-check the limits, then create or drop."""
    await changelog.transaction_version(session)
    phone = normalise_phone(form.phone)
    await check_rate(session, policy, ip=ip, phone=phone if MOBILE.fullmatch(phone) else "", now=now)
    if household is None:  # honeypot: same answer shape, nothing created
        await record_attempt(session, policy, ip=ip, phone="", outcome="dropped", now=now)
        return Outcome(None, progress_token(secret, uuid.uuid4(), uuid.uuid4()))
    await record_attempt(session, policy, ip=ip, phone=phone, outcome="created", now=now)
    origin = Origin(source="owner", ip=ip)
    order = await lifecycle.create_order(
        session,
        None,
        NewOrder(
            kind=Kind(form.kind),
            category=Category(form.category),
            channel=Channel.qr,
            description=form.description.strip(),
            household_id=household.id,
            reporter_name=form.name.strip(),
            reporter_phone=phone,
        ),
        now=now,
        origin=origin,
    )
    if photo_infos:
        for info in photo_infos:
            await record_arrival(session, info, now)
        event = await lifecycle.add_event(
            session,
            order,
            action=REPORT_PHOTOS,
            actor_id=None,
            actor_kind="owner",
            origin=origin,
            now=now,
            data={"photos": [i.sha256 for i in photo_infos]},
        )
        # Referenced like a step's photos, so the staff who see the order see them (photos/viewing.py).
        session.add_all(
            PhotoRef(sha256=sha, record_table=REPORT_PHOTOS, record_id=event.id)
            for sha in dict.fromkeys(i.sha256 for i in photo_infos)
        )
        await lifecycle.publish(session, order, ("order_events", [event.id]))
    issued = await links.issue(session, order, secret=secret, now=now, days=link_days, created_by=None)
    return Outcome(order, issued.token)
