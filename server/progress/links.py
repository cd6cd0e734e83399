"""Progress links: create (or rotate), revoke, re-derive for the QR, and resolve an owner's token.

A link works while it is not revoked and not expired. Expiry follows the order: none while it is
open; ``progress_link_days_after_close`` days after it was closed or cancelled (computed at read, so
a reopened order's link works again), or a fixed ``expires_at`` when one was set.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import DomainError
from server.ids import uuid7
from server.orders.models import Order, OrderEvent, Status
from server.progress.models import ProgressLink
from server.progress.tokens import PROGRESS_TOKEN_RE, progress_token, token_hash


@dataclass(frozen=True)
class IssuedLink:
    link: ProgressLink
    token: str


def ended_at(order: Order, cancelled_at: datetime | None) -> datetime | None:
    """When the order stopped being worked on for good (closed or cancelled), else None."""
    if order.status is Status.closed and order.closed_at is not None:
        return order.closed_at
    if order.status is Status.cancelled:
        return cancelled_at or order.updated_at
    return None


def expiry(link: ProgressLink, order: Order, days: int, cancelled_at: datetime | None = None) -> datetime | None:
    ended = ended_at(order, cancelled_at)
    lazy = ended + timedelta(days=days) if ended is not None else None
    candidates = [t for t in (link.expires_at, lazy) if t is not None]
    return min(candidates) if candidates else None


async def cancelled_at(session: AsyncSession, order: Order) -> datetime | None:
    if order.status is not Status.cancelled:
        return None
    return await session.scalar(
        select(OrderEvent.server_time)
        .where(OrderEvent.order_id == order.id, OrderEvent.action == "cancel")
        .order_by(OrderEvent.chain_index.desc())
        .limit(1)
    )


async def active_link(session: AsyncSession, order_id: uuid.UUID) -> ProgressLink | None:
    return await session.scalar(
        select(ProgressLink)
        .where(ProgressLink.order_id == order_id, ProgressLink.revoked_at.is_(None))
        .order_by(ProgressLink.created_at.desc(), ProgressLink.id.desc())
        .limit(1)
    )


async def issue(
    session: AsyncSession,
    order: Order,
    *,
    secret: str,
    now: datetime,
    days: int,
    created_by: uuid.UUID | None,
) -> IssuedLink:
    """Make a new link for the order, revoking any previous one (rotation)."""
    await revoke(session, order.id, now=now)
    link_id = uuid7()
    token = progress_token(secret, order.id, link_id)
    ended = ended_at(order, await cancelled_at(session, order))
    link = ProgressLink(
        id=link_id,
        order_id=order.id,
        token_hash=token_hash(token),
        created_by=created_by,
        created_at=now,
        revoked_at=None,
        expires_at=ended + timedelta(days=days) if ended is not None else None,
    )
    session.add(link)
    await session.flush()
    return IssuedLink(link, token)


async def ensure(
    session: AsyncSession,
    order: Order,
    *,
    secret: str,
    now: datetime,
    days: int,
    created_by: uuid.UUID | None,
) -> tuple[IssuedLink, bool]:
    """The order's live link, or a new one when it has none (or one the current secret cannot
    re-derive); never rotates a working link, so printed slips keep working. ``(link, created)``."""
    link = await active_link(session, order.id)
    if link is not None:
        token = progress_token(secret, order.id, link.id)
        if token_hash(token) == link.token_hash:
            return IssuedLink(link, token), False
    return await issue(session, order, secret=secret, now=now, days=days, created_by=created_by), True


async def revoke(session: AsyncSession, order_id: uuid.UUID, *, now: datetime) -> int:
    """Revoke every live link of the order; returns how many were live."""
    result = await session.execute(
        update(ProgressLink)
        .where(ProgressLink.order_id == order_id, ProgressLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount or 0


async def current(session: AsyncSession, order_id: uuid.UUID, *, secret: str) -> IssuedLink:
    """The live link of the order with its token re-derived (for QR codes and slips)."""
    link = await active_link(session, order_id)
    if link is None:
        raise DomainError("no_progress_link", "this order has no progress link; create one first", status=404)
    token = progress_token(secret, order_id, link.id)
    if token_hash(token) != link.token_hash:
        raise DomainError(
            "link_secret_changed",
            "the server secret changed since this link was made; create a new link to print its QR",
            status=409,
        )
    return IssuedLink(link, token)


@dataclass(frozen=True)
class Resolved:
    link: ProgressLink
    order: Order
    expires_at: datetime | None


async def resolve(session: AsyncSession, token: str, *, now: datetime, days: int) -> Resolved | None:
    """The link and order an owner's token opens, or None (unknown, revoked or expired: one answer)."""
    if not PROGRESS_TOKEN_RE.fullmatch(token):
        return None
    row = (
        await session.execute(
            select(ProgressLink, Order)
            .join(Order, Order.id == ProgressLink.order_id)
            .where(ProgressLink.token_hash == token_hash(token))
        )
    ).first()
    if row is None:
        return None
    link, order = row
    if link.revoked_at is not None:
        return None
    expires = expiry(link, order, days, await cancelled_at(session, order))
    if expires is not None and now >= expires:
        return None
    return Resolved(link, order, expires)
