"""Server endpoints added for the office console: ``PUT /api/orders/{id}/progress-link`` makes sure
an order has a progress link before the desk prints the slip or sends the link, without rotating
(and so breaking) a link that is already printed."""

from __future__ import annotations

import pytest

from tests.test_progress_support import make_link, new_order

pytestmark = pytest.mark.anyio


async def test_put_creates_a_link_once_then_returns_the_same_one(api, world):
    order = await new_order(api, world)
    path = f"/api/orders/{order['id']}/progress-link"
    assert (await api.get("desk", path)).status_code == 404  # none yet
    first = await api.put("desk", path)
    assert first.status_code == 200, first.text
    again = await api.put("lead", path)
    assert again.status_code == 200
    assert again.json()["token"] == first.json()["token"]
    assert (await api.get("desk", path)).json()["token"] == first.json()["token"]
    slip = await api.get("desk", f"/api/orders/{order['id']}/slip")
    assert slip.status_code == 200 and order["number"] in slip.text


async def test_put_keeps_a_link_made_by_post_and_refuses_outsiders(api, world):
    order = await new_order(api, world)
    made = await make_link(api, order["id"])
    path = f"/api/orders/{order['id']}/progress-link"
    assert (await api.put("desk", path)).json()["token"] == made["token"]
    assert (await api.put("other_supervisor", path)).status_code == 404
    assert (await api.put("tech_a", path)).status_code == 403
