"""The bulletin for owners: a phone-width HTML page (no script; readable with JavaScript off in
WeChat's browser) and a PNG for the groups (Pillow with the Noto CJK font that ``make run``
installs). Both draw from :func:`server.bulletins.service.public_content`, which holds no owner data.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from server.progress import i18n
from server.progress.html import EMPTY, Safe, compact, join, render
from server.progress.layout import document, phone_display
from server.progress.qr import matrix, svg_element

PLAN_LABEL = {
    "water_cut": "停水",
    "power_cut": "停电",
    "lift_maintenance": "电梯维保",
    "fire_check": "消防检查",
    "gas_check": "燃气安检",
    "pest_control": "消杀",
    "greening": "绿化养护",
    "cleaning": "清洗保洁",
    "other": "其他",
}
WEEKDAY = "一二三四五六日"


def category(code: str) -> str:
    return i18n.CATEGORY["zh"].get(code, code)


def md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def week_range(week_start: date) -> str:
    end = week_start + timedelta(days=6)
    return f"{week_start.year}年{md(week_start)}–{md(end)}"


def plan_when(p: dict) -> str:
    d = date.fromisoformat(p["day"])
    return f"{md(d)}（周{WEEKDAY[d.weekday()]}）{p['start']}–{p['end']}"


def plan_what(p: dict) -> str:
    label = PLAN_LABEL.get(p["kind"], p["kind"])
    return f"{label} · {p['title']}" if p.get("title") and p["kind"] != "other" else (p.get("title") or label)


def notable_line(n: dict) -> str:
    return f"{n['building']} · {category(n['category'])}维修 · {md(date.fromisoformat(n['done_on']))}完成"


# --- the page ----------------------------------------------------------------------------------------------

PAGE_CSS = Safe(
    ".big{display:flex;gap:10px}.big div{flex:1;background:#f0f5ff;border-radius:10px;padding:10px;text-align:center}"
    ".big b{display:block;font-size:28px;line-height:1.2;color:var(--a)}.big span{font-size:13px;color:var(--mut)}"
    ".cats{list-style:none;margin:12px 0 0;padding:0}"
    ".cats li{display:flex;justify-content:space-between;border-top:1px solid var(--bd);padding:7px 0}"
    ".nb{list-style:none;margin:0;padding:0}.nb li{padding:8px 0;border-top:1px solid var(--bd)}"
    ".nb li:first-child{border-top:0;padding-top:0}"
    ".nb img{display:block;width:100%;max-height:260px;object-fit:cover;border-radius:8px;margin-top:6px;"
    "background:#eaecf0}"
    ".nb p{margin:2px 0 0}"
    ".pl{list-style:none;margin:0;padding:0}.pl li{padding:8px 0;border-top:1px solid var(--bd)}"
    ".pl li:first-child{border-top:0;padding-top:0}.pl b{display:block}"
    ".txt{white-space:pre-line;word-break:break-word;margin:0}"
    ".share{text-align:center}.share .qr{width:168px;height:168px;display:block;margin:4px auto}"
    ".draft{background:#fffaeb;color:#b54708;text-align:center;font-weight:700;padding:6px}"
)

PAGE = compact(
    """
<main>
{draft}
<header class="top">
<p class="sub">{estate}</p>
<h1>园区周报</h1>
<p class="sub">{week}</p>
</header>
<section class="card"><h2>本周维修完成情况</h2>
<div class="big">
<div><b>{done}</b><span>完成维修（单）</span></div>
<div><b>{received}</b><span>本周报修（单）</span></div>
</div>
{cats}
</section>
{notable}
<section class="card"><h2>下周重点工作</h2>{plans}</section>
{note}
<section class="card share"><h2>分享本周报</h2>{qr}
<p class="mut">长按识别或截图分享到业主群 · <a href="{image}">保存为图片</a></p>
</section>
<footer>{hotline}{estate} 物业服务中心</footer>
</main>
"""
)


def page(content: dict, *, url: str, base: str, draft: bool = False) -> str:
    """``base`` prefixes photo and image links (``/w/<token>``, or the staff preview's path)."""
    cats = join(
        render("<li><span>{c}</span><b>{n} 单</b></li>", c=category(c), n=n) for c, n in content["by_category"].items()
    )
    notable = EMPTY
    if content["notable"]:
        items = []
        for n in content["notable"]:
            photo = (
                render('<img src="{b}/photos/{s}/view" alt="{a}" loading="lazy">', b=base, s=n["photo"], a="维修后照片")
                if n.get("photo")
                else EMPTY
            )
            caption = render("<p>{c}</p>", c=n["caption"]) if n.get("caption") else EMPTY
            items.append(render("<li><b>{t}</b>{c}{p}</li>", t=notable_line(n), c=caption, p=photo))
        notable = render('<section class="card"><h2>维修掠影</h2><ul class="nb">{i}</ul></section>', i=join(items))
    if content["plans"]:
        plans = render(
            '<ul class="pl">{i}</ul>',
            i=join(
                render("<li><b>{w}</b>{when}<br>{a}</li>", w=plan_what(p), when=plan_when(p), a=p["area"] or "全园区")
                for p in content["plans"]
            ),
        )
    else:
        plans = Safe('<p class="mut">下周暂无停水、停电等计划安排。</p>')
    note = EMPTY
    if content["note"]:
        note = render('<section class="card"><h2>物业寄语</h2><p class="txt">{n}</p></section>', n=content["note"])
    hotline = render("服务热线 {h} · ", h=phone_display(content["hotline"])) if content.get("hotline") else EMPTY
    body = render(
        PAGE,
        draft=Safe('<div class="draft">草稿预览 · 尚未发布</div>') if draft else EMPTY,
        estate=content["estate"],
        week=week_range(date.fromisoformat(content["week_start"])),
        done=content["done"],
        received=content["received"],
        cats=render('<ul class="cats">{c}</ul>', c=cats) if content["by_category"] else EMPTY,
        notable=notable,
        plans=plans,
        note=note,
        qr=Safe(svg_element(url)),
        image=f"{base}/bulletin.png",
        hotline=hotline,
    )
    return document(title=f"{content['estate']} 园区周报", body=body, lang="zh", css=PAGE_CSS)


# --- the image ---------------------------------------------------------------------------------------------

WIDTH = 750  # WeChat shows images 750 px wide at full quality
PAD = 36
BLUE = (20, 99, 216)
INK = (29, 41, 57)
MUTED = (102, 112, 133)
RULE = (228, 231, 236)
FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/noto-cjk"), Path("/usr/share/fonts"))


@functools.lru_cache(maxsize=16)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Noto Sans CJK (Debian's fonts-noto-cjk, a `make run` dependency); face 2 of the collection is SC."""
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    for folder in FONT_DIRS:
        for path in [folder / name, *folder.rglob(name)] if folder.exists() else []:
            if path.exists():
                return ImageFont.truetype(str(path), size, index=2)
    raise RuntimeError(f"CJK font {name} not found (install fonts-noto-cjk)")


def _wrap(draw: ImageDraw.ImageDraw, text: str, f: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines = []
    for para in (text or "").splitlines() or [""]:
        line = ""
        for ch in para:
            if draw.textlength(line + ch, font=f) > width and line:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    return lines


def image(content: dict, *, url: str, photo: Callable[[str], Path | None], draft: bool = False) -> bytes:
    """The bulletin as one PNG; ``photo(sha)`` gives the derivative file of a notable repair's photo."""
    ops: list[tuple[int, Callable[[Image.Image, ImageDraw.ImageDraw, int], None]]] = []  # (height, draw at y)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    inner = WIDTH - 2 * PAD

    def text(s: str, size: int, *, bold: bool = False, fill=INK, gap: int = 8, indent: int = 0) -> None:
        f = font(size, bold)
        for line in _wrap(probe, s, f, inner - indent):
            ops.append(
                (size + gap, lambda im, d, y, line=line, f=f: d.text((PAD + indent, y), line, font=f, fill=fill))
            )

    def space(h: int) -> None:
        ops.append((h, lambda im, d, y: None))

    def rule() -> None:
        ops.append((18, lambda im, d, y: d.line((PAD, y + 8, WIDTH - PAD, y + 8), fill=RULE, width=2)))

    def section(title: str) -> None:
        space(14)
        ops.append(
            (
                44,
                lambda im, d, y: (
                    d.rectangle((PAD, y + 6, PAD + 6, y + 34), fill=BLUE),
                    d.text((PAD + 18, y), title, font=font(30, True), fill=INK),
                ),
            )
        )
        space(6)

    # Header band
    header_h = 190 + (40 if draft else 0)

    def header(im: Image.Image, d: ImageDraw.ImageDraw, y: int) -> None:
        d.rectangle((0, y, WIDTH, y + header_h), fill=BLUE)
        d.text((PAD, y + 28), content["estate"], font=font(28), fill=(255, 255, 255))
        d.text((PAD, y + 66), "园区周报", font=font(56, True), fill=(255, 255, 255))
        d.text(
            (PAD, y + 140), week_range(date.fromisoformat(content["week_start"])), font=font(26), fill=(225, 234, 255)
        )
        if draft:
            d.text((PAD, y + 182), "草稿预览 · 尚未发布", font=font(26, True), fill=(255, 214, 102))

    ops.append((header_h, header))
    section("本周维修完成情况")

    def big(im: Image.Image, d: ImageDraw.ImageDraw, y: int) -> None:
        half = (inner - 20) // 2
        for i, (n, label) in enumerate(((content["done"], "完成维修（单）"), (content["received"], "本周报修（单）"))):
            x = PAD + i * (half + 20)
            d.rounded_rectangle((x, y, x + half, y + 120), radius=14, fill=(240, 245, 255))
            num = str(n)
            w = d.textlength(num, font=font(56, True))
            d.text((x + (half - w) / 2, y + 8), num, font=font(56, True), fill=BLUE)
            lw = d.textlength(label, font=font(24))
            d.text((x + (half - lw) / 2, y + 82), label, font=font(24), fill=MUTED)

    ops.append((136, big))
    for code, n in content["by_category"].items():

        def cat_row(im, d, y, code=code, n=n):
            d.text((PAD, y), category(code), font=font(28), fill=INK)
            s = f"{n} 单"
            d.text((WIDTH - PAD - d.textlength(s, font=font(28, True)), y), s, font=font(28, True), fill=INK)
            d.line((PAD, y + 46, WIDTH - PAD, y + 46), fill=RULE, width=1)

        ops.append((52, cat_row))

    if content["notable"]:
        section("维修掠影")
        for n in content["notable"]:
            text(notable_line(n), 28, bold=True)
            if n.get("caption"):
                text(n["caption"], 26, fill=MUTED)
            path = photo(n["photo"]) if n.get("photo") else None
            if path is not None:
                with Image.open(path) as src:
                    pic = ImageOps.fit(src.convert("RGB"), (inner, inner * 9 // 16))
                ops.append((pic.height + 16, lambda im, d, y, pic=pic: im.paste(pic, (PAD, y + 4))))
            space(8)

    section("下周重点工作")
    if content["plans"]:
        for p in content["plans"]:
            text(plan_what(p), 28, bold=True, gap=6)
            text(plan_when(p), 26, gap=4)
            text(p["area"] or "全园区", 26, fill=MUTED)
            rule()
    else:
        text("下周暂无停水、停电等计划安排。", 26, fill=MUTED)
    if content["note"]:
        section("物业寄语")
        text(content["note"], 28, gap=12)

    # Footer: the QR to the page and the hotline
    qr_rows = matrix(url)
    scale = max(1, 200 // len(qr_rows))

    def footer(im: Image.Image, d: ImageDraw.ImageDraw, y: int) -> None:
        d.line((PAD, y + 10, WIDTH - PAD, y + 10), fill=RULE, width=2)
        for r, row in enumerate(qr_rows):
            for c, dark in enumerate(row):
                if dark:
                    x0, y0 = PAD + c * scale, y + 30 + r * scale
                    d.rectangle((x0, y0, x0 + scale - 1, y0 + scale - 1), fill=(0, 0, 0))
        x = PAD + len(qr_rows) * scale + 24
        d.text((x, y + 60), "扫码查看本周报", font=font(30, True), fill=INK)
        d.text((x, y + 104), "本周维修、下周计划一页看全", font=font(24), fill=MUTED)
        if content.get("hotline"):
            d.text((x, y + 146), f"服务热线 {phone_display(content['hotline'])}", font=font(26), fill=INK)

    ops.append((len(qr_rows) * scale + 60, footer))

    height = sum(h for h, _ in ops) + PAD
    im = Image.new("RGB", (WIDTH, height), (255, 255, 255))
    d = ImageDraw.Draw(im)
    y = 0
    for h, op in ops:
        op(im, d, y)
        y += h
    out = io.BytesIO()
    im.save(out, "PNG", optimize=True)
    return out.getvalue()
