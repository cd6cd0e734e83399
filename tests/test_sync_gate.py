"""The push admission gate (server/syncing/routes.py: SyncGate): a queue bounded by its expected
wait, measured from how fast pushes really leave; 429 with a Retry-After beyond it."""

from __future__ import annotations

import asyncio
import random

import pytest

from server.errors import DomainError
from server.syncing.routes import MAX_RETRY_AFTER, SyncGate

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_the_interval_is_learned_from_departures_in_a_busy_period():
    clock = FakeClock()
    gate = SyncGate(running=1, waiting=100, max_wait=0.15, always=2, clock=clock)
    for _ in range(30):  # back to back: 50 ms each from admission to answer
        async with gate.admitted():
            clock.now += 0.05
    assert gate.interval == pytest.approx(0.05, rel=0.01)
    clock.now += 60  # an idle minute is not a service time
    async with gate.admitted():
        clock.now += 0.05
    assert gate.interval == pytest.approx(0.05, rel=0.01)


async def test_a_push_that_would_wait_too_long_gets_429_with_retry_after():
    clock = FakeClock()
    gate = SyncGate(running=1, waiting=100, max_wait=0.15, always=2, clock=clock)
    gate.interval = 0.05
    inside = [gate.admitted() for _ in range(3)]
    for cm in inside:  # 3 queued x 50 ms = 150 ms: still admitted
        await cm.__aenter__()
    assert gate.expected_wait() == pytest.approx(0.15)
    await inside[-1].__aexit__(None, None, None)
    await (extra := gate.admitted()).__aenter__()  # back to 3: 150 ms is not more than max_wait
    gate.interval = 0.06  # slower now: 180 ms
    with pytest.raises(DomainError) as refused:
        await gate.admitted().__aenter__()
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert refused.value.details == {"retry_after": 1}
    assert gate.queued == 3  # a refusal takes no place in the queue
    for cm in [*inside[:2], extra]:
        await cm.__aexit__(None, None, None)
    assert gate.queued == 0


async def test_a_few_pushes_always_queue_and_a_full_queue_refuses():
    gate = SyncGate(running=1, waiting=4, max_wait=0.01, always=2, clock=FakeClock(), rng=random.Random(7))
    gate.interval = 10.0  # very slow: only the always-admitted ones get in
    first = [gate.admitted() for _ in range(2)]
    for cm in first:
        await cm.__aenter__()
    with pytest.raises(DomainError) as refused:
        await gate.admitted().__aenter__()
    assert refused.value.details == {"retry_after": random.Random(7).randint(1, MAX_RETRY_AFTER)}  # 20 s ahead: capped

    patient = SyncGate(running=1, waiting=2, max_wait=1e9, always=100, clock=FakeClock())
    held = [patient.admitted() for _ in range(2)]
    for cm in held:
        await cm.__aenter__()
    with pytest.raises(DomainError):
        await patient.admitted().__aenter__()


async def test_writers_take_turns():
    gate = SyncGate(running=1)
    order: list[str] = []

    async def push(name: str) -> None:
        async with gate.admitted(), gate.turn():
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(push("a"), push("b"))
    assert order == ["a in", "a out", "b in", "b out"]


async def test_what_was_learned_in_another_burst_is_forgotten_after_a_while():
    """Replays answered from receipts leave every few ms, new pushes far slower: an estimate learned
    on the first must not admit a queue four times too long for the second."""
    clock = FakeClock()
    gate = SyncGate(running=1, waiting=100, max_wait=0.1, always=2, clock=clock, memory=2.0)
    for _ in range(64):  # a burst of replays, 2 ms each
        async with gate.admitted():
            clock.now += 0.002
    assert gate.interval == pytest.approx(0.002)
    clock.now += 1.0  # still recent: the estimate holds
    async with gate.admitted():
        clock.now += 0.002
    assert gate.interval == pytest.approx(0.002)
    clock.now += 3.0  # a few seconds later, another kind of burst begins: start from the default
    held = gate.admitted()
    await held.__aenter__()
    assert gate.interval == gate.initial_interval == 0.01
    clock.now += 0.02
    await held.__aexit__(None, None, None)
    assert gate.interval == pytest.approx(0.02)  # learned from the new burst alone


async def test_refused_pushes_are_told_different_short_waits():
    """One Retry-After for every refusal of a burst brings the refused phones back in the same
    instant; each draws its own, from 1 s up to the expected wait, never more than MAX_RETRY_AFTER."""

    gate = SyncGate(running=1, waiting=1, max_wait=0.01, always=0, clock=FakeClock(), rng=random.Random(1))
    gate.interval = 60.0  # a minute's queue ahead
    await (held := gate.admitted()).__aenter__()
    waits = []
    for _ in range(200):
        with pytest.raises(DomainError) as refused:
            await gate.admitted().__aenter__()
        waits.append(refused.value.details["retry_after"])
    assert set(waits) == set(range(1, MAX_RETRY_AFTER + 1))
    await held.__aexit__(None, None, None)
    gate.interval = 1.5  # 1.5 s ahead: 1 or 2 s
    await (held := gate.admitted()).__aenter__()
    with pytest.raises(DomainError) as refused:
        await gate.admitted().__aenter__()
    assert refused.value.details["retry_after"] in (1, 2)


async def test_the_queue_bound_comes_from_the_settings(app):
    """WUYE_SYNC_QUEUE_MS: how much queued work a push waits behind before a 429 (10 s by default)."""
    from server.config import Settings
    from server.syncing.routes import _gate

    ctx = app.state.ctx
    assert Settings.from_env({"WUYE_DATA_DIR": str(ctx.settings.data_dir)}).sync_queue_ms == 10000
    ctx.settings = ctx.settings.with_(sync_queue_ms=250)
    ctx.services.pop("sync_gate", None)
    assert _gate(ctx).max_wait == 0.25
