"""The dispatch board: its columns, its live event stream (in one process and across two processes on
PostgreSQL), KPI drill-down and the steward scorecard.

The event stream is read from a real server (uvicorn on a free port, in the test's event loop):
Litestar's test client buffers whole responses, which an endless stream never finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator

import anyio
import asyncpg
import httpx
import pytest
import uvicorn

from server.app import create_app
from server.board.bus import RESYNC, Bus
from server.board.live import NOTIFY_LIMIT, chunks
from tests.support.databases import asyncpg_url
from tests.support.orders import create_order
from tests.support.world import PASSWORD

pytestmark = pytest.mark.anyio

WAIT = 20  # seconds a stream may stay silent before the test fails (a guard, not a timing claim)


# --- helpers ---------------------------------------------------------------------------------------------


async def act(api, key, oid, action, **body) -> dict:
    r = await api.post(key, f"/api/orders/{oid}/actions/{action}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


@contextlib.asynccontextmanager
async def serving(app) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on", timeout_graceful_shutdown=2)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped during start-up")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Http:
    """A real HTTP client for one served app, signed in per world staff key."""

    def __init__(self, client: httpx.AsyncClient, world):
        self.client, self.world, self.tokens = client, world, {}

    async def headers(self, key: str) -> dict[str, str]:
        if key not in self.tokens:
            r = await self.client.post("/api/auth/login", json={"phone": self.world.phone(key), "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.tokens[key] = r.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[key]}"}

    async def post(self, key: str, url: str, **kw):
        return await self.client.post(url, headers=await self.headers(key), **kw)


@contextlib.asynccontextmanager
async def http(base: str, world) -> AsyncIterator[Http]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        yield Http(client, world)


class Stream:
    def __init__(self, lines: AsyncIterator[str]):
        self.lines = lines

    async def next(self) -> dict:
        """The next data message (comments and blank lines skipped)."""
        with anyio.fail_after(WAIT):
            async for line in self.lines:
                if line.startswith("data: "):
                    return json.loads(line[len("data: ") :])
        raise AssertionError("the stream ended")


@contextlib.asynccontextmanager
async def events(client: httpx.AsyncClient, *, headers=None, params=None) -> AsyncIterator[Stream]:
    async with client.stream("GET", "/api/board/events", headers=headers or {}, params=params) as r:
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        stream = Stream(r.aiter_lines())
        assert (await stream.next())["type"] == "hello"  # from here on the subscription is live
        yield stream


# --- board columns ---------------------------------------------------------------------------------------


async def test_the_board_sorts_open_work_into_columns(api, world, clock):
    a = await create_order(api, world)  # new: contact due in 30 min
    b = await create_order(api, world, label="1栋1单元102")
    await act(api, "desk", b, "dispatch", department="engineering")  # in the department queue
    c = await create_order(api, world, label="2栋1单元101", assignee_id=str(world.id("tech_a")))
    d = await create_order(api, world, label="2栋1单元102", assignee_id=str(world.id("tech_b")))
    await act(api, "tech_b", d, "accept")
    e = await create_order(api, world, label="2栋1单元201", assignee_id=str(world.id("tech_b")))
    await act(api, "tech_b", e, "accept")
    await act(api, "tech_b", e, "pause", reason="parts_on_order")
    f = await create_order(api, world, label="1栋1单元201", kind="complaint", category="cleaning", description="楼道脏")
    g = await create_order(api, world)
    await act(api, "desk", g, "cancel", note="重复报修")
    clock.advance(minutes=20)  # f's 15-minute first contact has passed; a, b, c have 10 minutes left

    r = await api.get("desk", "/api/board")
    assert r.status_code == 200, r.text
    board = r.json()
    cols = board["columns"]
    ids = lambda cards: [card["id"] for card in cards]  # noqa: E731
    assert set(ids(cols["unassigned"])) == {a, b, f}
    lanes = {lane["assignee_name"]: ids(lane["orders"]) for lane in cols["in_progress"]}
    assert lanes == {"李师傅": [c], "王师傅": [d], "赵保洁": []}  # idle technicians get a lane too
    assert ids(cols["paused"]) == [e]
    assert ids(cols["overdue"]) == [f]
    assert set(ids(cols["due_soon"])) == {a, b, c}
    assert g not in {card["id"] for column in (cols["unassigned"], cols["paused"], cols["overdue"]) for card in column}
    assert board["counts"] == {"unassigned": 3, "in_progress": 2, "paused": 1, "overdue": 1, "due_soon": 3}
    [card] = [card for card in cols["overdue"]]
    assert card["sla"] == "overdue" and card["kind"] == "complaint" and card["household_label"] == "1栋1单元201"
    assert card["status"] == "new" and card["due_stage"] == "contact" and card["number"].startswith("CH-")
    [tech_b_lane] = [lane for lane in cols["in_progress"] if lane["assignee_name"] == "王师傅"]
    assert tech_b_lane["orders"][0]["sla"] == "ok" and tech_b_lane["orders"][0]["assignee_name"] == "王师傅"

    engineering = (await api.get("desk", "/api/board", params={"department": "engineering"})).json()
    assert set(ids(engineering["columns"]["unassigned"])) == {a, b}  # the complaint waits in the cleaning queue
    assert {lane["assignee_name"] for lane in engineering["columns"]["in_progress"]} == {"李师傅", "王师傅"}


async def test_the_board_is_for_estate_staff_of_that_estate(api, world):
    await create_order(api, world)
    for key in ("tech_a", "steward_a"):
        assert (await api.get(key, "/api/board")).status_code == 403
    other = (await api.get("other_supervisor", "/api/board")).json()
    assert other["counts"]["unassigned"] == 0 and other["estate_id"] == str(world.other_estate.id)
    assert (
        await api.get("other_supervisor", "/api/board", params={"estate_id": str(world.estate.id)})
    ).status_code == 404
    r = await api.get("admin", "/api/board")
    assert r.status_code == 422 and r.json()["code"] == "estate_required"
    r = await api.get("admin", "/api/board", params={"estate_id": str(world.estate.id)})
    assert r.status_code == 200 and r.json()["counts"]["unassigned"] == 1


# --- live events -----------------------------------------------------------------------------------------


async def test_a_committed_change_reaches_the_board_stream_of_the_same_app(settings, clock, world):
    app = create_app(settings, clock=clock)
    async with serving(app) as base, http(base, world) as h:
        async with events(h.client, headers=await h.headers("desk")) as stream:
            r = await h.post(
                "other_supervisor",
                "/api/orders/",
                json={
                    "kind": "repair",
                    "category": "lift",
                    "channel": "phone",
                    "description": "电梯异响",
                    "household_id": str(world.households["9栋1单元101"].id),
                },
            )
            assert r.status_code == 201  # another estate: never forwarded
            oid = await create_order(h, world, description="水管漏水")
            created = await stream.next()
            assert created == {
                "type": "order",
                "id": oid,
                "status": "new",
                "assignee_id": None,
                "version": created["version"],
            }
            r = await h.post(
                "desk", f"/api/orders/{oid}/actions/dispatch", json={"assignee_id": str(world.id("tech_a"))}
            )
            assert r.status_code == 200, r.text
            dispatched = await stream.next()
            assert (dispatched["id"], dispatched["status"], dispatched["assignee_id"]) == (
                oid,
                "dispatched",
                str(world.id("tech_a")),
            )
            assert dispatched["version"] > created["version"]
            r = await h.post("tech_a", f"/api/orders/{oid}/actions/accept", json={})
            assert (await stream.next())["status"] == "accepted"


async def _push(h: Http, key: str, client_id: str, mutations: list[dict]) -> list[dict]:
    r = await h.client.post(
        "/sync/push",
        json={"client_id": client_id, "client_time": "2026-11-22T08:00:00+00:00", "mutations": mutations},
        headers={**await h.headers(key), "Wuye-Protocol": "1", "Wuye-Request-Id": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _mutation(seq: int, name: str, **args) -> dict:
    return {"seq": seq, "id": str(uuid.uuid4()), "name": name, "args": args, "client_time": "2026-11-22T08:00:00Z"}


def _step(seq: int, oid: str, note: str) -> dict:
    return _mutation(seq, "step.add", id=str(uuid.uuid4()), order_id=oid, note=note, captured_at="2026-11-22T08:00:00Z")


async def test_steps_pushed_from_a_phone_reach_the_board_with_the_order_as_committed(settings, clock, world):
    """A push's steps write their orders without the ORM (server/orders/rows.py): the board still hears
    of each order once per push, at its last version, also when a transition follows the steps."""
    app = create_app(settings, clock=clock)
    async with serving(app) as base, http(base, world) as h:
        first = await create_order(h, world, description="水管漏水")
        second = await create_order(h, world, label="1栋1单元102", description="灯不亮")
        for oid in (first, second):
            r = await h.post(
                "desk", f"/api/orders/{oid}/actions/dispatch", json={"assignee_id": str(world.id("tech_a"))}
            )
            assert r.status_code == 200, r.text
        phone = str(uuid.uuid4())
        accepted = [_mutation(1, "order.accept", order_id=first), _mutation(2, "order.accept", order_id=second)]
        assert [x["status"] for x in await _push(h, "tech_a", phone, accepted)] == ["applied"] * 2
        async with events(h.client, headers=await h.headers("desk")) as stream:
            steps = [_step(3, first, "关阀"), _step(4, second, "换灯泡"), _step(5, first, "换弯头")]
            assert [x["status"] for x in await _push(h, "tech_a", phone, steps)] == ["applied"] * 3
            got = {m["id"]: m for m in [await stream.next(), await stream.next()]}
            # create, dispatch and accept are the first three records of each chain
            assert got == {
                first: {"type": "order", "id": first, "status": "accepted", "assignee_id": str(world.id("tech_a")),
                        "version": 5},
                second: {"type": "order", "id": second, "status": "accepted", "assignee_id": str(world.id("tech_a")),
                         "version": 4},
            }  # fmt: skip

            # Steps, then a transition of the same order in the same push: one message, the last state.
            mixed = [_step(6, first, "试水"), _mutation(7, "order.pause", order_id=first, reason="parts_on_order")]
            assert [x["status"] for x in await _push(h, "tech_a", phone, mixed)] == ["applied"] * 2
            paused = await stream.next()
            assert (paused["id"], paused["status"], paused["version"]) == (first, "paused", 7)
            r = await h.post("desk", f"/api/orders/{second}/actions/cancel", json={"note": "业主自行修好"})
            assert r.status_code == 200
            assert (await stream.next())["id"] == second  # nothing else came between


async def test_a_failed_change_sends_nothing(settings, clock, world):
    app = create_app(settings, clock=clock)
    async with serving(app) as base, http(base, world) as h:
        oid = await create_order(h, world, description="水管漏水")
        async with events(h.client, headers=await h.headers("supervisor")) as stream:
            r = await h.post("desk", f"/api/orders/{oid}/actions/complete", json={})
            assert r.status_code == 409  # rolled back: no event
            r = await h.post("desk", f"/api/orders/{oid}/actions/cancel", json={"note": "业主自行修好"})
            assert r.status_code == 200
            assert (await stream.next())["status"] == "cancelled"


@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_change_through_one_process_reaches_the_stream_of_another(settings, clock, world, backend):
    app_a, app_b = create_app(settings, clock=clock), create_app(settings, clock=clock)
    async with serving(app_a) as base_a, serving(app_b) as base_b, http(base_a, world) as a, http(base_b, world) as b:
        async with events(b.client, headers=await b.headers("desk")) as stream:
            r = await a.post(
                "desk",
                "/api/orders/",
                json={
                    "kind": "emergency",
                    "category": "water_electric",
                    "channel": "phone",
                    "description": "水管爆裂",
                    "household_id": str(world.households["2栋1单元201"].id),
                    "assignee_id": str(world.id("tech_b")),
                },
            )
            assert r.status_code == 201, r.text
            oid = r.json()["order"]["id"]
            # created and dispatched in one transaction: one notice, the order as committed
            assert await stream.next() == {
                "type": "order",
                "id": oid,
                "status": "dispatched",
                "assignee_id": str(world.id("tech_b")),
                "version": 2,
            }

            # The LISTEN connection dies (a restarted PgBouncer, a failover): the stream says "resync",
            # reconnects, and carries on.
            conn = await asyncpg.connect(asyncpg_url(settings.database_url.rsplit("/", 1)[1]))
            try:
                killed = await conn.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'wuye_board_listener' AND datname = current_database()"
                )
            finally:
                await conn.close()
            assert killed == 1  # app B's; app A has no open stream, so it does not listen
            assert await stream.next() == RESYNC
            r = await a.post("tech_b", f"/api/orders/{oid}/actions/accept", json={})
            assert r.status_code == 200
            assert (await stream.next())["status"] == "accepted"


async def test_the_stream_needs_a_board_role_and_accepts_a_short_ticket(settings, clock, world, api):
    assert (await api.client.get("/api/board/events")).status_code == 401
    r = await api.get("tech_a", "/api/board/events")
    assert r.status_code == 403
    r = await api.client.get("/api/board/events", params={"ticket": "forged.123.abc"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_ticket"
    ticket = (await api.post("desk", "/api/board/ticket")).json()["ticket"]
    clock.advance(seconds=61)
    r = await api.client.get("/api/board/events", params={"ticket": ticket})
    assert r.status_code == 401 and r.json()["code"] == "ticket_expired"

    app = create_app(settings, clock=clock)
    async with serving(app) as base, http(base, world) as h:
        r = await h.post("desk", "/api/board/ticket")
        assert r.status_code == 200
        async with events(h.client, params={"ticket": r.json()["ticket"]}):
            pass
        r2 = await h.post("desk", "/api/auth/logout")
        assert r2.status_code == 200
        r3 = await h.client.get("/api/board/events", params={"ticket": r.json()["ticket"]})
        assert r3.status_code == 401 and r3.json()["code"] == "token_revoked"


# --- the pieces ------------------------------------------------------------------------------------------


def test_notices_are_split_under_the_postgresql_payload_limit():
    messages = [
        {
            "type": "order",
            "id": f"{i:036d}",
            "status": "dispatched",
            "assignee_id": None,
            "version": i,
            "estate_id": "e" * 36,
        }
        for i in range(300)
    ]
    parts = chunks(messages)
    assert len(parts) > 1 and all(len(p.encode()) <= NOTIFY_LIMIT for p in parts)
    assert [m for p in parts for m in json.loads(p)] == messages
    assert chunks([]) == []


async def test_a_subscriber_that_falls_behind_is_told_to_resync():
    bus = Bus(maxsize=3)
    slow, fast = bus.subscribe(), bus.subscribe()
    for i in range(5):
        bus.publish({"type": "order", "version": i})
    assert [(await fast.next(0))["version"] for _ in range(3)] == [0, 1, 2]
    assert [(await slow.next(0))["version"] for _ in range(3)] == [0, 1, 2]
    assert await slow.next(0) == RESYNC
    assert await slow.next(0) is None  # nothing more, and the timeout is not an error
    bus.publish({"type": "order", "version": 9})
    assert (await slow.next(0))["version"] == 9
    bus.unsubscribe(slow)
    assert bus.subscribers == 1


# --- KPI drill-down --------------------------------------------------------------------------------------


async def kpi_order(api, world, clock, kind, category, room, accept_after, complete_after=None) -> str:
    oid = await create_order(
        api,
        world,
        label=f"1栋1单元{room}",
        kind=kind,
        category=category,
        description="测试工单",
        assignee_id=str(world.id("tech_a")),
    )
    clock.advance(minutes=accept_after)
    await act(api, "tech_a", oid, "accept")
    if complete_after is not None:
        clock.advance(minutes=complete_after)
        await act(api, "tech_a", oid, "complete")
    return oid


@pytest.fixture
async def month(api, world, clock) -> dict[str, str]:
    """Six orders with known outcomes (the fixture of test_kpi.py): late, repeat, unrated, uncalled…"""
    o = {
        "c1": await kpi_order(api, world, clock, "complaint", "noise", "101", 10, 50),
        "c2": await kpi_order(api, world, clock, "complaint", "cleaning", "101", 20, 100),  # contact 5 min late
        "c3": await kpi_order(api, world, clock, "complaint", "noise", "101", 1, 29),  # repeat of c1
        "r1": await kpi_order(api, world, clock, "repair", "water_electric", "102", 30, 90),
        "r2": await kpi_order(api, world, clock, "repair", "water_electric", "201", 5, 55),
        "c4": await kpi_order(api, world, clock, "complaint", "parking", "102", 5),  # left open past 48 h
    }
    for key, level in (("c1", "very_satisfied"), ("r1", "satisfied"), ("r2", "unsatisfied")):
        assert (await api.post("desk", f"/api/orders/{o[key]}/rating", json={"level": level})).status_code == 201
    for key in ("c1", "r1"):
        r = await api.post("desk", f"/api/orders/{o[key]}/callbacks", json={"result": "reached_satisfied"})
        assert r.status_code == 201
    clock.advance(hours=49)
    api.sign_out_all()
    return o


PARAMS = {"period": "month", "date": "2026-11-22"}


async def drill(api, metric, outcome="bad", key="supervisor", **params) -> dict:
    r = await api.get(key, "/api/kpi/orders", params={**PARAMS, "metric": metric, "outcome": outcome, **params})
    assert r.status_code == 200, r.text
    return r.json()


async def test_bad_outcome_counts_are_what_the_kpi_ratios_imply(api, world, month):
    k = (await api.get("supervisor", "/api/kpi/", params=PARAMS)).json()["current"]

    def implied_bad(ratio: float, whole: int) -> int:
        return whole - round(ratio * whole)

    expected = {
        "complaint_timeliness": (
            implied_bad(k["complaint_timeliness"], k["complaints_judged"]),
            k["complaints_judged"],
        ),
        "repeat_complaint_rate": (round(k["repeat_complaint_rate"] * k["complaints"]), k["complaints"]),
        "satisfaction": (implied_bad(k["satisfaction"], k["ratings"]), k["ratings"]),
        "callback_rate": (implied_bad(k["callback_rate"], k["callbacks_due"]), k["callbacks_due"]),
        "response": (None, k["response"]["count"]),
        "resolution": (None, k["resolution"]["count"]),
        "volume": (None, k["orders"]),
    }
    for metric, (bad, whole) in expected.items():
        everything = await drill(api, metric, "all")
        assert everything["count"] == whole == len(everything["orders"]), metric
        if bad is not None:
            found = await drill(api, metric)
            assert found["count"] == bad == len(found["orders"]), metric
            assert {o["id"] for o in found["orders"]} <= {o["id"] for o in everything["orders"]}, metric


async def test_drill_down_names_the_orders_behind_each_figure(api, world, month):
    late = await drill(api, "complaint_timeliness")
    assert {o["id"] for o in late["orders"]} == {month["c2"], month["c4"]}
    assert [o["id"] for o in (await drill(api, "repeat_complaint_rate"))["orders"]] == [month["c3"]]
    [unhappy] = (await drill(api, "satisfaction"))["orders"]
    assert unhappy["id"] == month["r2"] and unhappy["rating"] == "unsatisfied"
    uncalled = {o["id"] for o in (await drill(api, "callback_rate"))["orders"]}
    assert uncalled == {month["c2"], month["c3"], month["r2"]}
    slow = (await drill(api, "response"))["orders"]
    assert [(o["id"], o["response_min"]) for o in slow] == [(month["c2"], 20.0)]
    volume = await drill(api, "volume", "all", kind="complaint")
    assert volume["count"] == 4 and volume["period"] == "month" and volume["truncated"] is False
    assert (await drill(api, "volume", "all", limit=2))["truncated"] is True


async def test_drill_down_keeps_the_kpi_scope_rules(api, world, month):
    assert (await api.get("tech_a", "/api/kpi/orders", params={"metric": "volume"})).status_code == 403
    r = await api.get(
        "other_supervisor", "/api/kpi/orders", params={"metric": "volume", "estate_id": str(world.estate.id)}
    )
    assert r.status_code == 404
    mine = await drill(api, "volume", "all", key="steward_a", grid_id=str(world.grids[0].id))
    assert mine["count"] == 7
    r = await api.get("steward_a", "/api/kpi/orders", params={"metric": "volume", "grid_id": str(world.grids[1].id)})
    assert r.status_code == 404
    assert (await api.get("supervisor", "/api/kpi/orders", params={"metric": "happiness"})).status_code == 400
    assert (await drill(api, "volume", "all", date="2026-10-15"))["count"] == 0


# --- steward scorecard -----------------------------------------------------------------------------------


async def test_the_scorecard_sums_up_a_stewards_month(api, world, clock, month):
    steward = world.id("steward_a")
    r = await api.post("steward_a", f"/api/orders/{month['r2']}/callbacks", json={"result": "reached_unsatisfied"})
    assert r.status_code == 201, r.text
    follow_ups = (await api.get("steward_a", "/api/orders/", params={"assignee_id": str(steward)})).json()
    [follow_up] = [o for o in follow_ups if o["follow_up_of_id"] == month["r2"]]
    # A callback order is finished by the call's result (no accept / complete: it is not a visit).
    r = await api.post("steward_a", f"/api/orders/{follow_up['id']}/callbacks", json={"result": "reached_satisfied"})
    assert r.status_code == 201, r.text

    r = await api.get("supervisor", f"/api/stewards/{steward}/scorecard", params={"month": "2026-11"})
    assert r.status_code == 200, r.text
    card = r.json()
    k = (await api.get("supervisor", "/api/kpi/", params={**PARAMS, "grid_id": str(world.grids[0].id)})).json()
    k = k["current"]
    assert card["grids"] == [{"id": str(world.grids[0].id), "name": "东区", "households": 3}]
    for name in (
        "complaints",
        "complaints_judged",
        "complaint_timeliness",
        "repeat_complaint_rate",
        "ratings",
        "satisfaction",
        "callbacks_due",
        "callback_rate",
    ):
        assert card[name] == k[name], name
    # 7 orders, and the 返修 her 已联系·不满意 on r2 opened.
    assert card["orders_raised"] == k["orders"] == 8 and card["by_kind"] == k["by_kind"]
    assert card["repeat_complaints"] == 1 and card["satisfied_ratings"] == 2
    assert (
        card["callbacks_done"],
        card["follow_ups_assigned"],
        card["follow_ups_handled"],
        card["follow_ups_open"],
    ) == (2, 1, 1, 0)
    assert card["month"] == "2026-11" and card["steward"]["name"] == "张管家"
    assert card["walks"]["walks"] == 0 and card["walks"]["checkpoints_on_time"] == 0  # no walk in this test
    assert (await api.get("steward_a", f"/api/stewards/{steward}/scorecard", params={"month": "2026-11"})).json()[
        "callbacks_done"
    ] == 2
    quiet = (
        await api.get("supervisor", f"/api/stewards/{world.id('steward_b')}/scorecard", params={"month": "2026-11"})
    ).json()
    assert (quiet["orders_raised"], quiet["complaints"], quiet["satisfaction"], quiet["callbacks_done"]) == (
        0,
        0,
        None,
        0,
    )
    october = (await api.get("supervisor", f"/api/stewards/{steward}/scorecard", params={"month": "2026-10"})).json()
    assert october["orders_raised"] == 0 and october["start"].startswith("2026-09-30T16:00")


async def test_a_scorecard_is_seen_by_its_steward_and_her_reviewers_only(api, world):
    url = f"/api/stewards/{world.id('steward_a')}/scorecard"
    for key in ("steward_a", "supervisor", "lead", "admin"):
        assert (await api.get(key, url)).status_code == 200, key
    for key in ("steward_b", "desk", "tech_a", "other_supervisor"):
        assert (await api.get(key, url)).status_code == 404, key
    assert (await api.get("supervisor", f"/api/stewards/{world.id('tech_a')}/scorecard")).status_code == 404
    r = await api.get("supervisor", url, params={"month": "2026-13"})
    assert r.status_code == 400


async def test_the_scorecards_walk_figures_count_only_the_checkpoint_slots_already_due(api, world, clock):
    clock.advance(days=2)  # two days into the checkpoints' life; the rest of November is still to come
    r = await api.get("supervisor", f"/api/stewards/{world.id('steward_a')}/scorecard", params={"month": "2026-11"})
    assert r.status_code == 200, r.text
    walks = r.json()["walks"]
    due = walks["checkpoints_on_time"] + walks["checkpoints_late"] + walks["checkpoints_missed"]
    assert walks["checkpoint_slots"] == due > 0  # not the whole month's slots
    assert walks["checkpoints_pending"] > due  # most of the month is ahead: pending, not a failure
    assert walks["checkpoints_on_time_rate"] == 0.0  # no walk yet: every slot due was missed
