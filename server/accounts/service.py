"""Staff accounts: create, log in (throttled), authenticate tokens, log out, change password."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard, throttle
from server.accounts.models import AuthToken, Department, Role, Staff, StaffGrid
from server.accounts.passwords import hash_async, needs_rehash, verify_async
from server.accounts.scope import SCOPE_OF_ROLE, Actor, Scope
from server.clock import Clock
from server.errors import DomainError, NotFound, Unauthorized
from server.sites.models import Estate, Grid

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")  # mainland mobile numbers
MIN_PASSWORD = 8


@dataclass(frozen=True)
class LoginPolicy:
    token_ttl: timedelta
    max_failures_per_phone: int  # per (phone, device or IP) before the back-off starts
    max_failures_per_ip: int
    window: timedelta
    phone_ceiling: int = 20  # failures per phone from everywhere; see throttle.py

    @property
    def throttle(self) -> throttle.ThrottlePolicy:
        return throttle.ThrottlePolicy(
            window=self.window,
            free=self.max_failures_per_phone,
            ip_free=self.max_failures_per_ip,
            phone_ceiling=self.phone_ceiling,
        )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_phone(phone: str) -> str:
    if not PHONE_RE.match(phone):
        raise DomainError("invalid_phone", f"not a mainland mobile number: {phone!r}", status=422)
    return phone


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError("weak_password", f"password must have at least {MIN_PASSWORD} characters", status=422)


async def create_staff(
    session: AsyncSession,
    *,
    clock: Clock,
    company_id: uuid.UUID,
    estate_id: uuid.UUID | None,
    name: str,
    phone: str,
    role: Role,
    department: Department,
    password: str,
    grid_ids: list[uuid.UUID] = (),
    gold: bool = False,
    actor: Actor | None = None,
) -> Staff:
    """``actor`` (None: the CLI and demo set-up) must see the estate and every grid, and each grid
    must lie in that estate."""
    check_phone(phone)
    check_password_strength(password)
    if estate_id is not None:
        await guard.in_scope(session, actor, Estate, estate_id)
    if grid_ids:
        if estate_id is None:
            raise DomainError("estate_required", "grids belong to an estate; name the estate", status=422)
        grid_ids = [g.id for g in await guard.all_in_scope(session, actor, Grid, grid_ids, estate_id=estate_id)]
    if await session.scalar(select(Staff.id).where(Staff.phone == phone)):
        raise DomainError("phone_taken", f"a staff account with phone {phone} exists", status=409)
    if role is not Role.admin and estate_id is None:
        raise DomainError("estate_required", "only an admin may work without an estate", status=422)
    staff = Staff(
        company_id=company_id,
        estate_id=estate_id,
        name=name,
        phone=phone,
        role=role,
        department=department,
        password_hash=await hash_async(password),
        active=True,
        gold=gold,
        created_at=clock.now(),
    )
    session.add(staff)
    await session.flush()
    for grid_id in grid_ids:
        session.add(StaffGrid(staff_id=staff.id, grid_id=grid_id))
    await session.flush()
    return staff


async def login(
    session: AsyncSession,
    *,
    phone: str,
    password: str,
    ip: str,
    device_name: str,
    clock: Clock,
    policy: LoginPolicy,
    device_cookie: str | None = None,
) -> tuple[str, AuthToken, Staff]:
    """Check the password and issue a token (throttled: ``throttle.py``). Failures are recorded even
    though the caller may roll back, so this function commits its own throttle record. On success
    the device of ``device_cookie`` becomes known to this account."""
    now = clock.now()
    staff = await session.scalar(select(Staff).where(Staff.phone == phone))
    source = await throttle.source_for(session, staff.id if staff else None, ip, device_cookie)
    await throttle.check(session, phone, source, now, policy.throttle)
    ok = await verify_async(password, staff.password_hash if staff else None)
    if not ok or staff is None or not staff.active:
        throttle.record_failure(session, phone, source, now)
        await session.commit()
        raise Unauthorized("wrong phone or password", code="bad_credentials")
    if needs_rehash(staff.password_hash):  # stored at an older, lower cost: move it up now
        staff.password_hash = await hash_async(password)
    await throttle.succeeded(session, phone, staff.id, source, now)
    token = secrets.token_urlsafe(32)
    row = AuthToken(
        staff_id=staff.id,
        token_hash=token_hash(token),
        device_name=device_name[:100],
        created_at=now,
        expires_at=now + policy.token_ttl,
        revoked_at=None,
    )
    session.add(row)
    await session.flush()
    return token, row, staff


async def _company_estates(session: AsyncSession, role: Role, company_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """An admin's estates (one more query, for admins only; they are few)."""
    if SCOPE_OF_ROLE[role] is not Scope.everything:
        return frozenset()
    return frozenset((await session.scalars(select(Estate.id).where(Estate.company_id == company_id))).all())


async def actor_for(session: AsyncSession, staff: Staff, token_id: uuid.UUID | None = None) -> Actor:
    grid_ids = frozenset((await session.scalars(select(StaffGrid.grid_id).where(StaffGrid.staff_id == staff.id))).all())
    return Actor(
        staff_id=staff.id,
        name=staff.name,
        role=staff.role,
        department=staff.department,
        company_id=staff.company_id,
        estate_id=staff.estate_id,
        grid_ids=grid_ids,
        token_id=token_id,
        company_estates=await _company_estates(session, staff.role, staff.company_id),
    )


# Built once: it runs on every request (building and keying it each time cost ~0.1 ms).
_SIGN_IN = (
    select(
        AuthToken.id,
        AuthToken.revoked_at,
        AuthToken.expires_at,
        Staff.id,
        Staff.active,
        Staff.name,
        Staff.role,
        Staff.department,
        Staff.company_id,
        Staff.estate_id,
        StaffGrid.grid_id,
    )
    .join(Staff, Staff.id == AuthToken.staff_id)
    .outerjoin(StaffGrid, StaffGrid.staff_id == Staff.id)
    .where(AuthToken.token_hash == bindparam("token_hash"))
)


async def authenticate(session: AsyncSession, token: str, clock: Clock) -> Actor:
    """The actor behind a bearer token, or Unauthorized saying why not. One query (token, account and
    grids together): it runs on every request, and each statement costs ~0.3 ms here."""
    connection = await session.connection()  # Core rows: the ORM's result machinery costs ~50 µs
    rows = (await connection.execute(_SIGN_IN, {"token_hash": token_hash(token)})).all()
    if not rows:
        raise Unauthorized("unknown token; sign in again", code="unauthorized")
    token_id, revoked_at, expires_at, staff_id, active, name, role, department, company_id, estate_id, _ = rows[0]
    if revoked_at is not None:
        raise Unauthorized("this session was signed out; sign in again", code="token_revoked")
    if expires_at <= clock.now():
        raise Unauthorized("this session has expired; sign in again", code="token_expired")
    if not active:
        raise Unauthorized("this account is disabled", code="account_disabled")
    return Actor(
        staff_id=staff_id,
        name=name,
        role=role,
        department=department,
        company_id=company_id,
        estate_id=estate_id,
        grid_ids=frozenset(row[-1] for row in rows if row[-1] is not None),
        token_id=token_id,
        company_estates=await _company_estates(session, role, company_id),
    )


# Run on logout in the same transaction (the push domain forgets that device's subscription).
LOGOUT_HOOKS: list = []


async def logout(session: AsyncSession, token_id: uuid.UUID, clock: Clock) -> None:
    for hook in LOGOUT_HOOKS:
        await hook(session, token_id)
    await session.execute(update(AuthToken).where(AuthToken.id == token_id).values(revoked_at=clock.now()))


# Run when every session of a person is revoked, in the same transaction (open device streams end).
REVOKE_ALL_HOOKS: list = []


async def revoke_all(session: AsyncSession, staff_id: uuid.UUID, clock: Clock) -> int:
    for hook in REVOKE_ALL_HOOKS:
        await hook(session, staff_id)
    result = await session.execute(
        update(AuthToken)
        .where(AuthToken.staff_id == staff_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return result.rowcount or 0


async def set_password(session: AsyncSession, staff_id: uuid.UUID, new_password: str, clock: Clock) -> None:
    """Set a password and revoke every session of that account (a changed password ends them all)."""
    check_password_strength(new_password)
    staff = await session.get(Staff, staff_id)
    if staff is None:
        raise NotFound("staff")
    staff.password_hash = await hash_async(new_password)
    await revoke_all(session, staff_id, clock)
    await throttle.forget_devices(session, staff_id)  # a device that knew the old password is a stranger now


async def change_own_password(
    session: AsyncSession,
    actor: Actor,
    old: str,
    new: str,
    clock: Clock,
    *,
    ip: str = "unknown",
    policy: throttle.ThrottlePolicy | None = None,
) -> None:
    """The old password is checked under the same throttle as a sign-in (a stolen session must not
    be a way to guess it); a wrong one is recorded and committed before the refusal."""
    staff = await session.get(Staff, actor.staff_id)
    if staff is None:
        raise NotFound("staff")
    source = throttle.Source(ip=ip, device_hash=None, known=False)
    now = clock.now()
    await throttle.check(session, staff.phone, source, now, policy or throttle.ThrottlePolicy())
    if not await verify_async(old, staff.password_hash):
        throttle.record_failure(session, staff.phone, source, now)
        await session.commit()
        raise DomainError("bad_credentials", "the current password is wrong", status=403)
    await set_password(session, actor.staff_id, new, clock)
