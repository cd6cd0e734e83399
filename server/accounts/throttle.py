"""Throttling password checks without handing strangers a lock on the account.

Staff phone numbers are public (owner pages, posters), so a lock keyed on the phone alone lets anyone
keep a technician out for a shift. Instead, failed checks (sign-in, and the old password of a
password change) are counted over ``window`` in three ways:

- per (phone, source), where the source is the device cookie of a browser that has signed in to
  that account before (``device:``), else the IP address (``ip:``): after ``free`` failures each
  further try waits ``backoff · 2^(n − free)`` after the last failure, at most ``window``;
- per IP, over every phone: after ``ip_free`` failures the same back-off (not applied to a known
  device: many phones share one carrier-NAT address);
- per phone, from everywhere: at ``phone_ceiling`` failures an unknown source waits until the window
  has let the oldest go; a known device is only slowed (``known_pause`` after its own last failure),
  never locked out, so the owner's right password from their own phone goes through.

A refusal is 429 ``too_many_attempts`` with ``retry_after`` (and the Retry-After header); nothing is
checked or counted while refused. A success forgets the failures of that (phone, source) only.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import KnownDevice, LoginAttempt
from server.errors import DomainError

DEVICE_COOKIE = "wuye_device"


@dataclass(frozen=True)
class ThrottlePolicy:
    window: timedelta = timedelta(minutes=15)
    free: int = 5
    ip_free: int = 30
    phone_ceiling: int = 20
    backoff: timedelta = timedelta(seconds=30)
    known_pause: timedelta = timedelta(seconds=5)


@dataclass(frozen=True)
class Source:
    ip: str
    device_hash: str | None  # the cookie's hash, when the request carries one
    known: bool  # that device has signed in to this account before

    @property
    def key(self) -> str:
        return f"device:{self.device_hash}" if self.known else f"ip:{self.ip[:60]}"


def device_hash(cookie: str | None) -> str | None:
    if not cookie or len(cookie) > 200:
        return None
    return hashlib.sha256(cookie.encode()).hexdigest()


async def source_for(session: AsyncSession, staff_id: uuid.UUID | None, ip: str, cookie: str | None) -> Source:
    digest = device_hash(cookie)
    known = False
    if digest and staff_id is not None:
        known = await session.get(KnownDevice, (staff_id, digest)) is not None
    return Source(ip=ip, device_hash=digest, known=known)


def _aware(at: datetime, now: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=now.tzinfo)


async def _failures(session: AsyncSession, since: datetime, *where) -> tuple[int, datetime | None, datetime | None]:
    count, oldest, newest = (
        await session.execute(
            select(func.count(), func.min(LoginAttempt.at), func.max(LoginAttempt.at)).where(
                LoginAttempt.at > since, *where
            )
        )
    ).one()
    return count, oldest, newest


def _backoff(policy: ThrottlePolicy, n: int, free: int) -> timedelta:
    return min(policy.window, policy.backoff * 2 ** min(n - free, 20))


async def check(session: AsyncSession, phone: str, source: Source, now: datetime, policy: ThrottlePolicy) -> None:
    """Raise 429 if this (phone, source) must wait before its password is checked."""
    since = now - policy.window
    waits: list[datetime] = []
    n, _, last = await _failures(session, since, LoginAttempt.phone == phone, LoginAttempt.source == source.key)
    if n >= policy.free:
        waits.append(_aware(last, now) + _backoff(policy, n, policy.free))
    if not source.known:
        n_ip, _, last_ip = await _failures(session, since, LoginAttempt.ip == source.ip)
        if n_ip >= policy.ip_free:
            waits.append(_aware(last_ip, now) + _backoff(policy, n_ip, policy.ip_free))
    n_phone, oldest, _ = await _failures(session, since, LoginAttempt.phone == phone)
    if n_phone >= policy.phone_ceiling:
        if source.known:
            if last is not None:
                waits.append(_aware(last, now) + policy.known_pause)
        else:
            waits.append(_aware(oldest, now) + policy.window)
    until = max(waits, default=now)
    if until > now:
        retry_after = max(1, math.ceil((until - now).total_seconds()))
        raise DomainError(
            "too_many_attempts",
            f"too many wrong passwords; try again in {retry_after} s",
            status=429,
            details={"retry_after": retry_after},
        )


def record_failure(session: AsyncSession, phone: str, source: Source, now: datetime) -> None:
    session.add(LoginAttempt(phone=phone, ip=source.ip[:64], source=source.key, at=now))


async def succeeded(session: AsyncSession, phone: str, staff_id: uuid.UUID, source: Source, now: datetime) -> None:
    """Forget this source's failures and remember the device (when the request carries a cookie)."""
    await session.execute(delete(LoginAttempt).where(LoginAttempt.phone == phone, LoginAttempt.source == source.key))
    if source.device_hash is None:
        return
    device = await session.get(KnownDevice, (staff_id, source.device_hash))
    if device is None:
        session.add(KnownDevice(staff_id=staff_id, device_hash=source.device_hash, last_login_at=now))
    else:
        device.last_login_at = now


async def forget_devices(session: AsyncSession, staff_id: uuid.UUID) -> None:
    await session.execute(delete(KnownDevice).where(KnownDevice.staff_id == staff_id))
