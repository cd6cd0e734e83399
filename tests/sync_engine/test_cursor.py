"""Cursors (round trip, reset conditions) and pull pages built by the engine (PROTOCOL.md §5)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from sync.cursor import Cursor, new_epoch, parse
from sync.engine import StoreContractError, build_pull
from sync.protocol import MAX_PULL_LIMIT, Change, Mutation, ProtocolError, PushRequest, encode, new_id
from tests.sync_engine.memory_store import MemoryServer, MemoryTransaction

NOW = datetime(2026, 11, 22, 2, 5, tzinfo=UTC)
CLIENT = "0190f5b2-0000-7000-8000-000000000001"


@pytest.mark.parametrize("cursor", [Cursor("7f3a", 0), Cursor("e1", 1042), Cursor("A-z_9" * 6 + "xy", 2**63 - 1)])
def test_cursor_round_trips(cursor: Cursor) -> None:
    text = cursor.encode()
    assert parse(text, epoch=cursor.epoch, horizon=0) == cursor


def test_cursor_text_has_the_documented_shape() -> None:
    assert Cursor("7f3a", 1042).encode() == "1.7f3a.1042"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "1.e1",
        "1.e1.",
        "2.e1.5",
        "1.e1.-5",
        "1.e1.+5",
        "1.e1.05",
        "1.e1.5_0",
        "1.e1. 5",
        "1.e1.5.6",
        "1.e1.٥",  # a non-ASCII digit
        "1.e1.99999999999999999999",
        "1.e.1.5",
        "garbage",
    ],
)
def test_malformed_cursor_means_reset(text: str | None) -> None:
    assert parse(text, epoch="e1", horizon=0) is None


def test_cursor_from_another_epoch_means_reset() -> None:
    assert parse("1.old.5", epoch="e1", horizon=0) is None


def test_cursor_below_the_horizon_means_reset_and_at_it_does_not() -> None:
    assert parse("1.e1.9", epoch="e1", horizon=10) is None
    assert parse("1.e1.10", epoch="e1", horizon=10) == Cursor("e1", 10)


@pytest.mark.parametrize(("epoch", "version"), [("has.dot", 1), ("", 1), ("e1", -1), ("e1", 2**63)])
def test_invalid_cursor_values_are_refused(epoch: str, version: int) -> None:
    with pytest.raises(ValueError):
        Cursor(epoch, version)


def test_new_epochs_are_valid_and_distinct() -> None:
    epochs = {new_epoch() for _ in range(20)}
    assert len(epochs) == 20
    for epoch in epochs:
        assert parse(Cursor(epoch, 3).encode(), epoch=epoch, horizon=0) == Cursor(epoch, 3)


# --- pull pages -------------------------------------------------------------------------------------

pytestmark = pytest.mark.anyio


async def seed(server: MemoryServer, *notes: str, client_id: str = CLIENT) -> None:
    """Each note lands in its own list, so every mutation changes one record at one version."""
    last = server.db.state.clients[client_id].last_seq if client_id in server.db.state.clients else 0
    mutations = [
        Mutation(
            seq=last + i,
            id=new_id(),
            name="note.append",
            args={"list_id": note, "text": note},
            client_time=NOW,
        )
        for i, note in enumerate(notes, start=1)
    ]
    await server.push(PushRequest(client_id=client_id, client_time=NOW, mutations=mutations))


def ids(changes: list[Change]) -> list[str]:
    return [c.id for c in changes]


async def test_fresh_device_pulls_everything_in_pages_without_reset() -> None:
    server = MemoryServer()
    await seed(server, "a", "b", "c", "d", "e")

    first = await server.pull(None, CLIENT, limit=2)
    second = await server.pull(first.cursor, CLIENT, limit=2)
    third = await server.pull(second.cursor, CLIENT, limit=2)

    assert (first.reset, ids(first.changes), first.has_more, first.cursor) == (
        False,
        ["a", "b"],
        True,
        "1.e1.2",
    )
    assert (second.reset, ids(second.changes), second.has_more) == (False, ["c", "d"], True)
    assert (third.reset, ids(third.changes), third.has_more, third.cursor) == (False, ["e"], False, "1.e1.5")
    assert third.last_seq == 5


async def test_page_that_fits_exactly_says_no_more() -> None:
    server = MemoryServer()
    await seed(server, "a", "b")

    page = await server.pull(None, CLIENT, limit=2)

    assert (ids(page.changes), page.has_more) == (["a", "b"], False)


async def test_pull_at_the_head_returns_nothing_and_keeps_the_position() -> None:
    server = MemoryServer()
    await seed(server, "a")
    head = await server.pull(None, CLIENT)

    again = await server.pull(head.cursor, CLIENT)

    assert (again.reset, again.changes, again.has_more, again.cursor) == (False, [], False, head.cursor)


async def test_record_changed_twice_arrives_once_at_its_latest_version() -> None:
    server = MemoryServer()
    await seed(server, "a", "b")
    head = await server.pull(None, CLIENT)
    await seed(server, "a")  # list "a" changes again

    page = await server.pull(head.cursor, CLIENT)

    assert [(c.id, c.version, c.data) for c in page.changes] == [("a", 3, {"items": ["a", "a"]})]


async def test_deleted_record_arrives_as_a_tombstone() -> None:
    server = MemoryServer()
    order = new_id()
    await server.push(
        PushRequest(
            client_id=CLIENT,
            client_time=NOW,
            mutations=[
                Mutation(seq=1, id=new_id(), name="order.create", args={"id": order, "title": "t"}, client_time=NOW)
            ],
        )
    )
    head = await server.pull(None, CLIENT)
    await server.push(
        PushRequest(
            client_id=CLIENT,
            client_time=NOW,
            mutations=[Mutation(seq=2, id=new_id(), name="order.cancel", args={"order_id": order}, client_time=NOW)],
        )
    )

    page = await server.pull(head.cursor, CLIENT)

    orders = [c for c in page.changes if c.table == "orders"]
    assert [(c.op, c.data) for c in orders] == [("delete", None)]
    assert msgspec.json.decode(encode(orders[0])) == {
        "table": "orders",
        "id": order,
        "op": "delete",
        "version": orders[0].version,
    }


@pytest.mark.parametrize("cursor", ["nonsense", "1.other-db.3", "1.e1.99"])
async def test_unusable_cursor_resets_to_a_full_pull(cursor: str) -> None:
    # "1.e1.99" is ahead of the counter: a database restored from backup without a new epoch.
    server = MemoryServer()
    await seed(server, "a", "b")

    page = await server.pull(cursor, CLIENT)

    assert (page.reset, ids(page.changes), page.cursor) == (True, ["a", "b"], "1.e1.2")


async def test_cursor_below_the_tombstone_horizon_resets() -> None:
    server = MemoryServer()
    order = new_id()
    await seed(server, "a")
    early = await server.pull(None, CLIENT)
    await server.push(
        PushRequest(
            client_id=CLIENT,
            client_time=NOW,
            mutations=[
                Mutation(seq=2, id=new_id(), name="order.create", args={"id": order, "title": "t"}, client_time=NOW),
                Mutation(seq=3, id=new_id(), name="order.cancel", args={"order_id": order}, client_time=NOW),
            ],
        )
    )
    server.db.purge_tombstones(up_to=server.db.state.version)

    page = await server.pull(early.cursor, CLIENT)

    assert page.reset is True
    # The purged order tombstone is gone; the live records are sent again from scratch.
    assert [(c.table, c.id) for c in page.changes if c.table != "order_events"] == [("lists", "a")]


async def test_cursor_from_an_unknown_client_resets_but_only_once() -> None:
    server = MemoryServer()
    await seed(server, "a", "b", "c")
    stranger = "0190f5b2-0000-7000-8000-00000000abcd"
    cursor = (await server.pull(None, CLIENT)).cursor

    first = await server.pull(cursor, stranger, limit=2)
    second = await server.pull(first.cursor, stranger, limit=2)

    assert (first.reset, ids(first.changes), first.last_seq) == (True, ["a", "b"], 0)
    assert (second.reset, ids(second.changes)) == (False, ["c"])


async def test_device_that_never_pushes_can_page_through() -> None:
    server = MemoryServer()
    await seed(server, "a", "b", "c")
    reader = "0190f5b2-0000-7000-8000-00000000beef"

    first = await server.pull(None, reader, limit=1)
    second = await server.pull(first.cursor, reader, limit=1)

    assert (second.reset, ids(second.changes)) == (False, ["b"])


async def test_last_seq_is_the_callers_own() -> None:
    server = MemoryServer()
    other = "0190f5b2-0000-7000-8000-000000000002"
    await seed(server, "a", "b")
    await seed(server, "c", client_id=other)

    assert (await server.pull(None, CLIENT)).last_seq == 2
    assert (await server.pull(None, other)).last_seq == 1


async def test_cursor_of_the_last_page_moves_to_the_current_version_past_out_of_scope_changes() -> None:
    server = MemoryServer()
    await seed(server, "a")

    async with server.db.transaction() as tx:
        scoped = ScopedView(tx, hidden={"b", "c"})
        await seed_inside(tx, "b", "c")
        page = await build_pull(None, CLIENT, None, store=scoped, epoch="e1")

    assert ids(page.changes) == ["a"]
    assert page.cursor == "1.e1.3"  # versions 2 and 3 belong to someone else: no need to rescan them


async def test_cursor_of_a_page_with_more_stays_at_its_last_change() -> None:
    server = MemoryServer()
    await seed(server, "a", "b", "c")

    page = await server.pull(None, CLIENT, limit=1)

    assert page.cursor == "1.e1.1"


@pytest.mark.parametrize(("asked", "served"), [(None, 500), (5000, MAX_PULL_LIMIT), (1, 1)])
async def test_limit_defaults_and_is_capped(asked: int | None, served: int) -> None:
    server = MemoryServer()
    async with server.db.transaction() as tx:
        recorder = RecordingView(tx)
        await build_pull(None, CLIENT, asked, store=recorder, epoch="e1")
    assert recorder.limits == [served + 1]


@pytest.mark.parametrize(("client_id", "limit"), [(CLIENT, 0), ("not-a-uuid", 10), (CLIENT.upper(), 10)])
async def test_bad_pull_parameters_are_a_validation_error(client_id: str, limit: int) -> None:
    server = MemoryServer()
    with pytest.raises(ProtocolError) as caught:
        await server.pull(None, client_id, limit)
    assert caught.value.code == "validation_error"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [
                Change(table="t", id="1", op="delete", version=2),
                Change(table="t", id="2", op="delete", version=2),
            ],
            "strictly increasing versions",
        ),
        (
            [
                Change(table="t", id="1", op="delete", version=3),
                Change(table="t", id="2", op="delete", version=2),
            ],
            "strictly increasing versions",
        ),
        ([Change(table="t", id="1", op="delete", version=0)], "strictly increasing versions above 0"),
        (
            [
                Change(table="t", id="1", op="delete", version=1),
                Change(table="t", id="1", op="delete", version=2),
            ],
            "returned t/1 twice",
        ),
    ],
)
async def test_store_that_breaks_the_ordering_contract_is_caught(rows: list[Change], message: str) -> None:
    server = MemoryServer()
    async with server.db.transaction() as tx:
        with pytest.raises(StoreContractError, match=message):
            await build_pull(None, CLIENT, 10, store=FixedRows(tx, rows), epoch="e1")


def test_upsert_change_without_data_does_not_decode() -> None:
    with pytest.raises(msgspec.ValidationError, match="an upsert change needs `data`"):
        msgspec.json.decode(b'{"table":"t","id":"1","op":"upsert","version":1}', type=Change)


# --- store wrappers used above ----------------------------------------------------------------------


async def seed_inside(tx: MemoryTransaction, *names: str) -> None:
    for name in names:
        tx.put("lists", name, {"items": [name]})


class ScopedView(MemoryTransaction):
    """The memory store with some records outside the caller's scope (as the server's scoping does)."""

    def __init__(self, tx: MemoryTransaction, hidden: set[str]):
        super().__init__(tx.db, tx.state)
        self.hidden = hidden

    async def changes_after(self, version: int, limit: int) -> list[Change]:
        rows = await super().changes_after(version, 10**9)
        return [row for row in rows if row.id not in self.hidden][:limit]


class RecordingView(MemoryTransaction):
    def __init__(self, tx: MemoryTransaction):
        super().__init__(tx.db, tx.state)
        self.limits: list[int] = []

    async def changes_after(self, version: int, limit: int) -> list[Change]:
        self.limits.append(limit)
        return await super().changes_after(version, limit)


class FixedRows(MemoryTransaction):
    def __init__(self, tx: MemoryTransaction, rows: list[Change]):
        super().__init__(tx.db, tx.state)
        self.rows = rows

    async def changes_after(self, version: int, limit: int) -> list[Change]:
        return self.rows
