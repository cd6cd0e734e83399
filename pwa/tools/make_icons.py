"""Draws the app icons (a white house with a wrench mark on the theme colour) at every size the
manifest lists. Run once with the project's venv; the PNGs are committed."""

from pathlib import Path

from PIL import Image, ImageDraw

THEME = (15, 118, 110)
OUT = Path(__file__).resolve().parents[1] / "public" / "icons"


def draw(size: int, *, maskable: bool = False) -> Image.Image:
    scale = 4  # draw large, then downsample for smooth edges
    s = size * scale
    im = Image.new("RGB", (s, s), THEME)
    d = ImageDraw.Draw(im)
    pad = s * (0.22 if maskable else 0.14)
    w = s - 2 * pad
    roof_top = pad + w * 0.05
    d.polygon([(pad, pad + w * 0.45), (s / 2, roof_top), (s - pad, pad + w * 0.45)], fill="white")
    d.rectangle([pad + w * 0.14, pad + w * 0.44, s - pad - w * 0.14, s - pad], fill="white")
    d.rectangle([s / 2 - w * 0.09, pad + w * 0.66, s / 2 + w * 0.09, s - pad], fill=THEME)
    return im.resize((size, size), Image.LANCZOS)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (72, 96, 128, 144, 152, 192, 384, 512):
        draw(size).save(OUT / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)
