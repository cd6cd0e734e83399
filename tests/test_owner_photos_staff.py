"""The owner's photos from the grid-poster report form are shown to the staff who can see the order
(server/photos/viewing.py), and to nobody else."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.orders.models import Order, OrderEvent
from server.progress.tokens import grid_token
from tests.support.camera_jpegs import camera_jpeg

pytestmark = pytest.mark.anyio


async def _reported(api, settings, database) -> tuple[str, str]:
    files = [("photos", ("p.jpg", camera_jpeg((640, 480), 3), "image/jpeg"))]
    data = {
        "building": "1栋", "unit": "1单元", "room": "201", "kind": "repair", "category": "water_electric",
        "description": "阳台地漏返水", "phone": "138 0013 8000", "name": "陈女士", "website": "",
    }  # fmt: skip
    url = f"/r/{grid_token(settings.secret, api.world.grids[0].id)}"
    r = await api.client.post(url, data=data, files=files, follow_redirects=False)
    assert r.status_code == 303, r.text
    async with database.reader() as s:
        order = await s.scalar(select(Order))
        event = await s.scalar(select(OrderEvent).where(OrderEvent.action == "report_photos"))
    return str(order.id), event.data["photos"][0]


async def test_staff_who_see_the_order_see_the_owners_report_photos(api, world, settings, database):
    oid, sha = await _reported(api, settings, database)
    for key in ("desk", "steward_a", "lead"):
        r = await api.get(key, f"/api/photos/{sha}/thumb")
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", (key, r.status_code)
    # Technicians of the queue the order waits in see them; the cleaner (another queue) does not.
    assert (await api.get("tech_b", f"/api/photos/{sha}/thumb")).status_code == 200
    assert (await api.get("cleaner", f"/api/photos/{sha}/thumb")).status_code == 404
    # Once it is 李师傅's, his colleague no longer sees the order nor its photos; another estate never.
    r = await api.post("desk", f"/api/orders/{oid}/actions/dispatch", json={"assignee_id": str(world.id("tech_a"))})
    assert r.status_code == 200, r.text
    assert (await api.get("tech_a", f"/api/photos/{sha}/thumb")).status_code == 200
    assert (await api.get("tech_b", f"/api/photos/{sha}/thumb")).status_code == 404
    assert (await api.get("other_supervisor", f"/api/photos/{sha}/thumb")).status_code == 404
