"""Walk-abouts end to end: walk.* mutations through /sync/push (exactly once), rejections, pull scope,
finding → dispatched order, checkpoint set-up, labels with QR codes, the /c/{code} redirect."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from server.orders.models import Channel, Order, OrderEvent, Status
from server.walks.models import CheckpointVisit, Finding, Walk
from tests.support.camera_jpegs import camera_jpeg
from tests.test_progress_support import decode_png, decode_svg, extract_svgs
from tests.walks_support import BASE, Device, answers, iso, phone, pulled, statuses, visit_args

pytestmark = pytest.mark.anyio


async def count(database, model, **where) -> int:
    async with database.reader() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return await s.scalar(stmt)


def start_args(world, grid=0) -> dict:
    g = world.grids[grid] if isinstance(grid, int) else grid
    return {"id": str(uuid.uuid4()), "grid_id": str(g.id), "started_at": iso(now_of(world))}


def now_of(world):
    return world._clock.now()


@pytest.fixture
def w(world, clock):
    world._clock = clock  # the tests below stamp device times from the same clock
    return world


def finding_args(world, walk_id=None, **kw) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "walk_id": walk_id,
        "grid_id": str(world.grids[0].id),
        "category": "facilities",
        "note": "快递柜3号格门锁坏了",
        "photos": [],
        "location": {"text": "1栋北侧快递柜"},
        "captured_at": iso(now_of(world)),
        **kw,
    }


async def test_a_walk_is_applied_exactly_once_and_a_resent_batch_is_not_reapplied(api, w, database, clock):
    dev = Device(api, "steward_a")
    start = start_args(w)
    walk_id = start["id"]
    cp = w.checkpoints[0]
    finding = finding_args(w, walk_id)
    results = await dev.push(
        dev.mutation("walk.start", start),
        dev.mutation("walk.checkpoint.visit", visit_args(walk_id, cp, clock.now())),
        dev.mutation("walk.finding.add", finding),
        dev.mutation("walk.end", {"walk_id": walk_id, "ended_at": iso(clock.now())}),
    )
    assert statuses(results) == [("applied", None)] * 4
    again = await dev.resend()
    assert [r["status"] for r in again] == ["duplicate"] * 4
    assert await count(database, Walk) == 1
    assert await count(database, CheckpointVisit) == 1
    assert await count(database, Finding) == 1
    r = await api.get("steward_a", f"/api/walks/{walk_id}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ended" and body["visit_count"] == 1 and body["finding_count"] == 1
    assert body["steward_name"] == "张管家"
    [visit] = body["visits"]
    assert visit["checkpoint_name"] == "快递柜" and visit["method"] == "scan" and visit["failed_count"] == 0
    assert [a["label"] for a in visit["answers"]] == ["消防栓完好", "楼道无杂物", "照明正常", "垃圾已清运"]
    assert body["findings"][0]["note"] == "快递柜3号格门锁坏了"
    listed = await api.get("lead", "/api/walks", params={"grid_id": str(w.grids[0].id), "day": "2026-11-22"})
    assert [x["id"] for x in listed.json()] == [walk_id]


async def test_rejections_carry_codes_and_leave_nothing_behind(api, w, database, clock):
    dev = Device(api, "steward_a")
    start = start_args(w)
    walk_id = start["id"]
    cp = w.checkpoints[0]
    bad_key = visit_args(walk_id, cp, clock.now(), answers=[{"item": "no_such_item", "ok": True}])
    bare_failure = visit_args(walk_id, cp, clock.now(), answers=[{"item": "lighting_ok", "ok": False}])
    other_grid = visit_args(walk_id, w.checkpoints[3], clock.now())
    with_note = visit_args(walk_id, cp, clock.now(), answers=answers(cp, failed={"lighting_ok": "3号灯不亮"}))
    results = await dev.push(
        dev.mutation("walk.start", start),
        dev.mutation("walk.checkpoint.visit", bad_key),
        dev.mutation("walk.checkpoint.visit", bare_failure),
        dev.mutation("walk.checkpoint.visit", other_grid),
        dev.mutation("walk.checkpoint.visit", with_note),
        dev.mutation("walk.finding.add", finding_args(w, walk_id, note="", photos=[])),
        dev.mutation("walk.end", {"walk_id": walk_id, "ended_at": iso(clock.now())}),
        dev.mutation("walk.end", {"walk_id": walk_id, "ended_at": iso(clock.now())}),
        dev.mutation("walk.checkpoint.visit", visit_args(walk_id, cp, clock.now())),
        dev.mutation("walk.start", {**start_args(w), "grid_id": str(w.grids[1].id)}),
        dev.mutation("walk.start", {**start_args(w), "unknown": 1}),
    )
    assert statuses(results) == [
        ("applied", None),
        ("rejected", "validation_error"),
        ("rejected", "validation_error"),
        ("rejected", "not_found"),
        ("applied", None),
        ("rejected", "empty_finding"),
        ("applied", None),
        ("rejected", "walk_ended"),
        ("rejected", "walk_ended"),
        ("rejected", "not_found"),  # steward_a does not own grid 1
        ("rejected", "validation_error"),
    ]
    async with database.reader() as s:
        visits = (await s.scalars(select(CheckpointVisit))).all()
    assert [v.failed_count for v in visits] == [1]
    # A technician may not walk at all; steward_b may not add to steward_a's walk (it is not even visible).
    tech = Device(api, "tech_a")
    assert statuses(await tech.push(tech.mutation("walk.start", start_args(w)))) == [("rejected", "forbidden")]
    b = Device(api, "steward_b")
    res = await b.push(b.mutation("walk.checkpoint.visit", visit_args(walk_id, cp, clock.now())))
    assert statuses(res) == [("rejected", "not_found")]
    assert await count(database, Walk) == 1


async def test_finding_becomes_one_dispatched_order_linked_both_ways_showing_its_status(api, w, database, tmp_path):
    dev = Device(api, "steward_a")
    start = start_args(w)
    finding = finding_args(w, start["id"])
    order_id = str(uuid.uuid4())
    to_order = {"finding_id": finding["id"], "order_id": order_id, "kind": "repair", "category": "facilities"}
    results = await dev.push(
        dev.mutation("walk.start", start),
        dev.mutation("walk.finding.add", finding),
        dev.mutation("walk.finding.to_order", to_order),
        dev.mutation("walk.finding.to_order", {**to_order, "order_id": str(uuid.uuid4())}),
    )
    assert statuses(results) == [("applied", None)] * 3 + [("rejected", "already_raised")]
    async with database.reader() as s:
        orders = (await s.scalars(select(Order))).all()
        f = await s.get(Finding, uuid.UUID(finding["id"]))
        events = (
            await s.scalars(
                select(OrderEvent).where(OrderEvent.order_id == uuid.UUID(order_id)).order_by(OrderEvent.chain_index)
            )
        ).all()
    [order] = orders
    assert str(order.id) == order_id and f.order_id == order.id and order.finding_id == f.id
    assert order.status is Status.dispatched and order.channel is Channel.steward
    assert order.department == "engineering" and order.assignee_id is None  # facilities → engineering queue
    assert order.grid_id == w.grids[0].id and order.description == "快递柜3号格门锁坏了"
    assert [(e.action, e.actor_kind) for e in events] == [
        ("create", "staff"),
        ("finding", "staff"),
        ("dispatch", "system"),
    ]
    assert events[2].data == {"department": "engineering"}
    steward = await pulled(api, "steward_a", tmp_path)
    row = steward.row("findings", finding["id"])
    assert row["order_id"] == order_id and row["order_number"] == order.number and row["order_status"] == "dispatched"
    assert steward.row("orders", order_id)["finding_id"] == finding["id"]
    # The technician takes the order from the queue: the steward's finding shows it at her next pull.
    r = await api.post("tech_a", f"/api/orders/{order_id}/actions/take", json={})
    assert r.status_code == 200, r.text
    await steward.pull()
    assert steward.row("findings", finding["id"])["order_status"] == "accepted"


async def test_pull_scope_stewards_see_their_grids_estate_staff_their_estate_technicians_nothing(api, w, tmp_path):
    dev = Device(api, "steward_a")
    start = start_args(w)
    results = await dev.push(
        dev.mutation("walk.start", start),
        dev.mutation("walk.checkpoint.visit", visit_args(start["id"], w.checkpoints[0], now_of(w))),
        dev.mutation("walk.finding.add", finding_args(w, start["id"])),
    )
    assert [r["status"] for r in results] == ["applied"] * 3
    grid0 = {str(c.id) for c in w.checkpoints[:3]}
    grid1 = {str(w.checkpoints[3].id)}
    a = await pulled(api, "steward_a", tmp_path)
    assert set(a.rows("checkpoints")) == grid0
    assert (
        set(a.rows("walks")) == {start["id"]} and len(a.rows("checkpoint_visits")) == 1 and len(a.rows("findings")) == 1
    )
    b = await pulled(api, "steward_b", tmp_path)
    assert set(b.rows("checkpoints")) == grid1
    assert b.rows("walks") == {} and b.rows("checkpoint_visits") == {} and b.rows("findings") == {}
    lead = await pulled(api, "supervisor", tmp_path)
    assert set(lead.rows("checkpoints")) == grid0 | grid1 and set(lead.rows("walks")) == {start["id"]}
    assert len(lead.rows("findings")) == 1
    for key in ("tech_a", "other_supervisor", "other_steward"):
        other = await pulled(api, key, tmp_path)
        assert all(other.rows(t) == {} for t in ("checkpoints", "walks", "checkpoint_visits", "findings")), key


async def test_http_reads_are_scoped(api, w):
    dev = Device(api, "steward_a")
    start = start_args(w)
    await dev.push(dev.mutation("walk.start", start))
    url = f"/api/walks/{start['id']}"
    assert (await api.get("steward_a", url)).status_code == 200
    assert (await api.get("desk", url)).status_code == 200
    for key in ("steward_b", "other_supervisor", "other_steward"):
        r = await api.get(key, url)
        assert r.status_code == 404 and r.json()["code"] == "not_found", key
    r = await api.get("tech_a", url)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert (await api.get("tech_a", "/api/walks/routes")).status_code == 403
    routes = await api.get("steward_a", "/api/walks/routes")
    assert [len(r["checkpoints"]) for r in routes.json()] == [3]
    assert (await api.get("steward_b", "/api/walks/routes", params={"grid_id": str(w.grids[0].id)})).status_code == 404
    assert [r["name"] for r in (await api.get("supervisor", "/api/walks/routes")).json()] == ["日常巡查", "日常巡查"]
    assert (await api.get("steward_b", "/api/walks", params={"grid_id": str(w.grids[0].id)})).status_code == 404
    assert (await api.get("steward_b", "/api/walks")).json() == []
    assert (await api.get("steward_a", "/api/walks/not-a-uuid")).status_code in (400, 404)


async def test_leads_set_up_routes_and_checkpoints_with_default_checklists(api, w):
    r = await api.post("lead", "/api/walks/routes", json={"grid_id": str(w.grids[1].id), "name": "装修巡查"})
    assert r.status_code == 201, r.text
    route = r.json()
    assert route["checkpoints"] == []
    r = await api.post(
        "lead",
        "/api/walks/checkpoints",
        json={
            "route_id": route["id"],
            "name": "2栋1单元102 装修",
            "location": "2栋1单元102",
            "checklist_type": "renovation",
            "frequency": {"kind": "weekly"},
        },
    )
    assert r.status_code == 201, r.text
    cp = r.json()
    assert [i["label"] for i in cp["checklist"]] == [
        "装修许可证已张贴",
        "无拆改承重结构",
        "防水已验收",
        "在规定时间施工",
        "建筑垃圾已清运",
    ]
    assert cp["frequency"] == {"kind": "weekly", "weekday": 7} and cp["route_name"] == "装修巡查"
    assert len(cp["code"]) == 10 and set(cp["code"]) <= set("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
    r = await api.patch(
        "supervisor",
        f"/api/walks/checkpoints/{cp['id']}",
        json={"frequency": {"kind": "daily", "by_hour": 10}, "active": False},
    )
    assert (
        r.status_code == 200
        and r.json()["frequency"] == {"kind": "daily", "by_hour": 10}
        and r.json()["active"] is False
    )
    # Refusals: a steward may not edit, another estate cannot see it, bad input is precise.
    r = await api.patch("steward_b", f"/api/walks/checkpoints/{cp['id']}", json={"name": "x"})
    assert r.status_code == 403
    r = await api.patch("other_supervisor", f"/api/walks/checkpoints/{cp['id']}", json={"name": "x"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await api.post("steward_a", "/api/walks/routes", json={"grid_id": str(w.grids[0].id), "name": "x"})
    assert r.status_code == 403
    r = await api.post("lead", "/api/walks/routes", json={"grid_id": str(w.other_grid.id), "name": "x"})
    assert r.status_code == 404
    body = {"route_id": route["id"], "name": "x", "frequency": {"kind": "twice_daily", "hours": [17, 7]}}
    r = await api.post("lead", "/api/walks/checkpoints", json=body)
    assert r.status_code == 422 and r.json()["code"] == "invalid_frequency"
    r = await api.post("lead", "/api/walks/checkpoints", json={**body, "frequency": {"kind": "hourly"}})
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
    r = await api.post("lead", "/api/walks/checkpoints", json={**body, "colour": "red"})
    assert r.status_code == 400 and r.json()["code"] == "unknown_field"
    r = await api.post(
        "lead", "/api/walks/checkpoints", json={**body, "route_id": str(uuid.uuid4()), "frequency": {"kind": "daily"}}
    )
    assert r.status_code == 404
    json_headers = {**await api.headers("lead"), "Content-Type": "application/json"}
    r = await api.client.post("/api/walks/routes", content=b"{nope", headers=json_headers)
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"


async def test_labels_page_is_a6_with_a_qr_per_checkpoint_decoding_to_its_link(api, w):
    route = w.routes[0]
    r = await api.get("steward_a", f"/api/walks/routes/{route.id}/labels")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "@page{size:A6" in r.text
    svgs = extract_svgs(r.text)
    assert len(svgs) == 3
    decoded = [decode_svg(svg) for svg in svgs]
    assert decoded == [([f"{BASE}/c/{cp.code}"], cp.code) for cp in w.checkpoints[:3]]
    for cp in w.checkpoints[:3]:
        assert cp.name in r.text
    png = await api.get("steward_a", f"/api/walks/checkpoints/{w.checkpoints[0].id}/qr.png")
    assert png.status_code == 200 and decode_png(png.content) == [f"{BASE}/c/{w.checkpoints[0].code}"]
    assert (await api.get("steward_b", f"/api/walks/routes/{route.id}/labels")).status_code == 404
    assert (
        await api.get("other_supervisor", f"/api/walks/checkpoints/{w.checkpoints[0].id}/qr.png")
    ).status_code == 404


async def test_checkpoint_link_redirects_into_the_app_without_data(api, w):
    code = w.checkpoints[0].code
    r = await api.client.get(f"/c/{code}", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == f"/app/#/walks/checkpoint/{code}"
    assert w.checkpoints[0].name not in r.text
    r = await api.client.get("/c/not-a-code", follow_redirects=False)
    assert r.status_code == 404 and r.json()["code"] == "not_found"


async def test_finding_photos_follow_the_evidence_rules_and_show_uploaded(api, w, tmp_path):
    device = await phone(api, "steward_a", tmp_path)
    sha = device.add_photo(camera_jpeg((640, 480), 7))
    start = start_args(w)
    device.enqueue("walk.start", start)
    cp = w.checkpoints[1]
    device.enqueue(
        "walk.checkpoint.visit",
        visit_args(
            start["id"],
            cp,
            now_of(w),
            answers=[{"item": "trash_cleared", "ok": False, "photos": [sha]}, {"item": "lighting_ok", "ok": True}],
        ),
    )
    device.enqueue("walk.finding.add", finding_args(w, start["id"], photos=[sha], note=""))
    await device.sync()
    assert device.pending() == [] and device.rejected() == []
    await device.pull()
    [finding] = device.rows("findings").values()
    [visit] = device.rows("checkpoint_visits").values()
    assert finding["photos"] == [{"sha256": sha, "uploaded": True}]
    assert visit["answers"][0]["photos"] == [{"sha256": sha, "uploaded": True}] and visit["failed_count"] == 1
    blobs = api.client.app.state.ctx.services["blobs"]
    import hashlib

    assert hashlib.sha256(blobs.path(sha).read_bytes()).hexdigest() == sha  # the original is kept, by hash


async def test_a_photo_arriving_later_clears_the_uploading_badge(api, w, database, clock, tmp_path):
    dev = Device(api, "steward_a")
    sha = "ab" * 32
    start = start_args(w)
    finding = finding_args(w, start["id"], photos=[sha])
    await dev.push(dev.mutation("walk.start", start), dev.mutation("walk.finding.add", finding))
    steward = await pulled(api, "steward_a", tmp_path)
    assert steward.row("findings", finding["id"])["photos"] == [{"sha256": sha, "uploaded": False}]
    from server.photos.blobstore import BlobInfo
    from server.photos.service import record_arrival
    from server.syncing import changelog

    async with database.writer() as s:  # what finish_upload records once the bytes are verified
        await changelog.transaction_version(s)
        await record_arrival(
            s, BlobInfo(sha256=sha, size=10, width=1, height=1, content_type="image/jpeg"), clock.now()
        )
        await s.commit()
    await steward.pull()
    assert steward.row("findings", finding["id"])["photos"] == [{"sha256": sha, "uploaded": True}]
