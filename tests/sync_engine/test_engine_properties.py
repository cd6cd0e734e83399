"""Many phones, an unreliable network, one server.

Each phone keeps an outbox and pushes windows of it; the network loses requests and answers,
duplicates and delays requests (so old batches arrive late, out of order), truncates bodies, and the
database fails mid-batch. Whatever happens, once the network heals:

- every phone drains its outbox, and learns exactly the verdict its mutation deserved;
- the server state equals applying each accepted mutation exactly once, in per-client seq order.

Counters make a double application visible (the sum changes); note lists make order visible.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sync.engine import PushResult
from sync.protocol import Mutation, ProtocolError, PushRequest, SeqGap, encode, new_id
from tests.sync_engine.memory_store import UNLUCKY, MemoryServer, TransientFault

NOW = datetime(2026, 11, 22, 2, 5, tzinfo=UTC)
PHONES = 2

Verdict = tuple[str, str | None]  # ("accepted", None) or ("rejected", code)


@dataclass
class Phone:
    index: int
    next_seq: int = 1
    outbox: list[Mutation] = field(default_factory=list)
    #: Highest seq sent in the current pipeline; a phone may send the next window before it hears
    #: back about the previous one.
    sent_upto: int = 0
    expected: dict[str, Verdict] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    amounts: list[int] = field(default_factory=list)

    @property
    def client_id(self) -> str:
        return f"0190f5b2-0000-7000-8000-{self.index:012d}"

    def enqueue(self, kind: str, amount: int) -> None:
        if kind == "add":
            name, args = "counter.add", {"counter_id": "shared", "amount": amount}
            verdict: Verdict = ("rejected", "unlucky") if amount == UNLUCKY else ("accepted", None)
            if amount != UNLUCKY:
                self.amounts.append(amount)
        else:
            text = f"{self.index}:{self.next_seq}"
            name, args = "note.append", {"list_id": self.client_id, "text": text}
            verdict = ("accepted", None)
            self.notes.append(text)
        mutation = Mutation(seq=self.next_seq, id=new_id(), name=name, args=args, client_time=NOW)
        self.next_seq += 1
        self.outbox.append(mutation)
        self.expected[mutation.id] = verdict

    def window(self, mode: str, size: int) -> bytes | None:
        candidates = self.outbox if mode == "resend" else [m for m in self.outbox if m.seq > self.sent_upto]
        chosen = consecutive(candidates[:size])
        if not chosen:
            return None
        self.sent_upto = max(self.sent_upto, chosen[-1].seq)
        return encode(PushRequest(client_id=self.client_id, client_time=NOW, mutations=chosen))

    def on_answer(self, outcome: tuple[str, Any]) -> None:
        kind, value = outcome
        if kind == "ok":
            self._on_results(value)
        else:
            # A failure or a gap: start over from the oldest entry. Entries below a gap's expected seq
            # are decided already; resending them is how the phone learns their verdicts.
            self.sent_upto = self.outbox[0].seq - 1 if self.outbox else self.next_seq - 1

    def _on_results(self, result: PushResult) -> None:
        answered = set()
        for r in result.results:
            verdict: Verdict = ("rejected", r.code) if r.status == "rejected" else ("accepted", None)
            if r.id in self.verdicts:
                event(f"verdict heard again: {verdict[0]}")
            known = self.verdicts.setdefault(r.id, verdict)
            assert known == verdict, f"{r.id} was answered {known}, now {verdict}"
            answered.add(r.seq)
        # Only entries with a result are settled; others <= last_seq will be resent for their verdict.
        self.outbox = [m for m in self.outbox if not (m.seq in answered and m.seq <= result.last_seq)]


def consecutive(mutations: list[Mutation]) -> list[Mutation]:
    """A batch stops at the first hole: answers arriving out of order can settle a later entry first."""
    run = mutations[:1]
    for m in mutations[1:]:
        if m.seq != run[-1].seq + 1:
            break
        run.append(m)
    return run


async def deliver(server: MemoryServer, body: bytes) -> tuple[str, Any]:
    """One request through the server; ``event`` feeds ``--hypothesis-show-statistics``."""
    try:
        result = await server.push(body)
    except SeqGap as gap:
        event("seq gap")
        return ("gap", gap.expected_seq)
    except (ProtocolError, TransientFault) as exc:
        event(f"refused: {type(exc).__name__}")
        return ("error", exc)
    for r in result.results:
        event(f"result: {r.status} {r.code or ''}".strip())
    return ("ok", result)


phone_index = st.integers(0, PHONES - 1)
# (fate, k): k is the write at which a "transient" fate makes the database fail.
fates = st.tuples(
    st.sampled_from(
        [
            "ok",
            "ok",
            "ok",
            "lost_request",
            "lost_response",
            "duplicate",
            "delay",
            "delay",
            "truncate",
            "transient",
        ]
    ),
    st.integers(1, 4),
)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("enqueue"), phone_index, st.sampled_from(["add", "note"]), st.integers(1, 20)),
        st.tuples(
            st.just("send"),
            phone_index,
            st.sampled_from(["resend", "next", "next"]),
            st.integers(1, 4),
            fates,
        ),
        st.tuples(st.just("late"), st.integers(0, 50), st.booleans()),
    ),
    min_size=10,
    max_size=80,
)


async def run(script: list[tuple[Any, ...]]) -> tuple[MemoryServer, list[Phone]]:
    server = MemoryServer(now=lambda: NOW)
    phones = [Phone(i) for i in range(PHONES)]
    delayed: list[tuple[Phone, bytes]] = []

    for action in script:
        if action[0] == "enqueue":
            _, index, kind, amount = action
            phones[index].enqueue(kind, amount)
        elif action[0] == "late":
            _, pick, answered = action
            if delayed:
                phone, body = delayed.pop(pick % len(delayed))
                outcome = await deliver(server, body)
                if answered:  # a stale answer reaches the phone
                    phone.on_answer(outcome)
        else:
            _, index, mode, size, (fate, fail_at) = action
            phone = phones[index]
            body = phone.window(mode, size)
            if body is None:
                continue
            if fate == "ok":
                phone.on_answer(await deliver(server, body))
            elif fate == "lost_request":
                phone.on_answer(("error", "timeout"))
            elif fate == "lost_response":
                await deliver(server, body)
                phone.on_answer(("error", "timeout"))
            elif fate == "duplicate":
                for outcome in await asyncio.gather(deliver(server, body), deliver(server, body)):
                    phone.on_answer(outcome)
            elif fate == "delay":
                # Still in flight: the phone has not heard back, so a "next" window pipelines past it.
                delayed.append((phone, body))
            elif fate == "truncate":
                outcome = await deliver(server, body[: len(body) // 2])
                assert outcome[0] == "error"
                phone.on_answer(outcome)
            else:
                server.db.fail_at_write = fail_at
                phone.on_answer(await deliver(server, body))

    # The network heals; old requests still in flight arrive (their answers are lost) and every
    # phone retries until its outbox is empty.
    for _, body in delayed:
        await deliver(server, body)
    total = sum(p.next_seq for p in phones)
    for _ in range(total + 5):
        busy = [p for p in phones if p.outbox]
        if not busy:
            break
        for phone in busy:
            body = phone.window("resend", 4)
            assert body is not None
            phone.on_answer(await deliver(server, body))
    return server, phones


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_every_mutation_is_applied_exactly_once_in_order_and_every_outbox_drains(
    script: list[tuple[Any, ...]],
) -> None:
    server, phones = asyncio.run(run(script))

    for phone in phones:
        assert phone.outbox == [], f"phone {phone.index} did not drain"
        assert phone.verdicts == phone.expected
        last = phone.next_seq - 1
        if last:
            assert server.db.state.clients[phone.client_id].last_seq == last
            assert sorted(seq for (cid, seq) in server.db.state.receipts if cid == phone.client_id) == list(
                range(1, last + 1)
            )
        else:
            assert phone.client_id not in server.db.state.clients
        expected_notes = {"items": phone.notes} if phone.notes else None
        assert server.db.record("lists", phone.client_id) == expected_notes

    # Unlucky adds write and are then refused: their write must have been rolled back every time.
    amounts = [a for p in phones for a in p.amounts]
    assert server.db.record("counters", "shared") == ({"value": sum(amounts)} if amounts else None)
    assert len(server.db.state.originals) == sum(len(p.expected) for p in phones)
