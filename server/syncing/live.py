"""Live for an open app: "something changed for you" over Server-Sent Events, so a phone with the app
open pulls within a second of a change entering its scope, without any push service.

Every change a device may pull is a change-log row addressed to an audience (``staff:…``,
``grid:…``, ``estate:…``, ``dept:…``). ``changelog.note`` (called where those rows are written) collects
the audiences of a transaction; at commit they travel with the board's messages
(``server/board/live.py``: one ``pg_notify`` in the same transaction on PostgreSQL, the in-process
bus after commit on SQLite) as ``{"type": "sync", "audiences": [...], "top": <log id>}``. A device
stream forwards ``{"type": "changed"}`` when one of its audiences is named; the phone pulls. The
event carries no data: what the phone may see is decided by the pull, as always.

A rolled-back savepoint may leave its audiences noted: at worst a phone pulls and finds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from server.accounts.scope import Actor
from server.accounts.service import LOGOUT_HOOKS, REVOKE_ALL_HOOKS
from server.board import live as board_live
from server.board.bus import Subscription
from server.syncing import changelog
from server.syncing.models import SyncChange

_AUDIENCES = changelog.NOTED
_SIGNOUTS = "wuye_sync_signouts"
AUDIENCES_PER_MESSAGE = 80  # ~45 bytes each: a message stays far below the NOTIFY limit

MAX_STREAMS_PER_PERSON = 4  # phones and tabs of one person; a fifth replaces the oldest
# A ping this often keeps proxies (nginx: 60 s) from closing an idle stream, and lets the phone tell a
# silently dead connection (no FIN through a NAT) from a quiet one: it reconnects after 45 s of silence.
HEARTBEAT_SECONDS = 15.0
MAX_LIFETIME_SECONDS = 600.0  # then "bye": the phone reconnects with a new ticket (scope re-read)
RETRY_MS = 3000


def note_signout(session: AsyncSession | Session, token_id: uuid.UUID) -> None:
    """This session is being signed out: its open streams end when the transaction commits."""
    session.info.setdefault(_SIGNOUTS, set()).add(("token_id", str(token_id)))


def note_revoke_all(session: AsyncSession | Session, staff_id: uuid.UUID) -> None:
    """Every session of this person ends (a new password): so do their streams, at commit."""
    session.info.setdefault(_SIGNOUTS, set()).add(("staff_id", str(staff_id)))


def _messages(session: Session) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    audiences = session.info.pop(_AUDIENCES, None)
    if audiences:
        # The version clock's row lock is held until commit by every transaction that writes the
        # log, so this is the highest id any stream can have seen once this commits.
        top = session.execute(select(func.max(SyncChange.id))).scalar() or 0
        ordered = sorted(audiences)
        for i in range(0, len(ordered), AUDIENCES_PER_MESSAGE):
            out.append({"type": "sync", "audiences": ordered[i : i + AUDIENCES_PER_MESSAGE], "top": top})
    for key, value in sorted(session.info.pop(_SIGNOUTS, ())):
        out.append({"type": "signout", key: value})
    return out


def _forget(session: Session, *_args) -> None:
    session.info.pop(_AUDIENCES, None)
    session.info.pop(_SIGNOUTS, None)


async def _on_logout(session: AsyncSession, token_id: uuid.UUID) -> None:
    note_signout(session, token_id)


async def _on_revoke_all(session: AsyncSession, staff_id: uuid.UUID) -> None:
    note_revoke_all(session, staff_id)


def install() -> None:
    if _on_logout not in LOGOUT_HOOKS:
        LOGOUT_HOOKS.append(_on_logout)
    if _on_revoke_all not in REVOKE_ALL_HOOKS:
        REVOKE_ALL_HOOKS.append(_on_revoke_all)
    if _messages not in board_live.COMMIT_MESSAGES:
        board_live.COMMIT_MESSAGES.append(_messages)
    for name in ("after_rollback", "after_soft_rollback"):
        if not event.contains(Session, name, _forget):
            event.listen(Session, name, _forget)


install()


async def top_for(session: AsyncSession, audiences: Iterable[str]) -> int:
    """The highest change-log id addressed to any of ``audiences`` (one index read per audience)."""
    best = 0
    for a in dict.fromkeys(audiences):
        best = max(best, await session.scalar(select(func.max(SyncChange.id)).where(SyncChange.audience == a)) or 0)
    return best


# --- open streams ----------------------------------------------------------------------------------------


@dataclass(eq=False)
class Stream:
    staff_id: uuid.UUID
    token_id: uuid.UUID | None
    client_id: str | None
    sub: Subscription
    ended: str | None = None  # why the server ends it: "replaced" | "signed_out" | "renew"
    opened: float = field(default_factory=lambda: asyncio.get_running_loop().time())

    def end(self, reason: str) -> None:
        if self.ended is None:
            self.ended = reason
            self.sub.offer({"type": "_end"})  # wakes the stream's wait at once


class Streams:
    """The device streams open in this process, bounded per person: a device opening a second stream
    (a reload, a lost connection the server has not noticed yet) replaces its first, and a person's
    fifth replaces their oldest, so a phone never finds itself locked out by its own dead streams.
    The bound is per process; with several workers a person may hold that many in each."""

    def __init__(self, limit: int = MAX_STREAMS_PER_PERSON):
        self.limit = limit
        self._by_staff: dict[uuid.UUID, list[Stream]] = {}

    def count(self, staff_id: uuid.UUID | None = None) -> int:
        if staff_id is not None:
            return len(self._by_staff.get(staff_id, ()))
        return sum(len(v) for v in self._by_staff.values())

    @contextlib.contextmanager
    def open(self, actor: Actor, client_id: str | None, sub: Subscription):
        mine = self._by_staff.setdefault(actor.staff_id, [])
        for other in list(mine):
            if client_id is not None and other.client_id == client_id:
                other.end("replaced")
                mine.remove(other)
        while len(mine) >= self.limit:
            mine.pop(0).end("replaced")
        stream = Stream(actor.staff_id, actor.token_id, client_id, sub)
        mine.append(stream)
        try:
            yield stream
        finally:
            if stream in mine:
                mine.remove(stream)
            if not mine:
                self._by_staff.pop(actor.staff_id, None)


def streams_for(ctx) -> Streams:
    streams = ctx.services.get("device_streams")
    if streams is None:
        streams = ctx.services["device_streams"] = Streams()
    return streams


async def events(
    ctx, actor: Actor, audiences: list[str], last_event_id: int | None, client_id: str | None
) -> AsyncIterator[dict[str, Any]]:
    """What a device stream says, as dicts (``id`` and ``data``, or ``event: ping``): ``hello`` (with the
    log position), ``changed`` when something entered the person's scope (at once if the log moved
    past ``last_event_id`` while it was away), ``bye`` when the server ends the stream.

    The log position is read once subscribed: a change committed before that read is in it, one
    committed after is heard (both, at worst: one pull too many)."""
    mine = set(audiences)
    token = str(actor.token_id) if actor.token_id else None
    me = str(actor.staff_id)
    loop = asyncio.get_running_loop()
    async with board_live.live_for(ctx).subscription() as sub:
        with streams_for(ctx).open(actor, client_id, sub) as stream:
            async with ctx.db.reader() as session:
                top = await top_for(session, audiences)
            yield {"id": top, "data": {"type": "hello", "top": top}, "retry": RETRY_MS}
            if last_event_id is not None and top > last_event_id:
                yield {"id": top, "data": {"type": "changed", "top": top}}
            deadline = stream.opened + MAX_LIFETIME_SECONDS
            while True:
                if stream.ended is None and loop.time() >= deadline:
                    stream.ended = "renew"
                if stream.ended is not None:
                    yield {"data": {"type": "bye", "reason": stream.ended}}
                    return
                message = await sub.next(timeout=min(HEARTBEAT_SECONDS, max(0.0, deadline - loop.time())))
                kind = message.get("type") if message else None
                if message is None:
                    yield {"event": "ping", "data": {}}
                elif kind == "sync" and mine.intersection(message.get("audiences", ())):
                    top = max(top, int(message.get("top") or 0))
                    yield {"id": top, "data": {"type": "changed", "top": top}}
                elif kind == "resync":  # notices may have been lost (LISTEN reconnected, overflow)
                    yield {"id": top, "data": {"type": "changed", "top": top}}
                elif kind == "signout" and (
                    (token is not None and message.get("token_id") == token) or message.get("staff_id") == me
                ):
                    stream.end("signed_out")
