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

# The step form's quick chips: the parts a job of that category uses, each with the unit it is counted
# in (pipe and wire by the metre, tape by the roll, sealant by the tube …); "other" is the general set.
_SETS = {
    "water_electric": "生料带/卷 弯头/个 角阀/个 软管/根 水龙头/个 三通/个 PPR管/米 地漏/个 马桶配件/套 灯管/根 "
    "灯泡/个 开关面板/个 插座面板/个 空开/个 电线/米 绝缘胶布/卷",
    "lift": "按钮/个 门滑块/个 照明灯/个 润滑油/瓶 保险丝/个 螺丝/颗",
    "facilities": "灯泡/个 灯管/根 闭门器/个 门锁/把 合页/个 玻璃胶/支 螺丝/颗 膨胀螺栓/颗 油漆/桶 水泥/袋",
    "security": "门禁卡/张 读卡器/个 摄像头/个 网线/米 电池/节 闭门器/个",
    "cleaning": "垃圾袋/卷 清洁剂/瓶 消毒液/瓶 拖把头/个 抹布/块",
    "landscaping": "草皮/平方米 苗木/株 肥料/袋 农药/瓶 水管/米 喷头/个",
    "renovation": "警示带/卷 防护膜/卷 封条/张 垃圾袋/卷",
    "other": "螺丝/颗 胶水/支 生料带/卷 玻璃胶/支 灯泡/个",
}
MATERIAL_SETS: dict[str, list[dict[str, str]]] = {
    category: [dict(zip(("name", "unit"), item.split("/"), strict=True)) for item in items.split()]
    for category, items in _SETS.items()
}


@get("/api/meta", tags=["meta"])
async def meta() -> dict:
    return {
        "protocol": PROTOCOL_VERSION,
        "mutations": sorted(load().names()),
        "transitions": as_json(),
        "kinds": [k.value for k in Kind],
        "categories": [c.value for c in Category],
        "materials": MATERIALS,
        "material_sets": MATERIAL_SETS,
    }
