"""Printable pages for staff: the work-order slip (A6 or 80 mm thermal) and the grid poster (A4).

Both carry their QR code as inline SVG, so the HTML prints as one self-contained document (the
PWA fetches it with the staff token and prints it; no second authenticated request for an image).
"""

from __future__ import annotations

from datetime import datetime

from server.progress import i18n
from server.progress.html import EMPTY, Safe, compact, render
from server.progress.layout import PRINT_BUTTON, day_time, phone_display, printable_csp
from server.progress.qr import svg_element

SLIP_CSS = Safe(
    "*{box-sizing:border-box}"
    "body{margin:0;color:#000;background:#fff;font:10pt/1.4 'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',"
    "sans-serif}"
    ".slip{width:72mm;margin:0 auto;padding:3mm 0}"
    ".est{text-align:center;font-size:9pt}"
    "h1{text-align:center;font-size:13pt;margin:1mm 0}"
    ".no{text-align:center;font:bold 12pt/1.3 'DejaVu Sans Mono',Menlo,monospace;letter-spacing:.3pt}"
    "dl{margin:2mm 0;display:grid;grid-template-columns:auto 1fr;gap:.5mm 2mm}"
    "dt{color:#333}dd{margin:0;font-weight:600;word-break:break-word}"
    ".qr{display:block;width:44mm;height:auto;margin:1mm auto 0}"
    ".scan{text-align:center;font-weight:700;margin:1mm 0}"
    ".who{border-top:1px dashed #000;margin-top:2mm;padding-top:2mm;text-align:center}"
    ".who b{font-size:12pt}"
    "button{display:block;margin:4mm auto;font:inherit;padding:2mm 6mm}"
    "@page{margin:3mm}"
    "@media print{button{display:none}.slip{padding:0}}"
)

SLIP = compact(
    """
<main class="slip">
<div class="est">{estate}</div>
<h1>工单凭条</h1>
<div class="no">{number}</div>
<dl>
<dt>房屋</dt><dd>{household}</dd>
<dt>类型</dt><dd>{kind}</dd>
<dt>时间</dt><dd>{created}</dd>
<dt>问题</dt><dd>{description}</dd>
</dl>
{qr}
<p class="scan">微信扫码 · 查看进度 · 评价服务</p>
{steward}
{print_button}
</main>
"""
)

POSTER_CSS = Safe(
    "*{box-sizing:border-box}"
    "body{margin:0;color:#111;background:#fff;font:14pt/1.45 'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',"
    "sans-serif}"
    ".poster{width:186mm;min-height:270mm;margin:0 auto;padding:10mm 8mm;text-align:center;"
    "border:3mm solid #1463d8;border-radius:6mm}"
    ".est{font-size:16pt;color:#1463d8;font-weight:700}"
    "h1{font-size:44pt;line-height:1.15;margin:6mm 0 2mm;letter-spacing:2pt}"
    ".kinds{font-size:16pt;margin:0 0 4mm}"
    ".qr{display:block;width:112mm;height:112mm;margin:0 auto}"
    ".hint{font-size:15pt;margin:3mm 0 6mm}"
    ".who{background:#eff4ff;border-radius:4mm;padding:5mm;margin:0 10mm}"
    ".who .k{font-size:13pt;color:#344054}"
    ".who .n{font-size:26pt;font-weight:700}"
    ".who .p{font:700 24pt/1.3 'DejaVu Sans Mono',Menlo,monospace;letter-spacing:1pt}"
    ".hotline{font-size:16pt;margin:5mm 0 0}.hotline b{font:700 20pt/1.3 'DejaVu Sans Mono',Menlo,monospace}"
    ".foot{font-size:11pt;color:#475467;margin-top:6mm}"
    "button{font:inherit;margin:4mm;padding:2mm 8mm}"
    "@page{size:A4;margin:10mm}"
    "@media print{button{display:none}}"
)

POSTER = compact(
    """
<main class="poster">
<div class="est">{estate} · {grid}</div>
<h1>扫码报事报修</h1>
<p class="kinds">报修 · 投诉 · 咨询 · 便民服务</p>
{qr}
<p class="hint">微信扫一扫，在线提交，进度随时可查</p>
{steward}
{hotline}
<p class="foot">漏水、停电、电梯困人等紧急情况，请直接拨打管家电话或物业服务中心电话。</p>
{print_button}
</main>
"""
)


SLIP_CSP = printable_csp(SLIP_CSS)
POSTER_CSP = printable_csp(POSTER_CSS)


def _page(title: str, css: Safe, body: Safe) -> str:
    return render(
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>'
        "<style>{css}</style></head><body>{body}</body></html>",
        title=title,
        css=css,
        body=body,
    )


def slip(
    *,
    url: str,
    estate: str,
    number: str,
    household: str,
    kind: str,
    category: str,
    created_at: datetime,
    description: str,
    steward_name: str | None,
    steward_phone: str | None,
) -> str:
    steward = EMPTY
    if steward_name:
        steward = render(
            '<div class="who">您的管家 <b>{n}</b><br>{p}</div>', n=steward_name, p=phone_display(steward_phone or "")
        )
    short = description if len(description) <= 80 else description[:79] + "…"
    body = render(
        SLIP,
        estate=estate,
        number=number,
        household=household or "—",
        kind=f"{i18n.KIND['zh'].get(kind, kind)} · {i18n.CATEGORY['zh'].get(category, category)}",
        created=day_time(created_at, "zh"),
        description=short,
        qr=Safe(svg_element(url, number)),
        steward=steward,
        print_button=PRINT_BUTTON,
    )
    return _page(f"工单凭条 {number}", SLIP_CSS, body)


def poster(
    *, url: str, estate: str, grid: str, steward_name: str | None, steward_phone: str | None, hotline: str = ""
) -> str:
    steward = EMPTY
    if steward_name:
        steward = render(
            '<div class="who"><div class="k">您的网格管家</div><div class="n">{n}</div><div class="p">{p}</div></div>',
            n=steward_name,
            p=phone_display(steward_phone or ""),
        )
    line = render('<p class="hotline">物业服务中心 <b>{p}</b></p>', p=phone_display(hotline)) if hotline else EMPTY
    body = render(
        POSTER, estate=estate, grid=grid, qr=Safe(svg_element(url)), steward=steward, hotline=line,
        print_button=PRINT_BUTTON,
    )
    return _page(f"扫码报事报修 · {grid}", POSTER_CSS, body)
