"""Words people read: no raw code names, the same category names for owners and staff, Chinese that
reads as Chinese, and nothing promised that is not true (auto-update with JavaScript off)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.meta import MATERIAL_SETS, MATERIALS
from server.orders.transitions import TRANSITIONS
from server.progress.i18n import CATEGORY
from tests.test_progress_support import make_link, new_order, page_path, timeline_items

REPO = Path(__file__).resolve().parents[1]
SERVER_EVENTS = {"create", "note", "set_eta", "report_photos", "sla_breach", "sla_escalated", "finding", "rework"}


def ts_table(path: str, lang: str) -> dict[str, str]:
    """The ``zh`` or ``en`` string table of a PWA i18n file, parsed from its source."""
    source = (REPO / path).read_text()
    found = re.search(rf"const {lang}\b|^\s+{lang}: \{{", source, re.M)
    assert found, path
    start = found.start()
    end = re.compile(r"^\s*\}[,;]", re.M).search(source, start).start()
    return dict(re.findall(r'(\w+): "((?:[^"\\]|\\.)*)"', source[start:end]))


def pwa_words(lang: str) -> dict[str, str]:
    return {**ts_table("pwa/src/i18n.ts", lang), **ts_table("pwa/src/console/i18n.ts", lang)}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_event_an_order_can_have_has_a_label_on_the_staff_screens(lang):
    words = pwa_words(lang)
    actions = {t.action for t in TRANSITIONS} | SERVER_EVENTS
    missing = sorted(a for a in actions if a not in words)
    assert missing == [], f"raw code names would show: {missing}"
    assert "step_n" in words and "{n}" in words["step_n"]  # "处理步骤 1" / "Step 1", never "Steps 1"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_categories_have_one_name_for_owners_and_staff(lang):
    shell = ts_table("pwa/src/i18n.ts", lang)
    staff = {k.removeprefix("cat_"): v for k, v in shell.items() if k.startswith("cat_")}
    assert staff == CATEGORY[lang]
    if lang == "zh":
        assert staff["security"] == "安保" and staff["fees"] == "物业费"
    # No other screen's table names a category its own way (the walks had 安防 / 收费).
    for path in ("pwa/src/console/i18n.ts", "pwa/src/walks/i18n.ts"):
        table = ts_table(path, lang)
        named = [k for k in table if k.startswith("cat_") or (k in CATEGORY[lang] and k != "other")]
        assert named == [], path


@pytest.mark.anyio
@pytest.mark.parametrize(("kind", "line"), [("emergency", "已收到您的紧急报修"), ("repair", "已收到您的报修")])
async def test_the_owner_page_says_what_was_received_in_real_chinese(api, world, kind, line):
    order = await new_order(api, world, kind=kind, category="water_electric", description="水管爆裂")
    link = await make_link(api, order["id"])
    r = await api.client.get(page_path(link))
    assert timeline_items(r.text)[0][1] == line


@pytest.mark.anyio
async def test_the_owner_page_promises_auto_update_only_where_javascript_runs(api, world):
    order = await new_order(api, world)
    r = await api.client.get(page_path(await make_link(api, order["id"])))
    html = r.text
    # With JavaScript off the hidden span stays hidden: the words are not shown; the script unhides it.
    assert re.search(r'<span id="auto" hidden>[^<]*页面会自动更新</span>', html)
    assert html.count("页面会自动更新") == 1
    assert "getElementById('auto')" in html


def test_every_material_the_server_offers_has_an_english_name_on_the_phone():
    """English mode shows material chips and units in English: each name in the server's quick list
    and per-category sets must be in the PWA's table (a new material would otherwise stay Chinese)."""
    table = (Path(__file__).resolve().parents[1] / "pwa" / "src" / "materials.ts").read_text(encoding="utf-8")
    names = set(MATERIALS)
    for items in MATERIAL_SETS.values():
        names.update(m["name"] for m in items)
        names.update(m["unit"] for m in items)
    missing = sorted(n for n in names if not re.search(r"[\s{,]" + re.escape(n) + ":", table))
    assert missing == []
