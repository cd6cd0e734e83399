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
