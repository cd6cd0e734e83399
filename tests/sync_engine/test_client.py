"""The reference client's protocol handling, against the real engine behind a small fake HTTP server.

The fake server is the sync endpoints over the engine and the in-memory store, served through
``httpx.MockTransport``; a scripted network in front of it injects the faults (captive portal, lost
answers, stripped headers). What is under test is the client: the engine behind it is the real one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec
import pytest

from sync.client import SyncClient, SyncError
from sync.protocol import (
    HEADER_PROTOCOL,
    HEADER_REQUEST_ID,
    BlobChunkResponse,
    BlobFinishResponse,
    BlobStatusResponse,
    ErrorBody,
    ProtocolError,
    check_protocol_header,
    encode,
    new_id,
)
from tests.sync_engine.memory_store import MemoryServer, TransientFault

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 22, 2, 5, tzinfo=UTC)
TOKEN = "token-of-tech-1"
BASE = "http://wuye.test"


class FakeServer:
    """``/sync/push``, ``/sync/pull`` and ``/sync/blobs`` over the engine, as an httpx handler."""

    def __init__(self) -> None:
        self.core = MemoryServer(now=lambda: NOW)
        self.partial: dict[str, bytearray] = {}
        self.blobs: dict[str, bytes] = {}
        self.log: list[tuple[str, str, str]] = []  # (method, path with query, request id)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        request_id = request.headers.get(HEADER_REQUEST_ID, "")
        self.log.append((request.method, request.url.raw_path.decode(), request_id))
        echo = {HEADER_REQUEST_ID: request_id}
        try:
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                raise ProtocolError("unauthorized", "sign in required")
            check_protocol_header(request.headers.get(HEADER_PROTOCOL))
            answer = await self.route(request, request_id)
        except ProtocolError as err:
            return httpx.Response(err.status, content=encode(err.body()), headers=echo)
        except TransientFault as exc:
            return httpx.Response(503, content=encode(ErrorBody(code="unavailable", message=str(exc))), headers=echo)
        return httpx.Response(200, content=encode(answer), headers={**echo, "Content-Type": "application/json"})

    async def route(self, request: httpx.Request, request_id: str) -> msgspec.Struct:
        path, params = request.url.path, request.url.params
        if (request.method, path) == ("POST", "/sync/push"):
            result = await self.core.push(request.content)
            return result.response(request_id=request_id, server_time=NOW)
        if (request.method, path) == ("GET", "/sync/pull"):
            limit = int(params["limit"]) if "limit" in params else None
            page = await self.core.pull(params.get("cursor"), params["client_id"], limit)
            return page.response(request_id=request_id, server_time=NOW)
        match = re.fullmatch(r"/sync/blobs/([0-9a-f]{64})(/finish)?", path)
        if match is None:
            raise ProtocolError("not_found", path)
        sha, finish = match.group(1), match.group(2)
        if request.method == "GET":
            if sha in self.blobs:
                return BlobStatusResponse(
                    protocol=1, request_id=request_id, sha256=sha, complete=True, size=len(self.blobs[sha])
                )
            return BlobStatusResponse(
                protocol=1,
                request_id=request_id,
                sha256=sha,
                complete=False,
                offset=len(self.partial.get(sha, b"")),
            )
        if request.method == "PUT":
            have = self.partial.setdefault(sha, bytearray())
            if sha in self.blobs:
                have.clear()  # complete already: the chunk is moot
            elif int(params["offset"]) != len(have):
                raise ProtocolError("wrong_offset", "wrong offset", details={"offset": len(have)})
            else:
                have.extend(request.content)
            if params.get("finish") == "true":
                return self.finish(sha, request_id)
            return BlobChunkResponse(protocol=1, request_id=request_id, offset=len(have))
        if request.method == "POST" and finish:
            return self.finish(sha, request_id)
        raise ProtocolError("not_found", path)

    def finish(self, sha: str, request_id: str) -> BlobFinishResponse:
        if sha not in self.blobs:
            data = bytes(self.partial.pop(sha, b""))
            if hashlib.sha256(data).hexdigest() != sha:
                raise ProtocolError("hash_mismatch", "bytes do not hash to the name")
            self.blobs[sha] = data
        return BlobFinishResponse(
            protocol=1,
            request_id=request_id,
            complete=True,
            sha256=sha,
            size=len(self.blobs[sha]),
            width=1,
            height=1,
            content_type="image/jpeg",
        )

    def requests(self, method: str, prefix: str) -> list[str]:
        return [path for m, path, _ in self.log if m == method and path.startswith(prefix)]


class Network:
    """In front of the server: each scheduled fault hits the next matching request."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.faults: list[tuple[str, str, str]] = []  # (method, path prefix, fault)

    def fail_next(self, method: str, prefix: str, fault: str, times: int = 1) -> None:
        self.faults.extend([(method, prefix, fault)] * times)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        fault = None
        for i, (method, prefix, _fault) in enumerate(self.faults):
            if request.method == method and request.url.path.startswith(prefix):
                fault = self.faults.pop(i)[2]
                break
        if fault == "portal":  # never reaches the server
            return httpx.Response(200, html="<html><body>Welcome to Airport Wi-Fi. Accept terms.</body></html>")
        if fault == "proxy_error":
            return httpx.Response(502, html="<html>Bad gateway</html>")
        response = await self.server(request)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        if fault == "lose_answer":
            raise httpx.ReadTimeout("the answer never came", request=request)
        if fault == "truncate":
            return httpx.Response(
                response.status_code, content=response.content[: len(response.content) // 2], headers=headers
            )
        if fault == "other_request_id":
            body = msgspec.json.decode(response.content)
            body["request_id"] = new_id()
            return httpx.Response(response.status_code, json=body, headers=headers)
        if fault == "strip_echo":
            del headers[HEADER_REQUEST_ID.lower()]
            return httpx.Response(response.status_code, content=response.content, headers=headers)
        return response


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def network(server: FakeServer) -> Network:
    return Network(server)


@pytest.fixture
async def phone(network: Network, tmp_path: Path) -> AsyncIterator[SyncClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(network))
    client = SyncClient(BASE, db_path=str(tmp_path / "phone.db"), token=TOKEN, transport=http, now=lambda: NOW)
    yield client
    await client.aclose()
    await http.aclose()


def counter(server: FakeServer) -> int | None:
    record = server.core.db.record("counters", "c")
    return None if record is None else record["value"]


def add(phone: SyncClient, amount: int) -> str:
    return phone.enqueue("counter.add", {"counter_id": "c", "amount": amount})


# --- the happy path -----------------------------------------------------------------------------------


async def test_sync_pushes_the_outbox_and_pulls_the_result(phone: SyncClient, server: FakeServer) -> None:
    order = new_id()
    phone.enqueue("order.create", {"id": order, "title": "leaking pipe"})
    phone.enqueue("order.accept", {"order_id": order})
    add(phone, 5)

    report = await phone.sync()

    assert (report.applied, report.rejected, report.duplicate) == (3, 0, 0)
    assert phone.pending() == []
    assert phone.row("orders", order) == {"title": "leaking pipe", "state": "accepted", "assignee": "tech-1"}
    assert phone.row("counters", "c") == {"value": 5}
    assert phone.last_seq == 3
    assert phone.cursor == f"1.e1.{server.core.db.state.version}"


async def test_every_request_carries_protocol_token_and_a_fresh_request_id(
    phone: SyncClient, server: FakeServer, network: Network
) -> None:
    add(phone, 1)
    network.fail_next("POST", "/sync/push", "lose_answer")
    with pytest.raises(SyncError):
        await phone.push()
    await phone.sync()

    ids = [rid for _, _, rid in server.log]
    assert len(ids) == 3 and len(set(ids)) == 3  # the retry of the same batch used a new id
    assert all(re.fullmatch(r"[0-9a-f-]{36}", rid) for rid in ids)


async def test_rejected_mutation_moves_to_the_rejected_list_and_the_rest_applies(phone: SyncClient) -> None:
    order = new_id()
    phone.enqueue("order.create", {"id": order, "title": "t"})
    bad = phone.enqueue("order.complete", {"order_id": order})
    add(phone, 2)

    outcome = await phone.push()

    assert (outcome.applied, outcome.rejected, outcome.last_seq, outcome.remaining) == (2, 1, 3, 0)
    [rejected] = phone.rejected()
    assert (rejected.id, rejected.seq, rejected.code, rejected.message) == (
        bad,
        2,
        "illegal_transition",
        "order is new, cannot become done",
    )
    assert rejected.args == {"order_id": order}


# --- transport failures leave the outbox alone ---------------------------------------------------------


async def test_captive_portal_200_html_is_not_success(phone: SyncClient, server: FakeServer, network: Network) -> None:
    add(phone, 1)
    add(phone, 2)
    network.fail_next("POST", "/sync/push", "portal")

    with pytest.raises(SyncError) as caught:
        await phone.push()

    assert caught.value.code == "transport"
    assert caught.value.retryable
    assert [m.seq for m in phone.pending()] == [1, 2]
    assert server.log == []  # the portal answered; the server never saw it
    outcome = await phone.push()
    assert (outcome.applied, outcome.remaining) == (2, 0)


@pytest.mark.parametrize("fault", ["truncate", "other_request_id", "proxy_error"])
async def test_unusable_answers_are_transport_failures(
    phone: SyncClient, server: FakeServer, network: Network, fault: str
) -> None:
    add(phone, 7)
    network.fail_next("POST", "/sync/push", fault)

    with pytest.raises(SyncError) as caught:
        await phone.push()

    assert caught.value.code == "transport"
    assert [m.seq for m in phone.pending()] == [1]
    await phone.sync()
    assert counter(server) == 7 and phone.pending() == []


async def test_lost_answer_then_resend_is_acknowledged_as_duplicate(
    phone: SyncClient, server: FakeServer, network: Network
) -> None:
    add(phone, 5)
    add(phone, 7)
    network.fail_next("POST", "/sync/push", "lose_answer")

    with pytest.raises(SyncError, match="transport"):
        await phone.push()
    assert counter(server) == 12  # the server did apply them
    assert [m.seq for m in phone.pending()] == [1, 2]

    outcome = await phone.push()

    assert (outcome.sent, outcome.duplicate, outcome.applied, outcome.remaining) == (2, 2, 0, 0)
    assert counter(server) == 12


async def test_lost_answer_does_not_hide_a_rejection(phone: SyncClient, network: Network) -> None:
    unlucky = add(phone, 13)
    network.fail_next("POST", "/sync/push", "lose_answer")
    with pytest.raises(SyncError):
        await phone.push()

    outcome = await phone.push()

    assert outcome.rejected == 1
    assert [(r.id, r.code) for r in phone.rejected()] == [(unlucky, "unlucky")]


async def test_pull_settles_entries_whose_push_answer_was_lost_and_the_next_push_collects_verdicts(
    phone: SyncClient, network: Network
) -> None:
    add(phone, 1)
    unlucky = add(phone, 13)
    network.fail_next("POST", "/sync/push", "lose_answer")
    with pytest.raises(SyncError):
        await phone.push()

    await phone.pull()

    assert [(m.seq, m.status) for m in phone.pending()] == [(1, "settled"), (2, "settled")]
    assert phone.row("counters", "c") == {"value": 1}
    outcome = await phone.push()
    assert (outcome.duplicate, outcome.rejected, outcome.remaining) == (1, 1, 0)
    assert [r.id for r in phone.rejected()] == [unlucky]


async def test_server_unavailable_is_retryable_and_keeps_the_outbox(phone: SyncClient, server: FakeServer) -> None:
    add(phone, 1)
    server.core.db.fail_at_write = 1

    with pytest.raises(SyncError) as caught:
        await phone.push()

    assert (caught.value.code, caught.value.status, caught.value.retryable) == ("unavailable", 503, True)
    assert len(phone.pending()) == 1
    assert (await phone.push()).applied == 1


async def test_expired_sign_in_keeps_the_outbox(phone: SyncClient) -> None:
    add(phone, 1)
    phone.token = "stale"

    with pytest.raises(SyncError) as caught:
        await phone.push()

    assert (caught.value.code, caught.value.status, caught.value.retryable) == ("unauthorized", 401, False)
    assert len(phone.pending()) == 1
    phone.token = TOKEN
    assert (await phone.push()).applied == 1


# --- seq gaps --------------------------------------------------------------------------------------------


async def test_seq_gap_rewinds_the_outbox_to_the_expected_seq(phone: SyncClient, server: FakeServer) -> None:
    add(phone, 1)
    await phone.push()
    backup = server.core.db.snapshot()
    add(phone, 10)
    add(phone, 100)
    await phone.push()
    server.core.db.restore(backup)  # the server lost seqs 2 and 3
    late = add(phone, 1000)

    outcome = await phone.push()

    assert (outcome.rewound_to, outcome.remaining) == (2, 1)
    assert [(m.seq, m.id) for m in phone.pending()] == [(2, late)]
    outcome = await phone.push()
    assert (outcome.applied, outcome.last_seq) == (1, 2)
    assert counter(server) == 1001
    next_id = add(phone, 1)
    assert phone.pending()[0].seq == 3 and phone.pending()[0].id == next_id


async def test_seq_gap_without_the_request_id_echo_is_not_acted_upon(
    phone: SyncClient, server: FakeServer, network: Network
) -> None:
    add(phone, 1)
    await phone.push()
    backup = server.core.db.snapshot()
    add(phone, 2)
    await phone.push()
    server.core.db.restore(backup)
    add(phone, 3)
    network.fail_next("POST", "/sync/push", "strip_echo")

    with pytest.raises(SyncError) as caught:
        await phone.push()

    assert (caught.value.code, caught.value.echoed) == ("seq_gap", False)
    assert [m.seq for m in phone.pending()] == [3]


async def test_sync_recovers_from_a_server_restored_from_backup(phone: SyncClient, server: FakeServer) -> None:
    add(phone, 1)
    await phone.sync()
    backup = server.core.db.snapshot()
    add(phone, 2)
    await phone.sync()
    server.core.db.restore(backup)
    server.core.epoch = "e2"  # a restore gets a new epoch, so cursors from after the backup reset
    add(phone, 4)

    await phone.sync()

    assert phone.pending() == []
    assert counter(server) == 5
    assert phone.row("counters", "c") == {"value": 5}
    assert server.core.db.state.clients[phone.client_id].last_seq == 2


# --- pull ------------------------------------------------------------------------------------------------


async def test_pull_pages_until_has_more_is_false(phone: SyncClient, server: FakeServer) -> None:
    for i in range(5):
        phone.enqueue("note.append", {"list_id": f"l{i}", "text": str(i)})
    await phone.push()

    applied = await phone.pull(limit=2)

    assert applied == 5
    assert sorted(phone.rows("lists")) == ["l0", "l1", "l2", "l3", "l4"]
    assert len(server.requests("GET", "/sync/pull")) == 3


async def test_reset_drops_the_replica_but_keeps_the_outbox(phone: SyncClient, server: FakeServer) -> None:
    order = new_id()
    phone.enqueue("order.create", {"id": order, "title": "t"})
    await phone.sync()
    server.core.epoch = "e2"  # the database was replaced
    del server.core.db.state.records[("orders", order)]
    waiting = add(phone, 3)

    await phone.pull()

    assert phone.row("orders", order) is None
    assert phone.cursor is not None and phone.cursor.startswith("1.e2.")
    assert [m.id for m in phone.pending()] == [waiting]


async def test_pull_applies_tombstones(phone: SyncClient) -> None:
    order = new_id()
    phone.enqueue("order.create", {"id": order, "title": "t"})
    await phone.sync()
    phone.enqueue("order.cancel", {"order_id": order})

    await phone.sync()

    assert phone.row("orders", order) is None


async def test_client_survives_a_restart_with_its_identity_and_queue(network: Network, tmp_path: Path) -> None:
    path = str(tmp_path / "phone.db")
    http = httpx.AsyncClient(transport=httpx.MockTransport(network))
    first = SyncClient(BASE, db_path=path, token=TOKEN, transport=http)
    queued = first.enqueue("counter.add", {"counter_id": "c", "amount": 1})
    identity = first.client_id
    await first.aclose()

    second = SyncClient(BASE, db_path=path, token=TOKEN, transport=http)
    try:
        assert second.client_id == identity
        assert [m.id for m in second.pending()] == [queued]
        assert (await second.push()).applied == 1
    finally:
        await second.aclose()
        await http.aclose()


# --- photos ----------------------------------------------------------------------------------------------

PHOTO = bytes(range(256)) * 4  # 1024 bytes; the fake server does not decode images


def puts(server: FakeServer) -> list[tuple[int, bool]]:
    """The blob PUTs the server received: (offset, finish)."""
    out = []
    for path in server.requests("PUT", "/sync/blobs/"):
        query = httpx.URL(path).params
        out.append((int(query["offset"]), query.get("finish") == "true"))
    return out


async def test_photo_upload_in_chunks(phone: SyncClient, server: FakeServer) -> None:
    sha = await phone.upload_photo(PHOTO, chunk=300)

    assert sha == hashlib.sha256(PHOTO).hexdigest()
    assert server.blobs[sha] == PHOTO
    # The last chunk also finishes the upload: no separate POST …/finish.
    assert puts(server) == [(0, False), (300, False), (600, False), (900, True)]
    assert server.requests("POST", "/sync/blobs/") == []
    assert phone.photo_state(sha) == "uploaded"


async def test_photo_resumes_after_a_409_wrong_offset(phone: SyncClient, server: FakeServer, network: Network) -> None:
    sha = hashlib.sha256(PHOTO).hexdigest()
    network.fail_next("PUT", "/sync/blobs/", "pass")
    network.fail_next("PUT", "/sync/blobs/", "lose_answer")  # chunk at 300 arrives, its answer does not

    await phone.upload_photo(PHOTO, chunk=300)

    # The retry at 300 is refused with the right offset (600), and the upload goes on from there.
    assert puts(server) == [(0, False), (300, False), (300, False), (600, False), (900, True)]
    assert server.blobs[sha] == PHOTO
    assert phone.photo_state(sha) == "uploaded"


async def test_interrupted_upload_keeps_the_photo_and_resumes_from_the_server_offset(
    phone: SyncClient, server: FakeServer, network: Network
) -> None:
    sha = hashlib.sha256(PHOTO).hexdigest()
    network.fail_next("PUT", "/sync/blobs/", "pass")
    network.fail_next("PUT", "/sync/blobs/", "portal", times=3)

    with pytest.raises(SyncError):
        await phone.upload_photo(PHOTO, chunk=300)
    assert phone.photo_state(sha) == "pending"
    assert phone.pending_photos() == [sha]

    report = await phone.sync()

    assert report.photos_uploaded == 1
    # Only the first chunk reached the server before; sync() sends the rest (one 256 KiB chunk) from 300.
    assert puts(server) == [(0, False), (300, True)]
    assert server.blobs[sha] == PHOTO
    assert phone.pending_photos() == []


async def test_lost_finish_answer_is_confirmed_by_the_next_status(
    phone: SyncClient, server: FakeServer, network: Network
) -> None:
    network.fail_next("PUT", "/sync/blobs/", "pass")
    network.fail_next("PUT", "/sync/blobs/", "lose_answer", times=3)  # the finishing chunk: every attempt
    with pytest.raises(SyncError):
        await phone.upload_photo(PHOTO, chunk=512)
    sha = hashlib.sha256(PHOTO).hexdigest()
    assert phone.photo_state(sha) == "pending"  # not deleted before the server said complete

    await phone.sync()

    assert phone.photo_state(sha) == "uploaded"
    # The finishing chunk was retried (each answer lost, each retry answered from the stored blob);
    # sync() then asked the status, heard complete and sent no bytes.
    assert puts(server) == [(0, False), (512, True), (512, True), (512, True)]
    assert len(server.requests("GET", "/sync/blobs/")) == 2


async def test_hash_mismatch_restarts_the_upload_from_zero(phone: SyncClient, server: FakeServer) -> None:
    sha = hashlib.sha256(PHOTO).hexdigest()
    server.partial[sha] = bytearray(b"garbage from an old attempt")  # the server's partial bytes are bad

    await phone.upload_photo(PHOTO, chunk=1024)

    assert puts(server) == [(27, True), (0, True)]
    assert server.blobs[sha] == PHOTO


# --- local guards ------------------------------------------------------------------------------------------


async def test_batch_over_the_byte_limit_is_split_before_sending(phone: SyncClient, server: FakeServer) -> None:
    for i in range(3):
        phone.enqueue("note.append", {"list_id": f"big{i}", "text": "x" * 400_000})

    await phone.sync()

    assert phone.pending() == []
    # 1.2 MB does not fit: the first push carries one entry, the second the remaining 800 KB.
    assert len(server.requests("POST", "/sync/push")) == 2
    assert server.core.db.state.clients[phone.client_id].last_seq == 3


async def test_entries_the_server_would_refuse_as_a_whole_batch_are_refused_locally() -> None:
    naive = SyncClient(BASE, db_path=":memory:", token=TOKEN, now=lambda: datetime(2026, 1, 1))
    try:
        with pytest.raises(ValueError, match="timezone-aware"):
            naive.enqueue("counter.add", {"counter_id": "c", "amount": 1})
        with pytest.raises(ValueError, match="1 to 100 characters"):
            naive.enqueue("", {})
        assert naive.pending() == []
    finally:
        await naive.aclose()
