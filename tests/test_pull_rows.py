"""server/syncing/rows.py: values read in wire form equal what the ORM types give, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import literal, select

from server.orders.models import OrderEvent
from server.syncing.rows import json_value, uuid_text

pytestmark = pytest.mark.anyio


async def test_uuid_text_and_json_value_match_the_orm(api, world, database):
    r = await api.post(
        "desk",
        "/api/orders/",
        json={"kind": "repair", "category": "water_electric", "channel": "phone", "description": "漏水",
              "household_id": str(world.households["1栋1单元101"].id)},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    async with database.reader() as s:
        events = (await s.scalars(select(OrderEvent))).all()
        fast = (
            await s.execute(
                select(
                    uuid_text(OrderEvent.id).label("id"),
                    uuid_text(OrderEvent.actor_id).label("actor_id"),
                    json_value(OrderEvent.data),
                    uuid_text(literal(None, OrderEvent.id.type)).label("none"),
                )
            )
        ).all()
    assert events
    assert sorted((str(e.id), e.actor_id and str(e.actor_id), e.data) for e in events) == sorted(
        (row.id, row.actor_id, row.data) for row in fast
    )
    assert {row.none for row in fast} == {None}


async def test_iso_time_matches_isoformat_of_the_orm_value(database):
    """With and without a fraction of a second (isoformat leaves a zero fraction out), from any zone."""
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy import Column, MetaData, Table, insert

    from server.db.base import UTCDateTime
    from server.syncing.rows import iso_time

    table = Table("iso_sample", MetaData(), Column("at", UTCDateTime, primary_key=True))
    values = [
        datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC),
        datetime(2026, 12, 1, 9, 30, 15, 120000, tzinfo=UTC),
        datetime(2026, 12, 1, 9, 30, 15, 100, tzinfo=UTC),
        datetime(2026, 1, 2, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=8))),
    ]
    async with database.engine.begin() as conn:
        await conn.run_sync(table.metadata.create_all)
        await conn.execute(insert(table), [{"at": v} for v in values])
    async with database.reader() as s:
        typed = (await s.scalars(select(table.c.at).order_by(table.c.at))).all()
        text = (await s.scalars(select(iso_time(table.c.at)).order_by(table.c.at))).all()
    assert [t.isoformat() for t in typed] == text
    assert sorted(v.astimezone(UTC).isoformat() for v in values) == text


async def test_a_step_renders_the_same_for_pull_as_for_the_order_timeline(api, world, database):
    """steps_by_id builds the dict from plain rows, step_dict from the ORM step: the same values."""
    import uuid

    from server.orders.models import Step
    from server.orders.views import step_dict, steps_by_id, uploaded
    from tests.support.orders import create_order

    oid = await create_order(api, world, assignee_id=str(world.id("tech_a")))
    assert (await api.post("tech_a", f"/api/orders/{oid}/actions/accept", json={})).status_code == 200
    for note, captured, photos in (
        ("检测漏点", "2026-11-22T08:35:00+08:00", ["a" * 64, "b" * 64]),
        ("更换弯头", "2026-11-22T09:00:00.250000Z", []),
    ):
        r = await api.post(
            "tech_a",
            f"/api/orders/{oid}/steps",
            json={"note": note, "captured_at": captured, "photos": photos,
                  "materials": [{"name": "弯头", "quantity": 1, "unit": "个"}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    tech = world.staff["tech_a"]
    async with database.reader() as s:
        steps = (await s.scalars(select(Step).where(Step.order_id == uuid.UUID(oid)).order_by(Step.position))).all()
        arrived = await uploaded(s, {p for step in steps for p in step.photos})
        orm = [step_dict(step, {tech.id: tech.name}, arrived) for step in steps]
        fast = sorted(await steps_by_id(s, [step.id for step in steps]), key=lambda d: d["position"])
    assert len(orm) == 2 and orm[0]["author_name"] == tech.name and orm[0]["photos"][0]["uploaded"] is False
    assert fast == orm
