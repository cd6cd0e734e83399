"""The printable checkpoint labels of a route: one A6 label per checkpoint, each with its QR code as
inline SVG (``{WUYE_BASE_URL}/c/{code}``) and the short code printed under it, so a steward can
still pick the checkpoint by hand when the label is scratched."""

from __future__ import annotations

from server.progress.html import Safe, compact, join, render
from server.progress.layout import PRINT_BUTTON, printable_csp
from server.progress.qr import svg_element

LABEL_CSS = Safe(
    "*{box-sizing:border-box}"
    "body{margin:0;color:#000;background:#fff;font:11pt/1.4 'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',"
    "sans-serif}"
    ".label{width:97mm;height:138mm;margin:0 auto;padding:6mm 5mm;text-align:center;border:.6mm solid #000;"
    "border-radius:3mm;display:flex;flex-direction:column;justify-content:space-between;page-break-after:always;"
    "break-after:page}"
    ".est{font-size:10pt}"
    ".route{font-size:11pt;color:#333}"
    "h1{font-size:20pt;line-height:1.2;margin:1mm 0}"
    ".loc{font-size:10pt;color:#333;min-height:5mm}"
    ".qr{display:block;width:70mm;height:auto;margin:0 auto}"
    ".hint{font-size:10pt;margin:1mm 0 0}"
    "button{display:block;margin:4mm auto;font:inherit;padding:2mm 6mm}"
    "@page{size:A6;margin:4mm}"
    "@media print{button{display:none}.label{border-width:.4mm}}"
)

LABEL = compact(
    """
<section class="label">
<div class="est">{estate} · {grid}</div>
<div class="route">{route}</div>
<h1>{name}</h1>
<div class="loc">{location}</div>
{qr}
<p class="hint">巡查扫码签到 · 编号 {code}</p>
</section>
"""
)


def checkpoint_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/c/{code}"


def label_sheet(*, base_url: str, estate: str, grid: str, route: str, checkpoints: list[dict]) -> str:
    labels = join(
        render(
            LABEL,
            estate=estate,
            grid=grid,
            route=route,
            name=cp["name"],
            location=cp["location"] or "",
            qr=Safe(svg_element(checkpoint_url(base_url, cp["code"]), cp["code"])),
            code=cp["code"],
        )
        for cp in checkpoints
    )
    return render(
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>'
        '<style>{css}</style></head><body>{labels}{print_button}</body></html>',
        title=f"巡检点标签 · {route}",
        css=LABEL_CSS,
        labels=labels,
        print_button=PRINT_BUTTON,
    )


LABEL_CSP = printable_csp(LABEL_CSS)
