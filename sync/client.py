"""The Python reference client of sync protocol v1, written from ``sync/PROTOCOL.md``.

Server tests, the device simulator and benchmarks drive the server through it. Its local state is
one SQLite file (stdlib ``sqlite3``), the same shape a phone keeps in IndexedDB:

- ``meta``: one row, ``client_id`` (per installation), the pull ``cursor``, ``last_seq`` (highest seq
  the server reported) and ``next_seq`` (the next seq to assign);
- ``outbox``: queued mutations; ``status`` is ``pending``, or ``settled`` once the server is known to
  have decided the seq (via a pull's ``last_seq`` or a seq gap) but this client has not received the
  verdict yet: settled entries are no longer rebased locally, and the next push resends them to
  collect their verdict (the server answers them without applying them again);
- ``rejected``: mutations the server refused, with code and message (the "needs attention" list);
- ``replica``: pulled rows; ``photos``: photos waiting for upload (bytes dropped once confirmed).

An entry leaves the outbox only when an answer to *this* client's request names its seq; nothing is
lost to a captive portal, a proxy error page or a lost answer. Calls on one instance are serialised.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import msgspec

from sync.protocol import (
    HEADER_PROTOCOL,
    HEADER_REQUEST_ID,
    MAX_BLOB_BYTES,
    MAX_CHUNK_BYTES,
    MAX_MUTATIONS,
    MAX_PUSH_BYTES,
    PROTOCOL_VERSION,
    BlobChunkResponse,
    BlobFinishResponse,
    BlobStatusResponse,
    ErrorBody,
    Mutation,
    PullResponse,
    PushRequest,
    PushResponse,
    encode,
    new_id,
)

T = TypeVar("T", bound=msgspec.Struct)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    client_id TEXT NOT NULL,
    cursor TEXT,
    last_seq INTEGER NOT NULL DEFAULT 0,
    next_seq INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    args_json TEXT NOT NULL,
    client_time TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'settled'))
);
CREATE TABLE IF NOT EXISTS rejected (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    args_json TEXT NOT NULL,
    client_time TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS replica (
    table_name TEXT NOT NULL,
    id TEXT NOT NULL,
    data_json TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (table_name, id)
);
CREATE TABLE IF NOT EXISTS photos (
    sha256 TEXT PRIMARY KEY,
    data BLOB,
    size INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'uploaded', 'refused')),
    code TEXT
);
"""

#: Codes whose ``details`` a client acts on; it does so only when the answer echoes its request id.
_ACTIONABLE = {"seq_gap", "wrong_offset"}

#: PROTOCOL.md §5: the records dropped with a parent that leaves the caller's scope or is deleted.
_CHILDREN: dict[str, tuple[tuple[str, str], ...]] = {
    "orders": (("order_events", "order_id"), ("steps", "order_id"), ("ratings", "order_id"), ("callbacks", "order_id")),
    "walks": (("checkpoint_visits", "walk_id"),),
}


class SyncError(Exception):
    """A sync request did not succeed; the outbox is as it was before the call.

    ``code`` is the server's error code, or ``transport`` when there was no usable sync answer at all
    (network error, captive portal, proxy page, truncated body, an answer to another request).
    ``echoed`` says whether the answer carried this request's ``Wuye-Request-Id``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
        echoed: bool = False,
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}
        self.retry_after = retry_after
        self.echoed = echoed

    @property
    def retryable(self) -> bool:
        """Worth retrying as is, later (with backoff, or after ``retry_after`` seconds)."""
        return self.code in ("transport", "unavailable", "rate_limited")


@dataclass(frozen=True, slots=True)
class PushOutcome:
    sent: int
    applied: int = 0
    duplicate: int = 0
    rejected: int = 0
    last_seq: int | None = None
    #: Set when the server answered ``seq_gap``: the seq the outbox now continues from.
    rewound_to: int | None = None
    remaining: int = 0


@dataclass(frozen=True, slots=True)
class SyncReport:
    photos_uploaded: int
    photos_refused: int
    applied: int
    duplicate: int
    rejected: int
    pulled: int


@dataclass(frozen=True, slots=True)
class QueuedMutation:
    seq: int
    id: str
    name: str
    args: dict[str, Any]
    client_time: datetime
    status: str


@dataclass(frozen=True, slots=True)
class RejectedMutation:
    seq: int
    id: str
    name: str
    args: dict[str, Any]
    client_time: datetime
    code: str
    message: str


class SyncClient:
    """One device installation talking to ``base_url``."""

    def __init__(
        self,
        base_url: str,
        *,
        db_path: str,
        token: str,
        transport: httpx.AsyncClient | None = None,
        now: Callable[[], datetime] | None = None,
        author: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        #: The signed-in person's staff id, sent as every mutation's ``author`` (PROTOCOL.md §3, shared
        #: devices): the server then refuses this outbox under anyone else's token. One outbox (db_path)
        #: per person.
        self.author = author
        #: Bearer token; replace it after signing in again (a 401 keeps the outbox).
        self.token = token
        self._http = transport or httpx.AsyncClient(timeout=httpx.Timeout(30.0))
        self._owns_http = transport is None
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = asyncio.Lock()
        self._db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        if db_path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # the outbox is the technician's work
        self._db.executescript(_SCHEMA)
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO meta (id, client_id) VALUES (1, ?)", (str(uuid.uuid4()),))

    # --- local state --------------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _meta(self, column: str) -> Any:
        return self._db.execute(f"SELECT {column} FROM meta WHERE id = 1").fetchone()[0]

    @property
    def client_id(self) -> str:
        return self._meta("client_id")

    @property
    def cursor(self) -> str | None:
        return self._meta("cursor")

    @property
    def last_seq(self) -> int:
        return self._meta("last_seq")

    def enqueue(self, name: str, args: dict[str, Any]) -> str:
        """Queue a mutation; returns its id. Never touches the network.

        What the server would refuse for the whole batch (not per mutation) is refused here, since one
        such entry would block the queue for good: an empty or over-long name, a naive clock.
        """
        if not isinstance(args, dict):
            raise TypeError("args must be a dict")
        if not 1 <= len(name) <= 100:
            raise ValueError("a mutation name has 1 to 100 characters")
        when = self._now()
        if when.tzinfo is None:
            raise ValueError("the clock must give timezone-aware datetimes")
        args_json = encode(args).decode()
        mutation_id = new_id()
        with self._tx() as db:
            seq = db.execute("SELECT next_seq FROM meta WHERE id = 1").fetchone()[0]
            db.execute(
                "INSERT INTO outbox (seq, id, name, args_json, client_time) VALUES (?, ?, ?, ?, ?)",
                (seq, mutation_id, name, args_json, when.isoformat()),
            )
            db.execute("UPDATE meta SET next_seq = ? WHERE id = 1", (seq + 1,))
        return mutation_id

    def pending(self) -> list[QueuedMutation]:
        rows = self._db.execute(
            "SELECT seq, id, name, args_json, client_time, status FROM outbox ORDER BY seq"
        ).fetchall()
        return [
            QueuedMutation(seq, mid, name, msgspec.json.decode(args), datetime.fromisoformat(when), status)
            for seq, mid, name, args, when, status in rows
        ]

    def rejected(self) -> list[RejectedMutation]:
        rows = self._db.execute(
            "SELECT seq, id, name, args_json, client_time, code, message FROM rejected ORDER BY seq"
        ).fetchall()
        return [
            RejectedMutation(seq, mid, name, msgspec.json.decode(args), datetime.fromisoformat(when), code, msg)
            for seq, mid, name, args, when, code, msg in rows
        ]

    def rows(self, table: str) -> dict[str, dict[str, Any]]:
        cur = self._db.execute("SELECT id, data_json FROM replica WHERE table_name = ?", (table,))
        return {rid: msgspec.json.decode(data) for rid, data in cur}

    def row(self, table: str, record_id: str) -> dict[str, Any] | None:
        found = self._db.execute(
            "SELECT data_json FROM replica WHERE table_name = ? AND id = ?", (table, record_id)
        ).fetchone()
        return None if found is None else msgspec.json.decode(found[0])

    def add_photo(self, data: bytes) -> str:
        """Keep a photo for upload; returns its sha256. Its bytes stay until the server confirms them."""
        if len(data) > MAX_BLOB_BYTES:
            raise ValueError(f"a photo is at most {MAX_BLOB_BYTES} bytes")
        sha = hashlib.sha256(data).hexdigest()
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO photos (sha256, data, size, state) VALUES (?, ?, ?, 'pending')",
                (sha, data, len(data)),
            )
        return sha

    def photo_state(self, sha256: str) -> str | None:
        found = self._db.execute("SELECT state FROM photos WHERE sha256 = ?", (sha256,)).fetchone()
        return None if found is None else found[0]

    def pending_photos(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT sha256 FROM photos WHERE state = 'pending' ORDER BY rowid")]

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
        self._db.close()

    async def __aenter__(self) -> SyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- HTTP ---------------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        expect: type[T],
        *,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str = "application/json",
    ) -> T:
        """One attempt; returns the decoded answer or raises SyncError. Never retries."""
        request_id = str(uuid.uuid4())
        headers = {
            "Authorization": f"Bearer {self.token}",
            HEADER_PROTOCOL: str(PROTOCOL_VERSION),
            HEADER_REQUEST_ID: request_id,
        }
        if content is not None:
            headers["Content-Type"] = content_type
        try:
            response = await self._http.request(
                method, self.base_url + path, params=params, content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            raise SyncError("transport", f"{method} {path}: {exc!r}") from exc
        echoed = response.headers.get(HEADER_REQUEST_ID) == request_id
        if response.is_success:
            try:
                answer = msgspec.json.decode(response.content, type=expect)
            except msgspec.DecodeError as exc:  # also ValidationError: no `protocol`, no `request_id`, …
                raise SyncError(
                    "transport", f"{method} {path}: not a sync answer ({exc})", status=response.status_code
                ) from None
            if answer.request_id != request_id:
                raise SyncError(
                    "transport",
                    f"{method} {path}: answer is for another request",
                    status=response.status_code,
                )
            return answer
        try:
            error = msgspec.json.decode(response.content, type=ErrorBody)
        except msgspec.DecodeError:
            raise SyncError(
                "transport",
                f"{method} {path}: HTTP {response.status_code} without an error body",
                status=response.status_code,
                echoed=echoed,
            ) from None
        retry_after = None
        if "Retry-After" in response.headers:
            try:
                retry_after = float(response.headers["Retry-After"])
            except ValueError:
                retry_after = None
        raise SyncError(
            error.code,
            error.message,
            status=response.status_code,
            details=error.details,
            retry_after=retry_after,
            echoed=echoed,
        )

    # --- push ---------------------------------------------------------------------------------------

    async def push(self, batch_size: int = 100) -> PushOutcome:
        """Send one batch from the oldest outbox entry and record the answer. Raises SyncError."""
        if not 1 <= batch_size <= MAX_MUTATIONS:
            raise ValueError(f"batch_size must be between 1 and {MAX_MUTATIONS}")
        async with self._lock:
            batch = self._outbox_batch(batch_size)
            while True:
                if not batch:
                    return PushOutcome(sent=0, remaining=self._outbox_count())
                body = encode(PushRequest(client_id=self.client_id, client_time=self._now(), mutations=batch))
                if len(body) > MAX_PUSH_BYTES and len(batch) > 1:
                    batch = batch[: len(batch) // 2]
                    continue
                try:
                    answer = await self._call("POST", "/sync/push", PushResponse, content=body)
                except SyncError as err:
                    if err.code in ("body_too_large", "batch_too_large") and len(batch) > 1:
                        batch = batch[: len(batch) // 2]
                        continue
                    expected = err.details.get("expected_seq")
                    if err.code == "seq_gap" and err.echoed and isinstance(expected, int) and expected >= 1:
                        self._rewind(expected)
                        return PushOutcome(sent=len(batch), rewound_to=expected, remaining=self._outbox_count())
                    raise
                return self._settle(batch, answer)

    def _outbox_batch(self, limit: int) -> list[Mutation]:
        """The oldest entries, up to the first hole: a batch must be consecutive, and a hole (an entry
        settled by an answer that arrived before an older one's) only ever lies below the server's
        last seq, so the run above it is sent by the next push."""
        rows = self._db.execute(
            "SELECT seq, id, name, args_json, client_time FROM outbox ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        batch: list[Mutation] = []
        for seq, mid, name, args, when in rows:
            if batch and seq != batch[-1].seq + 1:
                break
            batch.append(
                Mutation(
                    seq=seq,
                    id=mid,
                    name=name,
                    args=msgspec.json.decode(args),
                    client_time=datetime.fromisoformat(when),
                    author=self.author,
                )
            )
        return batch

    def _outbox_count(self) -> int:
        return self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def _settle(self, batch: list[Mutation], answer: PushResponse) -> PushOutcome:
        sent = {m.seq: m for m in batch}
        counts = {"applied": 0, "duplicate": 0, "rejected": 0}
        with self._tx() as db:
            for result in answer.results:
                mutation = sent.get(result.seq)
                if mutation is None or mutation.id != result.id or result.seq > answer.last_seq:
                    continue  # not something this request sent (or not decided): ignore
                counts[result.status] += 1
                if result.status == "rejected":
                    db.execute(
                        "INSERT OR REPLACE INTO rejected"
                        " (id, seq, name, args_json, client_time, code, message)"
                        " SELECT id, seq, name, args_json, client_time, ?, ? FROM outbox WHERE seq = ?",
                        (result.code or "rejected", result.message or "", result.seq),
                    )
                db.execute("DELETE FROM outbox WHERE seq = ? AND id = ?", (result.seq, result.id))
            self._server_progress(db, answer.last_seq)
        return PushOutcome(sent=len(batch), last_seq=answer.last_seq, remaining=self._outbox_count(), **counts)

    def _server_progress(self, db: sqlite3.Connection, last_seq: int) -> None:
        """The server has decided every seq up to ``last_seq`` (from a push or a pull answer)."""
        db.execute("UPDATE outbox SET status = 'settled' WHERE seq <= ?", (last_seq,))
        # A server ahead of our own numbering (this installation's state restored from an old backup):
        # new mutations must continue after it, or they would all be refused as conflicting repeats.
        db.execute(
            "UPDATE meta SET last_seq = max(last_seq, ?), next_seq = max(next_seq, ?) WHERE id = 1",
            (last_seq, last_seq + 1),
        )

    def _rewind(self, expected: int) -> None:
        """The server wants ``expected`` next. Entries below it were decided (kept as settled, to collect
        their verdicts); if the outbox no longer holds ``expected`` itself (the server lost recent data,
        e.g. a restore from backup), the remaining entries are renumbered from ``expected``: their ids
        do not change, so anything the server did keep is still recognised as a duplicate."""
        with self._tx() as db:
            db.execute("UPDATE outbox SET status = 'settled' WHERE seq < ?", (expected,))
            above = [r[0] for r in db.execute("SELECT seq FROM outbox WHERE seq >= ? ORDER BY seq", (expected,))]
            if above and above[0] != expected:
                # Ascending order never collides: each new seq is below every old seq not yet moved.
                for new_seq, old_seq in enumerate(above, start=expected):
                    db.execute("UPDATE outbox SET seq = ? WHERE seq = ?", (new_seq, old_seq))
                db.execute("UPDATE meta SET next_seq = ? WHERE id = 1", (expected + len(above),))
            elif not above:
                db.execute("UPDATE meta SET next_seq = max(next_seq, ?) WHERE id = 1", (expected,))
            db.execute("UPDATE meta SET last_seq = ? WHERE id = 1", (expected - 1,))

    # --- pull ---------------------------------------------------------------------------------------

    async def pull(self, limit: int | None = None) -> int:
        """Pull until ``has_more`` is false; returns the number of changes applied."""
        async with self._lock:
            applied = 0
            while True:
                params: dict[str, Any] = {"client_id": self.client_id}
                if self.cursor is not None:
                    params["cursor"] = self.cursor
                if limit is not None:
                    params["limit"] = limit
                page = await self._call("GET", "/sync/pull", PullResponse, params=params)
                with self._tx() as db:
                    if page.reset:
                        db.execute("DELETE FROM replica")  # replicated rows only: the outbox stays
                    for change in page.changes:
                        if change.op == "upsert":
                            db.execute(
                                "INSERT OR REPLACE INTO replica (table_name, id, data_json, version)"
                                " VALUES (?, ?, ?, ?)",
                                (change.table, change.id, encode(change.data).decode(), change.version),
                            )
                        else:  # delete (tombstone) or leave (out of scope): either way, not here any more
                            db.execute(
                                "DELETE FROM replica WHERE table_name = ? AND id = ?",
                                (change.table, change.id),
                            )
                            for child, key in _CHILDREN.get(change.table, ()):  # and its child records (§5)
                                db.execute(
                                    "DELETE FROM replica WHERE table_name = ? AND json_extract(data_json, ?) = ?",
                                    (child, f"$.{key}", change.id),
                                )
                    db.execute("UPDATE meta SET cursor = ? WHERE id = 1", (page.cursor,))
                    self._server_progress(db, page.last_seq)
                applied += len(page.changes)
                if not page.has_more:
                    return applied
                if not page.changes:
                    raise SyncError("transport", "pull answered has_more with an empty page")

    # --- photos -------------------------------------------------------------------------------------

    async def upload_photo(self, data: bytes, chunk: int = 256 * 1024) -> str:
        """Keep the photo locally, then upload it resumably; returns its sha256 once confirmed."""
        sha = self.add_photo(data)
        async with self._lock:
            await self._upload(sha, data, chunk)
        return sha

    async def _upload(self, sha: str, data: bytes, chunk: int) -> None:
        if not 1 <= chunk <= MAX_CHUNK_BYTES:
            raise ValueError(f"chunk must be between 1 and {MAX_CHUNK_BYTES} bytes")
        path = f"/sync/blobs/{sha}"
        status = await self._call("GET", path, BlobStatusResponse)
        if status.sha256 != sha:
            raise SyncError("transport", "blob status is for another photo")
        if status.complete:
            self._photo_uploaded(sha)
            return
        offset = status.offset or 0
        restarted = False
        stalled = 0
        while True:
            last = offset + chunk >= len(data)  # the last chunk also finishes the upload (§6)
            try:
                answer = await self._put_chunk(path, offset, data[offset : offset + chunk], finish=last)
            except SyncError as err:
                if err.code == "hash_mismatch" and not restarted:
                    restarted, offset, stalled = True, 0, 0  # the server discarded its partial bytes
                    continue
                if err.code in ("not_an_image", "blob_too_large"):
                    self._photo_refused(sha, err.code)
                raise
            if isinstance(answer, BlobFinishResponse):
                if not answer.complete or answer.sha256 != sha:
                    raise SyncError("transport", "finish did not confirm the photo")
                self._photo_uploaded(sha)
                return
            if not 0 <= answer <= len(data):
                raise SyncError("transport", f"server reported offset {answer} for a {len(data)}-byte photo")
            stalled = stalled + 1 if answer <= offset else 0
            if stalled >= 3:
                raise SyncError("transport", f"upload of {sha} makes no progress at offset {offset}")
            offset = answer

    async def _put_chunk(self, path: str, offset: int, piece: bytes, *, finish: bool) -> int | BlobFinishResponse:
        """PUT one chunk: the new offset, or with ``finish`` the finish answer. A lost answer is
        retried, and the server's ``wrong_offset`` tells where to go on (the offset is returned)."""
        attempts = 3
        for attempt in range(attempts):
            try:
                if finish:
                    return await self._call(
                        "PUT",
                        path,
                        BlobFinishResponse,
                        params={"offset": offset, "finish": "true"},
                        content=piece,
                        content_type="application/octet-stream",
                    )
                answer = await self._call(
                    "PUT",
                    path,
                    BlobChunkResponse,
                    params={"offset": offset},
                    content=piece,
                    content_type="application/octet-stream",
                )
                return answer.offset
            except SyncError as err:
                right = err.details.get("offset")
                if err.code == "wrong_offset" and err.echoed and isinstance(right, int):
                    return right
                if err.code != "transport" or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _photo_uploaded(self, sha: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE photos SET data = NULL, state = 'uploaded' WHERE sha256 = ?", (sha,))

    def _photo_refused(self, sha: str, code: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE photos SET data = NULL, state = 'refused', code = ? WHERE sha256 = ?", (code, sha))

    # --- everything ---------------------------------------------------------------------------------

    async def sync(self, *, batch_size: int = 100) -> SyncReport:
        """Upload waiting photos, push until the outbox is empty, then pull. Raises SyncError."""
        uploaded = refused = 0
        for sha in self.pending_photos():
            found = self._db.execute("SELECT data FROM photos WHERE sha256 = ?", (sha,)).fetchone()
            try:
                async with self._lock:
                    await self._upload(sha, found[0], 256 * 1024)
                uploaded += 1
            except SyncError as err:
                if err.code not in ("not_an_image", "blob_too_large"):
                    raise
                refused += 1  # dropped; the app shows it
        totals = {"applied": 0, "duplicate": 0, "rejected": 0}
        last_rewind = None
        while True:
            outcome = await self.push(batch_size)
            if outcome.sent == 0:
                break
            totals["applied"] += outcome.applied
            totals["duplicate"] += outcome.duplicate
            totals["rejected"] += outcome.rejected
            decided = outcome.applied + outcome.duplicate + outcome.rejected
            if outcome.rewound_to is not None:
                if outcome.rewound_to == last_rewind:
                    raise SyncError("transport", f"server keeps asking for seq {last_rewind}")
                last_rewind = outcome.rewound_to
            elif decided == 0:
                raise SyncError("transport", "push made no progress")
            else:
                last_rewind = None
        pulled = await self.pull()
        return SyncReport(uploaded, refused, pulled=pulled, **totals)
