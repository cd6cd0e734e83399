"""Property tests of the sync protocol over a broken network, through the real HTTP app.

Several technicians' phones (tests/support/simulator.py) work offline on their own orders, make the
usual mistakes, and sync through a FaultyTransport that loses requests and answers, duplicates,
delays, truncates, reorders batches and corrupts photo chunks. Whatever the network does, once every
phone has drained: each accepted mutation was applied exactly once, each rejected one not at all,
the verdicts are the ones the order state machine dictates, and every phone's replica equals the
server's records in its scope.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections import Counter

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.photos.models import Blob
from sync.client import SyncClient, SyncError
from tests.support.camera_jpegs import camera_jpeg
from tests.support.simulator import (
    ALL_FAULTS,
    MODEL_TRANSITIONS,
    PUSH_FAULTS,
    FaultyTransport,
    SimPhone,
    check_fleet,
    seed_fleet,
)

pytestmark = pytest.mark.anyio

BASE = "http://testserver.local"
# The phone's order of business for one job; "advance" moves an order one step along it.
HAPPY_PATH = {"dispatched": "accept", "accepted": "depart", "en_route": "arrive", "on_site": "complete"}
OPS = ("advance", "advance", "advance", "step", "photo_step", "pause", "resume", "mistake", "foreign")

common = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def small_photo() -> bytes:
    return camera_jpeg((96, 72), 1, quality=70)  # fresh noise: every call is a different photo


def faulty_client(client, faults, seed: int) -> tuple[httpx.AsyncClient, FaultyTransport]:
    """An httpx client that reaches the app under test (ASGI, in process) through a broken network."""
    transport = FaultyTransport(client._transport, faults, seed=seed)
    return httpx.AsyncClient(transport=transport, base_url=BASE, timeout=30), transport


def play(phone: SimPhone, ops: list[tuple[int, str]], rng: random.Random, foreign: list[str]) -> None:
    """Enqueue one offline session on ``phone``: ops are (order index, what to do)."""
    for index, op in ops:
        order_id = phone.orders[index % len(phone.orders)]
        status = phone.status[order_id]
        if op == "advance":
            phone.act(HAPPY_PATH.get(status, "complete"), order_id)  # a completed order: completes again
        elif op in ("pause", "resume"):
            phone.act(op, order_id)
        elif op == "step":
            phone.step(order_id, f"记录 {len(phone.planned)}")
        elif op == "photo_step":
            phone.step(order_id, "", [small_photo()])
        elif op == "mistake":  # whatever the state machine says about it, e.g. complete before arriving
            phone.act(rng.choice(list(MODEL_TRANSITIONS)), order_id)
        elif op == "foreign" and foreign:  # a colleague's order: not visible to this technician
            target = foreign[index % len(foreign)]
            if rng.random() < 0.5:
                phone.step(target, "顺手帮忙")
            else:
                phone.act(rng.choice(["accept", "complete"]), target)


async def sync_all(phones: list[SimPhone], attempts: int, batch_size: int) -> None:
    """Every phone syncs (concurrently with the others) until drained or out of attempts."""

    async def one(phone: SimPhone) -> None:
        for _ in range(attempts):
            if await phone.sync_once(batch_size=batch_size) is None and phone.drained():
                return

    async with anyio.create_task_group() as tg:
        for phone in phones:
            tg.start_soon(one, phone)


@st.composite
def scenarios(draw):
    n_phones = draw(st.integers(3, 6))
    orders_each = draw(st.integers(1, 3))
    session = st.lists(st.tuples(st.integers(0, 5), st.sampled_from(OPS)), min_size=1, max_size=10)
    rounds = draw(st.integers(1, 3))
    work = [[draw(session) for _ in range(n_phones)] for _ in range(rounds)]
    fault_rate = draw(st.sampled_from([0.15, 0.3, 0.5]))
    batch_size = draw(st.sampled_from([1, 2, 5, 100]))
    seed = draw(st.integers(0, 2**32 - 1))
    return n_phones, orders_each, work, fault_rate, batch_size, seed


@settings(common, max_examples=25)
@given(scenario=scenarios())
async def test_every_accepted_mutation_is_applied_exactly_once_over_a_broken_network(
    scenario, client, database, world, clock, tmp_path
):
    n_phones, orders_each, work, fault_rate, batch_size, seed = scenario
    rng = random.Random(seed)
    run = tmp_path / uuid.uuid4().hex  # tmp_path is shared by the examples of one test
    run.mkdir()
    async with database.writer() as session:
        fleet = await seed_fleet(session, world, clock, phones=n_phones, orders_each=orders_each)
        await session.commit()

    phones: list[SimPhone] = []
    transports: list[FaultyTransport] = []
    https: list[httpx.AsyncClient] = []
    kinds = ALL_FAULTS[1:]
    for i, tech in enumerate(fleet.technicians):
        faults = [rng.choice(kinds) if rng.random() < fault_rate else "none" for _ in range(400)]
        http, transport = faulty_client(client, faults, seed + i)
        sync_client = SyncClient(BASE, db_path=str(run / f"{tech.key}.sqlite3"), token=tech.token, transport=http)
        phones.append(SimPhone(tech, fleet.orders[tech.key], sync_client))
        transports.append(transport)
        https.append(http)

    try:
        for round_ops in work:
            for i, phone in enumerate(phones):
                foreign = [o for p in phones if p is not phone for o in p.orders]
                play(phone, round_ops[i], rng, foreign)
            # The network is bad: some phones get through this round, some do not.
            await sync_all(phones, attempts=rng.randint(1, 6), batch_size=batch_size)
        # Eventually every phone drains (faults keep coming until each plan runs out).
        await sync_all(phones, attempts=60, batch_size=batch_size)
        for transport in transports:
            transport.calm()
        for phone in phones:
            await phone.drain(attempts=5, batch_size=batch_size)

        async with database.reader() as session:
            problems = await check_fleet(session, phones)
        assert problems == []
    finally:
        for phone in phones:
            await phone.client.aclose()
        for http in https:
            await http.aclose()  # the app's in-process transport inside stays with the fixture


async def test_each_kind_of_fault_is_survived(client, database, world, clock, tmp_path):
    """A deterministic tour of every fault, so none of them is left to chance: two phones whose
    networks inject each kind in turn while they do a whole job each."""
    async with database.writer() as session:
        fleet = await seed_fleet(session, world, clock, phones=2, orders_each=2)
        await session.commit()
    # Photos go first in a sync, so the chunk fault leads the tour. The push faults come next: each
    # waits for a push it fits, and drawn late they could wait past the last push (only pulls left).
    kinds = ("corrupt_chunk", *PUSH_FAULTS, *[k for k in ALL_FAULTS[1:] if k not in ("corrupt_chunk", *PUSH_FAULTS)])
    phones, transports, https = [], [], []
    for i, tech in enumerate(fleet.technicians):
        # Each fault kind several times, with clean requests in between so progress is made.
        plan = [k for kind in kinds for k in (kind, "none", kind, "none", "none")]
        http, transport = faulty_client(client, plan, seed=i)
        sync_client = SyncClient(BASE, db_path=str(tmp_path / f"{tech.key}.sqlite3"), token=tech.token, transport=http)
        phone = SimPhone(tech, fleet.orders[tech.key], sync_client)
        foreign = fleet.orders[fleet.technicians[1 - i].key]
        for order_id in phone.orders:
            phone.act("arrive", order_id)  # mistake: not even accepted
            phone.full_job(order_id, steps=3, photo=lambda: camera_jpeg((320, 240), 1))
            phone.step(foreign[0], "不是我的单")  # mistake: a colleague's order
            phone.act("complete", order_id)  # mistake: already completed
        phones.append(phone)
        transports.append(transport)
        https.append(http)
    try:
        # Small batches, so that reorders have something to split and the tour takes many requests.
        await sync_all(phones, attempts=200, batch_size=3)
        for phone, transport in zip(phones, transports, strict=True):
            for _ in range(100):  # the work is done: further syncs (pulls) meet the rest of the tour
                if not transport.faults_left:
                    break
                await phone.sync_once(batch_size=3)
        for transport in transports:
            transport.calm()
        for phone in phones:
            await phone.drain(attempts=5, batch_size=3)
        async with database.reader() as session:
            problems = await check_fleet(session, phones)
        assert problems == []
        injected = sum((t.log for t in transports), start=Counter())
        assert set(injected) == set(kinds), injected
        server_codes = sum((t.codes for t in transports), start=Counter())
        assert server_codes["seq_gap"] >= 1 and server_codes["hash_mismatch"] >= 1, server_codes
    finally:
        for phone in phones:
            await phone.client.aclose()
        for http in https:
            await http.aclose()  # the app's in-process transport inside stays with the fixture


# --- photos ----------------------------------------------------------------------------------------


async def blob_on_server(client, database, sha: str) -> bytes | None:
    async with database.reader() as session:
        if await session.get(Blob, sha) is None:
            return None
    return client.app.state.ctx.services["blobs"].path(sha).read_bytes()


@st.composite
def broken_uploads(draw):
    size = draw(st.sampled_from([(320, 240), (640, 480), (800, 600)]))
    chunk = draw(st.sampled_from([8 * 1024, 16 * 1024, 40_000, 64 * 1024]))
    plan = draw(
        st.lists(
            st.sampled_from(["none", "none", "drop_request", "lose_answer", "truncate", "duplicate", "delay"]),
            min_size=1,
            max_size=40,
        )
    )
    corrupt_at = draw(st.none() | st.integers(1, 30))  # which request of the upload carries a bad chunk
    return size, chunk, plan, corrupt_at


@settings(common, max_examples=15)
@given(case=broken_uploads())
async def test_a_photo_upload_broken_anywhere_resumes_and_arrives_intact(
    case, client, database, world, clock, tmp_path
):
    size, chunk, plan, corrupt_at = case
    if corrupt_at is not None:
        plan = [*plan, *["none"] * max(0, corrupt_at - len(plan))]
        plan.insert(corrupt_at, "corrupt_chunk")
    async with database.writer() as session:
        fleet = await seed_fleet(session, world, clock, phones=1, orders_each=0)
        await session.commit()
    tech = fleet.technicians[0]
    http, transport = faulty_client(client, plan, seed=len(plan))
    phone = SyncClient(BASE, db_path=str(tmp_path / f"{uuid.uuid4().hex}.sqlite3"), token=tech.token, transport=http)
    data = camera_jpeg(size, 1)
    sha = hashlib.sha256(data).hexdigest()
    try:
        for _ in range(60):  # the app retries an interrupted upload; each call resumes where the server is
            try:
                assert await phone.upload_photo(data, chunk=chunk) == sha
                break
            except SyncError as err:
                assert err.retryable or err.code == "hash_mismatch", err
        assert phone.photo_state(sha) == "uploaded"
        assert await blob_on_server(client, database, sha) == data
        if transport.corrupt_stored:
            assert transport.codes["hash_mismatch"] >= 1  # the bad bytes were caught by the hash, not kept
    finally:
        await phone.aclose()
        await http.aclose()


async def test_a_corrupted_chunk_is_refused_and_the_client_starts_over(client, database, world, clock, tmp_path):
    async with database.writer() as session:
        fleet = await seed_fleet(session, world, clock, phones=1, orders_each=0)
        await session.commit()
    data = camera_jpeg((640, 480), 1)
    chunk = 32 * 1024
    chunks = -(-len(data) // chunk)
    # request 0 is the status GET; request 2 carries the second chunk, which arrives corrupted
    http, transport = faulty_client(client, ["none", "none", "corrupt_chunk"], seed=7)
    phone = SyncClient(BASE, db_path=str(tmp_path / "p.sqlite3"), token=fleet.technicians[0].token, transport=http)
    try:
        sha = await phone.upload_photo(data, chunk=chunk)  # one call: detect, discard, restart, succeed
        assert sha == hashlib.sha256(data).hexdigest()
        assert transport.log["corrupt_chunk"] == 1
        assert transport.codes["hash_mismatch"] == 1 and transport.corrupt_stored == 1
        # The status; every chunk but the last twice; the last (which finishes the upload) answered 422
        # the first time and 200 the second.
        assert transport.statuses[200] == 1 + 2 * (chunks - 1) + 1
        assert transport.codes["hash_mismatch"] == 1
        assert phone.photo_state(sha) == "uploaded"
        assert await blob_on_server(client, database, sha) == data
    finally:
        await phone.aclose()
        await http.aclose()
