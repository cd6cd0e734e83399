"""The sync protocol end to end: the reference client against the real endpoints and database."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text

from server.orders.models import Order, OrderEvent, Step
from server.photos.models import Blob
from sync.client import SyncClient
from tests.support.camera_jpegs import camera_jpeg

pytestmark = pytest.mark.anyio


async def phone(api, key, tmp_path, name=None, now=None) -> SyncClient:
    token = await api.token(key)
    return SyncClient(
        "http://testserver.local",
        db_path=str(tmp_path / f"{name or key}.sqlite3"),
        token=token,
        transport=api.client,
        now=now,
    )


async def new_order(api, world, assignee="tech_a", kind="repair") -> str:
    r = await api.post(
        "desk",
        "/api/orders/",
        json={
            "kind": kind,
            "category": "water_electric",
            "channel": "phone",
            "description": "卫生间漏水",
            "household_id": str(world.households["1栋1单元101"].id),
            "assignee_id": str(world.id(assignee)),
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["order"]["id"]


async def count(database, model, **where) -> int:
    async with database.reader() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return await s.scalar(stmt)


async def test_an_offline_shift_arrives_once_with_every_photo(api, world, database, tmp_path):
    oid = await new_order(api, world)
    tech = await phone(api, "tech_a", tmp_path)
    await tech.pull()
    assert tech.row("orders", oid)["status"] == "dispatched"
    # offline: everything goes to the outbox
    tech.enqueue("order.accept", {"order_id": oid})
    tech.enqueue("order.depart", {"order_id": oid})
    tech.enqueue("order.arrive", {"order_id": oid})
    shas = []
    for i, note in enumerate(["检测漏点", "更换弯头", "测试完毕"]):
        sha = tech.add_photo(camera_jpeg((640, 480), 1 + i))
        shas.append(sha)
        tech.enqueue(
            "step.add",
            {
                "id": str(uuid.uuid4()),
                "order_id": oid,
                "note": note,
                "photos": [sha],
                "captured_at": "2026-11-22T10:40:00+08:00",
                "materials": [{"name": "弯头", "quantity": 1, "unit": "个"}],
            },
        )
    tech.enqueue("order.complete", {"order_id": oid})
    report = await tech.sync()
    assert tech.pending() == [] and tech.rejected() == []
    assert await count(database, Step, order_id=uuid.UUID(oid)) == 3
    events = await count(database, OrderEvent, order_id=uuid.UUID(oid))
    assert events == 6  # create, dispatch, accept, depart, arrive, complete
    async with database.reader() as s:
        stored = set((await s.scalars(select(Blob.sha256))).all())
    assert set(shas) <= stored
    blobs = api.client.app.state.ctx.services["blobs"]
    for sha in shas:
        assert hashlib.sha256(blobs.path(sha).read_bytes()).hexdigest() == sha
    # a second sync sends nothing and changes nothing
    await tech.sync()
    assert await count(database, OrderEvent, order_id=uuid.UUID(oid)) == events
    assert tech.row("orders", oid)["status"] == "completed"
    assert all(p["uploaded"] for s in tech.rows("steps").values() for p in s["photos"])
    assert report is not None


async def test_resent_batch_is_acknowledged_not_reapplied(api, world, database, tmp_path):
    oid = await new_order(api, world)
    token = await api.token("tech_a")
    headers = {"Authorization": f"Bearer {token}", "Wuye-Protocol": "1"}
    client_id = str(uuid.uuid4())
    body = {
        "client_id": client_id,
        "client_time": "2026-11-22T08:00:00+00:00",
        "mutations": [
            {
                "seq": 1,
                "id": str(uuid.uuid4()),
                "name": "order.accept",
                "args": {"order_id": oid},
                "client_time": "2026-11-22T08:00:00+00:00",
            }
        ],
    }
    first = await api.client.post("/sync/push", json=body, headers={**headers, "Wuye-Request-Id": str(uuid.uuid4())})
    rid = str(uuid.uuid4())
    again = await api.client.post("/sync/push", json=body, headers={**headers, "Wuye-Request-Id": rid})
    assert first.json()["results"][0]["status"] == "applied"
    assert again.status_code == 200 and again.json()["results"][0]["status"] == "duplicate"
    assert again.json()["request_id"] == rid and again.headers["wuye-request-id"] == rid
    async with database.reader() as s:
        accepts = await s.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.action == "accept"))
    assert accepts == 1


async def _raw_push(api, key, client_id, mutations, client_time="2026-11-22T08:00:00+00:00"):
    token = await api.token(key)
    return await api.client.post(
        "/sync/push",
        json={"client_id": client_id, "client_time": client_time, "mutations": mutations},
        headers={"Authorization": f"Bearer {token}", "Wuye-Protocol": "1", "Wuye-Request-Id": str(uuid.uuid4())},
    )


def m(seq, name, args, t="2026-11-22T08:00:00+00:00", mid=None):
    return {"seq": seq, "id": mid or str(uuid.uuid4()), "name": name, "args": args, "client_time": t}


async def test_a_gap_is_refused_with_the_expected_seq_and_nothing_applied(api, world, database):
    oid = await new_order(api, world)
    cid = str(uuid.uuid4())
    r = await _raw_push(api, "tech_a", cid, [m(2, "order.accept", {"order_id": oid})])
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "seq_gap" and r.json()["details"] == {"expected_seq": 1}
    assert await count(database, OrderEvent, action="accept") == 0


async def test_a_permanently_invalid_mutation_does_not_block_the_queue(api, world, database):
    oid = await new_order(api, world)
    cid = str(uuid.uuid4())
    r = await _raw_push(
        api,
        "tech_a",
        cid,
        [
            m(1, "order.accept", {"order_id": oid}),
            m(2, "order.arrive", {"order_id": oid}),  # illegal: has not departed
            m(3, "order.depart", {"order_id": oid, "bogus": 1}),  # unknown field
            m(4, "order.teleport", {"order_id": oid}),  # unknown mutation
            m(5, "order.depart", {"order_id": oid}),
        ],
    )
    assert r.status_code == 200
    res = r.json()["results"]
    assert [x["status"] for x in res] == ["applied", "rejected", "rejected", "rejected", "applied"], res
    assert [x.get("code") for x in res] == [None, "illegal_transition", "validation_error", "unknown_mutation", None]
    assert r.json()["last_seq"] == 5
    assert await count(database, OrderEvent, action="depart") == 1


async def test_the_same_mutation_id_with_different_content_is_refused(api, world, database):
    oid = await new_order(api, world)
    cid = str(uuid.uuid4())
    mid = str(uuid.uuid4())
    await _raw_push(api, "tech_a", cid, [m(1, "order.accept", {"order_id": oid}, mid=mid)])
    r = await _raw_push(api, "tech_a", cid, [m(2, "order.depart", {"order_id": oid}, mid=mid)])
    assert r.json()["results"][0]["status"] == "rejected"
    assert r.json()["results"][0]["code"] == "mutation_conflict"
    assert await count(database, OrderEvent, action="depart") == 0


@pytest.mark.parametrize("hours", [24, -24])
async def test_a_device_clock_a_day_off_is_flagged_and_never_drives_deadlines(api, world, database, clock, hours):
    oid = await new_order(api, world)
    device_time = (clock.now() + timedelta(hours=hours)).isoformat()
    r = await _raw_push(
        api,
        "tech_a",
        str(uuid.uuid4()),
        [m(1, "order.accept", {"order_id": oid}, t=device_time)],
        client_time=device_time,
    )
    assert r.json()["results"][0]["status"] == "applied"
    async with database.reader() as s:
        ev = await s.scalar(select(OrderEvent).where(OrderEvent.action == "accept"))
    assert ev.skew_flag is True
    assert ev.server_time == clock.now()
    assert abs(ev.clock_offset_ms + hours * 3600_000) < 1000


async def test_reassigned_away_and_back_leaves_and_reenters_the_phone(api, world, tmp_path):
    oid = await new_order(api, world)
    tech = await phone(api, "tech_a", tmp_path)
    tech.enqueue("order.accept", {"order_id": oid})
    tech.enqueue(
        "step.add",
        {"id": str(uuid.uuid4()), "order_id": oid, "note": "先看一下", "captured_at": "2026-11-22T08:00:00+00:00"},
    )
    await tech.sync()
    assert len(tech.rows("steps")) == 1
    r = await api.post("lead", f"/api/orders/{oid}/actions/reassign", json={"assignee_id": str(world.id("tech_b"))})
    assert r.status_code == 200
    await tech.pull()
    assert tech.row("orders", oid) is None
    other = await phone(api, "tech_b", tmp_path)
    await other.pull()
    assert other.row("orders", oid)["assignee_id"] == str(world.id("tech_b"))
    assert [s["note"] for s in other.rows("steps").values()] == ["先看一下"]  # history enters with the order
    await api.post("lead", f"/api/orders/{oid}/actions/reassign", json={"assignee_id": str(world.id("tech_a"))})
    await tech.pull()
    assert tech.row("orders", oid)["status"] == "dispatched"


async def test_a_mutation_rejected_after_reassignment_is_kept_for_the_user(api, world, tmp_path):
    oid = await new_order(api, world)
    tech = await phone(api, "tech_a", tmp_path)
    await tech.pull()
    tech.enqueue("order.accept", {"order_id": oid})  # offline, meanwhile the desk reassigns
    await api.post("lead", f"/api/orders/{oid}/actions/reassign", json={"assignee_id": str(world.id("tech_b"))})
    await tech.sync()
    [rej] = tech.rejected()
    assert rej.code == "not_found" and rej.name == "order.accept"
    assert tech.pending() == []


async def test_an_outdated_client_gets_426(api, world):
    token = await api.token("tech_a")
    r = await api.client.get(
        "/sync/pull",
        params={"client_id": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {token}", "Wuye-Protocol": "0", "Wuye-Request-Id": str(uuid.uuid4())},
    )
    assert r.status_code == 426 and r.json()["code"] == "client_outdated"


async def test_unknown_client_with_a_cursor_gets_a_reset(api, world, tmp_path):
    await new_order(api, world)
    tech = await phone(api, "tech_a", tmp_path)
    await tech.pull()
    token = await api.token("tech_a")
    r = await api.client.get(
        "/sync/pull",
        params={"client_id": str(uuid.uuid4()), "cursor": tech.cursor},
        headers={"Authorization": f"Bearer {token}", "Wuye-Protocol": "1", "Wuye-Request-Id": str(uuid.uuid4())},
    )
    assert r.status_code == 200 and r.json()["reset"] is True
    assert any(c["table"] == "orders" for c in r.json()["changes"])


async def test_a_cursor_below_the_tombstone_horizon_resets(api, world, database, tmp_path):
    from sqlalchemy import update

    from server.syncing.models import SyncClock

    await new_order(api, world)
    tech = await phone(api, "tech_a", tmp_path)
    await tech.pull()
    old_cursor = tech.cursor
    await new_order(api, world)
    async with database.writer() as s:
        await s.execute(update(SyncClock).values(horizon=10**9))
        await s.commit()
    token = await api.token("tech_a")
    r = await api.client.get(
        "/sync/pull",
        params={"client_id": tech.client_id, "cursor": old_cursor},
        headers={"Authorization": f"Bearer {token}", "Wuye-Protocol": "1", "Wuye-Request-Id": str(uuid.uuid4())},
    )
    assert r.json()["reset"] is True


async def test_identical_photos_are_stored_once(api, world, database, tmp_path):
    oid = await new_order(api, world)
    tech = await phone(api, "tech_a", tmp_path)
    data = camera_jpeg((320, 240), 1)
    sha = tech.add_photo(data)
    tech.enqueue("order.accept", {"order_id": oid})
    for note in ("前", "后"):
        tech.enqueue(
            "step.add",
            {
                "id": str(uuid.uuid4()),
                "order_id": oid,
                "note": note,
                "photos": [sha, sha],
                "captured_at": "2026-11-22T08:00:00+00:00",
            },
        )
    await tech.sync()
    assert await count(database, Blob) == 1
    blobs = api.client.app.state.ctx.services["blobs"]
    assert len(list((blobs.root / "blobs").rglob("*"))) - len(list((blobs.root / "blobs").rglob("*/"))) >= 1


async def test_pull_is_scoped_a_technician_never_sees_other_peoples_orders(api, world, tmp_path):
    mine = await new_order(api, world, "tech_a")
    theirs = await new_order(api, world, "tech_b")
    tech = await phone(api, "tech_a", tmp_path)
    await tech.pull()
    assert mine in tech.rows("orders") and theirs not in tech.rows("orders")
    assert all(e["order_id"] == mine for e in tech.rows("order_events").values())


async def test_concurrent_writers_never_make_a_puller_skip_a_change(api, world, database, tmp_path):
    """Many pushes commit concurrently while a desk device pulls in a loop; at the end its replica
    holds every order event exactly as the server does."""
    orders = [await new_order(api, world, "tech_a") for _ in range(6)]
    desk = await phone(api, "desk", tmp_path, name="desk-device")
    phones = [await phone(api, "tech_a", tmp_path, name=f"p{i}") for i in range(3)]
    for i, oid in enumerate(orders):
        p = phones[i % 3]
        p.enqueue("order.accept", {"order_id": oid})
        p.enqueue("order.depart", {"order_id": oid})
        p.enqueue("order.arrive", {"order_id": oid})
        for n in range(3):
            p.enqueue(
                "step.add",
                {
                    "id": str(uuid.uuid4()),
                    "order_id": oid,
                    "note": f"步骤{n}",
                    "captured_at": "2026-11-22T08:00:00+00:00",
                },
            )

    async def puller():
        for _ in range(20):
            await desk.pull(limit=7)
            await asyncio.sleep(0)

    await asyncio.gather(puller(), *[p.push(batch_size=2) for p in phones], *[p.push(batch_size=2) for p in phones])
    for p in phones:
        await p.sync()
    await desk.pull()
    async with database.reader() as s:
        server_events = {str(i) for i in (await s.scalars(select(OrderEvent.id))).all()}
        server_steps = {str(i) for i in (await s.scalars(select(Step.id))).all()}
    assert set(desk.rows("order_events")) == server_events
    assert set(desk.rows("steps")) == server_steps


async def test_error_answers_echo_the_request_id(api, world):
    token = await api.token("tech_a")
    rid = str(uuid.uuid4())
    r = await api.client.put(
        "/sync/blobs/" + "a" * 64,
        params={"offset": 5},
        content=b"x",
        headers={"Authorization": f"Bearer {token}", "Wuye-Protocol": "1", "Wuye-Request-Id": rid},
    )
    assert r.status_code == 409 and r.json()["code"] == "wrong_offset" and r.json()["details"] == {"offset": 0}
    assert r.headers["wuye-request-id"] == rid


async def test_photo_upload_rejects_non_images_and_bad_hashes(api, world):
    token = await api.token("tech_a")
    h = {"Authorization": f"Bearer {token}", "Wuye-Protocol": "1", "Wuye-Request-Id": str(uuid.uuid4())}
    data = b"%PDF-1.4 definitely not a photo"
    sha = hashlib.sha256(data).hexdigest()
    assert (
        await api.client.put(f"/sync/blobs/{sha}", params={"offset": 0}, content=data, headers=h)
    ).status_code == 200
    r = await api.client.post(f"/sync/blobs/{sha}/finish", headers=h)
    assert r.status_code == 415 and r.json()["code"] == "not_an_image"
    photo = camera_jpeg((64, 48), 1)
    wrong = "0" * 64
    await api.client.put(f"/sync/blobs/{wrong}", params={"offset": 0}, content=photo, headers=h)
    r = await api.client.post(f"/sync/blobs/{wrong}/finish", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "hash_mismatch"
    r = await api.client.get(f"/sync/blobs/{wrong}", headers=h)
    assert r.json()["complete"] is False and r.json()["offset"] == 0  # partial data discarded


async def test_compacting_the_change_log_loses_nothing_for_old_or_fresh_devices(api, world, database, tmp_path):
    from sqlalchemy import func

    from server.syncing.changelog import compact
    from server.syncing.models import SyncChange

    oid = await new_order(api, world)
    tech = await phone(api, "tech_a", tmp_path)
    await tech.pull()
    tech.enqueue("order.accept", {"order_id": oid})  # pending while the server compacts
    others = [await new_order(api, world) for _ in range(3)]
    for o in others:  # several changes per order, so there is something to compact
        await api.post("lead", f"/api/orders/{o}/eta", json={"eta": "2026-11-22T12:00:00+00:00"})
    async with database.writer() as s:
        before = await s.scalar(select(func.count()).select_from(SyncChange))
        dropped = await compact(s, keep_recent=0)
        await s.commit()
    assert 0 < dropped < before
    await tech.sync()
    assert tech.pending() == [] and tech.row("orders", oid)["status"] == "accepted"
    assert set(tech.rows("orders")) == {oid, *others}
    fresh = await phone(api, "tech_a", tmp_path, name="fresh")
    await fresh.pull()
    assert set(fresh.rows("orders")) == {oid, *others}
    assert {e["action"] for e in fresh.rows("order_events").values()} >= {"create", "dispatch", "accept", "set_eta"}


async def test_compaction_keeps_each_audiences_latest_change_of_every_record_and_the_newest_rows(database):
    from server.syncing.changelog import compact
    from server.syncing.models import SyncChange

    a, b = uuid.uuid4(), uuid.uuid4()
    log = [  # (audience, table, record): ids follow in this order
        ("estate:1", "orders", a),  # superseded by the 3rd
        ("grid:1", "orders", a),  # the grid's latest of a
        ("estate:1", "orders", a),  # latest
        ("estate:1", "steps", a),  # another table: another record
        ("estate:1", "orders", b),  # superseded by the 7th, but among the newest 3 rows: spared
        ("staff:1", "orders", b),
        ("estate:1", "orders", b),
    ]
    async with database.writer() as s:
        await s.execute(delete(SyncChange))
        for audience, table, record in log:
            s.add(SyncChange(version=1, audience=audience, table=table, record_id=record, op="upsert"))
        await s.commit()
    async with database.writer() as s:
        ids = (await s.scalars(select(SyncChange.id).order_by(SyncChange.id))).all()
        assert await compact(s, keep_recent=3) == 1
        await s.commit()
    async with database.reader() as s:
        left = (await s.scalars(select(SyncChange.id).order_by(SyncChange.id))).all()
    assert left == [ids[1], ids[2], ids[3], ids[4], ids[5], ids[6]]
    async with database.writer() as s:
        assert await compact(s, keep_recent=0) == 1  # now b's older estate row goes too
        await s.commit()
    async with database.reader() as s:
        left = (await s.scalars(select(SyncChange.id).order_by(SyncChange.id))).all()
    assert left == [ids[1], ids[2], ids[3], ids[5], ids[6]]


def _step(oid, note, step_id=None):
    return {
        "id": step_id or str(uuid.uuid4()),
        "order_id": oid,
        "note": note,
        "captured_at": "2026-11-22T08:00:00+00:00",
    }


async def _chain_of(api, oid):
    r = await api.get("desk", f"/api/orders/{oid}/evidence")
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_refused_step_among_many_undoes_only_itself(api, world, database):
    """The optimistic pass (no savepoint per mutation) meets a refusal after earlier steps of the
    batch wrote: the careful pass decides, so every other step is stored once, in order, chained."""
    oid = await new_order(api, world)
    theirs = await new_order(api, world, "tech_b")
    taken = str(uuid.uuid4())
    mutations = [m(1, "order.accept", {"order_id": oid})]
    mutations += [m(2 + i, "step.add", _step(oid, f"步骤{i}")) for i in range(3)]
    mutations.append(m(5, "step.add", _step(theirs, "别人的单")))  # not_assignee, after steps wrote
    mutations.append(m(6, "step.add", _step(oid, "重复id", taken)))
    mutations.append(m(7, "step.add", _step(oid, "同一id第二次", taken)))  # duplicate_id within the batch
    mutations += [m(8 + i, "step.add", _step(oid, f"后续{i}")) for i in range(2)]
    r = await _raw_push(api, "tech_a", str(uuid.uuid4()), mutations)
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x.get("code") for x in res] == [None, None, None, None, "not_found", None, "duplicate_id", None, None]
    async with database.reader() as s:
        rows = (await s.execute(select(Step.position, Step.note).where(Step.order_id == uuid.UUID(oid)))).all()
    assert sorted(rows) == [(1, "步骤0"), (2, "步骤1"), (3, "步骤2"), (4, "重复id"), (5, "后续0"), (6, "后续1")]
    assert await count(database, Step, order_id=uuid.UUID(theirs)) == 0
    chain = await _chain_of(api, oid)
    assert chain["intact"] is True and chain["records"] == 3 + 6  # create, dispatch, accept and the steps


async def test_a_batch_of_steps_moves_a_complaints_update_deadline_once_from_the_push_time(api, world, database, clock):
    oid = await new_order(api, world, kind="complaint")
    accepted = [m(1, "order.accept", {"order_id": oid})]
    assert (await _raw_push(api, "tech_a", (cid := str(uuid.uuid4())), accepted)).status_code == 200
    clock.advance(minutes=50)
    steps = [m(i + 2, "step.add", _step(oid, f"第{i}步")) for i in range(5)]
    r = await _raw_push(api, "tech_a", cid, steps)
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * 5, r.text
    async with database.reader() as s:
        o = await s.get(Order, uuid.UUID(oid))
    now = clock.now()
    assert o.last_update_at == now and o.update_due_at == now + timedelta(hours=2)
    assert o.due_at == min(d for d in (o.contact_due_at, o.update_due_at, o.resolve_due_at) if d is not None)


async def test_steps_batched_with_transitions_chain_like_one_at_a_time(api, world, database, tmp_path):
    """Steps before and after transitions in one batch: the batched steps are written before each
    transition reads the order, so the chain interleaves them in seq order and stays intact."""
    batched = await new_order(api, world)
    single = await new_order(api, world)
    script = lambda oid: [  # noqa: E731
        ("order.accept", {"order_id": oid}),
        ("step.add", _step(oid, "到场前准备")),
        ("order.depart", {"order_id": oid}),
        ("step.add", _step(oid, "路上")),
        ("step.add", _step(oid, "又一步")),
        ("order.arrive", {"order_id": oid}),
        ("step.add", _step(oid, "维修")),
    ]
    cid = str(uuid.uuid4())
    r = await _raw_push(api, "tech_a", cid, [m(i + 1, n, a) for i, (n, a) in enumerate(script(batched))])
    assert all(x["status"] == "applied" for x in r.json()["results"]), r.text
    cid2 = str(uuid.uuid4())
    for i, (n, a) in enumerate(script(single)):
        r = await _raw_push(api, "tech_a", cid2, [m(i + 1, n, a)])
        assert r.json()["results"][0]["status"] == "applied", r.text
    one, other = await _chain_of(api, batched), await _chain_of(api, single)
    assert one["intact"] and other["intact"] and one["records"] == other["records"]
    async with database.reader() as s:
        kinds = {}
        for oid in (batched, single):
            events = (
                await s.execute(
                    select(OrderEvent.chain_index, OrderEvent.action).where(OrderEvent.order_id == uuid.UUID(oid))
                )
            ).all()
            steps = (await s.execute(select(Step.chain_index, Step.note).where(Step.order_id == uuid.UUID(oid)))).all()
            kinds[oid] = [label for _, label in sorted([*events, *steps])]
        # The deadlines too (a batch moves each order's update deadline once per push, not per step).
        clocks = {}
        for oid in (batched, single):
            o = await s.get(Order, uuid.UUID(oid))
            clocks[oid] = (o.update_due_at, o.due_at, o.due_stage, o.last_update_at, o.updated_at, o.status)
    assert kinds[batched] == kinds[single]
    assert clocks[batched] == clocks[single] and clocks[batched][3] is not None


async def test_a_pure_resend_writes_nothing(api, world, database):
    """All duplicates: answered from the receipts without bumping the version clock or the device row."""
    from server.syncing.models import SyncClock, SyncDevice

    oid = await new_order(api, world)
    cid = str(uuid.uuid4())
    batch = [m(1, "order.accept", {"order_id": oid}), m(2, "step.add", _step(oid, "一步"))]
    await _raw_push(api, "tech_a", cid, batch)

    async def state():
        async with database.reader() as s:
            clock = await s.scalar(select(SyncClock.version))
            device = await s.get(SyncDevice, uuid.UUID(cid))
            return clock, device.last_seq, device.last_seen_at

    before = await state()
    r = await _raw_push(api, "tech_a", cid, batch)
    assert [x["status"] for x in r.json()["results"]] == ["duplicate", "duplicate"]
    assert await state() == before


async def test_a_pure_resend_is_answered_while_another_writer_holds_the_database(api, world, settings):
    """A batch already applied is answered from a read: it does not queue behind a write transaction
    (held here by another thread, with the device row locked on PostgreSQL). A batch with something
    new waits until that transaction ends."""
    import threading

    from server.db.engine import Database
    from server.syncing.models import SyncDevice

    oid = await new_order(api, world)
    cid = str(uuid.uuid4())
    batch = [m(1, "order.accept", {"order_id": oid}), m(2, "step.add", _step(oid, "一步"))]
    await _raw_push(api, "tech_a", cid, batch)
    holding, go, released = threading.Event(), threading.Event(), threading.Event()

    async def hold() -> None:
        db = Database(settings.database_url)
        try:
            async with db.writer() as s:
                await s.execute(select(SyncDevice).where(SyncDevice.client_id == uuid.UUID(cid)).with_for_update())
                await s.execute(text("UPDATE sync_clock SET version = version"))  # SQLite: the write lock
                holding.set()
                await asyncio.to_thread(go.wait, 30)
                await asyncio.sleep(1)
                await s.rollback()
                released.set()
        finally:
            await db.dispose()

    holder = threading.Thread(target=asyncio.run, args=(hold(),))
    holder.start()
    try:
        assert await asyncio.to_thread(holding.wait, 30)
        resent = await _raw_push(api, "tech_a", cid, batch)
        assert not released.is_set()
        assert [x["status"] for x in resent.json()["results"]] == ["duplicate", "duplicate"]
        go.set()
        fresh = await _raw_push(api, "tech_a", cid, [*batch, m(3, "step.add", _step(oid, "二步"))])
        assert released.is_set()
        assert [x["status"] for x in fresh.json()["results"]] == ["duplicate", "duplicate", "applied"]
    finally:
        go.set()
        await asyncio.to_thread(holder.join, 30)


async def test_the_originals_lookup_uses_the_partial_index(database, backend):
    """One lookup per push: a scan of every receipt would make each push slower than the last."""
    from server.syncing.store import originals_query

    async with database.reader() as s:
        compiled = originals_query([str(uuid.uuid4())]).compile(
            dialect=s.bind.dialect, compile_kwargs={"literal_binds": True}
        )
        if backend == "sqlite":
            plan = [row[-1] for row in (await s.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()]
        else:
            # An empty table is cheapest to scan: take that choice away, so the plan shows whether
            # the partial index's predicate matches at all.
            await s.execute(text("SET LOCAL enable_seqscan = off"))
            plan = [row[0] for row in (await s.execute(text(f"EXPLAIN {compiled}"))).all()]
    assert any("uq_sync_receipts_original_mutation" in line for line in plan), plan


async def test_an_overloaded_server_answers_429_with_retry_after_and_applies_nothing(api, world, database):
    from server.syncing.routes import SyncGate

    oid = await new_order(api, world)
    api.client.app.state.ctx.services["sync_gate"] = SyncGate(running=1, waiting=0)  # a full queue
    r = await _raw_push(api, "tech_a", str(uuid.uuid4()), [m(1, "order.accept", {"order_id": oid})])
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
    assert await count(database, OrderEvent, order_id=uuid.UUID(oid), action="accept") == 0


async def test_push_checks_the_sign_in_before_it_reads_the_batch(api, world, database):
    """The sign-in and the resend check share one read transaction; the sign-in still comes first."""
    order_id = await new_order(api, world)
    events = await count(database, OrderEvent)
    body = {
        "client_id": str(uuid.uuid4()),
        "client_time": "2026-11-22T08:00:00+00:00",
        "mutations": [m(1, "order.accept", {"order_id": order_id})],
    }
    base = {"Wuye-Protocol": "1", "Wuye-Request-Id": str(uuid.uuid4())}
    r = await api.client.post("/sync/push", json=body, headers=base)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = await api.client.post("/sync/push", content=b"{not json", headers={**base, "Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"

    token = await api.token("tech_a")
    signed = {**base, "Authorization": f"Bearer {token}"}
    r = await api.client.post("/sync/push", content=b"{not json", headers=signed)
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    assert (await api.client.post("/api/auth/logout", headers=signed)).status_code == 200
    r = await api.client.post("/sync/push", json=body, headers=signed)
    assert r.status_code == 401 and r.json()["code"] == "token_revoked"
    assert await count(database, OrderEvent) == events  # nothing was applied
