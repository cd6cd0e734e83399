"""``GET /api/meta``: what a client needs to behave like the server (registered mutations, the
transition table, pick lists), so the PWA never hard-codes the rules."""

from __future__ import annotations

from litestar import get

from server.orders.models import Category, Kind
from server.orders.transitions import as_json
from server.syncing.mutations import load
from sync.protocol import PROTOCOL_VERSION

MATERIALS = [
    "生料带",
    "弯头",
    "角阀",
    "软管",
    "灯管",
    "开关面板",
    "空开",
    "水龙头",
    "胶水",
    "螺丝",
    "三通",
    "PPR管",
    "灯泡",
    "插座面板",
    "地漏",
    "马桶配件",
]


@get("/api/meta", tags=["meta"])
async def meta() -> dict:
    return {
        "protocol": PROTOCOL_VERSION,
        "mutations": sorted(load().names()),
        "transitions": as_json(),
        "kinds": [k.value for k in Kind],
        "categories": [c.value for c in Category],
        "materials": MATERIALS,
    }
