"""The analysis report as one printable HTML page (A4 portrait), charts as inline SVG.

The same page is the console's preview (a ``srcdoc`` frame, its one stylesheet allowed by hash in
server/web/security.py) and the source of the PDF (server/reports/pdf.py). Every figure that counts
orders is a link carrying ``data-drill`` — the query of ``GET /api/reports/orders`` that lists them;
the console opens those in its drill-down panel, a printed page shows them as plain numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from server.progress import i18n
from server.progress.html import Safe, compact, join, render
from server.progress.layout import CHINA, printable_csp

WEEKDAYS = {"zh": "一二三四五六日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
CHANNEL = {
    "zh": {"phone": "电话", "walk_in": "前台来访", "steward": "管家发现", "qr": "扫码报事", "group_chat": "业主群"},
    "en": {
        "phone": "Phone",
        "walk_in": "Walk-in",
        "steward": "Steward",
        "qr": "QR code",
        "group_chat": "Owners' group",
    },
}
WORDS = {
    "zh": {
        "title": "服务分析报告",
        "company": "公司汇总",
        "generated": "生成于",
        "summary": "核心指标",
        "metric": "指标",
        "current": "本期",
        "previous": "上期",
        "change": "变化",
        "target": "目标",
        "orders": "工单总量",
        "complaints": "投诉量",
        "complaint_timeliness": "投诉处理及时率",
        "repeat_complaint_rate": "重复投诉率",
        "satisfaction": "满意度",
        "callback_rate": "回访率",
        "interaction_rate": "业主月度互动率",
        "convenience_coverage": "便民服务覆盖率（近12个月，常住户）",
        "response_speedup": "服务响应速度提升（对比基准期）",
        "trend": "工单量趋势",
        "kinds": "类型分布",
        "categories": "问题类别分布",
        "channels": "渠道分布",
        "heatmap": "高峰时段（星期 × 小时）",
        "shifts": "工作时间与非工作时间（晚8点后、周末）",
        "shift": "时段",
        "office": "工作时间",
        "after_hours": "非工作时间",
        "response_median": "响应中位数（分钟）",
        "resolution_median": "办结中位数（分钟）",
        "p90": "P90（分钟）",
        "sla": "时效达标率",
        "departments": "部门效率",
        "department": "部门",
        "satisfaction_levels": "满意度评价",
        "reasons": "不满意原因",
        "reason": "原因",
        "hotspots": "重复投诉热点（楼栋 / 单元 / 类别）",
        "building": "楼栋",
        "unit": "单元",
        "category": "类别",
        "count": "次数",
        "recurring": "高频问题（同一房屋同类问题 ≥ 2 次）",
        "household": "房屋",
        "order_numbers": "工单",
        "stewards": "管家",
        "technicians": "处理人（维修工及接单人员）",
        "repeats": "重复投诉（次）",
        "name": "姓名",
        "done": "已完成",
        "late": "超时",
        "ratings": "评价数",
        "estates": "各项目对比",
        "estate": "项目",
        "none": "无",
        "kind": "类型",
        "channel": "渠道",
        "baseline": "基准期",
        "baseline_unset": "尚未设置基准期",
        "households": "户",
    },
    "en": {
        "title": "Service analysis report",
        "company": "Company",
        "generated": "Generated",
        "summary": "Key figures",
        "metric": "Figure",
        "current": "This period",
        "previous": "Previous",
        "change": "Change",
        "target": "Target",
        "orders": "Orders",
        "complaints": "Complaints",
        "complaint_timeliness": "Complaint timeliness",
        "repeat_complaint_rate": "Repeat complaints",
        "satisfaction": "Satisfaction",
        "callback_rate": "Callback rate",
        "interaction_rate": "Monthly owner interaction",
        "convenience_coverage": "Convenience coverage (12 months, resident)",
        "response_speedup": "Response speed-up (vs baseline)",
        "trend": "Orders over time",
        "kinds": "By kind",
        "categories": "By category",
        "channels": "By channel",
        "heatmap": "Peak times (weekday × hour)",
        "shifts": "Office hours and after hours (after 20:00, weekends)",
        "shift": "Shift",
        "office": "Office hours",
        "after_hours": "After hours",
        "response_median": "Response median (min)",
        "resolution_median": "Resolution median (min)",
        "p90": "P90 (min)",
        "sla": "On time",
        "departments": "Departments",
        "department": "Department",
        "satisfaction_levels": "Ratings",
        "reasons": "Reasons for 'unsatisfied'",
        "reason": "Reason",
        "hotspots": "Repeat-complaint hotspots",
        "building": "Building",
        "unit": "Unit",
        "category": "Category",
        "count": "Count",
        "recurring": "Recurring problems (same flat and category ≥ 2)",
        "household": "Flat",
        "order_numbers": "Orders",
        "stewards": "Stewards",
        "technicians": "Handlers (technicians and others)",
        "repeats": "Repeat complaints",
        "name": "Name",
        "done": "Done",
        "late": "Late",
        "ratings": "Ratings",
        "estates": "Estates",
        "estate": "Estate",
        "none": "None",
        "kind": "Kind",
        "channel": "Channel",
        "baseline": "Baseline",
        "baseline_unset": "No baseline period set",
        "households": "flats",
    },
}

REPORT_CSS = Safe(
    "@page{size:A4;margin:14mm 12mm}"
    "*{box-sizing:border-box}"
    "body{margin:0;color:#1d2939;font:12px/1.5 'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif}"
    "main{max-width:190mm;margin:0 auto;padding:8px}"
    "h1{font-size:20px;margin:0 0 2px}h2{font-size:14px;margin:14px 0 6px;border-bottom:2px solid #1463d8}"
    ".mut{color:#667085}"
    "table{width:100%;border-collapse:collapse;margin:4px 0}"
    "th,td{border:1px solid #e4e7ec;padding:3px 5px;text-align:left;vertical-align:top}"
    "th{background:#f3f5f8}td.n{text-align:right;white-space:nowrap}"
    ".ok{color:#0f8a5f}.bad{color:#b42318;font-weight:600}"
    "a.d{color:#1463d8;text-decoration:none;cursor:pointer}"
    "section{break-inside:avoid;page-break-inside:avoid}"
    ".cols{display:grid;grid-template-columns:1fr 1fr;gap:10px}"
    "svg{width:100%;height:auto;display:block}"
    "svg text{font-size:9px;fill:#475467}svg .bar{fill:#1463d8}svg.hb{max-width:92mm}"
    ".wrap{overflow-x:auto}"
    "@media (max-width:600px){.cols{grid-template-columns:1fr}body{font-size:13px}}"
    "@media print{a.d{color:inherit}.wrap{overflow:visible}}"
)
REPORT_CSP = printable_csp(REPORT_CSS)


def _day(iso: str, seconds: int = 0) -> str:
    return (datetime.fromisoformat(iso) + timedelta(seconds=seconds)).astimezone(CHINA).date().isoformat()


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def _num(v: Any) -> str:
    return "—" if v is None else str(v)


def _drill(n: Any, **query: Any) -> Safe:
    q = urlencode({k: v for k, v in query.items() if v is not None})
    return render('<a class="d" data-drill="{q}" href="#">{n}</a>', q=q, n=_num(n))


def _table(head: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> Safe:
    numeric = numeric or set()
    th = join(render("<th>{h}</th>", h=h) for h in head)
    body = join(
        Safe(
            "<tr>"
            + "".join(
                render('<td class="n">{v}</td>' if i in numeric else "<td>{v}</td>", v=v) for i, v in enumerate(r)
            )
            + "</tr>"
        )
        for r in rows
    )
    return render(
        '<div class="wrap"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>', th=th, body=body
    )


def _hbars(rows: list[tuple[str, int, Safe]], title: str) -> Safe:
    if not rows:
        return render("<p class=mut>{t}</p>", t=title)
    top = max(1, *(n for _, n, _ in rows))
    h = 16 * len(rows) + 4
    bars = join(
        render(
            '<g transform="translate(0 {y})"><text x="0" y="11">{label}</text>'
            '<rect class="bar" x="80" y="2" height="11" width="{w}"/><text x="{tx}" y="11">{n}</text></g>',
            y=i * 16,
            label=label,
            w=f"{n / top * 170:.1f}",
            tx=f"{84 + n / top * 170:.1f}",
            n=n,
        )
        for i, (label, n, _) in enumerate(rows)
    )
    return render(
        '<svg class="hb" viewBox="0 0 300 {h}" role="img" aria-label="{t}">{bars}</svg>', h=h, t=title, bars=bars
    )


def _trend_svg(points: list[dict], title: str) -> Safe:
    n = len(points)
    top = max(1, *(p["orders"] for p in points)) if points else 1
    w = 560 / max(1, n)
    bars = join(
        render(
            '<rect class="bar" x="{x}" y="{y}" width="{bw}" height="{bh}"><title>{lbl}: {v}</title></rect>',
            x=f"{30 + i * w + w * 0.1:.1f}",
            y=f"{110 - p['orders'] / top * 100:.1f}",
            bw=f"{w * 0.8:.1f}",
            bh=f"{p['orders'] / top * 100:.1f}",
            lbl=p["bucket"],
            v=p["orders"],
        )
        for i, p in enumerate(points)
    )
    step = max(1, n // 10)
    ticks = join(
        render(
            '<text x="{x}" y="124" text-anchor="middle">{lbl}</text>', x=f"{30 + i * w + w / 2:.1f}", lbl=p["bucket"]
        )
        for i, p in enumerate(points)
        if i % step == 0
    )
    return render(
        '<svg viewBox="0 0 600 130" role="img" aria-label="{t}"><text x="0" y="12">{top}</text>'
        '<line x1="30" x2="590" y1="110" y2="110" stroke="#98a2b3"/>{bars}{ticks}</svg>',
        t=title,
        top=top,
        bars=bars,
        ticks=ticks,
    )


def _heat_svg(heat: list[list[int]], lang: str, title: str) -> Safe:
    top = max(1, *(max(r) for r in heat))
    cells = []
    for d, row in enumerate(heat):
        cells.append(render('<text x="0" y="{y}">{d}</text>', y=d * 16 + 28, d=WEEKDAYS[lang][d]))
        for h, v in enumerate(row):
            alpha = 0.06 + 0.94 * v / top if v else 0.03
            cells.append(
                render(
                    '<rect x="{x}" y="{y}" width="21" height="14" fill="#1463d8" fill-opacity="{a}">'
                    "<title>{d} {h}:00 · {v}</title></rect>",
                    x=28 + h * 23,
                    y=d * 16 + 17,
                    a=f"{alpha:.2f}",
                    d=WEEKDAYS[lang][d],
                    h=h,
                    v=v,
                )
            )
    hours = join(
        render('<text x="{x}" y="12" text-anchor="middle">{h}</text>', x=38 + h * 23, h=h) for h in range(0, 24, 2)
    )
    return render(
        '<svg viewBox="0 0 584 132" role="img" aria-label="{t}">{hours}{cells}</svg>',
        t=title,
        hours=hours,
        cells=join(cells),
    )


def page(r: dict[str, Any], lang: str = "zh") -> str:
    lang = lang if lang in WORDS else "zh"
    w = WORDS[lang]
    scope = {"period": r["period"], "year": r["year"], "number": r["number"]}
    if r["scope"] == "estate":
        scope["estate_id"] = r["estates"][0]["id"]
    title = f"{r['estates'][0]['name'] if r['scope'] == 'estate' else w['company']} · {r['label']} {w['title']}"
    kinds, cats, deps = i18n.KIND[lang], i18n.CATEGORY[lang], i18n.DEPARTMENT[lang]
    levels = i18n.RATING[lang]

    def ratio_cell(name: str, value: Any) -> str:
        return _num(value) if name in ("orders", "complaints") else _pct(value)

    summary_rows = []
    for name, c in r["changes"].items():
        target = r["targets"].get(name)
        value = c["current"]
        ok = None
        if target is not None and value is not None:
            ok = value <= target if name == "repeat_complaint_rate" else value >= target
        cls = "" if ok is None else ("ok" if ok else "bad")
        current = Safe(render('<span class="{c}">{v}</span>', c=cls, v=ratio_cell(name, value)))
        if name == "orders":
            current = _drill(value, **scope)
        delta = c["delta"]
        change = (
            "—" if delta is None else (f"{delta:+d}" if name in ("orders", "complaints") else f"{delta * 100:+.1f}")
        )
        sign = "≤" if name == "repeat_complaint_rate" else "≥"
        summary_rows.append(
            [
                w[name],
                current,
                ratio_cell(name, c["previous"]),
                change,
                f"{sign} {_pct(target)}" if target is not None else "",
            ]
        )
    h = r["headline"]
    notes = []
    if "occupied_households" in h:
        notes.append(
            f"{w['interaction_rate']}: {h['interacting_households']}/{h['occupied_households']} {w['households']} · "
            f"{w['convenience_coverage']}: {h['served_households']}/{h['resident_households']} {w['households']}"
        )
    if r["scope"] == "estate":
        base = h.get("baseline")
        notes.append(
            f"{w['baseline']}: {base['from']} – {base['to']} · "
            f"{w['response_median']} {_num(base['response']['median_min'])}"
            if base
            else w["baseline_unset"]
        )

    def dist(counts: dict[str, int], names: dict[str, str], key: str) -> Safe:
        rows = [(names.get(k, k), n, _drill(n, **scope, **{key: k})) for k, n in counts.items()]
        return render(
            "{svg}{table}",
            svg=_hbars(rows, w["none"]),
            table=_table([w[key], w["count"]], [[label, link] for label, _, link in rows], {1}),
        )

    shift_rows = [
        [
            w[name],
            _drill(s["orders"], **scope, shift=name),
            _num(s["response"]["median_min"]),
            _num(s["resolution"]["median_min"]),
            _num(s["resolution"]["p90_min"]),
            _pct(s["sla_timeliness"]),
            _drill(s["judged"] - round((s["sla_timeliness"] or 0) * s["judged"]), **scope, shift=name, late=1),
        ]
        for name, s in r["shifts"].items()
    ]
    dep_rows = [
        [
            deps.get(d["department"], d["department"]),
            _drill(d["orders"], **scope, department=d["department"]),
            _num(d["resolution"]["median_min"]),
            _num(d["resolution"]["p90_min"]),
        ]
        for d in r["departments"]
    ]
    level_rows = [[levels.get(k, k), n] for k, n in r["satisfaction"].items()]
    reason_rows = [[x["reason"], x["count"], "、".join(x["orders"])] for x in r["unsatisfied_reasons"]]
    hot_rows = [
        [
            *([x["estate"]] if r["scope"] == "company" else []),
            x["building"],
            x["unit"],
            cats.get(x["category"], x["category"]),
            x["count"],
            "、".join(x["orders"]),
        ]
        for x in r["hotspots"]
    ]
    hot_head = [
        *([w["estate"]] if r["scope"] == "company" else []),
        w["building"],
        w["unit"],
        w["category"],
        w["count"],
        w["order_numbers"],
    ]
    rec_rows = [
        [
            x["household"],
            cats.get(x["category"], x["category"]),
            x["count"],
            _drill("、".join(x["orders"]), **scope, order_ids=",".join(x["order_ids"])),
        ]
        for x in r["recurring"]
    ]
    steward_rows = [
        [
            s["name"],
            s["orders"],
            s["complaints"],
            s["repeats"],
            _pct(s["complaint_timeliness"]),
            _pct(s["satisfaction"]),
        ]
        for s in r["stewards"]
    ]
    tech_rows = [
        [
            t["name"],
            _drill(t["orders"], **scope, assignee_id=t["id"]),
            t["done"],
            t["resolve_late"],
            _num(t["resolution"]["median_min"]),
            t["ratings"],
            _pct(t["satisfaction"]),
        ]
        for t in r["technicians"]
    ]
    estate_rows = [
        [
            e["estate"],
            e["orders"],
            _pct(e["complaint_timeliness"]),
            _pct(e["satisfaction"]),
            _pct(e["interaction_rate"]),
            _pct(e["convenience_coverage"]),
            _pct(e["response_speedup"]),
        ]
        for e in r["per_estate"]
    ]
    sections = [
        render(
            "<section><h2>{h}</h2>{t}<p class=mut>{notes}</p></section>",
            h=w["summary"],
            t=_table(
                [w["metric"], w["current"], f"{w['previous']}（{r['previous_label']}）", w["change"], w["target"]],
                summary_rows,
                {1, 2, 3, 4},
            ),
            notes=" · ".join(notes),
        ),
        render("<section><h2>{h}</h2>{svg}</section>", h=w["trend"], svg=_trend_svg(r["trend"], w["trend"])),
        render(
            '<div class="cols"><section><h2>{a}</h2>{da}</section><section><h2>{b}</h2>{db}</section></div>',
            a=w["kinds"],
            da=dist(r["by_kind"], kinds, "kind"),
            b=w["channels"],
            db=dist(r["by_channel"], CHANNEL[lang], "channel"),
        ),
        render("<section><h2>{h}</h2>{d}</section>", h=w["categories"], d=dist(r["by_category"], cats, "category")),
        render("<section><h2>{h}</h2>{svg}</section>", h=w["heatmap"], svg=_heat_svg(r["heatmap"], lang, w["heatmap"])),
        render(
            "<section><h2>{h}</h2>{t}</section>",
            h=w["shifts"],
            t=_table(
                [w["shift"], w["orders"], w["response_median"], w["resolution_median"], w["p90"], w["sla"], w["late"]],
                shift_rows,
                {1, 2, 3, 4, 5, 6},
            ),
        ),
        render(
            "<section><h2>{h}</h2>{t}</section>",
            h=w["departments"],
            t=_table([w["department"], w["orders"], w["resolution_median"], w["p90"]], dep_rows, {1, 2, 3}),
        ),
        render(
            '<div class="cols"><section><h2>{a}</h2>{ta}</section><section><h2>{b}</h2>{tb}</section></div>',
            a=w["satisfaction_levels"],
            ta=_table([w["metric"], w["count"]], level_rows, {1}),
            b=w["reasons"],
            tb=_table([w["reason"], w["count"], w["order_numbers"]], reason_rows, {1})
            if reason_rows
            else render("<p class=mut>{n}</p>", n=w["none"]),
        ),
        render(
            "<section><h2>{h}</h2>{t}</section>",
            h=w["hotspots"],
            t=_table(hot_head, hot_rows) if hot_rows else render("<p class=mut>{n}</p>", n=w["none"]),
        ),
        render(
            "<section><h2>{h}</h2>{t}</section>",
            h=w["recurring"],
            t=_table([w["household"], w["category"], w["count"], w["order_numbers"]], rec_rows, {2})
            if rec_rows
            else render("<p class=mut>{n}</p>", n=w["none"]),
        ),
        render(
            "<section><h2>{h}</h2>{t}</section>",
            h=w["stewards"],
            t=_table(
                [
                    w["name"],
                    w["orders"],
                    w["complaints"],
                    w["repeats"],
                    w["complaint_timeliness"],
                    w["satisfaction"],
                ],
                steward_rows,
                {1, 2, 3, 4, 5},
            ),
        ),
        render(
            "<section><h2>{h}</h2>{t}</section>",
            h=w["technicians"],
            t=_table(
                [w["name"], w["orders"], w["done"], w["late"], w["resolution_median"], w["ratings"], w["satisfaction"]],
                tech_rows,
                {1, 2, 3, 4, 5, 6},
            ),
        ),
    ]
    if r["scope"] == "company":
        sections.insert(
            1,
            render(
                "<section><h2>{h}</h2>{t}</section>",
                h=w["estates"],
                t=_table(
                    [
                        w["estate"],
                        w["orders"],
                        w["complaint_timeliness"],
                        w["satisfaction"],
                        w["interaction_rate"],
                        w["convenience_coverage"],
                        w["response_speedup"],
                    ],
                    estate_rows,
                    {1, 2, 3, 4, 5, 6},
                ),
            ),
        )
    body = render(
        "<main data-report><h1>{title}</h1><p class=mut>{span} · {gen} {at}</p>{sections}</main>",
        title=title,
        span=f"{_day(r['start'])} – {_day(r['end'], -1)}",
        gen=w["generated"],
        at=datetime.fromisoformat(r["generated_at"]).astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
        sections=join(sections),
    )
    return render(
        compact(
            '<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>'
            "<style>{css}</style></head><body>{body}</body></html>"
        ),
        lang="zh-CN" if lang == "zh" else "en",
        title=title,
        css=REPORT_CSS,
        body=body,
    )
