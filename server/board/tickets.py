"""Short-lived stream tickets: a browser's ``EventSource`` cannot send an Authorization header, and a
bearer token in a URL would end up in access logs for its whole 30-day life. The board asks
``POST /api/board/ticket`` (with its token) for a ticket valid 60 seconds and opens
``/api/board/events?ticket=…``. The ticket names the signed-in session, so signing out (or a
revoked session) also refuses tickets already handed out.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import AuthToken, Staff
from server.accounts.scope import Actor
from server.accounts.service import actor_for
from server.errors import Unauthorized

TICKET_TTL = timedelta(seconds=60)


def _sign(secret: str, body: str, purpose: str) -> str:
    # The purpose is signed: a board ticket does not open a device stream, nor the other way round.
    return hmac.new(secret.encode(), f"{purpose}-ticket:".encode() + body.encode(), hashlib.sha256).hexdigest()


def issue(secret: str, actor: Actor, now: datetime, purpose: str = "board") -> tuple[str, datetime]:
    if actor.token_id is None:
        raise Unauthorized("sign in required")
    expires = now + TICKET_TTL
    body = f"{actor.token_id.hex}.{int(expires.timestamp())}"
    return f"{body}.{_sign(secret, body, purpose)}", expires


async def redeem(session: AsyncSession, secret: str, ticket: str, now: datetime, purpose: str = "board") -> Actor:
    token_hex, _, rest = ticket.partition(".")
    expires_text, _, signature = rest.partition(".")
    body = f"{token_hex}.{expires_text}"
    if not signature or not hmac.compare_digest(signature, _sign(secret, body, purpose)):
        raise Unauthorized("invalid stream ticket", code="invalid_ticket")
    if not expires_text.isdigit() or int(expires_text) <= now.timestamp():
        raise Unauthorized("this stream ticket has expired; ask for a new one", code="ticket_expired")
    row = await session.get(AuthToken, uuid.UUID(hex=token_hex))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthorized("this session was signed out; sign in again", code="token_revoked")
    staff = await session.get(Staff, row.staff_id)
    if staff is None or not staff.active:
        raise Unauthorized("this account is disabled", code="account_disabled")
    return await actor_for(session, staff, row.id)
