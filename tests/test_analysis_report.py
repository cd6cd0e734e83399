"""The service analysis report, 业主月度互动率, 便民服务覆盖率, the response-speed baseline and the
after-hours split, against a fixture worked out by hand (both databases).

The test clock starts on Sunday 2026-11-22 16:00 China time (after hours); the office part of the
fixture is Monday 23rd from 10:00. Households of the estate: 1栋1单元101/102/201, 2栋1单元101/102/201;
2栋201 is empty (not occupied, not resident), 2栋102 lived in but not all year (occupied, not
resident): occupied 5, resident 4.
"""

from __future__ import annotations

import io
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from server.orders.kpi import CHINA
from server.sites.models import Household
from server.walks.models import Finding

pytestmark = pytest.mark.anyio
MONTH = {"period": "month", "year": 2026, "number": 11}


async def order(api, world, clock, kind, category, label, accept_after, complete_after):
    r = await api.post(
        "desk",
        "/api/orders/",
        json={
            "kind": kind,
            "category": category,
            "channel": "phone",
            "description": "测试工单",
            "household_id": str(world.households[label].id),
            "assignee_id": str(world.id("tech_a")),
        },
    )
    assert r.status_code == 201, r.text
    oid = r.json()["order"]["id"]
    clock.advance(minutes=accept_after)
    assert (await api.post("tech_a", f"/api/orders/{oid}/actions/accept", json={})).status_code == 200
    clock.advance(minutes=complete_after)
    assert (await api.post("tech_a", f"/api/orders/{oid}/actions/complete", json={})).status_code == 200
    return oid


async def finding(database, world, label, at):
    h = world.households[label]
    async with database.writer() as s:
        s.add(
            Finding(
                id=uuid.uuid4(),
                estate_id=h.estate_id,
                grid_id=h.grid_id,
                author_id=world.id("steward_a"),
                category="other",
                note="上门走访",
                photos=[],
                location={"household_id": str(h.id)},
                captured_at=at,
                received_at=at,
            )
        )
        await s.commit()


def monday_10(clock):
    local = clock.now().astimezone(CHINA)
    monday = (local + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    clock.advance(seconds=(monday - local).total_seconds())


@pytest.fixture
async def november(api, world, clock, database):
    async with database.writer() as s:
        for label, occupied, resident in (("2栋1单元201", False, False), ("2栋1单元102", True, False)):
            hid = world.households[label].id
            await s.execute(update(Household).where(Household.id == hid).values(occupied=occupied, resident=resident))
        await s.commit()
    start = clock.now()
    # October (the baseline and the previous period): one repair answered in 40 minutes.
    clock.advance(days=-30)
    await order(api, world, clock, "repair", "water_electric", "1栋1单元101", 40, 20)
    await finding(database, world, "1栋1单元201", clock.now())  # in October: no November interaction
    clock.advance(seconds=(start - clock.now()).total_seconds())
    api.sign_out_all()  # October's sessions would have expired
    # Sunday from 16:00 China: after hours.
    c1 = await order(api, world, clock, "complaint", "noise", "1栋1单元101", 10, 50)  # 10 / 60 min
    await order(api, world, clock, "convenience", "other", "1栋1单元102", 5, 30)  # 5 / 35
    await order(api, world, clock, "repair", "water_electric", "1栋1单元101", 15, 45)  # 15 / 60
    r = await api.post("desk", f"/api/orders/{c1}/rating", json={"level": "unsatisfied", "comment": "噪音还在"})
    assert r.status_code == 201  # and a 回访 follow-up order (after hours, never accepted)
    await finding(database, world, "2栋1单元102", clock.now())  # a visit note: 2栋102's only interaction
    await finding(database, world, "2栋1单元201", clock.now())  # names an empty flat: not counted
    # Monday from 10:00 China: office hours.
    monday_10(clock)
    await order(api, world, clock, "complaint", "noise", "1栋1单元101", 20, 40)  # 20 / 60, contact late, repeat
    await order(api, world, clock, "repair", "water_electric", "2栋1单元101", 30, 60)  # 30 / 90, on the deadline
    await order(api, world, clock, "convenience", "other", "2栋1单元201", 5, 25)  # 5 / 30, empty flat
    api.sign_out_all()
    return c1


async def test_interaction_coverage_and_shifts_match_the_hand_computed_figures(api, world, november):
    r = await api.get("supervisor", "/api/kpi/", params={"period": "month", "date": "2026-11-22"})
    assert r.status_code == 200, r.text
    k = r.json()["current"]
    # 1栋101 (orders, rating), 1栋102 (order), 2栋101 (order), 2栋102 (visit note) of the 5 occupied.
    assert (k["interacting_households"], k["occupied_households"], k["interaction_rate"]) == (4, 5, 0.8)
    # Of the 4 resident flats only 1栋102 had a 便民 order (2栋201's is not resident).
    assert (k["served_households"], k["resident_households"], k["convenience_coverage"]) == (1, 4, 0.25)
    office, after = k["office"], k["after_hours"]
    assert (after["orders"], office["orders"]) == (4, 3)  # the follow-up is after hours
    assert after["response"]["median_min"] == 10.0 and after["resolution"]["median_min"] == 60.0
    assert office["response"]["median_min"] == 20.0 and office["resolution"]["median_min"] == 60.0
    assert (after["judged"], after["sla_timeliness"]) == (3, 1.0)
    assert (office["judged"], office["sla_timeliness"]) == (3, 0.6667)  # the repeat complaint, 5 min late
    assert k["response_speedup"] is None and k["baseline"] is None  # no baseline set yet
    assert r.json()["targets"]["interaction_rate"] == 0.4 and r.json()["targets"]["convenience_coverage"] == 0.8


async def test_response_speedup_against_the_baseline_the_estate_sets(api, world, november):
    url = f"/api/estates/{world.estate.id}/response-baseline"
    assert (await api.put("supervisor", url, json={"from": "2026-10-01", "to": "2026-10-31"})).status_code == 200
    k = (await api.get("supervisor", "/api/kpi/", params={"date": "2026-11-22"})).json()["current"]
    # Baseline median 40; November's responses 5, 5, 10, 15, 20, 30 → median 12.5; 40 / 12.5 − 1 = 2.2.
    assert k["baseline"]["response"]["median_min"] == 40.0 and k["response"]["median_min"] == 12.5
    assert k["response_speedup"] == 2.2
    rep = (await api.get("supervisor", "/api/reports/analysis", params=MONTH)).json()
    assert rep["per_estate"][0]["response_speedup"] == 2.2 and rep["changes"]["response_speedup"]["current"] == 2.2
    company = (await api.get("admin", "/api/reports/analysis", params=MONTH)).json()
    assert next(e for e in company["per_estate"] if e["estate"] == "翠湖花园")["response_speedup"] == 2.2
    bad = await api.put("supervisor", url, json={"from": "2026-11-30", "to": "2026-11-01"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_baseline"
    assert (await api.put("tech_a", url, json={"from": "2026-10-01", "to": "2026-10-31"})).status_code == 403
    other = f"/api/estates/{world.other_estate.id}/response-baseline"
    assert (await api.put("supervisor", other, json={"from": "2026-10-01", "to": "2026-10-31"})).status_code == 404


async def test_monthly_report_tables(api, world, november):
    r = await api.get("supervisor", "/api/reports/analysis", params={**MONTH, "estate_id": str(world.estate.id)})
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["label"] == "2026年11月" and rep["previous_label"] == "2026年10月"
    assert rep["headline"]["orders"] == 7
    assert rep["changes"]["orders"] == {"current": 7, "previous": 1, "delta": 6}
    assert rep["by_kind"] == {"complaint": 2, "convenience": 2, "repair": 2, "callback": 1}
    assert rep["by_channel"] == {"phone": 7}  # the follow-up keeps the complaint's channel and category
    assert rep["by_category"] == {"noise": 3, "water_electric": 2, "other": 2}
    trend = {p["bucket"]: p["orders"] for p in rep["trend"]}
    assert len(trend) == 30 and trend["11-22"] == 4 and trend["11-23"] == 3
    heat = rep["heatmap"]  # Monday first; China hours
    assert heat[6][16] == 1 and heat[6][17] == 2 and heat[6][18] == 1
    assert heat[0][10] == 1 and heat[0][11] == 1 and heat[0][12] == 1 and sum(map(sum, heat)) == 7
    assert rep["shifts"]["office"]["sla_timeliness"] == 0.6667
    assert rep["satisfaction"] == {"very_satisfied": 0, "satisfied": 0, "neutral": 0, "unsatisfied": 1}
    assert [x["reason"] for x in rep["unsatisfied_reasons"]] == ["噪音还在"]
    assert [(h["building"], h["unit"], h["category"], h["count"]) for h in rep["hotspots"]] == [
        ("1栋", "1单元", "noise", 2)
    ]
    # 1栋101: noise twice (the two complaints); its repairs are one per month, not recurring.
    assert [(p["household"], p["category"], p["count"]) for p in rep["recurring"]] == [("1栋1单元101", "noise", 2)]
    tech = next(t for t in rep["technicians"] if t["id"] == str(world.id("tech_a")))
    assert (tech["orders"], tech["done"], tech["ratings"], tech["satisfaction"]) == (6, 6, 1, 0.0)
    assert tech["resolution"]["median_min"] == 60.0  # 60, 35, 60, 60, 90, 30
    # The company's per-estate rows are counted from the period's rows, an estate's headline by
    # kpi.compute: the same figures.
    company = (await api.get("admin", "/api/reports/analysis", params=MONTH)).json()
    row = next(e for e in company["per_estate"] if e["estate"] == "翠湖花园")
    for name in ("orders", "complaints", "complaint_timeliness", "satisfaction", "interaction_rate"):
        assert row[name] == rep["headline"][name], name
    assert row["convenience_coverage"] == 0.25 and row["response_speedup"] is None
    deps = {d["department"]: d["orders"] for d in rep["departments"]}
    assert sum(deps.values()) == 7
    steward = {s["name"]: s for s in rep["stewards"]}
    assert any(s["complaints"] == 2 and s["repeats"] == 1 for s in steward.values())


async def test_drill_down_lists_the_orders_behind_a_figure(api, world, november):
    base = {**MONTH, "estate_id": str(world.estate.id)}
    r = await api.get("supervisor", "/api/reports/orders", params={**base, "shift": "office"})
    assert r.status_code == 200 and r.json()["count"] == 3
    r = await api.get("supervisor", "/api/reports/orders", params={**base, "weekday": 6, "hour": 17})
    assert r.json()["count"] == 2
    r = await api.get("supervisor", "/api/reports/orders", params={**base, "shift": "office", "late": 1})
    assert r.json()["count"] == 1 and r.json()["orders"][0]["kind"] == "complaint"
    rep = (await api.get("supervisor", "/api/reports/analysis", params=base)).json()
    ids = ",".join(rep["recurring"][0]["order_ids"])
    assert (await api.get("supervisor", "/api/reports/orders", params={**base, "order_ids": ids})).json()["count"] == 2
    noise = await api.get("supervisor", "/api/reports/orders", params={**base, "category": "noise"})
    assert noise.json()["count"] == 3  # two complaints and the follow-up


async def test_report_scope(api, world, november):
    other = {**MONTH, "estate_id": str(world.other_estate.id)}
    for url in ("/api/reports/analysis", "/api/reports/analysis.xlsx", "/api/reports/orders"):
        assert (await api.get("supervisor", url, params=other)).status_code == 404
    assert (await api.get("tech_a", "/api/reports/analysis", params=MONTH)).status_code == 403
    assert (await api.get("steward_a", "/api/reports/analysis", params=MONTH)).status_code == 403
    # The company view holds only what the caller sees: the supervisor's own estate …
    mine = (await api.get("supervisor", "/api/reports/analysis", params=MONTH)).json()
    assert [e["name"] for e in mine["estates"]] == ["翠湖花园"] and mine["headline"]["orders"] == 7
    # … the other estate's supervisor sees none of these orders; the admin sees both estates.
    theirs = (await api.get("other_supervisor", "/api/reports/analysis", params=MONTH)).json()
    assert theirs["headline"]["orders"] == 0
    company = (await api.get("admin", "/api/reports/analysis", params=MONTH)).json()
    assert sorted(e["name"] for e in company["estates"]) == ["碧水苑", "翠湖花园"]
    assert company["scope"] == "company" and company["headline"]["orders"] == 7
    assert company["headline"]["interaction_rate"] == round(4 / (5 + 3), 4)  # the other estate: 3 occupied
    rows = {e["estate"]: e for e in company["per_estate"]}
    assert rows["翠湖花园"]["interaction_rate"] == 0.8 and rows["碧水苑"]["interaction_rate"] == 0.0
    assert rows["翠湖花园"]["orders"] == 7 and rows["碧水苑"]["orders"] == 0
    assert (await api.get("supervisor", "/api/reports/analysis", params={**MONTH, "number": 13})).status_code == 400
    quarter = {"period": "quarter", "year": 2026, "number": 5}
    assert (await api.get("supervisor", "/api/reports/analysis", params=quarter)).status_code == 400


async def test_quarter_and_year_reports(api, world, november):
    q = (
        await api.get("supervisor", "/api/reports/analysis", params={"period": "quarter", "year": 2026, "number": 4})
    ).json()
    assert q["label"] == "2026年第4季度" and [p["bucket"] for p in q["trend"]] == ["2026-10", "2026-11", "2026-12"]
    assert [p["orders"] for p in q["trend"]] == [1, 7, 0]
    y = (await api.get("supervisor", "/api/reports/analysis", params={"period": "year", "year": 2026})).json()
    assert len(y["trend"]) == 12 and y["headline"]["orders"] == 8


async def test_xlsx_has_one_sheet_per_table_and_neutralised_text(api, world, november, database):
    async with database.writer() as s:
        from server.orders.models import Rating

        await s.execute(update(Rating).values(comment='=HYPERLINK("http://evil.example","点我")'))
        await s.commit()
    r = await api.get("supervisor", "/api/reports/analysis.xlsx", params={**MONTH, "estate_id": str(world.estate.id)})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[:4] == ["核心指标", "工单量趋势", "类型分布", "问题类别分布"]
    assert {
        "高峰时段",
        "部门效率",
        "不满意原因",
        "重复投诉热点",
        "高频问题",
        "管家",
        "处理人（维修工及接单人员）",
    } <= set(wb.sheetnames)
    summary = {row[0]: row[1] for row in wb["核心指标"].iter_rows(min_row=2, values_only=True)}
    assert summary["工单总量"] == 7 and summary["业主月度互动率"] == 0.8
    reason = wb["不满意原因"]["A2"]
    assert reason.data_type == "s" and reason.value.startswith("'=HYPERLINK")
    heat = list(wb["高峰时段"].iter_rows(min_row=2, values_only=True))
    assert heat[6][0] == "日" and heat[6][1 + 17] == 2


ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


async def test_pdf_is_printed_by_chromium_with_the_cjk_fonts_embedded(api, world, november, tmp_path, backend):
    r = await api.get("supervisor", "/api/reports/analysis.pdf", params={**MONTH, "estate_id": str(world.estate.id)})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(r.content)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    # Chromium embeds the Noto CJK outlines (as Type 3 glyph programs) with a Unicode map: a viewer
    # without any Chinese font shows them, and the text can be searched and copied.
    listed = fonts.splitlines()[2:]
    assert listed and all(line.split()[-5:-2] == ["yes", "no", "yes"] for line in listed), fonts
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "翠湖花园 · 2026年11月 服务分析报告" in text and "业主月度互动率" in text and "80.0%" in text
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / f"report-pdf-{backend}"
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(out)], check=True)
    assert list(ARTIFACTS.glob(f"report-pdf-{backend}-*.png"))


async def test_html_page_escapes_names_and_carries_drill_links(api, world, november, database):
    async with database.writer() as s:
        from server.orders.models import Rating

        await s.execute(update(Rating).values(comment="<script>alert(1)</script>"))
        await s.commit()
    r = await api.get("supervisor", "/api/reports/analysis.html", params={**MONTH, "estate_id": str(world.estate.id)})
    assert r.status_code == 200 and "<script>alert" not in r.text and "&lt;script&gt;" in r.text
    assert (
        "script-src" not in r.headers["content-security-policy"]
        or "'unsafe-inline'" not in r.headers["content-security-policy"]
    )
    assert 'data-drill="period=month&amp;year=2026&amp;number=11&amp;estate_id=' in r.text
    en = await api.get("supervisor", "/api/reports/analysis.html", params={**MONTH, "lang": "en"})
    assert "Service analysis report" in en.text and 'lang="en"' in en.text


async def test_dashboard_drill_down_of_the_new_figures(api, world, november):
    params = {"period": "month", "date": "2026-11-22"}

    async def count(**extra):
        r = await api.get("supervisor", "/api/kpi/orders", params={**params, **extra})
        assert r.status_code == 200, r.text
        return r.json()["count"]

    # Orders raised for a household, the 回访 follow-up aside: 3 on Sunday, 3 on Monday.
    assert await count(metric="interaction_rate", outcome="all") == 6
    # The 便民 orders of the 365 days up to the month's end (the one in 2栋201 too: the list is the
    # orders behind the figure's neighbourhood; the ratio counts resident flats only).
    assert await count(metric="convenience_coverage", outcome="all") == 2
    assert await count(metric="volume", outcome="all", shift="office") == 3
    assert await count(metric="volume", outcome="all", shift="after_hours") == 4
    assert await count(metric="response_speedup", outcome="bad") == 1  # the repeat complaint, contact late
