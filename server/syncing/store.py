"""SQLAlchemy implementations of the engine's storage contracts (``sync.engine.PushStore`` and
``PullStore``), for one request's session and the signed-in actor."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy import Row, Select, String, bindparam, func, insert, select, text, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor, Scope
from server.db.bulk import insert_rows
from server.sites.models import Estate
from server.syncing import changelog
from server.syncing.batch import PushBatch
from server.syncing.models import SyncChange, SyncClock, SyncDevice, SyncReceipt
from server.syncing.pull import latest_changes
from server.syncing.tables import hydrate
from sync.engine import ClientState, Receipt
from sync.protocol import Change

# The predicate of the partial unique index on mutation_id, spelled as the index spells it: SQLite
# only uses a partial index when the query repeats its WHERE term, and SQLAlchemy renders a bare
# boolean column as ``original = 1`` there, which made every push scan all receipts.
_ORIGINAL = text("sync_receipts.original")


def _uuid_text(value: object) -> str:
    """A UUID column read as text, in the canonical form: SQLite stores 32 hex digits."""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


# The other statements of every push, built once too (building and keying one costs ~50-100 µs).
# Core statements and rows throughout: the ORM's result and flush machinery cost more than the reads.
_devices = SyncDevice.__table__
_CLIENT_STATE = select(_devices.c.last_seq, _devices.c.staff_id, _devices.c.last_seen_at).where(
    _devices.c.client_id == bindparam("client_id")
)
_LOCK_CLIENT = _CLIENT_STATE.with_for_update()
_NEW_CLIENT = insert(_devices)
_SAVE_CLIENT = (
    update(_devices)
    .where(_devices.c.client_id == bindparam("device"))
    .values(
        staff_id=bindparam("staff"),
        last_seq=bindparam("seq"),
        clock_offset_ms=bindparam("offset"),
        last_seen_at=bindparam("seen"),
    )
)
_receipts = SyncReceipt.__table__
_ORIGINALS = select(
    _receipts.c.client_id,
    _receipts.c.seq,
    type_coerce(_receipts.c.mutation_id, String),
    _receipts.c.digest,
    _receipts.c.status,
    _receipts.c.code,
    _receipts.c.message,
    _receipts.c.original,
).where(_receipts.c.mutation_id.in_(bindparam("ids", expanding=True)), _ORIGINAL)
_RECEIPTS = select(
    SyncReceipt.seq,
    type_coerce(SyncReceipt.mutation_id, String),
    SyncReceipt.digest,
    SyncReceipt.status,
    SyncReceipt.code,
    SyncReceipt.message,
    SyncReceipt.original,
).where(
    SyncReceipt.client_id == bindparam("client_id"),
    SyncReceipt.seq >= bindparam("first"),
    SyncReceipt.seq <= bindparam("last"),
)


def originals_query(mutation_ids: list[str]) -> Select:
    return _ORIGINALS.params(ids=[uuid.UUID(m) for m in mutation_ids])


class SqlPushStore:
    """The push half, for one write transaction.

    The session's :class:`PushBatch` collects what batch-aware handlers write; it is written at the
    end of the optimistic pass and of every savepoint (see :mod:`server.syncing.batch`). The version
    clock is bumped, taking its row lock until commit, when the first pass opens: a lock taken
    inside a savepoint that rolls back would be released (PostgreSQL), and a batch of pure resends
    never takes it at all, so it commits without writing anything.
    """

    #: A resend that changes nothing else still refreshes ``last_seen_at`` when it is older than this.
    SEEN_GRANULARITY = timedelta(minutes=10)

    def __init__(self, session: AsyncSession, now: datetime):
        self.session = session
        self.now = now
        self._device: tuple[str, Row | None] | None = None  # (client id, its row as locked)

    async def lock_client(self, client_id: str) -> ClientState | None:
        connection = await self.session.connection()
        row = (await connection.execute(_LOCK_CLIENT, {"client_id": uuid.UUID(client_id)})).first()
        self._device = (client_id, row)
        return None if row is None else ClientState(last_seq=row.last_seq, actor_id=str(row.staff_id))

    async def save_client(self, client_id: str, actor_id: str, last_seq: int, clock_offset_ms: int) -> None:
        staff_id = uuid.UUID(actor_id)
        connection = await self.session.connection()
        if self._device is not None and self._device[0] == client_id:
            row = self._device[1]
        else:
            row = (await connection.execute(_CLIENT_STATE, {"client_id": uuid.UUID(client_id)})).first()
        if row is None:
            values = {"staff_id": staff_id, "last_seq": last_seq, "clock_offset_ms": clock_offset_ms}
            await connection.execute(
                _NEW_CLIENT, {"client_id": uuid.UUID(client_id), "last_seen_at": self.now, **values}
            )
        elif (
            row.last_seq != last_seq or row.staff_id != staff_id or row.last_seen_at < self.now - self.SEEN_GRANULARITY
        ):
            params = {"staff": staff_id, "seq": last_seq, "offset": clock_offset_ms, "seen": self.now}
            await connection.execute(_SAVE_CLIENT, {"device": uuid.UUID(client_id), **params})
        # else: a pure resend, nothing worth a write (and an fsync)
        self._device = None

    async def receipts(self, client_id: str, seqs: list[int]) -> dict[int, Receipt]:
        # A resent batch is a run of consecutive seqs: one range read on the primary key. Plain
        # columns, the mutation id as text: a replay of 100 mutations is this read and little else,
        # and building UUID objects only to print them again cost ~20 µs a receipt.
        connection = await self.session.connection()  # Core rows: no ORM result machinery
        rows = await connection.execute(
            _RECEIPTS, {"client_id": uuid.UUID(client_id), "first": min(seqs), "last": max(seqs)}
        )
        wanted = set(seqs)
        return {
            seq: Receipt(client_id, seq, _uuid_text(mid), digest, status, code, message, original)
            for seq, mid, digest, status, code, message, original in rows
            if seq in wanted
        }

    async def originals(self, mutation_ids: list[str]) -> dict[str, Receipt]:
        connection = await self.session.connection()
        rows = await connection.execute(_ORIGINALS, {"ids": [uuid.UUID(m) for m in mutation_ids]})
        out = {}
        for cid, seq, mid, digest, status, code, message, original in rows:
            receipt = Receipt(str(cid), seq, _uuid_text(mid), digest, status, code, message, original)
            out[receipt.mutation_id] = receipt
        return out

    async def save_receipts(self, receipts: list[Receipt]) -> None:
        if not receipts:
            return
        clients = {cid: uuid.UUID(cid) for cid in {r.client_id for r in receipts}}  # one, in practice
        await insert_rows(
            self.session,
            SyncReceipt.__table__,
            [
                {
                    "client_id": clients[r.client_id],
                    "seq": r.seq,
                    "mutation_id": uuid.UUID(r.mutation_id),
                    "digest": r.digest,
                    "status": r.status,
                    "code": r.code,
                    "message": r.message,
                    "original": r.original,
                    "applied_at": self.now,
                }
                for r in receipts
            ],
        )

    @asynccontextmanager
    async def optimistic(self):
        await changelog.transaction_version(self.session)
        try:
            yield
            await PushBatch.of(self.session).flush()
        except BaseException:
            PushBatch.of(self.session).discard()
            raise

    @asynccontextmanager
    async def savepoint(self):
        await changelog.transaction_version(self.session)
        async with self.session.begin_nested() as sp, self.optimistic():
            yield sp

    async def restart(self) -> None:
        # The listeners on the rollback drop the batch, its caches and the clock version; the next
        # statement begins a new transaction (BEGIN IMMEDIATE, the writer lock taken again).
        self._device = None
        await self.session.rollback()


class SqlResendStore(SqlPushStore):
    """The push store for :func:`sync.engine.answer_resend`, in a read transaction: the client row is
    read without a lock, and reported missing (so the write path runs) when the resend should also
    refresh its ``last_seen_at``."""

    async def lock_client(self, client_id: str) -> ClientState | None:
        connection = await self.session.connection()
        row = (await connection.execute(_CLIENT_STATE, {"client_id": uuid.UUID(client_id)})).first()
        if row is None or row.last_seen_at < self.now - self.SEEN_GRANULARITY:
            return None
        return ClientState(last_seq=row.last_seq, actor_id=str(row.staff_id))


async def audiences_of(session: AsyncSession, actor: Actor) -> list[str]:
    """The change-log audiences this actor reads: always their own, plus what their scope covers."""
    out = [changelog.staff_audience(actor.staff_id)]
    scope = actor.scope
    if scope is Scope.everything:
        estates = (await session.scalars(select(Estate.id).where(Estate.company_id == actor.company_id))).all()
        out += [changelog.estate_audience(e) for e in estates]
    elif scope is Scope.estate and actor.estate_id:
        out.append(changelog.estate_audience(actor.estate_id))
    elif scope is Scope.grids:
        out += [changelog.grid_audience(g) for g in sorted(actor.grid_ids)]
    elif scope is Scope.assignments and actor.estate_id:
        out.append(changelog.dept_audience(actor.estate_id, str(actor.department)))
    return out


class SqlPullStore:
    """Reads the change log for one actor's audiences. Run it inside one read transaction."""

    def __init__(self, session: AsyncSession, actor: Actor, audiences: Iterable[str], now: datetime):
        self.session = session
        self.actor = actor
        self.audiences = list(audiences)
        self.now = now

    async def horizon(self) -> int:
        return await self.session.scalar(select(SyncClock.horizon).where(SyncClock.id == 1)) or 0

    async def current_version(self) -> int:
        # Change ids are inserted by one transaction at a time (under the clock row lock), so every id
        # up to the highest visible one is committed: the highest visible id is a safe "current".
        return await self.session.scalar(select(func.max(SyncChange.id))) or 0

    async def client_known(self, client_id: str) -> bool:
        return await self.session.get(SyncDevice, uuid.UUID(client_id)) is not None

    async def remember_client(self, client_id: str) -> None:
        self.session.add(
            SyncDevice(
                client_id=uuid.UUID(client_id),
                staff_id=self.actor.staff_id,
                last_seq=0,
                clock_offset_ms=0,
                last_seen_at=self.now,
            )
        )
        await self.session.flush()

    async def last_seq(self, client_id: str) -> int:
        return (
            await self.session.scalar(select(SyncDevice.last_seq).where(SyncDevice.client_id == uuid.UUID(client_id)))
            or 0
        )

    async def changes_after(self, version: int, limit: int) -> list[Change]:
        rows = await latest_changes(self.session, self.audiences, version, limit)
        return await hydrate(self.session, rows, self.actor)
