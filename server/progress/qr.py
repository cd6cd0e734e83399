"""QR codes for progress links and posters, as PNG (Pillow) and SVG (one path, crisp at any size),
with a caption (the order number) printed under the code."""

from __future__ import annotations

import functools
import io
from xml.sax.saxutils import escape as xml_escape

import qrcode
from PIL import Image, ImageDraw, ImageFont

BORDER = 4  # the quiet zone the QR standard asks for, in modules


@functools.lru_cache(maxsize=256)
def matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """Modules of the QR code for ``data`` (error correction M), quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def _path(rows: tuple[tuple[bool, ...], ...]) -> str:
    parts = []
    for y, row in enumerate(rows):
        x = 0
        n = len(row)
        while x < n:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < n and row[x]:
                x += 1
            parts.append(f"M{start} {y}h{x - start}v1h{start - x}z")
    return "".join(parts)


def svg_element(data: str, caption: str | None = None, *, css_class: str = "qr") -> str:
    """An ``<svg>`` element to inline in HTML or to serve alone (``svg_document``)."""
    rows = matrix(data)
    side = len(rows)
    height = side + (5 if caption else 0)
    text = ""
    if caption:
        text = (
            f'<text x="{side / 2:g}" y="{side + 3:g}" font-size="3.2" text-anchor="middle" '
            f'font-family="DejaVu Sans Mono,Menlo,Consolas,monospace" fill="#000">{xml_escape(caption)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{xml_escape(css_class)}" viewBox="0 0 {side} {height}" '
        f'shape-rendering="crispEdges" role="img"><rect width="{side}" height="{height}" fill="#fff"/>'
        f'<path fill="#000" d="{_path(rows)}"/>{text}</svg>'
    )


def svg_document(data: str, caption: str | None = None) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + svg_element(data, caption)


def png(data: str, caption: str | None = None, *, scale: int = 8) -> bytes:
    rows = matrix(data)
    side = len(rows) * scale
    caption_h = scale * 5 if caption else 0
    im = Image.new("L", (side, side + caption_h), 255)
    draw = ImageDraw.Draw(im)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle((x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1), fill=0)
    if caption:
        font = ImageFont.load_default(size=scale * 3)
        width = draw.textlength(caption, font=font)
        draw.text(((side - width) / 2, side), caption, fill=0, font=font)  # below the quiet zone
    out = io.BytesIO()
    im.save(out, "PNG", optimize=True)
    return out.getvalue()
