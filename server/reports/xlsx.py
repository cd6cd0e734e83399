"""The analysis report as an XLSX workbook, one sheet per table (openpyxl).

Every text cell goes through ``server.exports.safe_cell``: names, comments and reasons are typed by
staff and owners, and a formula-leading one (``=HYPERLINK(…)``) would run in the office's Excel.
openpyxl writes a string beginning with ``=`` as a formula, so the neutraliser's apostrophe is what
keeps it text; numbers stay numbers.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from server.exports import safe_cell
from server.progress import i18n
from server.reports.render import CHANNEL, WEEKDAYS, WORDS


def _sheet(wb: Workbook, title: str, head: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title[:31])
    ws.append([safe_cell(h) for h in head])
    for r in rows:
        ws.append([safe_cell(v) for v in r])


def workbook(r: dict[str, Any], lang: str = "zh") -> bytes:
    w = WORDS.get(lang, WORDS["zh"])
    lang = lang if lang in WORDS else "zh"
    kinds, cats, deps, levels = i18n.KIND[lang], i18n.CATEGORY[lang], i18n.DEPARTMENT[lang], i18n.RATING[lang]
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(
        wb,
        w["summary"],
        [w["metric"], w["current"], w["previous"], w["change"], w["target"]],
        [[w[k], c["current"], c["previous"], c["delta"], r["targets"].get(k)] for k, c in r["changes"].items()],
    )
    if r["scope"] == "company":
        _sheet(
            wb,
            w["estates"],
            [
                w["estate"],
                w["orders"],
                w["complaint_timeliness"],
                w["satisfaction"],
                w["interaction_rate"],
                w["convenience_coverage"],
                w["response_speedup"],
            ],
            [
                [
                    e["estate"],
                    e["orders"],
                    e["complaint_timeliness"],
                    e["satisfaction"],
                    e["interaction_rate"],
                    e["convenience_coverage"],
                    e["response_speedup"],
                ]
                for e in r["per_estate"]
            ],
        )
    _sheet(wb, w["trend"], [w["trend"], w["orders"]], [[p["bucket"], p["orders"]] for p in r["trend"]])
    _sheet(wb, w["kinds"], [w["kinds"], w["count"]], [[kinds.get(k, k), n] for k, n in r["by_kind"].items()])
    _sheet(wb, w["categories"], [w["category"], w["count"]], [[cats.get(k, k), n] for k, n in r["by_category"].items()])
    _sheet(
        wb,
        w["channels"],
        [w["channels"], w["count"]],
        [[CHANNEL[lang].get(k, k), n] for k, n in r["by_channel"].items()],
    )
    _sheet(
        wb,
        "heatmap" if lang == "en" else "高峰时段",
        ["", *range(24)],
        [[WEEKDAYS[lang][d], *row] for d, row in enumerate(r["heatmap"])],
    )
    _sheet(
        wb,
        w["shifts"][:31] if lang == "en" else "工作时间与非工作时间",
        [w["shift"], w["orders"], w["response_median"], w["resolution_median"], w["p90"], w["sla"]],
        [
            [
                w[k],
                s["orders"],
                s["response"]["median_min"],
                s["resolution"]["median_min"],
                s["resolution"]["p90_min"],
                s["sla_timeliness"],
            ]
            for k, s in r["shifts"].items()
        ],
    )
    _sheet(
        wb,
        w["departments"],
        [w["department"], w["orders"], w["resolution_median"], w["p90"]],
        [
            [
                deps.get(d["department"], d["department"]),
                d["orders"],
                d["resolution"]["median_min"],
                d["resolution"]["p90_min"],
            ]
            for d in r["departments"]
        ],
    )
    _sheet(
        wb,
        w["satisfaction_levels"],
        [w["metric"], w["count"]],
        [[levels.get(k, k), n] for k, n in r["satisfaction"].items()],
    )
    _sheet(
        wb,
        w["reasons"],
        [w["reason"], w["count"], w["order_numbers"]],
        [[x["reason"], x["count"], "、".join(x["orders"])] for x in r["unsatisfied_reasons"]],
    )
    _sheet(
        wb,
        "hotspots" if lang == "en" else "重复投诉热点",
        [w["estate"], w["building"], w["unit"], w["category"], w["count"], w["order_numbers"]],
        [
            [
                x["estate"],
                x["building"],
                x["unit"],
                cats.get(x["category"], x["category"]),
                x["count"],
                "、".join(x["orders"]),
            ]
            for x in r["hotspots"]
        ],
    )
    _sheet(
        wb,
        "recurring" if lang == "en" else "高频问题",
        [w["household"], w["category"], w["count"], w["order_numbers"]],
        [
            [x["household"], cats.get(x["category"], x["category"]), x["count"], "、".join(x["orders"])]
            for x in r["recurring"]
        ],
    )
    _sheet(
        wb,
        w["stewards"],
        [
            w["name"],
            w["orders"],
            w["complaints"],
            w["repeats"],
            w["complaint_timeliness"],
            w["satisfaction"],
        ],
        [
            [s["name"], s["orders"], s["complaints"], s["repeats"], s["complaint_timeliness"], s["satisfaction"]]
            for s in r["stewards"]
        ],
    )
    _sheet(
        wb,
        w["technicians"],
        [w["name"], w["orders"], w["done"], w["late"], w["resolution_median"], w["ratings"], w["satisfaction"]],
        [
            [
                t["name"],
                t["orders"],
                t["done"],
                t["resolve_late"],
                t["resolution"]["median_min"],
                t["ratings"],
                t["satisfaction"],
            ]
            for t in r["technicians"]
        ],
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
