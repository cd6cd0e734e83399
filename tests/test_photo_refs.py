"""photo_refs (migration 0008): database triggers record which steps, findings and checkpoint visits
reference a photo, and a photo's arrival sends exactly those records again (their badge clears)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, update

from server.orders.models import Step
from server.photos.blobstore import BlobInfo
from server.photos.models import Blob, PhotoRef
from server.photos.service import record_arrival, record_arrivals
from server.syncing import changelog
from server.walks.models import CheckpointVisit
from tests.test_sync_server import new_order, phone
from tests.test_walks import finding_args, start_args
from tests.walks_support import Device, answers, iso, pulled, visit_args

pytestmark = pytest.mark.anyio

A, B, C, D = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)


async def refs(database) -> set[tuple[str, str, str]]:
    async with database.reader() as s:
        rows = (await s.execute(select(PhotoRef.sha256, PhotoRef.record_table, PhotoRef.record_id))).all()
    return {(sha, table, str(rid)) for sha, table, rid in rows}


async def arrive(database, clock, sha: str) -> None:
    async with database.writer() as s:  # what finish_upload records once the bytes are verified
        await changelog.transaction_version(s)
        await record_arrival(s, BlobInfo(sha, 10, 1, 1, "image/jpeg"), clock.now())
        await s.commit()


async def steps_with_photos(api, world, tmp_path, photo_lists):
    """tech_a accepts a new order and records one step per list of photos, synced; (phone, step ids)."""
    oid = await new_order(api, world)
    tech = await phone(api, "tech_a", tmp_path)
    step_ids = [str(uuid.uuid4()) for _ in photo_lists]
    tech.enqueue("order.accept", {"order_id": oid})
    for step_id, photos in zip(step_ids, photo_lists, strict=True):
        tech.enqueue(
            "step.add",
            {"id": step_id, "order_id": oid, "note": "更换弯头", "photos": photos, "materials": [],
             "captured_at": "2026-11-22T10:40:00+08:00"},
        )  # fmt: skip
    await tech.sync()
    return tech, step_ids


async def test_steps_are_indexed_by_photo_and_an_arrival_clears_their_badge(api, world, database, clock, tmp_path):
    tech, step_ids = await steps_with_photos(api, world, tmp_path, ([A, B], [B], []))
    assert await refs(database) == {(A, "steps", step_ids[0]), (B, "steps", step_ids[0]), (B, "steps", step_ids[1])}

    await arrive(database, clock, B)
    assert await tech.pull() == 2  # both steps showing B, and nothing else
    pending, arrived = {"sha256": A, "uploaded": False}, {"sha256": B, "uploaded": True}
    assert tech.row("steps", step_ids[0])["photos"] == [pending, arrived]
    assert tech.row("steps", step_ids[1])["photos"] == [arrived]

    # A changed photo list is indexed too (steps are append-only today; the trigger does not rely on it).
    async with database.writer() as s:
        await s.execute(update(Step).where(Step.id == uuid.UUID(step_ids[2])).values(photos=[C, "not-a-sha"]))
        await s.commit()
    assert (C, "steps", step_ids[2]) in await refs(database)
    assert not any(sha == "not-a-sha" for sha, _, _ in await refs(database))


async def test_visits_and_findings_are_indexed_by_photo(api, world, database, clock, tmp_path):
    world._clock = clock
    dev = Device(api, "steward_a")
    start = start_args(world)
    cp = world.checkpoints[0]
    items = answers(cp, failed={cp.checklist[0]["key"]: "灯坏了"})
    items[0]["photos"] = [A, D]
    items[1]["photos"] = [D]
    visit = visit_args(start["id"], cp, clock.now(), answers=items)
    finding = finding_args(world, start["id"], photos=[A])
    results = await dev.push(
        dev.mutation("walk.start", start),
        dev.mutation("walk.checkpoint.visit", visit),
        dev.mutation("walk.finding.add", finding),
        dev.mutation("walk.end", {"walk_id": start["id"], "ended_at": iso(clock.now())}),
    )
    assert [r["status"] for r in results] == ["applied"] * 4
    assert await refs(database) == {
        (A, "checkpoint_visits", visit["id"]),
        (D, "checkpoint_visits", visit["id"]),
        (A, "findings", finding["id"]),
    }
    async with database.reader() as s:
        assert await s.get(CheckpointVisit, uuid.UUID(visit["id"])) is not None

    steward = await pulled(api, "steward_a", tmp_path)
    await arrive(database, clock, A)
    assert await steward.pull() == 2  # the visit and the finding
    [first, second, *_] = steward.row("checkpoint_visits", visit["id"])["answers"]
    assert first["photos"] == [{"sha256": A, "uploaded": True}, {"sha256": D, "uploaded": False}]
    assert second["photos"] == [{"sha256": D, "uploaded": False}]
    assert steward.row("findings", finding["id"])["photos"] == [{"sha256": A, "uploaded": True}]


async def test_several_arrivals_in_one_transaction_announce_each_new_photo_once(api, world, database, clock, tmp_path):
    """The arrival recorder writes every arrival that queued in one transaction: a photo recorded
    before, or twice in the batch, is recorded once, and only new photos send their steps again."""
    tech, step_ids = await steps_with_photos(api, world, tmp_path, ([A], [B], [C]))
    await arrive(database, clock, A)
    assert await tech.pull() == 1

    info = {sha: BlobInfo(sha, 10, 1, 1, "image/jpeg") for sha in (A, B, C, D)}
    async with database.writer() as s:
        await changelog.transaction_version(s)
        recorded = await record_arrivals(s, [info[A], info[B], info[B], info[D], info[C]], clock.now())
        await s.commit()
    assert recorded == [B, D, C]  # A was known; B once
    async with database.reader() as s:
        assert sorted((await s.scalars(select(Blob.sha256))).all()) == [A, B, C, D]
        assert await record_arrivals(s, [info[C]], clock.now()) == []  # nothing new: nothing written
    assert await tech.pull() == 2  # the steps showing B and C; not A's again
    uploaded = {step_id: tech.row("steps", step_id)["photos"][0]["uploaded"] for step_id in step_ids}
    assert uploaded == dict.fromkeys(step_ids, True)
