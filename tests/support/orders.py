"""Creating orders in tests through the staff API, the way the front desk does."""

from __future__ import annotations

PHONED_IN_REPAIR = {
    "kind": "repair",
    "category": "water_electric",
    "channel": "phone",
    "description": "厨房水管漏水",
}


async def post_order(api, world, key: str = "desk", label: str = "1栋1单元101", **over) -> dict:
    """A phoned-in water repair for household ``label`` (``over`` changes any field); the created order.

    ``api`` is anything with ``post(key, url, json=...)``: the in-process test client or a real
    HTTP one.
    """
    body = {**PHONED_IN_REPAIR, "household_id": str(world.households[label].id), **over}
    r = await api.post(key, "/api/orders/", json=body)
    assert r.status_code == 201, r.text
    return r.json()["order"]


async def create_order(api, world, key: str = "desk", label: str = "1栋1单元101", **over) -> str:
    """Like :func:`post_order`; the new order's id."""
    return (await post_order(api, world, key, label, **over))["id"]
