"""The server half of the sync protocol (PROTOCOL.md §3 and §5), without HTTP and without a database.

The server opens one database transaction per request, wraps it in objects satisfying
:class:`PushStore` / :class:`PullStore`, and calls :func:`apply_push` / :func:`build_pull`. Whatever
these raise, other than a :class:`~sync.protocol.ProtocolError`, means "roll back and answer 503".
"""

from __future__ import annotations

import hashlib
import re
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

import msgspec

from sync.cursor import Cursor, owner_tag, parse
from sync.protocol import (
    CLOCK_SKEW_LIMIT,
    DEFAULT_PULL_LIMIT,
    MAX_MUTATIONS,
    MAX_PULL_LIMIT,
    PROTOCOL_VERSION,
    UUID_PATTERN,
    WRONG_AUTHOR,
    Change,
    Mutation,
    MutationResult,
    MutationStatus,
    ProtocolError,
    PullResponse,
    PushRequest,
    PushResponse,
    SeqGap,
)
from sync.registry import MutationSpec, Registry

_UUID = re.compile(UUID_PATTERN)

# --- storage contracts ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientState:
    """What the server keeps per device installation (``client_id``)."""

    last_seq: int
    actor_id: str | None = None


class Receipt(NamedTuple):
    """The answer given to one ``(client_id, seq)``, kept so a resend gets the same answer.

    A named tuple (immutable, like a frozen dataclass, and five times cheaper to build: a replayed
    push builds a hundred).

    ``original`` is True on the receipt that decided the mutation ``mutation_id`` (applied, or
    rejected by validation or its handler). A receipt saved because that id arrived *again* under
    another seq (answered ``duplicate`` or ``mutation_conflict``) has ``original=False``; there is at
    most one original receipt per mutation id, and :meth:`PushStore.originals` returns it.
    ``digest`` is :func:`mutation_digest` of what arrived under this seq.
    """

    client_id: str
    seq: int
    mutation_id: str
    digest: str
    status: MutationStatus
    code: str | None = None
    message: str | None = None
    original: bool = True


class PushStore(Protocol):
    """Storage for :func:`apply_push`. Every method works inside the one transaction the server opened
    for the request; the server commits it (durably) after ``apply_push`` returns and rolls it back if
    anything raises."""

    async def lock_client(self, client_id: str) -> ClientState | None:
        """The client's row, locked until commit so that concurrent batches of one client serialise
        (``SELECT … FOR UPDATE``, or an UPSERT that creates and locks it). None for a client never seen:
        then two concurrent first batches must not both commit (the primary key makes one fail, which
        is a transient error)."""
        ...

    async def save_client(self, client_id: str, actor_id: str, last_seq: int, clock_offset_ms: int) -> None:
        """Create or update the client row. Called once per accepted batch, also when nothing new was
        applied; ``actor_id`` is whoever pushed this batch (it may differ from the stored one). A store
        may skip the write when neither ``last_seq`` nor ``actor_id`` changed (a pure resend), so that
        a replay commits without writing anything."""
        ...

    async def receipts(self, client_id: str, seqs: list[int]) -> dict[int, Receipt]:
        """The receipts of ``client_id`` for these seqs, by seq; a seq never saved or pruned (see
        README) is absent. One call per resent batch: a replay costs one read, not one per mutation."""
        ...

    async def originals(self, mutation_ids: list[str]) -> dict[str, Receipt]:
        """The *original* receipts of these mutation ids, for any client, by id (absent: never seen).
        Read once per batch, before any of it is applied."""
        ...

    async def save_receipts(self, receipts: list[Receipt]) -> None:
        """Insert the receipts of one batch (one call per batch, after every handler ran).
        ``(client_id, seq)`` is unique; ``mutation_id`` is unique among originals."""
        ...

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        """A nested transaction: on exit by exception it rolls back every write made inside it (and
        re-raises); on normal exit it keeps them. Used around each handler call of the careful pass.
        SQLAlchemy: ``session.begin_nested()``."""
        ...

    def optimistic(self) -> AbstractAsyncContextManager[object]:
        """Around the optimistic pass, which runs a whole batch without savepoints (they cost more
        than the handlers' own writes). Nothing inside it needs to be undoable on its own: when it
        exits by exception, either the error propagates (the server rolls back) or the engine calls
        :meth:`restart`."""
        ...

    async def restart(self) -> None:
        """Roll back everything this transaction wrote and begin a new one (taking its locks
        again); the engine then runs the push again from :meth:`lock_client`."""
        ...


class PullStore(Protocol):
    """Storage for :func:`build_pull`, scoped to the caller by the server. Run all calls in one read
    snapshot (PostgreSQL REPEATABLE READ; a SQLite transaction) so ``last_seq``, the horizon and the
    changes agree. ``build_pull`` reads ``current_version`` before ``changes_after``, which keeps the
    cursor correct even without a snapshot."""

    async def horizon(self) -> int:
        """Highest version whose tombstones may have been purged (0 if none ever were)."""
        ...

    async def current_version(self) -> int:
        """The version counter's committed value: every version up to it is committed and visible."""
        ...

    async def client_known(self, client_id: str) -> bool:
        """Whether the server has a row for this client (created by a push or a pull)."""
        ...

    async def remember_client(self, client_id: str) -> None:
        """Create the client row (``last_seq`` 0) if it does not exist; called once per new client."""
        ...

    async def last_seq(self, client_id: str) -> int:
        """The client's last applied seq, 0 for an unknown client."""
        ...

    async def changes_after(self, version: int, limit: int) -> list[Change]:
        """At most ``limit`` changes with ``version`` greater than the argument, in the caller's scope,
        ordered by version, one per record (its latest). Versions are unique per change row: a
        transaction that changes several records takes one version per record."""
        ...


class StoreContractError(RuntimeError):
    """A store broke its contract (a bug in the server's storage code, never a client problem)."""


# --- push -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MutationInfo:
    """What a handler may want to know about the mutation it applies (see :func:`current_mutation`)."""

    client_id: str
    seq: int
    mutation_id: str
    name: str
    client_time: datetime
    batch_client_time: datetime
    server_time: datetime
    clock_offset_ms: int
    #: The device clock differs from the server's by more than CLOCK_SKEW_LIMIT: flag the records.
    clock_skewed: bool


_current: ContextVar[MutationInfo] = ContextVar("sync_current_mutation")


def current_mutation() -> MutationInfo:
    """The mutation being applied, for use inside a handler (handlers keep the ``(ctx, args)`` shape)."""
    try:
        return _current.get()
    except LookupError:
        raise LookupError("current_mutation() called outside a mutation handler") from None


def mutation_digest(name: str, args: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``[name, args]`` (keys sorted at every level)."""
    return hashlib.sha256(msgspec.json.encode([name, args], order="sorted")).hexdigest()


class PushResult(NamedTuple):
    last_seq: int
    results: list[MutationResult]

    def response(self, *, request_id: str, server_time: datetime) -> PushResponse:
        return PushResponse(
            protocol=PROTOCOL_VERSION,
            request_id=request_id,
            server_time=server_time,
            last_seq=self.last_seq,
            results=self.results,
        )


def check_batch(req: PushRequest) -> None:
    """The request-level rules of PROTOCOL.md §3: non-empty, at most MAX_MUTATIONS, consecutive seqs."""
    if not req.mutations:
        raise ProtocolError("validation_error", "a push needs at least one mutation")
    if len(req.mutations) > MAX_MUTATIONS:
        raise ProtocolError("batch_too_large", f"at most {MAX_MUTATIONS} mutations per push")
    first = req.mutations[0].seq
    for offset, mutation in enumerate(req.mutations):
        if mutation.seq != first + offset:
            raise ProtocolError(
                "validation_error",
                f"mutations must have consecutive ascending seq: expected {first + offset}, "
                f"got {mutation.seq} - at `$.mutations[{offset}].seq`",
            )


class PushPlan(NamedTuple):
    """A push decoded for :func:`apply_push` ahead of its transaction (see :func:`plan_push`)."""

    request: PushRequest
    plans: dict[int, _Plan]  # by seq


def plan_push(req: PushRequest, registry: Registry) -> PushPlan:
    """Check the batch and decode every mutation's args and content digest: the part of applying it
    that reads nothing stored, done before the write transaction so that the transaction (which
    every other push waits for) is shorter. Raises ProtocolError for a broken request."""
    check_batch(req)
    return PushPlan(req, {m.seq: _plan(registry, m) for m in req.mutations})


async def apply_push(
    req: PushRequest,
    *,
    store: PushStore,
    registry: Registry,
    ctx: Any,
    actor_id: str,
    server_time: datetime,
    plan: PushPlan | None = None,
) -> PushResult:
    """Apply one push batch (PROTOCOL.md §3) inside the caller's transaction.

    Raises :class:`~sync.protocol.ProtocolError` for a broken request, :class:`~sync.protocol.SeqGap`
    when the batch does not continue at ``last_seq + 1`` (nothing written), and lets every transient
    error from a handler or the store propagate: the caller rolls back and answers 503.

    The new mutations run in two passes at most. The *optimistic* pass runs them all without a
    savepoint (``store.optimistic()``); it is the whole story unless a handler refuses. A handler
    refusal there cannot be undone alone (its writes are mixed with its neighbours'), so the store
    rolls the whole transaction back and begins another (``store.restart()``), and the push runs
    again from the start with the *careful* pass: one savepoint per handler, which undoes exactly
    the refused mutation's writes. The second try reads everything again (the client's ``last_seq``,
    the receipts), so a writer that committed in between is seen as if it had come first; the
    answer is the one the careful pass alone would give in that transaction. Refusals decided
    before any handler runs (unknown name, invalid args, a repeated mutation id) never force the
    careful pass.
    """
    if server_time.tzinfo is None:
        raise ValueError("server_time must be timezone-aware")
    if plan is None or plan.request is not req:
        plan = plan_push(req, registry)
    careful = False
    while True:
        result = await _apply_once(req, plan, store, registry, ctx, actor_id, server_time, careful=careful)
        if result is not None:
            return result
        # A handler refused in the optimistic pass: its writes are mixed with its neighbours', so
        # the whole transaction goes, and the push runs again from the start, carefully.
        await store.restart()
        careful = True


async def _apply_once(
    req: PushRequest,
    plan: PushPlan,
    store: PushStore,
    registry: Registry,
    ctx: Any,
    actor_id: str,
    server_time: datetime,
    *,
    careful: bool,
) -> PushResult | None:
    """One try of :func:`apply_push`; None when the optimistic pass met a handler refusal."""
    state = await store.lock_client(req.client_id)
    last = state.last_seq if state is not None else 0

    fresh = [m for m in req.mutations if m.seq > last]
    if fresh and fresh[0].seq != last + 1:
        raise SeqGap(last + 1)

    repeats = [m for m in req.mutations if m.seq <= last]
    receipts = await store.receipts(req.client_id, [m.seq for m in repeats]) if repeats else {}
    results = [_answer_repeat(receipts.get(m.seq), m) for m in repeats]

    offset_ms = round((server_time - req.client_time) / timedelta(milliseconds=1))
    if fresh:
        batch = _Batch(req, [plan.plans[m.seq] for m in fresh], store, registry, ctx, server_time, offset_ms, actor_id)
        # Originals of the fresh ids, read once; kept current by the pass as it decides its own.
        originals = await store.originals([m.id for m in fresh])
        if careful or sum(1 for plan in batch.plans if plan.spec is not None) <= 1:  # nothing to save
            saved = await batch.run(originals, careful=True)
        else:
            try:
                async with store.optimistic():
                    saved = await batch.run(originals, careful=False)
            except _HandlerRefused:
                return None
        await store.save_receipts(saved)
        results += [_result(r) for r in saved]
        last = fresh[-1].seq

    await store.save_client(req.client_id, actor_id, last, offset_ms)
    return PushResult(last, results)


async def answer_resend(req: PushRequest, *, store: PushStore, actor_id: str) -> PushResult | None:
    """The answer to a batch whose every seq the server has consumed already, read without writing,
    or None: then the batch holds a new seq (or the store wants its client row written) and goes to
    :func:`apply_push` in a write transaction.

    Sound without the client lock: a seq's receipt commits with the ``last_seq`` that covers it, and
    never changes after, so any snapshot that shows ``last_seq`` shows those receipts. ``store`` reads
    without locking; its ``lock_client`` returns None when the write path must run instead.
    """
    check_batch(req)
    state = await store.lock_client(req.client_id)
    if state is None or req.mutations[-1].seq > state.last_seq or state.actor_id != actor_id:
        return None
    receipts = await store.receipts(req.client_id, [m.seq for m in req.mutations])
    return PushResult(state.last_seq, [_answer_repeat(receipts.get(m.seq), m) for m in req.mutations])


class _HandlerRefused(Exception):
    """A handler refused during the optimistic pass: restart the transaction, run the careful pass."""


@dataclass(slots=True)
class _Plan:
    """One new mutation, decoded once for both passes."""

    mutation: Mutation
    digest: str
    spec: MutationSpec[Any] | None = None  # None: refused before any handler (see ``refusal``)
    args: Any = None
    refusal: tuple[str, str] | None = None


def _plan(registry: Registry, mutation: Mutation) -> _Plan:
    plan = _Plan(mutation, mutation_digest(mutation.name, mutation.args))
    try:
        plan.spec, plan.args = registry.decode(mutation.name, mutation.args)
    except Exception as exc:
        if not registry.is_permanent(exc):
            raise
        plan.refusal = _refusal(exc)
    return plan


class _Batch:
    """The new mutations of one push and how to run them (rules 4 and 5)."""

    def __init__(
        self,
        req: PushRequest,
        plans: list[_Plan],
        store: PushStore,
        registry: Registry,
        ctx: Any,
        server_time: datetime,
        offset_ms: int,
        actor_id: str,
    ) -> None:
        self.actor_id = actor_id
        self.store = store
        self.registry = registry
        self.ctx = ctx
        self.client_id = req.client_id
        self.batch_client_time = req.client_time
        self.server_time = server_time
        self.offset_ms = offset_ms
        self.skewed = abs(server_time - req.client_time) > CLOCK_SKEW_LIMIT
        self.plans = plans

    async def _prepare(self) -> None:
        """Each mutation type's ``prepare`` once, with the args of all its mutations in the batch."""
        grouped: dict[str, tuple[MutationSpec[Any], list[Any]]] = {}
        for plan in self.plans:
            if plan.spec is not None and plan.spec.prepare is not None:
                grouped.setdefault(plan.spec.name, (plan.spec, []))[1].append(plan.args)
        for spec, args in grouped.values():
            await spec.prepare(self.ctx, args)

    async def run(self, originals: dict[str, Receipt], *, careful: bool) -> list[Receipt]:
        await self._prepare()
        return [await self._decide(plan, originals, careful) for plan in self.plans]

    async def _decide(self, plan: _Plan, originals: dict[str, Receipt], careful: bool) -> Receipt:
        """Rules 4 and 5 for one new seq: its receipt (an original one is noted in ``originals``, so a
        second use of the id later in the same batch is seen as a repeat)."""
        mutation = plan.mutation
        if mutation.author is not None and mutation.author != self.actor_id:
            # Made by someone else than the token's account (a shared device's outbox): refused,
            # never applied under this name. Not the mutation's decision (original=False), so its
            # author can still push it under their own token and have it applied.
            message = "这条记录不是当前登录的人做的，不能以其身份提交 / this mutation was made by another person"
            result = MutationResult(
                seq=mutation.seq, id=mutation.id, status="rejected", code=WRONG_AUTHOR, message=message
            )
            return self._receipt(plan, result, original=False)
        prior = originals.get(mutation.id)
        if prior is not None:
            if prior.digest == plan.digest:
                result = _replay(mutation, prior)
            else:
                result = _conflict(mutation, f"mutation {mutation.id} was already received with different content")
            return self._receipt(plan, result, original=False)
        if plan.spec is None:
            code, message = plan.refusal
            result = MutationResult(seq=mutation.seq, id=mutation.id, status="rejected", code=code, message=message)
        else:
            result = await self._apply(plan, careful)
        receipt = self._receipt(plan, result, original=True)
        originals[mutation.id] = receipt
        return receipt

    async def _apply(self, plan: _Plan, careful: bool) -> MutationResult:
        mutation = plan.mutation
        info = MutationInfo(
            client_id=self.client_id,
            seq=mutation.seq,
            mutation_id=mutation.id,
            name=mutation.name,
            client_time=mutation.client_time,
            batch_client_time=self.batch_client_time,
            server_time=self.server_time,
            clock_offset_ms=self.offset_ms,
            clock_skewed=self.skewed,
        )
        token = _current.set(info)
        try:
            if careful:
                async with self.store.savepoint():
                    await plan.spec.handler(self.ctx, plan.args)
            else:
                await plan.spec.handler(self.ctx, plan.args)
        except Exception as exc:
            if not self.registry.is_permanent(exc):
                raise
            if not careful:
                raise _HandlerRefused from exc
            code, message = _refusal(exc)
            return MutationResult(seq=mutation.seq, id=mutation.id, status="rejected", code=code, message=message)
        finally:
            _current.reset(token)
        return MutationResult(seq=mutation.seq, id=mutation.id, status="applied")

    def _receipt(self, plan: _Plan, result: MutationResult, *, original: bool) -> Receipt:
        return Receipt(
            client_id=self.client_id,
            seq=plan.mutation.seq,
            mutation_id=plan.mutation.id,
            digest=plan.digest,
            status=result.status,
            code=result.code,
            message=result.message,
            original=original,
        )


def _result(receipt: Receipt) -> MutationResult:
    return MutationResult(
        seq=receipt.seq, id=receipt.mutation_id, status=receipt.status, code=receipt.code, message=receipt.message
    )


def _replay(mutation: Mutation, receipt: Receipt) -> MutationResult:
    """Answer a repeat the way the original was answered, so a lost answer never hides a rejection."""
    if receipt.status == "rejected":
        return MutationResult(
            seq=mutation.seq, id=mutation.id, status="rejected", code=receipt.code, message=receipt.message
        )
    return MutationResult(seq=mutation.seq, id=mutation.id, status="duplicate")


def _conflict(mutation: Mutation, message: str) -> MutationResult:
    return MutationResult(
        seq=mutation.seq, id=mutation.id, status="rejected", code="mutation_conflict", message=message
    )


def _answer_repeat(receipt: Receipt | None, mutation: Mutation) -> MutationResult:
    """Rule 2: a seq the server already consumed is never applied again."""
    if receipt is None:
        # Pruned: the seq is consumed, but there is nothing left to compare with.
        return MutationResult(seq=mutation.seq, id=mutation.id, status="duplicate")
    if receipt.mutation_id != mutation.id:
        return _conflict(mutation, f"seq {mutation.seq} was already used by mutation {receipt.mutation_id}")
    if receipt.digest != mutation_digest(mutation.name, mutation.args):
        return _conflict(mutation, f"mutation {mutation.id} was already received with different content")
    return _replay(mutation, receipt)


def _refusal(exc: BaseException) -> tuple[str, str]:
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None)
    code = code if isinstance(code, str) and code else "rejected"
    message = message if isinstance(message, str) and message else (str(exc) or code)
    return code, message


# --- pull -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PullPage:
    reset: bool
    cursor: str
    has_more: bool
    last_seq: int
    changes: list[Change]

    def response(self, *, request_id: str, server_time: datetime) -> PullResponse:
        return PullResponse(
            protocol=PROTOCOL_VERSION,
            request_id=request_id,
            server_time=server_time,
            reset=self.reset,
            cursor=self.cursor,
            has_more=self.has_more,
            last_seq=self.last_seq,
            changes=self.changes,
        )


async def build_pull(
    cursor_text: str | None,
    client_id: str,
    limit: int | None,
    *,
    store: PullStore,
    epoch: str,
    actor_id: str | None = None,
) -> PullPage:
    """One pull page (PROTOCOL.md §5).

    With ``actor_id`` the cursor is issued to that account, and a cursor issued to another one is a
    reset: a device that keeps its cursor across a sign-in of someone else holds the wrong replica.

    The next cursor is the version of the last change when more pages follow. On the last page it is
    the store's current version (read *before* the changes), or the last change's if higher: nothing in
    the caller's scope up to that version was left out, so later pulls need not rescan versions that
    only touched other people's records, and an idle device does not drift below the tombstone horizon.
    """
    if not _UUID.fullmatch(client_id):
        raise ProtocolError("validation_error", "client_id must be a lower-case UUID")
    if limit is None:
        limit = DEFAULT_PULL_LIMIT
    if limit < 1:
        raise ProtocolError("validation_error", "limit must be at least 1")
    limit = min(limit, MAX_PULL_LIMIT)

    known = await store.client_known(client_id)
    if not known:
        # Remembered on its first pull too, otherwise a device that never pushes would be "unknown
        # while a cursor is given" on its second page and reset forever.
        await store.remember_client(client_id)
    horizon = await store.horizon()
    current = await store.current_version()
    owner = owner_tag(epoch, actor_id)
    cursor = parse(cursor_text, epoch=epoch, horizon=horizon, owner=owner)
    # A cursor ahead of the counter comes from a database restored without a new epoch.
    reset = cursor_text is not None and (cursor is None or not known or cursor.version > current)
    start = cursor.version if cursor is not None and not reset else 0

    last_seq = await store.last_seq(client_id)
    rows = await store.changes_after(start, limit + 1)
    _check_rows(rows, start, limit + 1)
    has_more = len(rows) > limit
    page = rows[:limit]
    if has_more:
        next_version = page[-1].version
    else:
        next_version = max(start, current, page[-1].version if page else 0)
    return PullPage(
        reset=reset,
        cursor=Cursor(epoch, next_version, owner).encode(),
        has_more=has_more,
        last_seq=last_seq,
        changes=page,
    )


def _check_rows(rows: list[Change], start: int, limit: int) -> None:
    """Cursor correctness rests on these; a store that breaks them would make devices skip changes."""
    if len(rows) > limit:
        raise StoreContractError(f"changes_after returned {len(rows)} rows for limit {limit}")
    previous = start
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if row.version <= previous:
            raise StoreContractError(
                f"changes_after({start}) must return strictly increasing versions above {start}: "
                f"{row.table}/{row.id} has version {row.version} after {previous}"
            )
        key = (row.table, row.id)
        if key in seen:
            raise StoreContractError(f"changes_after returned {row.table}/{row.id} twice")
        seen.add(key)
        previous = row.version
