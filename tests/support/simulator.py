"""A fleet of simulated phones on top of the reference client (``sync.client.SyncClient``).

Each phone is one technician's installation. It works offline on the orders assigned to that
technician (accept, depart, arrive, pause/resume, repair steps with photos, complete), including the
mistakes real phones make (completing before arriving, a step on a colleague's order), and predicts
the server's verdict for every mutation with a small model of the order state machine. After the
phones have synced, :func:`check_fleet` compares the server's database and every phone's replica with
what the phones did: each accepted mutation applied exactly once, each rejected one not at all.

:class:`FaultyTransport` is an httpx transport that sits between a phone and the server and breaks
the network the way mobile networks do: requests lost, answers lost after the server processed the
request, duplicated and late deliveries, truncated bodies, batches delivered out of order, and
corrupted photo chunks.

Seeding (:func:`seed_fleet`) writes straight to the database through the real services: technicians,
bearer tokens (no password hashing per phone) and orders dispatched to them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import secrets
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import AuthToken, Department, Role, Staff
from server.accounts.service import actor_for, token_hash
from server.clock import Clock
from server.orders import lifecycle
from server.orders.models import Category, Channel, Kind, Order, OrderEvent, Step
from server.orders.views import events_by_id, orders_by_id, steps_by_id
from server.photos.models import Blob
from server.syncing.models import SyncDevice, SyncReceipt
from sync.client import SyncClient, SyncError
from sync.protocol import HEADER_REQUEST_ID, new_id
from tests.support.world import World, password_hash

# --- seeding ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Technician:
    key: str
    staff_id: uuid.UUID
    phone: str
    token: str


@dataclass
class Fleet:
    technicians: list[Technician]
    orders: dict[str, list[str]]  # technician key -> ids of the orders dispatched to them

    def all_orders(self) -> list[str]:
        return [o for ids in self.orders.values() for o in ids]


async def issue_token(session: AsyncSession, staff_id: uuid.UUID, clock: Clock, *, days: int = 30) -> str:
    """A bearer token as ``POST /api/auth/login`` would issue it, without hashing a password."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        AuthToken(
            staff_id=staff_id,
            token_hash=token_hash(token),
            device_name="simulator",
            created_at=now,
            expires_at=now + timedelta(days=days),
            revoked_at=None,
        )
    )
    await session.flush()
    return token


async def add_technicians(
    session: AsyncSession, world: World, clock: Clock, count: int, *, tag: str | None = None
) -> list[Technician]:
    """``count`` new engineering technicians of the world's estate, each with a token."""
    tag = tag or secrets.token_hex(3)
    out = []
    for i in range(count):
        phone = f"16{uuid.uuid4().int % 10**9:09d}"
        staff = Staff(
            company_id=world.company.id,
            estate_id=world.estate.id,
            name=f"sim-{tag}-{i}",
            phone=phone,
            role=Role.technician,
            department=Department.engineering,
            password_hash=password_hash(),
            active=True,
            gold=False,
            created_at=clock.now(),
        )
        session.add(staff)
        await session.flush()
        out.append(Technician(f"sim-{tag}-{i}", staff.id, phone, await issue_token(session, staff.id, clock)))
    return out


async def assign_orders(
    session: AsyncSession, world: World, clock: Clock, technicians: Sequence[Technician], each: int
) -> dict[str, list[str]]:
    """``each`` repair orders per technician, created and dispatched by the front desk."""
    desk = await actor_for(session, world.staff["desk"])
    households = list(world.households.values())
    households = [h for h in households if h.estate_id == world.estate.id]
    orders: dict[str, list[str]] = {}
    for n, tech in enumerate(technicians):
        ids = []
        for i in range(each):
            order = await lifecycle.create_order(
                session,
                desk,
                lifecycle.NewOrder(
                    kind=Kind.repair,
                    category=Category.water_electric,
                    channel=Channel.phone,
                    description=f"模拟工单 {tech.key}/{i}",
                    household_id=households[(n + i) % len(households)].id,
                    assignee_id=tech.staff_id,
                ),
                now=clock.now(),
            )
            ids.append(str(order.id))
        orders[tech.key] = ids
    return orders


async def seed_fleet(
    session: AsyncSession, world: World, clock: Clock, *, phones: int, orders_each: int, tag: str | None = None
) -> Fleet:
    """Technicians with tokens and dispatched orders; the caller commits."""
    techs = await add_technicians(session, world, clock, phones, tag=tag)
    return Fleet(techs, await assign_orders(session, world, clock, techs, orders_each))


# --- the phone and its model of the server ---------------------------------------------------------

#: What a technician may do to their own order: allowed source statuses -> target (None: back to the
#: status before the pause). Mirrors server/orders/transitions.py for the assignee.
MODEL_TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "accept": (frozenset({"dispatched"}), "accepted"),
    "depart": (frozenset({"accepted"}), "en_route"),
    "arrive": (frozenset({"en_route"}), "on_site"),
    "pause": (frozenset({"accepted", "en_route", "on_site"}), "paused"),
    "resume": (frozenset({"paused"}), None),
    "complete": (frozenset({"accepted", "on_site"}), "completed"),
}
STEP_STATUSES = frozenset({"accepted", "en_route", "on_site", "paused"})
#: Events every seeded order has before any phone touches it.
SEED_EVENTS = {"create": 1, "dispatch": 1}
#: The fixed instant phones stamp on captured_at (the server keeps it as evidence only).
CAPTURED_AT = "2026-11-22T10:40:00+08:00"


@dataclass
class Planned:
    """One mutation a phone enqueued, with the verdict the model predicts for it."""

    id: str
    name: str
    order_id: str
    expect: str  # "accepted" (applied) or "rejected"
    step_id: str | None = None
    photos: tuple[str, ...] = ()


class SimPhone:
    """One technician's phone: a SyncClient plus the model of the technician's orders."""

    def __init__(self, tech: Technician, orders: Sequence[str], client: SyncClient):
        self.tech = tech
        self.orders = list(orders)
        self.client = client
        self.status: dict[str, str] = dict.fromkeys(self.orders, "dispatched")
        self._before_pause: dict[str, str] = {}
        self.planned: list[Planned] = []
        self.photos: dict[str, bytes] = {}

    @property
    def name(self) -> str:
        return self.tech.key

    # -- doing things offline ----------------------------------------------------------------------

    def act(self, action: str, order_id: str) -> Planned:
        """Enqueue ``order.<action>``; the model predicts whether the server will apply it."""
        args: dict[str, Any] = {"order_id": order_id}
        if action == "pause":
            args["reason"] = "parts_on_order"
        mid = self.client.enqueue(f"order.{action}", args)
        sources, target = MODEL_TRANSITIONS[action]
        current = self.status.get(order_id)  # None: not this technician's order (not visible)
        ok = current is not None and current in sources
        if ok:
            if action == "pause":
                self._before_pause[order_id] = current
            self.status[order_id] = target if target is not None else self._before_pause.pop(order_id)
        planned = Planned(mid, f"order.{action}", order_id, "accepted" if ok else "rejected")
        self.planned.append(planned)
        return planned

    def step(self, order_id: str, note: str, photos: Iterable[bytes] = ()) -> Planned:
        """Enqueue ``step.add`` (photos are kept on the phone until the server confirms them)."""
        shas = []
        for data in photos:
            sha = self.client.add_photo(data)
            self.photos[sha] = data
            shas.append(sha)
        step_id = new_id()
        mid = self.client.enqueue(
            "step.add",
            {
                "id": step_id,
                "order_id": order_id,
                "note": note,
                "photos": shas,
                "captured_at": CAPTURED_AT,
                "materials": [{"name": "弯头", "quantity": 1, "unit": "个"}],
            },
        )
        ok = self.status.get(order_id) in STEP_STATUSES
        planned = Planned(mid, "step.add", order_id, "accepted" if ok else "rejected", step_id, tuple(shas))
        self.planned.append(planned)
        return planned

    def full_job(self, order_id: str, *, steps: int = 2, photo: Callable[[], bytes] | None = None) -> None:
        """The legal happy path: accept, depart, arrive, ``steps`` steps (one photo each), complete."""
        for action in ("accept", "depart", "arrive"):
            self.act(action, order_id)
        for i in range(steps):
            self.step(order_id, f"步骤 {i + 1}", [photo()] if photo else [])
        self.act("complete", order_id)

    # -- syncing -----------------------------------------------------------------------------------

    def drained(self) -> bool:
        return not self.client.pending() and not self.client.pending_photos()

    async def sync_once(self, *, batch_size: int = 20) -> SyncError | None:
        """One sync attempt; a failure a phone would retry later is returned, anything else raised."""
        try:
            await self.client.sync(batch_size=batch_size)
        except SyncError as err:
            # hash_mismatch: a second corrupted upload in one attempt; the next attempt starts over.
            if err.retryable or err.code == "hash_mismatch":
                return err
            raise
        return None

    async def drain(self, *, attempts: int = 200, pause: float = 0.0, batch_size: int = 20) -> int:
        """Sync until the outbox and the photo queue are empty and a final pull succeeded.

        Bounded: raises AssertionError after ``attempts`` failed tries. Returns the tries it took."""
        errors: list[str] = []
        for attempt in range(1, attempts + 1):
            err = await self.sync_once(batch_size=batch_size)
            if err is None and self.drained():
                return attempt
            if err is not None:
                errors.append(f"{err.code}: {err.message}"[:200])
            if pause:
                await asyncio.sleep(pause * min(attempt, 5))
        raise AssertionError(f"{self.name} did not drain in {attempts} attempts; last errors: {errors[-5:]}")

    # -- what happened -----------------------------------------------------------------------------

    def verdicts(self) -> dict[str, str]:
        """Mutation id -> "accepted" / "rejected" / "pending", as the phone knows it."""
        rejected = {r.id for r in self.client.rejected()}
        pending = {m.id for m in self.client.pending()}
        return {
            p.id: "pending" if p.id in pending else "rejected" if p.id in rejected else "accepted" for p in self.planned
        }

    def accepted(self) -> list[Planned]:
        verdicts = self.verdicts()
        return [p for p in self.planned if verdicts[p.id] == "accepted"]


def random_shift(
    phone: SimPhone,
    rng: random.Random,
    length: int,
    *,
    foreign_orders: Sequence[str] = (),
    photo: Callable[[], bytes] | None = None,
) -> None:
    """``length`` random acts on the phone's orders: mostly what the model allows next, sometimes a
    mistake (an act the state machine forbids, or work on a colleague's order)."""
    for _ in range(length):
        roll = rng.random()
        if foreign_orders and roll < 0.08:
            target = rng.choice(list(foreign_orders))
            if rng.random() < 0.5:
                phone.step(target, "帮同事看一下")
            else:
                phone.act(rng.choice(["accept", "complete"]), target)
            continue
        order_id = rng.choice(phone.orders)
        status = phone.status[order_id]
        legal = [a for a, (sources, _) in MODEL_TRANSITIONS.items() if status in sources]
        if status in STEP_STATUSES:
            legal.append("step")
        if roll < 0.2 or not legal:
            choice = rng.choice([*MODEL_TRANSITIONS, "step"])  # maybe a mistake
        else:
            choice = rng.choice(legal)
        if choice == "step":
            with_photo = photo is not None and rng.random() < 0.4
            phone.step(order_id, f"记录 {len(phone.planned)}", [photo()] if with_photo else [])
        else:
            phone.act(choice, order_id)


# --- checking the outcome -----------------------------------------------------------------------------


async def check_fleet(
    session: AsyncSession,
    phones: Sequence[SimPhone],
    *,
    blob_root: Path | None = None,
    read_blob: Callable[[str], bytes | None] | None = None,
) -> list[str]:
    """Everything that differs between what the phones did and what the server holds; [] if nothing.

    - every mutation has a verdict on its phone (outbox empty) and it is the one the model predicted;
    - the server holds, per order, exactly the seeded events plus one event per accepted transition,
      exactly the accepted steps (each once, positions 1..n) and the status the model ends in;
    - each phone's client has exactly one receipt per seq it used and ``last_seq`` at its last seq;
    - every photo of an accepted step is a verified blob (its file hashes to its name);
    - each phone's replica holds exactly its own orders, with their events and steps, as the server
      renders them now (status, step ids, everything).
    """
    problems: list[str] = []
    for phone in phones:
        verdicts = phone.verdicts()
        for p in phone.planned:
            if verdicts[p.id] != p.expect:
                problems.append(f"{phone.name}: {p.name} on {p.order_id} is {verdicts[p.id]}, expected {p.expect}")

        order_ids = [uuid.UUID(o) for o in phone.orders]
        accepted = phone.accepted()
        want_events: Counter[tuple[str, str]] = Counter()
        want_steps: dict[str, list[str]] = defaultdict(list)
        for oid in phone.orders:
            for action, n in SEED_EVENTS.items():
                want_events[(oid, action)] += n
        for p in accepted:
            if p.name == "step.add":
                want_steps[p.order_id].append(p.step_id)
            else:
                want_events[(p.order_id, p.name.removeprefix("order."))] += 1

        rows = (
            await session.execute(
                select(OrderEvent.order_id, OrderEvent.action, func.count())
                .where(OrderEvent.order_id.in_(order_ids))
                .group_by(OrderEvent.order_id, OrderEvent.action)
            )
        ).all()
        got_events = Counter({(str(o), a): n for o, a, n in rows})
        if got_events != want_events:
            diff = {k: (got_events.get(k, 0), want_events.get(k, 0)) for k in set(got_events) | set(want_events)}
            diff = {k: v for k, v in diff.items() if v[0] != v[1]}
            problems.append(f"{phone.name}: events (got, want) differ: {diff}")

        step_rows = (
            await session.execute(select(Step.id, Step.order_id, Step.position).where(Step.order_id.in_(order_ids)))
        ).all()
        got_steps: dict[str, list[str]] = defaultdict(list)
        positions: dict[str, list[int]] = defaultdict(list)
        for sid, oid, pos in step_rows:
            got_steps[str(oid)].append(str(sid))
            positions[str(oid)].append(pos)
        for oid in phone.orders:
            got, want = sorted(got_steps.get(oid, [])), sorted(want_steps.get(oid, []))
            if got != want:
                problems.append(f"{phone.name}: steps of {oid}: got {len(got)} {got}, want {len(want)} {want}")
            if sorted(positions.get(oid, [])) != list(range(1, len(got) + 1)):
                problems.append(f"{phone.name}: step positions of {oid} are {sorted(positions.get(oid, []))}")

        statuses = dict((await session.execute(select(Order.id, Order.status).where(Order.id.in_(order_ids)))).all())
        for oid in phone.orders:
            if str(statuses[uuid.UUID(oid)]) != phone.status[oid]:
                actual = statuses[uuid.UUID(oid)]
                problems.append(f"{phone.name}: order {oid} is {actual}, model says {phone.status[oid]}")

        cid = uuid.UUID(phone.client.client_id)
        seqs = (await session.scalars(select(SyncReceipt.seq).where(SyncReceipt.client_id == cid))).all()
        if sorted(seqs) != list(range(1, len(phone.planned) + 1)):
            problems.append(f"{phone.name}: receipts for seqs {sorted(seqs)[:10]}…, want 1..{len(phone.planned)}")
        last_seq = await session.scalar(select(SyncDevice.last_seq).where(SyncDevice.client_id == cid))
        if last_seq != len(phone.planned):
            problems.append(f"{phone.name}: server last_seq {last_seq}, phone used {len(phone.planned)} seqs")

        shas = {s for p in accepted for s in p.photos}
        if shas:
            stored = set((await session.scalars(select(Blob.sha256).where(Blob.sha256.in_(shas)))).all())
            if stored != shas:
                problems.append(f"{phone.name}: photos without a blob row: {sorted(shas - stored)}")
            if blob_root is not None:
                for sha in shas:
                    path = blob_root / "blobs" / sha[:2] / sha[2:4] / sha
                    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != sha:
                        problems.append(f"{phone.name}: blob file of {sha} missing or corrupt")
            if read_blob is not None:  # another backend (object storage): None if it is missing
                for sha in shas:
                    data = read_blob(sha)
                    if data is None or hashlib.sha256(data).hexdigest() != sha:
                        problems.append(f"{phone.name}: blob {sha} missing or corrupt in the store")
        if phone.client.pending_photos():
            problems.append(f"{phone.name}: photos still waiting: {phone.client.pending_photos()}")

        problems += await replica_problems(session, phone)
    return problems


async def replica_problems(session: AsyncSession, phone: SimPhone) -> list[str]:
    """The phone's replica of orders, order_events and steps against the server's current rendering of
    the records in its scope (the orders assigned to its technician)."""
    order_ids = [uuid.UUID(o) for o in phone.orders]
    mine = (await session.scalars(select(Order.id).where(Order.assignee_id == phone.tech.staff_id))).all()
    event_ids = (await session.scalars(select(OrderEvent.id).where(OrderEvent.order_id.in_(mine)))).all()
    step_ids = (await session.scalars(select(Step.id).where(Step.order_id.in_(mine)))).all()
    want = {
        "orders": {r["id"]: r for r in await orders_by_id(session, list(mine))},
        "order_events": {r["id"]: r for r in await events_by_id(session, list(event_ids))},
        "steps": {r["id"]: r for r in await steps_by_id(session, list(step_ids))},
    }
    problems = []
    if {str(o) for o in mine} != {str(o) for o in order_ids}:
        problems.append(f"{phone.name}: server assigns {sorted(map(str, mine))}, phone has {phone.orders}")
    for table, rows in want.items():
        got = phone.client.rows(table)
        if set(got) != set(rows):
            problems.append(
                f"{phone.name}: replica {table}: missing {sorted(set(rows) - set(got))}, "
                f"extra {sorted(set(got) - set(rows))}"
            )
            continue
        for rid, row in rows.items():
            if got[rid] != row:
                changed = {k: (got[rid].get(k), v) for k, v in row.items() if got[rid].get(k) != v}
                problems.append(f"{phone.name}: replica {table}/{rid} differs (replica, server): {changed}")
    return problems


# --- a network that misbehaves -----------------------------------------------------------------------

#: Faults for any request.
GENERIC_FAULTS = ("drop_request", "lose_answer", "duplicate", "truncate", "delay")
#: Faults only for a push of two or more mutations.
PUSH_FAULTS = ("reorder_gap", "reorder_answer")
#: Faults only for a photo chunk.
CHUNK_FAULTS = ("corrupt_chunk",)
ALL_FAULTS = ("none", *GENERIC_FAULTS, *PUSH_FAULTS, *CHUNK_FAULTS)


class NetworkDown(httpx.ConnectError):
    """The simulated network lost the request (or its answer)."""


class FaultyTransport(httpx.AsyncBaseTransport):
    """Wraps a real transport and breaks requests according to ``faults``.

    ``faults`` yields one fault name per request (see ALL_FAULTS); when it is exhausted, or when
    ``enabled`` is False, requests pass through untouched. A fault that does not fit the request (a
    reorder for a one-mutation push, a corrupted chunk for a pull) waits for the next request it fits
    while the plan goes on. ``log`` counts the faults injected and
    ``statuses`` the answers the server gave (including answers the phone never saw), ``codes`` the
    error codes among them.

    - ``drop_request``: the request never reaches the server (connection refused).
    - ``lose_answer``: the server processes the request; its answer is lost (read error).
    - ``duplicate``: the request reaches the server twice; the phone gets the second answer.
    - ``truncate``: the answer arrives cut short (a proxy or a dying connection).
    - ``delay``: the request is held in the network and delivered later, before some later request
      of the same phone; the phone gets a timeout now and never sees that answer.
    - ``reorder_gap``: a push of seqs s..e arrives as its tail m..e first: the server answers
      ``409 seq_gap`` and the phone must resend from s.
    - ``reorder_answer``: the push arrives as two batches s..m-1 and m..e; the answer of the first is
      lost and the phone gets only the second one's answer (results for m..e): it must collect the
      verdicts of s..m-1 later.
    - ``corrupt_chunk``: one byte of a photo chunk is flipped on the way: finish answers
      ``422 hash_mismatch`` and the phone must upload again from 0.
    """

    def __init__(
        self, inner: httpx.AsyncBaseTransport, faults: Iterable[str] = (), *, seed: int = 0, owns_inner: bool = False
    ):
        self.inner = inner
        self.owns_inner = owns_inner
        self._plan = list(faults)
        self._faults: Iterator[str] = iter(self._plan)
        self._drawn = 0
        self._rng = random.Random(seed)
        self._held: list[httpx.Request] = []
        self._waiting: list[str] = []
        self.enabled = True
        self.log: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.codes: Counter[str] = Counter()
        self.corrupt_stored = 0  # corrupted chunks the server accepted (finish must refuse them)

    @property
    def faults_left(self) -> int:
        """Faults of the plan not injected yet (still to draw, or drawn and waiting for a request they fit)."""
        return sum(1 for f in self._plan[self._drawn :] if f != "none") + len(self._waiting)

    def calm(self) -> None:
        """No more faults (held requests are still delivered with the next request)."""
        self.enabled = False

    def _pick(self, request: httpx.Request) -> str:
        """The fault for this request. A push or chunk fault drawn for a request it does not fit waits
        for the next request it fits (the plan goes on meanwhile), so a plan's faults all happen."""
        is_push = request.method == "POST" and request.url.path.endswith("/sync/push")
        is_chunk = request.method == "PUT" and "/sync/blobs/" in request.url.path and bool(request.content)
        if is_push and len(json.loads(request.content).get("mutations", [])) < 2:
            is_push = False
        for waiting in self._waiting:
            if (waiting in PUSH_FAULTS and is_push) or (waiting in CHUNK_FAULTS and is_chunk):
                self._waiting.remove(waiting)
                return waiting
        fault = next(self._faults, "none")
        self._drawn = min(self._drawn + 1, len(self._plan))
        if (fault in PUSH_FAULTS and not is_push) or (fault in CHUNK_FAULTS and not is_chunk):
            self._waiting.append(fault)
            return "none"
        return fault

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.statuses[response.status_code] += 1
        if response.status_code >= 400:
            try:
                self.codes[json.loads(response.content)["code"]] += 1
            except (ValueError, KeyError, TypeError):
                pass
        return response

    async def _release_held(self) -> None:
        held, self._held = self._held, []
        for late in held:
            await self._send(late)  # its answer goes nowhere: the phone gave up on it long ago

    async def aclose(self) -> None:
        if self.owns_inner:
            await self.inner.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        fault = self._pick(request) if self.enabled else "none"
        if self._held and (fault != "delay" or not self.enabled):
            await self._release_held()
        if fault != "none":
            self.log[fault] += 1

        if fault == "none":
            return await self._send(request)
        if fault == "drop_request":
            raise NetworkDown("simulated: connection refused", request=request)
        if fault == "lose_answer":
            await self._send(request)
            raise httpx.ReadError("simulated: connection reset while reading the answer", request=request)
        if fault == "duplicate":
            await self._send(_copy(request))
            return await self._send(request)
        if fault == "truncate":
            response = await self._send(request)
            body = response.content
            cut = self._rng.randrange(len(body)) if body else 0
            return _with_body(response, body[:cut], request)
        if fault == "delay":
            self._held.append(_copy(request))
            raise httpx.ReadTimeout("simulated: no answer in time", request=request)
        if fault == "corrupt_chunk":
            body = bytearray(request.content)
            pos = self._rng.randrange(len(body))
            body[pos] ^= 0x5A
            response = await self._send(_copy(request, bytes(body)))
            self.corrupt_stored += _stored_chunk(request, response)
            return response
        # reorders: split the batch at m
        payload = json.loads(request.content)
        mutations = payload["mutations"]
        m = self._rng.randrange(1, len(mutations))
        head = _copy(request, json.dumps({**payload, "mutations": mutations[:m]}).encode(), new_request_id=True)
        tail = _copy(request, json.dumps({**payload, "mutations": mutations[m:]}).encode())
        if fault == "reorder_gap":
            return await self._send(tail)  # usually 409 seq_gap; the head never left the phone
        await self._send(head)  # reorder_answer: applied, answer lost
        return await self._send(tail)


def _copy(request: httpx.Request, content: bytes | None = None, *, new_request_id: bool = False) -> httpx.Request:
    headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "content-length"]
    if new_request_id:
        headers = [(k, v) for k, v in headers if k.lower() != HEADER_REQUEST_ID.lower()]
        headers.append((HEADER_REQUEST_ID, str(uuid.uuid4())))
    return httpx.Request(
        request.method, request.url, headers=headers, content=request.content if content is None else content
    )


def _with_body(response: httpx.Response, body: bytes, request: httpx.Request) -> httpx.Response:
    dropped = ("content-length", "content-encoding")
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in dropped]
    return httpx.Response(response.status_code, headers=headers, content=body, request=request)


def fault_plan(rng: random.Random, length: int, rate: float, kinds: Sequence[str] = ALL_FAULTS[1:]) -> list[str]:
    """``length`` fault names, each request faulty with probability ``rate``."""
    return [rng.choice(list(kinds)) if rng.random() < rate else "none" for _ in range(length)]


def _stored_chunk(request: httpx.Request, response: httpx.Response) -> bool:
    """Whether the server appended this chunk. Not when it answered ``wrong_offset``, nor when the
    blob was complete already (a chunk after a finish whose answer was lost: the server answers
    with the whole size, or ``complete``, and keeps nothing), nor for a finishing chunk answered 200
    (its bytes had the right hash)."""
    if response.status_code != 200 or request.url.params.get("finish") == "true":
        return False
    offset = int(request.url.params["offset"])
    return json.loads(response.content).get("offset") == offset + len(request.content)
