"""An in-memory database for the sync engine's storage contracts, plus a toy domain.

Transactions have real semantics: a transaction works on a deep copy of the committed state taken at
begin, commits by swapping it in and rolls back by dropping it; savepoints copy the working state.
Write transactions are serialised by one lock, like the server's version-counter row lock, so
versions become visible strictly in order. Committed states are never mutated afterwards, which
makes :meth:`MemoryDatabase.snapshot` a consistent read snapshot for free.

The toy domain (counters, append-only note lists, orders with a small state machine) is registered
in :func:`build_registry`; its handlers write through :class:`MemoryTransaction` like the server's
handlers write through a SQLAlchemy session.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync.engine import (
    ClientState,
    PullPage,
    PushResult,
    Receipt,
    answer_resend,
    apply_push,
    build_pull,
    current_mutation,
    plan_push,
)
from sync.protocol import Change, PushRequest, decode_push
from sync.registry import Args, PermanentError, Registry

UNLUCKY = 13


class TransientFault(Exception):
    """The database went away in the middle of a transaction."""


@dataclass
class ClientRow:
    last_seq: int
    actor_id: str | None
    clock_offset_ms: int | None = None


@dataclass
class Record:
    version: int
    data: dict[str, Any] | None  # None: tombstone


@dataclass
class State:
    clients: dict[str, ClientRow] = field(default_factory=dict)
    receipts: dict[tuple[str, int], Receipt] = field(default_factory=dict)
    originals: dict[str, Receipt] = field(default_factory=dict)
    records: dict[tuple[str, str], Record] = field(default_factory=dict)
    version: int = 0
    horizon: int = 0


class MemoryDatabase:
    def __init__(self) -> None:
        self.state = State()
        self._write_lock = asyncio.Lock()
        #: Fault injection: the n-th write (put/delete) from now raises TransientFault.
        self.fail_at_write: int | None = None
        self.commits = 0
        self.savepoints = 0  # opened, over the database's life
        self.optimistic_passes = 0
        self.restarts = 0  # transactions rolled back and begun again by the engine
        #: What ``counter.add``'s prepare was called with, one list per call.
        self.prepared: list[list[str]] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        async with self._write_lock:
            tx = MemoryTransaction(self, copy.deepcopy(self.state))
            yield tx  # an exception here skips the commit below: rollback
            self.state = tx.state
            self.commits += 1

    @asynccontextmanager
    async def read(self) -> AsyncIterator[MemoryTransaction]:
        """A read transaction: sees the committed state, never commits (what it writes is lost)."""
        yield MemoryTransaction(self, copy.deepcopy(self.state))

    def snapshot(self) -> State:
        return self.state

    def restore(self, backup: State) -> None:
        """Replace the database with an earlier snapshot (a restore from backup)."""
        self.state = copy.deepcopy(backup)

    def purge_tombstones(self, up_to: int) -> None:
        """Forget tombstones with version <= up_to and raise the horizon accordingly."""
        state = copy.deepcopy(self.state)
        state.records = {key: rec for key, rec in state.records.items() if rec.data is not None or rec.version > up_to}
        state.horizon = max(state.horizon, up_to)
        self.state = state

    def record(self, table: str, record_id: str) -> dict[str, Any] | None:
        rec = self.state.records.get((table, record_id))
        return None if rec is None else rec.data

    def table(self, table: str) -> dict[str, dict[str, Any]]:
        return {
            rid: rec.data for (tbl, rid), rec in self.state.records.items() if tbl == table and rec.data is not None
        }

    def _count_write(self) -> None:
        if self.fail_at_write is None:
            return
        self.fail_at_write -= 1
        if self.fail_at_write <= 0:
            self.fail_at_write = None
            raise TransientFault("database connection lost")


class MemoryTransaction:
    """One transaction: implements :class:`sync.engine.PushStore` and :class:`sync.engine.PullStore`."""

    def __init__(self, db: MemoryDatabase, state: State):
        self.db = db
        self.state = state

    # --- PushStore ---

    async def lock_client(self, client_id: str) -> ClientState | None:
        row = self.state.clients.get(client_id)
        return None if row is None else ClientState(last_seq=row.last_seq, actor_id=row.actor_id)

    async def save_client(self, client_id: str, actor_id: str, last_seq: int, clock_offset_ms: int) -> None:
        self.state.clients[client_id] = ClientRow(last_seq, actor_id, clock_offset_ms)

    async def receipts(self, client_id: str, seqs: list[int]) -> dict[int, Receipt]:
        found = {seq: self.state.receipts.get((client_id, seq)) for seq in seqs}
        return {seq: r for seq, r in found.items() if r is not None}

    async def originals(self, mutation_ids: list[str]) -> dict[str, Receipt]:
        return {m: self.state.originals[m] for m in mutation_ids if m in self.state.originals}

    async def save_receipts(self, receipts: list[Receipt]) -> None:
        for receipt in receipts:
            key = (receipt.client_id, receipt.seq)
            if key in self.state.receipts:
                raise AssertionError(f"receipt {key} saved twice")
            if receipt.original:
                if receipt.mutation_id in self.state.originals:
                    raise AssertionError(f"second original receipt for {receipt.mutation_id}")
                self.state.originals[receipt.mutation_id] = receipt
            self.state.receipts[key] = receipt

    @asynccontextmanager
    async def optimistic(self) -> AsyncIterator[None]:
        self.db.optimistic_passes += 1
        yield

    async def restart(self) -> None:
        self.db.restarts += 1
        self.state = copy.deepcopy(self.db.state)  # what the transaction wrote is gone

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        self.db.savepoints += 1
        saved = copy.deepcopy(self.state)
        try:
            yield
        except BaseException:
            self.state = saved
            raise

    # --- PullStore ---

    async def horizon(self) -> int:
        return self.state.horizon

    async def current_version(self) -> int:
        return self.state.version

    async def client_known(self, client_id: str) -> bool:
        return client_id in self.state.clients

    async def remember_client(self, client_id: str) -> None:
        self.state.clients.setdefault(client_id, ClientRow(0, None))

    async def last_seq(self, client_id: str) -> int:
        row = self.state.clients.get(client_id)
        return 0 if row is None else row.last_seq

    async def changes_after(self, version: int, limit: int) -> list[Change]:
        newer = sorted(
            (rec.version, table, rid, rec.data)
            for (table, rid), rec in self.state.records.items()
            if rec.version > version
        )
        return [
            Change(table=table, id=rid, op="upsert" if data is not None else "delete", version=v, data=data)
            for v, table, rid, data in newer[:limit]
        ]

    # --- domain access (what a handler uses) ---

    def get(self, table: str, record_id: str) -> dict[str, Any] | None:
        rec = self.state.records.get((table, record_id))
        return None if rec is None or rec.data is None else copy.deepcopy(rec.data)

    def put(self, table: str, record_id: str, data: dict[str, Any]) -> None:
        self.db._count_write()
        self.state.version += 1  # one version per changed record, as the protocol requires
        self.state.records[(table, record_id)] = Record(self.state.version, copy.deepcopy(data))

    def delete(self, table: str, record_id: str) -> None:
        self.db._count_write()
        self.state.version += 1
        self.state.records[(table, record_id)] = Record(self.state.version, None)


# --- the toy domain -------------------------------------------------------------------------------


@dataclass
class ToyContext:
    tx: MemoryTransaction
    actor_id: str


class ToyRefusal(Exception):
    """Stands in for the server's DomainError: not a sync type, listed in ``permanent_errors``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class CounterAdd(Args):
    counter_id: str
    amount: int


class NoteAppend(Args):
    list_id: str
    text: str


class OrderCreate(Args):
    id: str
    title: str


class OrderAccept(Args):
    order_id: str


class OrderComplete(Args):
    order_id: str
    note: str | None = None


class OrderCancel(Args):
    order_id: str


def build_registry() -> Registry:
    registry = Registry(permanent_errors=(ToyRefusal,))

    async def counter_prepare(ctx: ToyContext, batch: list[CounterAdd]) -> None:
        ctx.tx.db.prepared.append([f"{a.counter_id}+{a.amount}" for a in batch])

    @registry.mutation("counter.add", CounterAdd, prepare=counter_prepare)
    async def counter_add(ctx: ToyContext, args: CounterAdd) -> None:
        current = ctx.tx.get("counters", args.counter_id) or {"value": 0}
        ctx.tx.put("counters", args.counter_id, {"value": current["value"] + args.amount})
        if args.amount == UNLUCKY:
            # Refused *after* writing, so a test can see the savepoint undo the write.
            raise PermanentError("unlucky", f"{UNLUCKY} is refused")

    @registry.mutation("note.append", NoteAppend)
    async def note_append(ctx: ToyContext, args: NoteAppend) -> None:
        current = ctx.tx.get("lists", args.list_id) or {"items": []}
        ctx.tx.put("lists", args.list_id, {"items": [*current["items"], args.text]})

    @registry.mutation("order.create", OrderCreate)
    async def order_create(ctx: ToyContext, args: OrderCreate) -> None:
        if ctx.tx.get("orders", args.id) is not None:
            raise ToyRefusal("already_exists", f"order {args.id} exists")
        ctx.tx.put("orders", args.id, {"title": args.title, "state": "new", "assignee": None})

    @registry.mutation("order.accept", OrderAccept)
    async def order_accept(ctx: ToyContext, args: OrderAccept) -> None:
        order = _transition(ctx, args.order_id, "accepted")
        order["assignee"] = ctx.actor_id
        ctx.tx.put("orders", args.order_id, order)

    @registry.mutation("order.complete", OrderComplete)
    async def order_complete(ctx: ToyContext, args: OrderComplete) -> None:
        order = _transition(ctx, args.order_id, "done")
        ctx.tx.put("orders", args.order_id, order)

    @registry.mutation("order.cancel", OrderCancel)
    async def order_cancel(ctx: ToyContext, args: OrderCancel) -> None:
        _transition(ctx, args.order_id, "cancelled")
        ctx.tx.delete("orders", args.order_id)

    return registry


_TRANSITIONS = {"new": {"accepted", "cancelled"}, "accepted": {"done", "cancelled"}}


def _transition(ctx: ToyContext, order_id: str, target: str) -> dict[str, Any]:
    """Record the event first, then check: an illegal transition leaves a write for the savepoint."""
    info = current_mutation()
    order = ctx.tx.get("orders", order_id)
    ctx.tx.put(
        "order_events",
        info.mutation_id,
        {
            "order_id": order_id,
            "target": target,
            "seq": info.seq,
            "client_time": info.client_time.isoformat(),
            "clock_skewed": info.clock_skewed,
        },
    )
    if order is None:
        raise ToyRefusal("not_found", f"order {order_id} not found")
    if target not in _TRANSITIONS.get(order["state"], set()):
        raise ToyRefusal("illegal_transition", f"order is {order['state']}, cannot become {target}")
    order["state"] = target
    return order


# --- a server without HTTP ------------------------------------------------------------------------


class MemoryServer:
    """What the real server does around the engine: one transaction per request."""

    def __init__(self, *, epoch: str = "e1", now: Callable[[], datetime] | None = None):
        self.db = MemoryDatabase()
        self.registry = build_registry()
        self.epoch = epoch
        self.now = now or (lambda: datetime.now(UTC))
        self.answer_resends = True
        self.plan_ahead = True

    async def push(self, body: bytes | PushRequest, *, actor_id: str = "tech-1") -> PushResult:
        """Raises ProtocolError (incl. SeqGap) or TransientFault; commits only on success."""
        req = decode_push(body) if isinstance(body, bytes) else body
        if self.answer_resends:  # as the server does: a wholly consumed batch from a read, first
            async with self.db.read() as tx:
                resent = await answer_resend(req, store=tx, actor_id=actor_id)
            if resent is not None:
                return resent
        # As the server does: decoded ahead of the transaction (or, with plan_ahead off, inside it).
        plan = plan_push(req, self.registry) if self.plan_ahead else None
        async with self.db.transaction() as tx:
            return await apply_push(
                req,
                store=tx,
                registry=self.registry,
                ctx=ToyContext(tx, actor_id),
                actor_id=actor_id,
                server_time=self.now(),
                plan=plan,
            )

    async def pull(
        self, cursor: str | None, client_id: str, limit: int | None = None, *, actor_id: str | None = None
    ) -> PullPage:
        """``actor_id``: the signed-in account, as the server passes it (cursors are then bound to it)."""
        async with self.db.transaction() as tx:
            return await build_pull(cursor, client_id, limit, store=tx, epoch=self.epoch, actor_id=actor_id)
