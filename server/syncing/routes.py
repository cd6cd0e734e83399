"""The sync endpoints (PROTOCOL.md): push, pull and resumable photo upload. Thin: the engine in
``sync/`` decides; this module supplies the transaction, the actor and the stores."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
import uuid
from collections import deque
from contextlib import asynccontextmanager
from typing import Annotated, Literal

import anyio
from litestar import Request, Response, Router, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.accounts.service import authenticate
from server.errors import DomainError
from server.photos.arrivals import ArrivalRecorder, finish_upload
from server.photos.blobstore import BlobInfo
from server.photos.models import Blob
from server.photos.uploader import uploader
from server.syncing.batch import PushBatch
from server.syncing.models import SyncClock, SyncDevice
from server.syncing.mutations import MutationContext, load
from server.syncing.store import SqlPullStore, SqlPushStore, SqlResendStore, audiences_of
from server.web.context import AppContext
from server.web.deps import bearer_token
from sync import protocol as p
from sync.engine import answer_resend, apply_push, build_pull, plan_push

log = logging.getLogger("wuye.sync")

# A queued push is never served later than a refused one: a refusal costs at least a second of
# Retry-After (the header counts whole seconds) and then queues again behind the pushes that stayed,
# and the spread of those waits is what made the end-to-end p95 many times the median. So the gate
# queues what a device will wait for: the reference client gives up after 30 s (browsers later),
# and the expected wait is an estimate, so a third of that. The count bound keeps memory bounded.
MAX_WAITING_PUSHES = 256  # beyond this many queued pushes in one process: 429, come back later
MAX_EXPECTED_WAIT = 10.0  # seconds (WUYE_SYNC_QUEUE_MS): a push that would wait longer gets 429
# Seconds: the longest Retry-After; each refusal draws its own from 1 to this. Below uvicorn's 5 s
# keep-alive, so a device that waits it out still finds its connection open.
MAX_RETRY_AFTER = 4
ALWAYS_QUEUE = 8  # ... unless fewer pushes than this queue (big batches of a few devices just wait)


class SyncGate:
    """Admission in front of the push writers of this process.

    SQLite has a single writer: pushes take turns on an asyncio semaphore of one here rather than in
    SQLite's busy handler, which polls with growing sleeps (up to 100 ms) and wakes waiters in no
    particular order, so a queue of 200 phones turned into tens of seconds. PostgreSQL writers
    serialise on the version clock's row lock anyway; a few run at once there so that their reads
    and HTTP work overlap.

    Overload answers 429 with ``Retry-After`` instead of a very long wait: a push is refused when the
    queue ahead of it would take more than ``max_wait`` while at least ``always`` queue, or when
    ``waiting`` pushes already queue. A refused push costs its decoding only, and the phone retries
    it later as is. The wait is the queue length times the time between two pushes leaving while
    the queue is busy (the mean of the last 64 departures of the last ``memory`` seconds): that is
    what the process really achieves, sign-in, decoding,
    HTTP and the other requests on its event loop included; the writer's own time was an
    underestimate that let the queue grow past its bound.

    Each refusal draws its Retry-After at random from 1 s to the expected wait (at most
    ``MAX_RETRY_AFTER``): with one figure for all, the refused phones of a burst came back in the
    same instant, were refused together again, and some waited tens of seconds.

    Several nodes: each gates its own pushes, which is what the gate is for (it bounds the wait of
    a push at the node that holds it); a cluster on PostgreSQL admits at most ``running`` writers
    per node, and the version clock's row lock orders them across nodes. A 429 from a busy node
    carries that node's own estimate, and the retry may land on a less busy one. Nothing of the
    gate needs to be shared; SQLite is one file, so several nodes mean PostgreSQL.
    """

    def __init__(
        self,
        running: int = 4,
        waiting: int = MAX_WAITING_PUSHES,
        max_wait: float = MAX_EXPECTED_WAIT,
        always: int = ALWAYS_QUEUE,
        clock=time.perf_counter,
        initial_interval: float = 0.01,
        memory: float = 2.0,
        rng: random.Random | None = None,
    ):
        self.rng = rng or random.Random()
        self.sem = asyncio.Semaphore(running)
        self.running = running
        self.queued = 0
        self.waiting = waiting
        self.max_wait = max_wait
        self.always = always
        self.clock = clock
        # Seconds between departures while busy: the mean of the last 64 of the last ``memory``
        # seconds (a plain mean: one slow push must not swing the bound). Before the first
        # measurement, and after a quiet spell: 10 ms, a small push here (so a burst at start-up
        # is not all admitted on an estimate of zero).
        self.interval = self.initial_interval = initial_interval
        self.memory = memory
        self._samples: deque[tuple[float, float]] = deque()  # (departure, seconds since the previous)
        self._sum = 0.0
        self._mark = 0.0  # the last departure, or the start of the busy period

    def expected_wait(self) -> float:
        return self.queued * self.interval

    def retry_after(self) -> int:
        spread = min(MAX_RETRY_AFTER, max(1, math.ceil(self.expected_wait())))
        return self.rng.randint(1, spread)

    def _forget_old(self, now: float) -> None:
        """Drop samples older than ``memory``: they tell of another workload. Replays answered from
        receipts leave every 2-3 ms, new pushes every 10 ms or more; learned on the first, the
        queue admitted four times what it could serve, and the next burst's first pushes waited
        ~300 ms. With nothing recent left, the estimate starts again from ``initial_interval``."""
        samples = self._samples
        if not samples or now - samples[0][0] <= self.memory:
            return
        while samples and (len(samples) > 64 or now - samples[0][0] > self.memory):
            self._sum -= samples.popleft()[1]
        self.interval = self._sum / len(samples) if samples else self.initial_interval

    @asynccontextmanager
    async def admitted(self):
        """A place in the queue, from before authentication to the answer; raises the 429 at once."""
        self._forget_old(self.clock())
        if self.queued >= self.waiting or (self.queued >= self.always and self.expected_wait() > self.max_wait):
            raise DomainError(
                "rate_limited",
                "the server is busy; try again shortly",
                status=429,
                details={"retry_after": self.retry_after()},
            )
        if self.queued == 0:
            self._mark = self.clock()  # a busy period starts
        self.queued += 1
        try:
            yield
        finally:
            self.queued -= 1
            now = self.clock()
            self._samples.append((now, now - self._mark))
            self._sum += now - self._mark
            if len(self._samples) > 64:
                self._sum -= self._samples.popleft()[1]
            self.interval = self._sum / len(self._samples)
            self._mark = now

    @asynccontextmanager
    async def turn(self):
        """A writer slot (inside :meth:`admitted`)."""
        async with self.sem:
            yield


def _gate(ctx: AppContext) -> SyncGate:
    gate = ctx.services.get("sync_gate")
    if gate is None:
        gate = ctx.services["sync_gate"] = SyncGate(
            running=1 if ctx.db.is_sqlite else 4, max_wait=ctx.settings.sync_queue_ms / 1000
        )
    return gate


def _request_id(request: Request) -> str:
    rid = request.headers.get(p.HEADER_REQUEST_ID, "")
    try:
        return str(uuid.UUID(rid))
    except ValueError:
        raise DomainError("validation_error", f"{p.HEADER_REQUEST_ID} header must be a UUID") from None


def _check_protocol(request: Request) -> None:
    """PROTOCOL.md §7: missing or too old → 426; not an integer → 400 ``validation_error``."""
    try:
        p.check_protocol_header(request.headers.get(p.HEADER_PROTOCOL))
    except p.ProtocolError as exc:
        message = exc.message
        if exc.code == "client_outdated":
            message = f"请更新应用后再同步 / {exc.message}"
        raise DomainError(exc.code, message, status=exc.status) from None


def _answer(body, request_id: str, status: int = 200) -> Response:
    return Response(
        p.encode(body), status_code=status, media_type="application/json", headers={p.HEADER_REQUEST_ID: request_id}
    )


def _protocol_error(exc: p.ProtocolError, request_id: str) -> Response:
    return _answer(exc.body(), request_id, exc.status)


def _unavailable(request_id: str, why: str) -> Response:
    body = p.ErrorBody(code="unavailable", message=f"temporarily unavailable ({why}); nothing was applied, retry")
    resp = _answer(body, request_id, 503)
    resp.headers["Retry-After"] = "2"
    return resp


@post("/push", status_code=200)
async def push(request: Request, ctx: NamedDependency[AppContext]) -> Response:
    _check_protocol(request)
    request_id = _request_id(request)
    gate = _gate(ctx)
    # Admission before authentication: under a burst, a push that will be refused must not cost the
    # token lookup first. The sign-in is checked right after, before anything else.
    async with gate.admitted():
        token = bearer_token(request)
        # Index lookups, outside any transaction on PostgreSQL (``Database.lookups``): the sign-in and,
        # when the batch holds nothing new, its answer; run on the loop.
        async with ctx.db.lookups() as session, ctx.db.short_reads():
            actor = await authenticate(session, token, ctx.clock)
            body = await request.body()
            try:
                req = p.decode_push(body)
            except p.ProtocolError as exc:
                return _protocol_error(exc, request_id)
            resent = await _answer_resend(session, ctx, req, actor, request_id)
        if resent is not None:
            return resent
        registry = load()
        try:
            plan = plan_push(req, registry)  # decoded before the writer's turn: it reads nothing stored
        except p.ProtocolError as exc:
            return _protocol_error(exc, request_id)
        async with gate.turn():
            now = ctx.clock.now()
            async with ctx.db.writer() as session:
                try:
                    # The store takes the version clock as its first pass opens (none for a resend).
                    result = await apply_push(
                        req,
                        store=SqlPushStore(session, now),
                        registry=registry,
                        ctx=MutationContext(session, actor, now),
                        actor_id=str(actor.staff_id),
                        server_time=now,
                        plan=plan,
                    )
                    await PushBatch.of(session).flush()  # nothing is pending by now; so it stays
                    await session.commit()
                except p.ProtocolError as exc:
                    await session.rollback()
                    return _protocol_error(exc, request_id)
                except (sa_exc.OperationalError, sa_exc.DBAPIError, sa_exc.IntegrityError) as exc:
                    await session.rollback()
                    log.warning("push rolled back: %s", exc)
                    return _unavailable(request_id, type(exc).__name__)
    return _answer(result.response(request_id=request_id, server_time=now), request_id)


async def _answer_resend(
    session: AsyncSession, ctx: AppContext, req: p.PushRequest, actor: Actor, request_id: str
) -> Response | None:
    """A batch the server has wholly applied already (its answer was lost) is answered from the read
    transaction ``session``, without queueing for the writer; None when it holds something new."""
    now = ctx.clock.now()
    try:
        result = await answer_resend(req, store=SqlResendStore(session, now), actor_id=str(actor.staff_id))
    except p.ProtocolError as exc:
        return _protocol_error(exc, request_id)
    if result is None:
        return None
    return _answer(result.response(request_id=request_id, server_time=now), request_id)


@get("/pull")
async def pull(
    request: Request,
    actor: NamedDependency[Actor],
    ctx: NamedDependency[AppContext],
    client_id: Annotated[str, QueryParameter(name="client_id", max_length=36)],
    # Any text: a malformed or overlong cursor is a reset (§5), not a refusal. Above 1,000 the limit
    # is capped by the engine; below 1 it is a validation_error.
    cursor: Annotated[str | None, QueryParameter(name="cursor")] = None,
    limit: Annotated[int | None, QueryParameter(name="limit", ge=1)] = None,
) -> Response:
    _check_protocol(request)
    request_id = _request_id(request)
    now = ctx.clock.now()
    async with ctx.db.reader() as session:
        if not ctx.db.is_sqlite:
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        epoch = await session.scalar(SyncClock.__table__.select().with_only_columns(SyncClock.epoch))
        store = SqlPullStore(session, actor, await audiences_of(session, actor), now)
        remembered: list[str] = []
        store.remember_client = _deferred(remembered)  # written below, in a write transaction
        try:
            page = await build_pull(cursor, client_id, limit, store=store, epoch=epoch, actor_id=str(actor.staff_id))
        except p.ProtocolError as exc:
            return _protocol_error(exc, request_id)
    if remembered:
        async with ctx.db.writer() as session:
            if await session.get(SyncDevice, uuid.UUID(remembered[0])) is None:
                session.add(
                    SyncDevice(
                        client_id=uuid.UUID(remembered[0]),
                        staff_id=actor.staff_id,
                        last_seq=0,
                        clock_offset_ms=0,
                        last_seen_at=now,
                    )
                )
                await session.commit()
    return _answer(page.response(request_id=request_id, server_time=now), request_id)


def _deferred(sink: list[str]):
    async def remember(client_id: str) -> None:
        sink.append(client_id)

    return remember


# --- photos ------------------------------------------------------------------------------------------


def _blobs(ctx: AppContext):
    return ctx.services["blobs"]


def _arrivals(ctx: AppContext) -> ArrivalRecorder:
    return ctx.services["arrivals"]


@get("/blobs/{sha:str}")
async def blob_status(request: Request, sha: FromPath[str], ctx: NamedDependency[AppContext]) -> Response:
    await uploader(request, ctx)
    _check_protocol(request)
    request_id = _request_id(request)
    status = _blobs(ctx).status_now(sha) or await anyio.to_thread.run_sync(_blobs(ctx).status, sha)
    if status.complete:
        await _ensure_recorded(ctx, sha)
    body = p.BlobStatusResponse(
        protocol=p.PROTOCOL_VERSION,
        request_id=request_id,
        sha256=sha,
        complete=status.complete,
        size=status.size if status.complete else None,
        offset=None if status.complete else status.offset,
    )
    return _answer(body, request_id)


async def _ensure_recorded(ctx: AppContext, sha: str) -> None:
    """A blob that is complete on disk has its ``blobs`` row before anyone is told ``complete``.

    ``finish`` renames the verified file into place before its arrival is committed (it waits there
    for the write lock). A crash in between leaves a complete file without a row;
    the phone, whose finish answer was lost, asks the status again, hears ``complete`` and never
    calls finish again, so the row (and the "uploaded" badge on its steps) would never appear.
    Found by tests/test_sync_crash.py."""
    async with ctx.db.reader() as session:
        if await session.get(Blob, sha) is not None:
            return
    info = await anyio.to_thread.run_sync(_blobs(ctx).info, sha)
    await _arrivals(ctx).record(info)  # a no-op if a concurrent finish recorded it


@put("/blobs/{sha:str}", status_code=200)
async def blob_chunk(
    request: Request,
    sha: FromPath[str],
    ctx: NamedDependency[AppContext],
    offset: Annotated[int, QueryParameter(name="offset", ge=0)],
    # Exactly "true" or "false" (§6): Litestar's bool would take "1", "TRUE", "yes" and finish an
    # upload the device meant to continue.
    finish: Annotated[Literal["true", "false"], QueryParameter(name="finish")] = "false",
) -> Response:
    """A chunk at ``offset``; with ``finish=true`` it is the last one and the blob is finished in the
    same request (a round trip and an fsync fewer than a separate ``POST …/finish``)."""
    await uploader(request, ctx)
    _check_protocol(request)
    request_id = _request_id(request)
    data = await request.body()
    if len(data) > p.MAX_CHUNK_BYTES:
        raise DomainError("blob_too_large", f"a chunk is at most {p.MAX_CHUNK_BYTES} bytes", status=413)
    if finish == "true":
        return _finished(await finish_upload(_blobs(ctx), _arrivals(ctx), sha, (offset, data)), request_id)
    new_offset = await anyio.to_thread.run_sync(_blobs(ctx).append, sha, offset, data)
    return _answer(
        p.BlobChunkResponse(protocol=p.PROTOCOL_VERSION, request_id=request_id, offset=new_offset), request_id
    )


@post("/blobs/{sha:str}/finish", status_code=200)
async def blob_finish(request: Request, sha: FromPath[str], ctx: NamedDependency[AppContext]) -> Response:
    await uploader(request, ctx)
    _check_protocol(request)
    request_id = _request_id(request)
    return _finished(await finish_upload(_blobs(ctx), _arrivals(ctx), sha), request_id)


def _finished(info: BlobInfo, request_id: str) -> Response:
    body = p.BlobFinishResponse(
        protocol=p.PROTOCOL_VERSION,
        request_id=request_id,
        complete=True,
        sha256=info.sha256,
        size=info.size,
        width=info.width,
        height=info.height,
        content_type=info.content_type,
    )
    return _answer(body, request_id)


sync_router = Router(
    path="/sync",
    route_handlers=[push, pull, blob_status, blob_chunk, blob_finish],
    tags=["sync"],
    opt={"auth": "bearer"},  # each handler checks the token itself (see /schema: server/web/openapi.py)
)
