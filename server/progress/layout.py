"""The HTML shell shared by owner pages: one inline stylesheet, no external requests, China time."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

from server.progress.html import EMPTY, Safe, compact, render

CHINA = timezone(timedelta(hours=8))
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

BASE_CSS = Safe(
    ":root{--a:#1463d8;--ok:#0f8a5f;--mut:#667085;--bd:#e4e7ec;--bg:#f3f5f8;--warn:#b54708}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:#1d2939;font:16px/1.55 -apple-system,BlinkMacSystemFont,"
    "'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC',sans-serif;"
    "-webkit-text-size-adjust:100%}"
    "main{max-width:560px;margin:0 auto;padding:0 0 24px}"
    "a{color:var(--a)}"
    "h1{font-size:22px;line-height:1.3;margin:4px 0 2px}"
    "h2{font-size:16px;margin:0 0 10px}"
    ".top{background:var(--a);color:#fff;padding:14px 16px 16px}"
    ".top a{color:#fff}"
    ".sub{margin:0;opacity:.9;font-size:14px}"
    ".card{background:#fff;margin:10px 10px 0;border-radius:12px;padding:14px 16px;"
    "box-shadow:0 1px 2px rgba(16,24,40,.06)}"
    ".note{background:#ecfdf3;color:#05603a;border:1px solid #abefc6}"
    ".note.bad{background:#fef3f2;color:#912018;border-color:#fecdca}"
    ".mut{color:var(--mut);font-size:13px}"
    "footer{text-align:center;color:var(--mut);font-size:13px;padding:16px}"
    ".btn{display:inline-block;border:0;border-radius:10px;background:var(--a);color:#fff;font:inherit;"
    "font-weight:600;padding:11px 18px;text-decoration:none;min-height:44px}"
    "label{display:block;margin:10px 0 4px;font-weight:600;font-size:15px}"
    "input,select,textarea{width:100%;font:inherit;padding:10px;border:1px solid #d0d5dd;border-radius:8px;"
    "background:#fff;color:inherit}"
    "textarea{resize:vertical}"
)


def document(*, title: str, body: Safe, lang: str, css: Safe = EMPTY, head: Safe = EMPTY, attrs: Safe = EMPTY) -> str:
    return render(
        DOCUMENT,
        html_lang="zh-CN" if lang == "zh" else "en",
        title=title,
        css=Safe(BASE_CSS + css),
        head=head,
        body=body,
        attrs=attrs,
    )


DOCUMENT = compact(
    """
<!doctype html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex,nofollow">
<meta name="format-detection" content="telephone=no">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>{css}</style>
{head}
</head>
<body{attrs}>{body}</body>
</html>
"""
)


def china(dt: datetime) -> datetime:
    return dt.astimezone(CHINA)


def hhmm(dt: datetime) -> str:
    return china(dt).strftime("%H:%M")


def day(dt: datetime, lang: str) -> str:
    d = china(dt)
    return f"{d.month}月{d.day}日" if lang == "zh" else f"{_MONTHS_EN[d.month - 1]} {d.day}"


def day_time(dt: datetime, lang: str) -> str:
    return f"{day(dt, lang)} {hhmm(dt)}" if lang == "zh" else f"{day(dt, lang)}, {hhmm(dt)}"


def phone_display(phone: str) -> str:
    """A mainland mobile number grouped 3-4-4 for reading aloud (139 0000 0011); others unchanged."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return phone or ""


def script_hash(script: str) -> str:
    """The CSP source expression allowing exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def style_hash(css: str) -> str:
    """The CSP source expression allowing exactly this inline stylesheet."""
    return script_hash(css)


# The print button of the printable pages (slip, poster, checkpoint labels): no inline handler, one
# hashed script, so those pages run under a CSP without 'unsafe-inline'.
PRINT_SCRIPT = 'document.getElementById("print").addEventListener("click",function(){print()})'
PRINT_BUTTON = Safe(f'<button type="button" id="print">打印</button><script>{PRINT_SCRIPT}</script>')


def printable_csp(css: str) -> str:
    """The CSP of a printable page whose one ``<style>`` holds ``css`` (QR codes are inline SVG)."""
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src {style_hash(css)}",
            f"script-src {script_hash(PRINT_SCRIPT)}",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def csp(*, script: str | None = None, form_action: bool = False, styles: tuple[str, ...] = ("",)) -> str:
    """The CSP of an owner page; ``styles`` are the page stylesheets (``css`` of :func:`document`)
    its one ``<style>`` may hold, allowed by hash (no 'unsafe-inline', no style attributes)."""
    parts = [
        "default-src 'none'",
        "img-src 'self' data:",
        "style-src " + " ".join(style_hash(BASE_CSS + css) for css in styles),
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'" if form_action else "form-action 'none'",
    ]
    if script is not None:
        parts += [f"script-src {script_hash(script)}", "connect-src 'self'"]
    return "; ".join(parts)
