"""Helpers shared by the progress tests (no tests in this module): orders driven through the staff
API, photos stored the way a finished upload stores them, and QR decoding of PNG and SVG."""

from __future__ import annotations

import io
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime

from PIL import Image, ImageDraw
from pyzbar.pyzbar import decode

from server.photos.service import record_arrival
from tests.support.orders import post_order

HOUSEHOLD = "1栋1单元101"


async def new_order(api, world, *, key: str = "desk", household: str = HOUSEHOLD, **over) -> dict:
    return await post_order(api, world, key, household, **over)


async def act(api, key: str, order_id: str, action: str, **body) -> dict:
    r = await api.post(key, f"/api/orders/{order_id}/actions/{action}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def step(api, order_id: str, note: str, *, at: datetime, photos=(), materials=(), key: str = "tech_a") -> dict:
    r = await api.post(
        key,
        f"/api/orders/{order_id}/steps",
        json={"note": note, "captured_at": at.isoformat(), "photos": list(photos), "materials": list(materials)},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def make_link(api, order_id: str, key: str = "desk") -> dict:
    r = await api.post(key, f"/api/orders/{order_id}/progress-link")
    assert r.status_code == 201, r.text
    return r.json()


async def on_site_order(api, world, **over) -> str:
    """An order assigned to 李师傅 (tech_a) who has arrived."""
    oid = (await new_order(api, world, assignee_id=str(world.id("tech_a")), **over))["id"]
    for action in ("accept", "depart", "arrive"):
        await act(api, "tech_a", oid, action)
    return oid


async def completed_order(api, world, **over) -> str:
    oid = await on_site_order(api, world, **over)
    await act(api, "tech_a", oid, "complete")
    return oid


async def store_photo(app, database, data: bytes, now: datetime) -> str:
    """Put the bytes in the app's blob store and record their arrival, as a finished upload does."""
    info = app.state.ctx.services["blobs"].put(data)
    async with database.writer() as s:
        await record_arrival(s, info, now)
        await s.commit()
    return info.sha256


def page_path(link: dict) -> str:
    return "/p/" + link["token"]


def decode_png(data: bytes) -> list[str]:
    return [d.data.decode() for d in decode(Image.open(io.BytesIO(data)))]


_SVG = "{http://www.w3.org/2000/svg}"
_RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-\d+z")


def decode_svg(svg: str) -> tuple[list[str], str]:
    """Parse the SVG as XML, draw its QR path on a bitmap and decode it; also return its caption."""
    root = ET.fromstring(svg)
    _, _, width, height = (int(float(v)) for v in root.get("viewBox").split())
    path = root.find(f"{_SVG}path").get("d")
    scale = 8
    im = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(im)
    for x, y, w in _RUN.findall(path):
        x, y, w = int(x), int(y), int(w)
        draw.rectangle((x * scale, y * scale, (x + w) * scale - 1, (y + 1) * scale - 1), fill=0)
    caption = root.find(f"{_SVG}text")
    return [d.data.decode() for d in decode(im)], (caption.text if caption is not None else "")


def extract_svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def timeline_items(html: str) -> list[tuple[str, str]]:
    """(time, text) of each timeline entry, in page order, tags stripped."""
    out = []
    section = html.split('<ol class="tl">', 1)[1].split("</ol>", 1)[0]
    for item in re.findall(r"<li(?: class=\"last\")?><time[^>]*>(\d\d:\d\d)</time>(.*?)</li>", section, flags=re.S):
        out.append((item[0], re.sub(r"<[^>]+>", " ", item[1]).split()))
    return [(t, " ".join(words)) for t, words in out]


def uuid_strings(*ids: uuid.UUID) -> list[str]:
    return [str(i) for i in ids] + [i.hex for i in ids]
