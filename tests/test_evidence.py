"""The evidence chain: any later edit of an order's history, or of a photo file, is named."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from server.orders.evidence import GENESIS, StepDraft, digest
from server.orders.models import Callback, OrderEvent, Step
from tests.support.camera_jpegs import camera_jpeg
from tests.support.orders import create_order

pytestmark = pytest.mark.anyio


async def worked_order(api, world, tmp_path):
    from sync.client import SyncClient

    oid = await create_order(api, world, description="暖气不热", assignee_id=str(world.id("tech_a")))
    phone = SyncClient(
        "http://testserver.local",
        db_path=str(tmp_path / "p.sqlite3"),
        token=await api.token("tech_a"),
        transport=api.client,
    )
    sha = phone.add_photo(camera_jpeg((320, 240), 6))
    phone.enqueue("order.accept", {"order_id": oid})
    phone.enqueue(
        "step.add",
        {
            "id": str(uuid.uuid4()),
            "order_id": oid,
            "note": "放气阀排气",
            "photos": [sha],
            "captured_at": "2026-11-22T09:00:00+08:00",
        },
    )
    phone.enqueue("order.complete", {"order_id": oid})
    await phone.sync()
    await api.post("desk", f"/api/orders/{oid}/callbacks", json={"result": "reached_satisfied"})
    return oid, sha


async def evidence(api, oid):
    r = await api.get("supervisor", f"/api/orders/{oid}/evidence")
    assert r.status_code == 200
    return r.json()


async def test_an_untouched_history_is_intact(api, world, tmp_path):
    oid, _ = await worked_order(api, world, tmp_path)
    report = await evidence(api, oid)
    assert report["intact"] is True and report["first_broken"] is None, report
    # create, dispatch, accept, step, complete, callback record, callback event
    assert report["records"] == 7 and report["photos_checked"] == 1


async def test_editing_an_event_is_named(api, world, database, tmp_path):
    oid, _ = await worked_order(api, world, tmp_path)
    async with database.writer() as s:
        await s.execute(
            update(OrderEvent)
            .where(OrderEvent.order_id == uuid.UUID(oid), OrderEvent.action == "accept")
            .values(note="改过的")
        )
        await s.commit()
    report = await evidence(api, oid)
    assert report["intact"] is False
    assert report["first_broken"]["type"] == "event" and report["first_broken"]["chain_index"] == 3
    assert report["first_broken"]["problem"] == "content changed after it was recorded"


async def test_editing_a_step_time_is_named(api, world, database, tmp_path):
    from datetime import UTC, datetime

    oid, _ = await worked_order(api, world, tmp_path)
    async with database.writer() as s:
        await s.execute(
            update(Step).where(Step.order_id == uuid.UUID(oid)).values(captured_at=datetime(2026, 11, 21, tzinfo=UTC))
        )
        await s.commit()
    report = await evidence(api, oid)
    assert report["first_broken"]["type"] == "step"


async def test_deleting_a_record_is_named(api, world, database, tmp_path):
    oid, _ = await worked_order(api, world, tmp_path)
    async with database.writer() as s:
        await s.execute(delete(Callback).where(Callback.order_id == uuid.UUID(oid)))
        await s.commit()
    report = await evidence(api, oid)
    assert report["intact"] is False and "missing" in report["first_broken"]["problem"]


async def test_swapping_a_photo_file_is_named(api, world, tmp_path):
    oid, sha = await worked_order(api, world, tmp_path)
    path = api.client.app.state.ctx.services["blobs"].path(sha)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    report = await evidence(api, oid)
    assert report["intact"] is False
    assert report["first_broken"]["photo"] == sha and report["first_broken"]["problem"] == "photo file altered"


async def test_a_photo_not_uploaded_yet_is_pending_not_broken(api, world):
    r = await api.post(
        "desk",
        "/api/orders/",
        json={
            "kind": "repair",
            "category": "lift",
            "channel": "phone",
            "description": "电梯按钮失灵",
            "household_id": str(world.households["1栋1单元101"].id),
            "assignee_id": str(world.id("tech_a")),
        },
    )
    oid = r.json()["order"]["id"]
    await api.post("tech_a", f"/api/orders/{oid}/actions/accept", json={})
    await api.post(
        "tech_a",
        f"/api/orders/{oid}/steps",
        json={"note": "拍照", "photos": ["c" * 64], "captured_at": "2026-11-22T09:00:00Z"},
    )
    report = await evidence(api, oid)
    assert report["intact"] is True and report["photos_pending"] == ["c" * 64]


# --- what is hashed ---------------------------------------------------------------------------------

_shanghai = timezone(timedelta(hours=8))
_times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.sampled_from([UTC, _shanghai])
)


def _reference_step_form(step: StepDraft) -> dict:
    """The step's canonical form as it was first written (ids and times as text), which every stored
    hash was computed from: a faster encoding must hash the very same bytes."""
    return {
        "type": "step",
        "id": str(step.id),
        "order_id": str(step.order_id),
        "position": step.position,
        "note": step.note,
        "materials": step.materials,
        "photos": step.photos,
        "gps": step.gps,
        "author_id": str(step.author_id),
        "captured_at": step.captured_at.astimezone(UTC).isoformat(),
        "received_at": step.received_at.astimezone(UTC).isoformat(),
    }


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(st.uuids(), min_size=3, max_size=3), captured=_times, received=_times, note=st.text(max_size=40))
def test_a_steps_hash_is_over_the_text_it_always_was(ids, captured, received, note):
    step = StepDraft(
        id=ids[0],
        order_id=ids[1],
        position=7,
        note=note,
        materials=[{"name": "弯头", "quantity": 1.5, "unit": "个"}],
        photos=["a" * 64],
        gps=None,
        author_id=ids[2],
        captured_at=captured,
        received_at=received,
        clock_offset_ms=0,
        skew_flag=False,
    )
    reference = msgspec.json.Encoder(order="sorted").encode(_reference_step_form(step))
    expected = hashlib.sha256(GENESIS.encode() + b"\n" + reference).hexdigest()
    assert digest(GENESIS, step) == expected
    # Again, with the receipt time remembered from the first call, and with an equal time in another
    # zone (the same instant, so the same UTC text).
    assert digest(GENESIS, step) == expected
    step.received_at = received.astimezone(_shanghai if received.tzinfo is UTC else UTC)
    assert digest(GENESIS, step) == expected
