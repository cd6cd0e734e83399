"""The device stream (``GET /sync/events``, PROTOCOL.md §7a): "something changed for you" when a change
enters the caller's pull scope, in one process (SQLite and PostgreSQL) and across two processes on
PostgreSQL; Last-Event-ID on reconnect; the per-person bound; the end of the stream at sign-out.

Read from a real server (uvicorn in the test's loop), as the board's stream is (tests/test_board.py).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from server.app import create_app
from server.syncing import live
from tests.support.orders import create_order, post_order
from tests.support.world import PASSWORD
from tests.test_board import WAIT, http, serving

pytestmark = pytest.mark.anyio


class Events:
    def __init__(self, response: httpx.Response):
        self.response = response
        self.lines = response.aiter_lines()

    async def next(self) -> tuple[str | None, dict]:
        """The next event: (its id, its data); pings skipped."""
        event_id, ping = None, False
        with anyio.fail_after(WAIT):
            async for line in self.lines:
                if line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("event: "):
                    ping = line == "event: ping"
                elif line.startswith("data: ") and not ping:
                    return event_id, json.loads(line[6:])
                elif not line:
                    event_id, ping = None, False
        raise AssertionError("the stream ended")

    async def ended(self) -> None:
        with anyio.fail_after(WAIT):
            async for line in self.lines:
                assert not line.startswith("data: ") or line == "data: {}", line


@contextlib.asynccontextmanager
async def stream(h, key: str | None = None, **params) -> AsyncIterator[Events]:
    headers = await h.headers(key) if key else {}
    if "last_event_id" in params:
        headers["Last-Event-ID"] = str(params.pop("last_event_id"))
    async with h.client.stream("GET", "/sync/events", headers=headers, params=params) as r:
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-accel-buffering"] == "no"
        events = Events(r)
        event_id, hello = await events.next()
        assert hello["type"] == "hello" and event_id == str(hello["top"])  # subscribed from here on
        events.hello = hello
        yield events


async def pull_ids(h, key: str) -> set[str]:
    r = await h.client.get(
        "/sync/pull",
        params={"client_id": str(uuid.uuid4())},
        headers={**await h.headers(key), "Wuye-Protocol": "1", "Wuye-Request-Id": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text
    return {c["id"] for c in r.json()["changes"] if c["table"] == "orders" and c["op"] == "upsert"}


async def dispatch(h, oid: str, to: uuid.UUID) -> None:
    r = await h.post("desk", f"/api/orders/{oid}/actions/dispatch", json={"assignee_id": str(to)})
    assert r.status_code == 200, r.text


async def test_a_dispatch_wakes_the_assignees_stream_and_the_pull_brings_the_order(settings, clock, world):
    app = create_app(settings, clock=clock)
    async with serving(app) as base, http(base, world) as h:
        async with stream(h, "tech_a") as tech, stream(h, "other_steward") as outsider:
            oid = await create_order(h, world, description="水管漏水")  # enters the engineering queue
            event_id, changed = await tech.next()
            assert changed == {"type": "changed", "top": int(event_id)} and int(event_id) > tech.hello["top"]
            await dispatch(h, oid, world.id("tech_a"))
            second_id, _ = await tech.next()
            assert int(second_id) > int(event_id)
            assert oid in await pull_ids(h, "tech_a")

            # Another estate's steward heard none of it: the first thing they hear is their own estate.
            await post_order(
                h, world, "other_supervisor", "9栋1单元101", kind="repair", category="lift", description="电梯异响"
            )
            event_id, changed = await outsider.next()
            assert changed["type"] == "changed"
            assert oid not in await pull_ids(h, "other_steward")


async def test_a_reconnect_with_last_event_id_hears_what_came_meanwhile(settings, clock, world):
    app = create_app(settings, clock=clock)
    async with serving(app) as base, http(base, world) as h:
        async with stream(h, "tech_a", client_id="phone-1") as first:
            seen = first.hello["top"]
        oid = await create_order(h, world, description="水管漏水")
        await dispatch(h, oid, world.id("tech_a"))
        async with stream(h, "tech_a", client_id="phone-1", last_event_id=seen) as again:
            event_id, changed = await again.next()  # at once: the log moved while it was away
            assert changed["type"] == "changed" and int(event_id) == again.hello["top"] > seen
            up_to_date = again.hello["top"]
        async with stream(h, "tech_a", client_id="phone-1", last_event_id=up_to_date) as current:
            # Nothing new: the next event is the next change, not a repeat.
            r = await h.post("desk", f"/api/orders/{oid}/actions/cancel", json={"note": "业主自行修好"})
            assert r.status_code == 200, r.text
            event_id, _ = await current.next()
            assert int(event_id) > up_to_date


async def test_a_failed_change_wakes_nobody(settings, clock, world):
    app = create_app(settings, clock=clock)
    async with serving(app) as base, http(base, world) as h:
        oid = await create_order(h, world, description="水管漏水")
        await dispatch(h, oid, world.id("tech_a"))
        async with stream(h, "tech_a") as tech:
            r = await h.post("desk", f"/api/orders/{oid}/actions/complete", json={})
            assert r.status_code == 409  # rolled back: nothing to announce
            r = await h.post("tech_a", f"/api/orders/{oid}/actions/accept", json={})
            assert r.status_code == 200, r.text
            event_id, _ = await tech.next()
            assert oid in await pull_ids(h, "tech_a") and int(event_id) > tech.hello["top"]


async def test_streams_are_bounded_per_device_and_per_person(settings, clock, world):
    app = create_app(settings, clock=clock)
    async with serving(app) as base, http(base, world) as h:
        async with stream(h, "tech_a", client_id="phone-1") as old:
            async with stream(h, "tech_a", client_id="phone-1"):  # the same device again: replaces it
                assert (await old.next())[1] == {"type": "bye", "reason": "replaced"}
                await old.ended()
                assert live.streams_for(app.state.ctx).count(world.id("tech_a")) == 1
        async with contextlib.AsyncExitStack() as stack:
            oldest = await stack.enter_async_context(stream(h, "tech_a", client_id="tab-0"))
            for i in range(1, live.MAX_STREAMS_PER_PERSON):
                await stack.enter_async_context(stream(h, "tech_a", client_id=f"tab-{i}"))
            assert live.streams_for(app.state.ctx).count(world.id("tech_a")) == live.MAX_STREAMS_PER_PERSON
            await stack.enter_async_context(stream(h, "tech_a", client_id="tab-new"))
            assert (await oldest.next())[1] == {"type": "bye", "reason": "replaced"}
            assert live.streams_for(app.state.ctx).count(world.id("tech_a")) == live.MAX_STREAMS_PER_PERSON


async def test_the_stream_takes_a_device_ticket_and_ends_at_sign_out(settings, clock, world):
    app = create_app(settings, clock=clock)
    async with serving(app) as base, http(base, world) as h:
        assert (await h.client.get("/sync/events")).status_code == 401
        board_ticket = (await h.post("desk", "/api/board/ticket")).json()["ticket"]
        r = await h.client.get("/sync/events", params={"ticket": board_ticket})
        assert r.status_code == 401 and r.json()["code"] == "invalid_ticket"  # a board ticket is not one
        r = await h.post("tech_a", "/sync/ticket")
        assert r.status_code == 200, r.text
        ticket = r.json()["ticket"]
        async with stream(h, ticket=ticket, client_id="phone-1") as tech:
            assert (await h.post("tech_a", "/api/auth/logout")).status_code == 200
            assert (await tech.next())[1] == {"type": "bye", "reason": "signed_out"}
            await tech.ended()
        r = await h.client.get("/sync/events", params={"ticket": ticket})
        assert r.status_code == 401 and r.json()["code"] == "token_revoked"


@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_change_through_one_process_wakes_a_stream_on_another(settings, clock, world, backend):
    app_a, app_b = create_app(settings, clock=clock), create_app(settings, clock=clock)
    async with serving(app_a) as base_a, serving(app_b) as base_b, http(base_a, world) as a, http(base_b, world) as b:
        async with stream(b, "tech_b") as tech:
            oid = await create_order(a, world, description="水管爆裂", assignee_id=str(world.id("tech_b")))
            event_id, changed = await tech.next()
            assert changed["type"] == "changed" and int(event_id) > tech.hello["top"]
            assert oid in await pull_ids(b, "tech_b")


async def test_an_idle_stream_pings_so_proxies_keep_it_and_the_phone_can_tell_it_is_alive(
    settings, clock, world, monkeypatch
):
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.05)
    app = create_app(settings, clock=clock)
    async with serving(app) as base, http(base, world) as h:
        async with stream(h, "tech_a") as tech:
            with anyio.fail_after(WAIT):
                async for line in tech.lines:
                    if line == "event: ping":
                        break
            assert await tech.lines.__anext__() == "data: {}"
            assert tech.response.headers["cache-control"] == "no-cache, no-transform"


async def test_a_new_password_ends_every_stream_of_that_person(settings, clock, world):
    app = create_app(settings, clock=clock)
    async with serving(app) as base, http(base, world) as h:
        async with stream(h, "tech_a", client_id="phone-1") as tech, stream(h, "tech_b") as other:
            r = await h.post(
                "tech_a", "/api/auth/password", json={"old_password": PASSWORD, "new_password": "another-long-pass-1"}
            )
            assert r.status_code == 200, r.text
            assert (await tech.next())[1] == {"type": "bye", "reason": "signed_out"}
            await tech.ended()
            oid = await create_order(h, world, description="水管漏水")  # tech_b's stream carries on
            assert (await other.next())[1]["type"] == "changed" and oid
