"""Live order changes for the dispatch board, without touching the orders domain.

SQLAlchemy session events see every committed change to an ``Order`` row, whoever made it (HTTP,
sync, SLA scanner, owner page):

- ``before_flush`` collects the Order instances being inserted or changed into ``session.info``
  (a push's steps write their orders as plain rows instead: ``server/orders/rows.py`` notes those);
- ``before_commit`` flushes what is left, snapshots each collected order as a small message and, on
  PostgreSQL, issues ``SELECT pg_notify('wuye_board', …)`` in the same transaction, so the notice is
  delivered exactly when (and only if) the change commits, to every process;
- ``after_commit`` on SQLite publishes the messages to the app's in-process bus (SQLite means one
  process); ``after_rollback`` forgets them.

On PostgreSQL every process (this one included) hears its notices through one asyncpg ``LISTEN``
connection, opened while at least one board stream is open in the process and closed after the last
one ends, so there is a single delivery path and nothing to start at boot. Bulk ``UPDATE orders``
statements bypass the ORM and are not seen; the orders domain changes orders one instance (or one
noted row) at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from itertools import chain
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from server.board.bus import RESYNC, Bus, Subscription
from server.db.engine import Database
from server.orders import rows as order_rows
from server.orders.models import Order
from server.web.context import AppContext

log = logging.getLogger("wuye.board")

CHANNEL = "wuye_board"
NOTIFY_LIMIT = 7000  # bytes per NOTIFY payload (PostgreSQL refuses 8000 and more)
READY_TIMEOUT = 5.0
_CHANGED = "wuye_board_changed"
_MESSAGES = "wuye_board_messages"

# SQLite delivery: the bus of the app whose engine (pool) committed. Keyed weakly by the pool, which
# an engine shares with its execution-option copies (the SQLite writer is one), so a disposed app
# leaves nothing behind. This maps per-app objects; it is not app state.
_buses: weakref.WeakKeyDictionary[Any, Bus] = weakref.WeakKeyDictionary()

# Other domains ride the same commit-bound delivery (the device streams' "something changed for you",
# sign-outs): each producer pops what it collected in ``session.info`` and returns its messages, which
# travel with the orders' in the same NOTIFY (or bus publish), only if the transaction commits.
COMMIT_MESSAGES: list[Callable[[Session], list[dict[str, Any]]]] = []


def message(order: Order) -> dict[str, Any]:
    return {
        "type": "order",
        "id": str(order.id),
        "status": str(order.status),
        "assignee_id": str(order.assignee_id) if order.assignee_id else None,
        "version": order.chain_length,
        "estate_id": str(order.estate_id),
    }


def chunks(messages: list[dict[str, Any]], limit: int = NOTIFY_LIMIT) -> list[str]:
    """JSON arrays of messages, each under ``limit`` bytes."""
    out: list[str] = []
    batch: list[str] = []
    size = 2
    for m in messages:
        item = json.dumps(m, separators=(",", ":"))
        if batch and size + len(item) + 1 > limit:
            out.append("[" + ",".join(batch) + "]")
            batch, size = [], 2
        batch.append(item)
        size += len(item) + 1
    if batch:
        out.append("[" + ",".join(batch) + "]")
    return out


def _before_flush(session: Session, _context, _instances) -> None:
    changed = None
    for obj in chain(session.new, session.dirty):
        if isinstance(obj, Order) and (obj in session.new or session.is_modified(obj, include_collections=False)):
            if changed is None:
                changed = session.info.setdefault(_CHANGED, set())
            changed.add(obj)


def _before_commit(session: Session) -> None:
    if any(isinstance(obj, Order) for obj in chain(session.new, session.dirty)):
        session.flush()
    changed = session.info.pop(_CHANGED, set()) | session.info.pop(order_rows.WRITTEN, set())
    extra = [m for produce in COMMIT_MESSAGES for m in produce(session)]
    if not changed and not extra:
        return
    # One message per order, its latest state: a push may have written an order as a plain row
    # (its steps) and then as an ORM instance (a transition after them).
    latest: dict[Any, Any] = {}
    for o in changed:
        if o.id not in latest or o.chain_length > latest[o.id].chain_length:
            latest[o.id] = o
    messages = [message(o) for o in latest.values()] + extra
    if session.get_bind().dialect.name == "postgresql":
        for payload in chunks(messages):
            session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})
    else:
        session.info[_MESSAGES] = messages


def _after_commit(session: Session) -> None:
    session.info.pop(_CHANGED, None)
    messages = session.info.pop(_MESSAGES, None)
    if not messages:
        return
    bus = _buses.get(session.get_bind().pool)
    if bus is not None:
        for m in messages:
            bus.publish(m)


def _forget(session: Session, *_args) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(order_rows.WRITTEN, None)
    session.info.pop(_MESSAGES, None)


def install() -> None:
    """Register the session listeners (once per process; idempotent)."""
    for name, fn in (
        ("before_flush", _before_flush),
        ("before_commit", _before_commit),
        ("after_commit", _after_commit),
        ("after_rollback", _forget),
        ("after_soft_rollback", _forget),
    ):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


install()


class Live:
    """One per app: the bus, and on PostgreSQL the LISTEN connection that feeds it."""

    def __init__(self, db: Database):
        self.bus = Bus()
        self.db = db
        self._task: asyncio.Task | None = None
        self._ready: asyncio.Event | None = None
        if db.is_sqlite:
            _buses[db.engine.sync_engine.pool] = self.bus

    @contextlib.asynccontextmanager
    async def subscription(self) -> AsyncIterator[Subscription]:
        """Subscribe; on PostgreSQL, do not return before the LISTEN is in place (nothing is missed)."""
        sub = self.bus.subscribe()
        try:
            if not self.db.is_sqlite:
                await self._start()
            yield sub
        finally:
            # No awaiting here: a stream ends by cancellation, and anyio re-cancels every await.
            self.bus.unsubscribe(sub)
            if not self.db.is_sqlite and not self.bus.subscribers:
                self._stop()

    async def _start(self) -> None:
        if self._task is None:  # no await between the check and the assignment: no race
            self._ready = asyncio.Event()
            self._task = asyncio.create_task(self._listen(self._ready), name="board:listen")
        ready = self._ready
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), READY_TIMEOUT)
        if not ready.is_set():
            log.warning(
                "board: LISTEN %s not ready after %.0f s; live updates from other processes may lag",
                CHANNEL,
                READY_TIMEOUT,
            )

    def _stop(self) -> asyncio.Task | None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()  # its own finally closes the connection
        return task

    async def close(self) -> None:
        task = self._stop()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    def _dsn(self) -> str:
        return self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _on_notify(self, _conn, _pid, _channel, payload: str) -> None:
        try:
            messages = json.loads(payload)
        except ValueError:
            log.warning("board: ignoring a malformed notice on %s", CHANNEL)
            return
        for m in messages if isinstance(messages, list) else ():
            if isinstance(m, dict):
                self.bus.publish(m)

    async def _listen(self, ready: asyncio.Event) -> None:
        delay, connected_before = 0.5, False
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(
                    self._dsn(), timeout=10, server_settings={"application_name": "wuye_board_listener"}
                )
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                if connected_before:
                    self.bus.publish(RESYNC)  # notices sent while we were away are lost: reload
                connected_before, delay = True, 0.5
                ready.set()
                await lost.wait()
                log.warning("board: LISTEN connection lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep trying; the board falls back to reloads
                log.warning("board: LISTEN failed (%s: %s); retrying in %.1f s", type(exc).__name__, exc, delay)
            finally:
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


def live_for(ctx: AppContext) -> Live:
    live = ctx.services.get("board_live")
    if live is None:
        live = ctx.services["board_live"] = Live(ctx.db)
    return live


def start_board_listener(ctx: AppContext) -> Live:
    """For the app lifespan: set up this app's board bus (the LISTEN opens with the first stream)."""
    return live_for(ctx)


async def stop_board_listener(ctx: AppContext) -> None:
    """For the app lifespan's shutdown: close the LISTEN connection if a stream left it open."""
    live = ctx.services.get("board_live")
    if live is not None:
        await live.close()
