"""The push rules of PROTOCOL.md §3, one behaviour per test, against the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from sync.engine import apply_push, current_mutation, mutation_digest
from sync.protocol import (
    MAX_MUTATIONS,
    MAX_PUSH_BYTES,
    Mutation,
    MutationResult,
    ProtocolError,
    PushRequest,
    SeqGap,
    check_protocol_header,
    decode_push,
    encode,
    new_id,
)
from sync.registry import Args, PermanentError, Registry
from tests.sync_engine.memory_store import UNLUCKY, MemoryServer, ToyContext, ToyRefusal

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 22, 2, 5, tzinfo=UTC)
CLIENT = "0190f5b2-0000-7000-8000-000000000001"
OTHER_CLIENT = "0190f5b2-0000-7000-8000-000000000002"


def mut(seq: int, name: str = "counter.add", mutation_id: str | None = None, **args: Any) -> Mutation:
    if name == "counter.add" and not args:
        args = {"counter_id": "c", "amount": 1}
    return Mutation(seq=seq, id=mutation_id or new_id(), name=name, args=args, client_time=NOW)


def add(seq: int, amount: int, mutation_id: str | None = None) -> Mutation:
    return mut(seq, "counter.add", mutation_id, counter_id="c", amount=amount)


def batch(*mutations: Mutation, client_id: str = CLIENT, client_time: datetime = NOW) -> PushRequest:
    return PushRequest(client_id=client_id, client_time=client_time, mutations=list(mutations))


def statuses(results: list[MutationResult]) -> list[tuple[int, str, str | None]]:
    return [(r.seq, r.status, r.code) for r in results]


@pytest.fixture
def server() -> MemoryServer:
    return MemoryServer(now=lambda: NOW)


def counter(server: MemoryServer) -> int | None:
    record = server.db.record("counters", "c")
    return None if record is None else record["value"]


async def test_batch_is_applied_in_seq_order_and_advances_last_seq(server: MemoryServer) -> None:
    result = await server.push(
        batch(mut(1, "note.append", list_id="l", text="a"), mut(2, "note.append", list_id="l", text="b"))
    )

    assert result.last_seq == 2
    assert statuses(result.results) == [(1, "applied", None), (2, "applied", None)]
    assert server.db.record("lists", "l") == {"items": ["a", "b"]}
    assert server.db.state.clients[CLIENT].last_seq == 2


async def test_resent_batch_is_acknowledged_not_reapplied(server: MemoryServer) -> None:
    sent = batch(add(1, 5), add(2, 7))
    await server.push(sent)

    again = await server.push(sent)

    assert again.last_seq == 2
    assert statuses(again.results) == [(1, "duplicate", None), (2, "duplicate", None)]
    assert counter(server) == 12


async def test_resend_that_overlaps_new_mutations_applies_only_the_new_ones(server: MemoryServer) -> None:
    first, second, third = add(1, 1), add(2, 10), add(3, 100)
    await server.push(batch(first, second))

    result = await server.push(batch(first, second, third))

    assert statuses(result.results) == [(1, "duplicate", None), (2, "duplicate", None), (3, "applied", None)]
    assert result.last_seq == 3
    assert counter(server) == 111


async def test_gap_is_refused_with_the_expected_seq_and_nothing_applied(server: MemoryServer) -> None:
    await server.push(batch(add(1, 1)))
    before = server.db.snapshot()

    with pytest.raises(SeqGap) as caught:
        await server.push(batch(add(3, 5), add(4, 5)))

    assert caught.value.expected_seq == 2
    assert caught.value.status == 409
    assert msgspec.to_builtins(caught.value.body()) == {
        "code": "seq_gap",
        "message": "mutations must continue at seq 2",
        "details": {"expected_seq": 2},
    }
    assert server.db.snapshot() is before  # not even an empty commit


async def test_first_batch_of_a_new_client_must_start_at_seq_1(server: MemoryServer) -> None:
    with pytest.raises(SeqGap) as caught:
        await server.push(batch(add(2, 1)))

    assert caught.value.expected_seq == 1
    assert CLIENT not in server.db.state.clients


async def test_permanently_invalid_mutation_in_the_middle_is_rejected_and_the_queue_moves_on(
    server: MemoryServer,
) -> None:
    # counter.add 13 writes the counter and then refuses: its write must not survive.
    result = await server.push(batch(add(1, 5), add(2, 13), add(3, 2)))

    assert statuses(result.results) == [
        (1, "applied", None),
        (2, "rejected", "unlucky"),
        (3, "applied", None),
    ]
    assert result.results[1].message == "13 is refused"
    assert result.last_seq == 3
    assert counter(server) == 7
    assert server.db.state.clients[CLIENT].last_seq == 3


async def test_domain_refusal_rolls_back_the_writes_made_before_it(server: MemoryServer) -> None:
    order = new_id()
    illegal = mut(2, "order.complete", order_id=order)  # new -> done is not a transition
    result = await server.push(
        batch(mut(1, "order.create", id=order, title="leak"), illegal, mut(3, "order.accept", order_id=order))
    )

    assert statuses(result.results) == [
        (1, "applied", None),
        (2, "rejected", "illegal_transition"),
        (3, "applied", None),
    ]
    assert result.results[1].message == "order is new, cannot become done"
    assert server.db.record("order_events", illegal.id) is None  # the event it wrote was rolled back
    assert server.db.record("orders", order)["state"] == "accepted"


async def test_resent_rejected_mutation_gets_its_original_rejection_again(server: MemoryServer) -> None:
    sent = batch(add(1, 13), add(2, 1))
    await server.push(sent)  # imagine this answer was lost

    again = await server.push(sent)

    assert statuses(again.results) == [(1, "rejected", "unlucky"), (2, "duplicate", None)]
    assert again.results[0].message == "13 is refused"
    assert counter(server) == 1


async def test_seq_reused_by_a_different_mutation_id_is_a_conflict(server: MemoryServer) -> None:
    original = add(1, 5)
    await server.push(batch(original))

    result = await server.push(batch(add(1, 5)))

    assert statuses(result.results) == [(1, "rejected", "mutation_conflict")]
    assert result.results[0].message == f"seq 1 was already used by mutation {original.id}"
    assert counter(server) == 5


async def test_same_mutation_id_with_different_content_is_refused(server: MemoryServer) -> None:
    original = add(1, 5)
    await server.push(batch(original))

    result = await server.push(batch(add(1, 6, mutation_id=original.id)))

    assert statuses(result.results) == [(1, "rejected", "mutation_conflict")]
    assert result.results[0].message == f"mutation {original.id} was already received with different content"
    assert counter(server) == 5


async def test_mutation_id_already_applied_under_another_seq_is_a_duplicate(server: MemoryServer) -> None:
    original = add(1, 5)
    await server.push(batch(original))
    repeated = add(1, 5, mutation_id=original.id)

    result = await server.push(batch(repeated, client_id=OTHER_CLIENT))
    resent = await server.push(batch(repeated, client_id=OTHER_CLIENT))

    assert statuses(result.results) == [(1, "duplicate", None)]
    assert statuses(resent.results) == [(1, "duplicate", None)]
    assert result.last_seq == 1  # the other client's seq still advances
    assert counter(server) == 5


async def test_mutation_id_reused_with_different_content_under_a_new_seq_is_refused(
    server: MemoryServer,
) -> None:
    original = add(1, 5)
    await server.push(batch(original, add(2, 1)))

    result = await server.push(batch(add(3, 99, mutation_id=original.id), add(4, 1)))
    resent = await server.push(batch(add(3, 99, mutation_id=original.id)))

    assert statuses(result.results) == [(3, "rejected", "mutation_conflict"), (4, "applied", None)]
    assert statuses(resent.results) == [(3, "rejected", "mutation_conflict")]
    assert counter(server) == 7
    # The id's original receipt is still the one that decided it.
    assert server.db.state.originals[original.id].seq == 1


async def test_repeat_of_a_rejected_mutation_id_under_a_new_seq_is_rejected_again(
    server: MemoryServer,
) -> None:
    original = add(1, 13)
    await server.push(batch(original))

    result = await server.push(batch(add(1, 13, mutation_id=original.id), client_id=OTHER_CLIENT))

    assert statuses(result.results) == [(1, "rejected", "unlucky")]


async def test_two_mutations_with_one_id_in_a_batch_apply_once(server: MemoryServer) -> None:
    first = add(1, 5)
    result = await server.push(batch(first, add(2, 5, mutation_id=first.id)))

    assert statuses(result.results) == [(1, "applied", None), (2, "duplicate", None)]
    assert counter(server) == 5


async def test_unknown_mutation_name_is_rejected_and_the_queue_moves_on(server: MemoryServer) -> None:
    result = await server.push(batch(mut(1, "order.teleport", order_id="x"), add(2, 3)))

    assert statuses(result.results) == [(1, "rejected", "unknown_mutation"), (2, "applied", None)]
    assert result.results[0].message == "unknown mutation 'order.teleport'"
    assert counter(server) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"counter_id": "c", "amount": 1, "colour": "red"}, "Object contains unknown field `colour`"),
        ({"counter_id": "c", "amount": "1"}, "Expected `int`, got `str` - at `$.amount`"),
        ({"counter_id": "c"}, "Object missing required field `amount`"),
    ],
)
async def test_invalid_args_are_a_validation_error_rejection(
    server: MemoryServer, args: dict[str, Any], message: str
) -> None:
    result = await server.push(batch(mut(1, "counter.add", **args), add(2, 4)))

    assert statuses(result.results) == [(1, "rejected", "validation_error"), (2, "applied", None)]
    assert result.results[0].message == message
    assert counter(server) == 4


async def test_transient_failure_rolls_back_everything_and_leaves_last_seq_unchanged(
    server: MemoryServer,
) -> None:
    await server.push(batch(add(1, 1)))
    before = server.db.snapshot()
    sent = batch(add(2, 10), add(3, 100), add(4, 1000))
    server.db.fail_at_write = 2  # the second write of the batch: the database goes away

    with pytest.raises(Exception, match="database connection lost"):
        await server.push(sent)

    assert server.db.snapshot() is before
    assert server.db.state.clients[CLIENT].last_seq == 1
    retried = await server.push(sent)
    assert statuses(retried.results) == [(2, "applied", None), (3, "applied", None), (4, "applied", None)]
    assert counter(server) == 1111


class FlakyLookingLikeARefusal(Exception):
    """Has ``code`` and ``message`` like a domain error, but nobody declared it permanent."""

    code = "deadlock"
    message = "deadlock detected"


class WrappedTimeout(ToyRefusal):
    transient = True


class Boom(Args):
    kind: str


def registry_with_boom() -> Registry:
    registry = Registry(permanent_errors=(ToyRefusal,))

    @registry.mutation("boom", Boom)
    async def boom(ctx: ToyContext, args: Boom) -> None:
        ctx.tx.put("counters", "c", {"value": -1})
        if args.kind == "flaky":
            raise FlakyLookingLikeARefusal()
        if args.kind == "wrapped":
            raise WrappedTimeout("lock_timeout", "lock wait timeout")
        raise ToyRefusal("nope", "refused")

    return registry


@pytest.mark.parametrize("kind", ["flaky", "wrapped"])
async def test_only_declared_permanent_errors_reject_anything_else_propagates(server: MemoryServer, kind: str) -> None:
    server.registry = registry_with_boom()

    with pytest.raises((FlakyLookingLikeARefusal, WrappedTimeout)):
        await server.push(batch(mut(1, "boom", kind=kind)))

    assert CLIENT not in server.db.state.clients
    assert counter(server) is None


async def test_declared_permanent_error_type_is_a_rejection(server: MemoryServer) -> None:
    server.registry = registry_with_boom()

    result = await server.push(batch(mut(1, "boom", kind="refuse")))

    assert statuses(result.results) == [(1, "rejected", "nope")]
    assert counter(server) is None


async def test_clock_offset_is_stored_and_skew_is_flagged_for_handlers(server: MemoryServer) -> None:
    order = new_id()
    device_clock = NOW - timedelta(minutes=10, milliseconds=250)
    await server.push(
        batch(
            mut(1, "order.create", id=order, title="t"),
            mut(2, "order.accept", order_id=order),
            client_time=device_clock,
        )
    )

    assert server.db.state.clients[CLIENT].clock_offset_ms == 600_250
    events = server.db.table("order_events")
    assert [(e["seq"], e["clock_skewed"], e["client_time"]) for e in events.values()] == [(2, True, NOW.isoformat())]


async def test_small_clock_offset_is_not_flagged(server: MemoryServer) -> None:
    order = new_id()
    await server.push(
        batch(
            mut(1, "order.create", id=order, title="t"),
            mut(2, "order.accept", order_id=order),
            client_time=NOW - timedelta(minutes=4),
        )
    )

    assert [e["clock_skewed"] for e in server.db.table("order_events").values()] == [False]


async def test_another_actor_may_continue_a_client_and_its_receipts_stay(server: MemoryServer) -> None:
    first = batch(add(1, 1))
    await server.push(first, actor_id="tech-1")

    result = await server.push(batch(add(2, 2)), actor_id="tech-2")
    resent = await server.push(first, actor_id="tech-2")

    assert statuses(result.results) == [(2, "applied", None)]
    assert statuses(resent.results) == [(1, "duplicate", None)]
    assert server.db.state.clients[CLIENT].actor_id == "tech-2"


async def test_pruned_receipt_still_answers_duplicate(server: MemoryServer) -> None:
    await server.push(batch(add(1, 1)))
    del server.db.state.receipts[(CLIENT, 1)]

    result = await server.push(batch(add(1, 1)))

    assert statuses(result.results) == [(1, "duplicate", None)]
    assert counter(server) == 1


async def test_push_response_carries_protocol_request_id_and_omits_empty_fields(server: MemoryServer) -> None:
    result = await server.push(batch(add(1, 1), add(2, 13)))

    body = msgspec.json.decode(encode(result.response(request_id="r-1", server_time=NOW)))

    assert body["protocol"] == 1
    assert body["request_id"] == "r-1"
    assert body["last_seq"] == 2
    assert body["results"][0] == {"seq": 1, "id": result.results[0].id, "status": "applied"}
    assert body["results"][1]["code"] == "unlucky"


def test_digest_ignores_key_order_but_not_values() -> None:
    assert mutation_digest("a", {"x": 1, "y": {"b": 2, "a": 1}}) == mutation_digest(
        "a", {"y": {"a": 1, "b": 2}, "x": 1}
    )
    assert mutation_digest("a", {"x": 1}) != mutation_digest("a", {"x": 2})
    assert mutation_digest("a", {"x": 1}) != mutation_digest("b", {"x": 1})


def test_current_mutation_outside_a_handler_is_an_error() -> None:
    with pytest.raises(LookupError, match="outside a mutation handler"):
        current_mutation()


async def test_server_time_must_be_timezone_aware(server: MemoryServer) -> None:
    async with server.db.transaction() as tx:
        with pytest.raises(ValueError, match="timezone-aware"):
            await apply_push(
                batch(add(1, 1)),
                store=tx,
                registry=server.registry,
                ctx=None,
                actor_id="t",
                server_time=datetime(2026, 1, 1),
            )


# --- request-level refusals -------------------------------------------------------------------------


def body(**overrides: Any) -> bytes:
    request: dict[str, Any] = {
        "client_id": CLIENT,
        "client_time": "2026-11-22T10:05:00.000+08:00",
        "mutations": [
            {
                "seq": 1,
                "id": new_id(),
                "name": "counter.add",
                "args": {"counter_id": "c", "amount": 1},
                "client_time": "2026-11-22T10:04:58.120+08:00",
            }
        ],
    }
    request.update(overrides)
    return msgspec.json.encode(request)


def test_well_formed_push_body_decodes() -> None:
    req = decode_push(body())
    assert req.client_id == CLIENT
    assert req.mutations[0].args == {"counter_id": "c", "amount": 1}


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        (b'{"client_id": ', "malformed_json", "Input data was truncated"),
        (b"<html>portal</html>", "malformed_json", "JSON is malformed: invalid character (byte 0)"),
        (body(extra=1), "unknown_field", "Object contains unknown field `extra`"),
        (body(mutations=[]), "validation_error", "Expected `array` of length >= 1 - at `$.mutations`"),
        (
            body(client_id="0190F5B2-0000-7000-8000-000000000001"),
            "validation_error",
            "Expected `str` matching regex",
        ),
        (
            body(client_time="2026-11-22T10:05:00"),
            "validation_error",
            "Expected `datetime` with a timezone component - at `$.client_time`",
        ),
        (
            body(
                mutations=[{"seq": 0, "id": new_id(), "name": "x", "args": {}, "client_time": "2026-11-22T10:05:00Z"}]
            ),
            "validation_error",
            "Expected `int` >= 1 - at `$.mutations[0].seq`",
        ),
        (b" " * (MAX_PUSH_BYTES + 1), "body_too_large", "a push body is at most 1048576 bytes"),
    ],
)
def test_broken_push_bodies_are_refused_with_the_protocol_code(raw: bytes, code: str, message: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_push(raw)

    assert caught.value.code == code
    assert caught.value.message.startswith(message)


async def test_non_consecutive_batch_is_a_validation_error(server: MemoryServer) -> None:
    with pytest.raises(ProtocolError) as caught:
        await server.push(batch(add(1, 1), add(3, 1)))

    assert caught.value.code == "validation_error"
    assert caught.value.status == 400
    assert caught.value.message == (
        "mutations must have consecutive ascending seq: expected 2, got 3 - at `$.mutations[1].seq`"
    )


async def test_too_many_mutations_is_batch_too_large(server: MemoryServer) -> None:
    with pytest.raises(ProtocolError) as caught:
        await server.push(batch(*(add(seq, 1) for seq in range(1, MAX_MUTATIONS + 2))))

    assert (caught.value.code, caught.value.status) == ("batch_too_large", 413)
    assert server.db.commits == 0


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (None, "client_outdated"),
        ("0", "client_outdated"),
        ("one", "validation_error"),
        ("-1", "client_outdated"),  # an integer, below the minimum (PROTOCOL.md §7)
        ("1.5", "validation_error"),
        ("", "validation_error"),
    ],
)
def test_bad_protocol_header_is_refused(value: str | None, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        check_protocol_header(value)
    assert caught.value.code == code


def test_current_protocol_header_is_accepted() -> None:
    assert check_protocol_header(" 1 ") == 1
    assert check_protocol_header("2") == 2


# --- the registry -----------------------------------------------------------------------------------


class Loose(msgspec.Struct):
    x: int


def test_registry_refuses_args_that_accept_unknown_fields() -> None:
    registry = Registry()
    with pytest.raises(TypeError, match="must forbid unknown fields"):

        @registry.mutation("loose", Loose)
        async def loose(ctx: object, args: Loose) -> None:
            return None


def test_registry_refuses_a_name_twice_and_sync_handlers() -> None:
    registry = Registry()

    @registry.mutation("boom", Boom)
    async def boom(ctx: object, args: Boom) -> None:
        return None

    with pytest.raises(ValueError, match="already registered"):
        registry.register("boom", Boom, boom)
    with pytest.raises(TypeError, match="must be an async function"):
        registry.register("boom.sync", Boom, lambda ctx, args: None)
    assert registry.names() == ["boom"]
    assert "boom" in registry


def test_permanent_error_carries_code_and_message() -> None:
    error = PermanentError("illegal_transition", "order was reassigned")
    assert (error.code, error.message, str(error)) == (
        "illegal_transition",
        "order was reassigned",
        "order was reassigned",
    )


async def test_a_batch_without_refusals_runs_in_one_pass_without_savepoints(server: MemoryServer) -> None:
    await server.push(batch(add(1, 1), mut(2, "note.append", list_id="l", text="x"), add(3, 2), add(4, 3)))

    assert (server.db.optimistic_passes, server.db.savepoints, server.db.restarts) == (1, 0, 0)
    assert counter(server) == 6


async def test_a_handler_refusal_restarts_the_transaction_with_a_savepoint_per_handler(server: MemoryServer) -> None:
    # 13 writes, then refuses: the transaction is begun again, then one savepoint per handler.
    result = await server.push(batch(add(1, 1), add(2, 13), add(3, 2)))

    assert statuses(result.results) == [(1, "applied", None), (2, "rejected", "unlucky"), (3, "applied", None)]
    assert (server.db.optimistic_passes, server.db.savepoints, server.db.restarts) == (1, 3, 1)
    assert counter(server) == 3
    assert server.db.commits == 1


async def test_refusals_before_any_handler_do_not_force_the_careful_pass(server: MemoryServer) -> None:
    repeated = new_id()
    result = await server.push(
        batch(
            add(1, 1, mutation_id=repeated),
            mut(2, "counter.nope", counter_id="c"),  # unknown mutation
            mut(3, "counter.add", counter_id="c", amount="x"),  # invalid args
            add(4, 2, mutation_id=repeated),  # the id of seq 1 with other content
            add(5, 3),
        )
    )

    assert [code for _, _, code in statuses(result.results)] == [
        None,
        "unknown_mutation",
        "validation_error",
        "mutation_conflict",
        None,
    ]
    assert (server.db.optimistic_passes, server.db.savepoints, server.db.restarts) == (1, 0, 0)
    assert counter(server) == 4


async def test_prepare_sees_the_whole_batch_once_per_pass(server: MemoryServer) -> None:
    await server.push(batch(add(1, 1), mut(2, "note.append", list_id="l", text="x"), add(3, 2)))
    assert server.db.prepared == [["c+1", "c+2"]]

    server.db.prepared.clear()
    await server.push(batch(add(4, 13), add(5, 4)))  # a refusal: the careful pass prepares again
    assert server.db.prepared == [["c+13", "c+4"], ["c+13", "c+4"]]

    server.db.prepared.clear()
    await server.push(batch(add(4, 13), add(5, 4)))  # a pure resend applies nothing: nothing to prepare
    assert server.db.prepared == []


async def test_a_batch_planned_ahead_of_its_transaction_is_answered_as_one_planned_inside() -> None:
    """plan_push (decode and digest, before the writer's turn) changes nothing in the answers or
    the state, for every kind of outcome: applied, refused by its handler, unknown, invalid, repeated."""
    servers = [MemoryServer(now=lambda: NOW), MemoryServer(now=lambda: NOW)]
    servers[1].plan_ahead = False
    first_id = new_id()
    pushes = [
        batch(add(1, 5, first_id), add(2, UNLUCKY), mut(3, "no.such"), mut(4, "counter.add", counter_id="c")),
        batch(add(5, 2), add(6, 5, first_id), add(7, 1)),  # 6 repeats an applied id under a new seq
        batch(add(5, 2), add(6, 5, first_id), add(7, 1), add(8, 3)),  # a resend with one new
    ]
    answers = [[statuses((await s.push(req)).results) for req in pushes] for s in servers]
    assert answers[0] == answers[1]
    assert answers[0][0] == [(1, "applied", None), (2, "rejected", "unlucky"), (3, "rejected", "unknown_mutation"),
                             (4, "rejected", "validation_error")]  # fmt: skip
    assert counter(servers[0]) == counter(servers[1]) == 5 + 2 + 1 + 3


# --- answer_resend: a wholly consumed batch answered from a read ---------------------------------


async def _both_answers(server: MemoryServer, req: PushRequest, actor_id: str = "tech-1"):
    """(answer_resend's answer, apply_push's answer) to the same request, on the same state."""
    from sync.engine import answer_resend

    async with server.db.read() as tx:
        read = await answer_resend(req, store=tx, actor_id=actor_id)
    server.answer_resends = False
    try:
        written = await server.push(req, actor_id=actor_id)
    finally:
        server.answer_resends = True
    return read, written


async def test_resend_answer_from_a_read_equals_the_write_paths_answer(server: MemoryServer) -> None:
    first = batch(add(1, 5), add(2, UNLUCKY), add(3, 7))  # the middle one is refused
    await server.push(first)
    ids = [m.id for m in first.mutations]
    # the same batch; then one seq reused by another id; then an id resent with other content
    cases = [
        first,
        batch(add(1, 5, ids[0]), add(2, 1), add(3, 7, ids[2])),
        batch(add(1, 6, ids[0]), add(2, UNLUCKY, ids[1])),
    ]
    for req in cases:
        read, written = await _both_answers(server, req)
        assert read is not None
        assert read == written
    assert counter(server) == 12


async def test_resend_answer_declines_a_batch_with_anything_new(server: MemoryServer) -> None:
    from sync.engine import answer_resend

    await server.push(batch(add(1, 5)))
    async with server.db.read() as tx:
        assert await answer_resend(batch(add(1, 5), add(2, 1)), store=tx, actor_id="tech-1") is None
        assert await answer_resend(batch(add(1, 5), client_id=OTHER_CLIENT), store=tx, actor_id="tech-1") is None
        # another account on this device: the write path records it
        assert await answer_resend(batch(add(1, 5)), store=tx, actor_id="tech-2") is None
    with pytest.raises(ProtocolError):
        async with server.db.read() as tx:
            await answer_resend(batch(add(1, 5), add(3, 1)), store=tx, actor_id="tech-1")
