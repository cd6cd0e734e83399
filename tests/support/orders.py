"""Creating orders in tests through the staff API, the way the front desk does."""

from __future__ import annotations


async def create_order(api, world, key: str = "desk", label: str = "1栋1单元101", **over) -> str:
    """A phoned-in water repair for household ``label`` (``over`` changes any field); its id.

    ``api`` is anything with ``post(key, url, json=...)``: the in-process test client or a real
    HTTP one.
    """
    body = {
        "kind": "repair",
        "category": "water_electric",
        "channel": "phone",
        "description": "厨房水管漏水",
        "household_id": str(world.households[label].id),
        **over,
    }
    r = await api.post(key, "/api/orders/", json=body)
    assert r.status_code == 201, r.text
    return r.json()["order"]["id"]
