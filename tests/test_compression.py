"""Compressed answers (server/web/compression.py): brotli or gzip as Accept-Encoding allows, for
JSON, HTML, JS and CSS; the PWA's precompressed files; never photos nor the event stream; always
``Vary: Accept-Encoding`` on what could be compressed.

httpx decodes a compressed body by itself, so a test reads the ``Content-Encoding`` and
``Content-Length`` headers for what crossed the wire, and the body for what the client got."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest
from litestar import Litestar, Response, get
from litestar.testing import AsyncTestClient

from server.web.compression import accepted_encodings, compression_config
from server.web.pwa import pwa_handlers
from tests.support.camera_jpegs import camera_jpeg
from tests.test_progress_support import on_site_order, step, store_photo

pytestmark = pytest.mark.anyio



def vary(r) -> list[str]:
    return [v.strip().lower() for v in r.headers.get("vary", "").split(",") if v.strip()]


async def test_a_pull_page_is_compressed_as_accepted(api, world, app, database, clock):
    oid = await on_site_order(api, world)
    for i in range(30):
        await step(api, oid, f"检查第 {i} 项，更换弯头", at=clock.now())
    pages = {}
    for accept in ("br, gzip", "gzip", "identity", "br;q=0, gzip", ""):
        r = await api.get(
            "tech_a", "/sync/pull", params={"client_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12},
            headers={"Accept-Encoding": accept, "Wuye-Request-Id": "00000000-0000-4000-8000-000000000001"},
        )
        assert r.status_code == 200, r.text
        assert "accept-encoding" in vary(r), accept
        pages[accept] = (r.headers.get("content-encoding"), int(r.headers["content-length"]), r.json())
    plain_size = pages["identity"][1]
    assert pages["br, gzip"][0] == "br" and pages["gzip"][0] == "gzip" and pages["br;q=0, gzip"][0] == "gzip"
    assert pages["identity"][0] is None and pages[""][0] is None
    assert pages["br, gzip"][1] * 4 < plain_size and pages["gzip"][1] * 4 < plain_size
    assert all(body == pages["identity"][2] for _, _, body in pages.values())


async def test_small_answers_stay_plain_but_vary(api):
    r = await api.get("tech_a", "/api/meta", headers={"Accept-Encoding": "br, gzip"})
    assert r.status_code == 200
    if int(r.headers["content-length"]) < 512:
        assert "content-encoding" not in r.headers
    assert "accept-encoding" in vary(r)


async def test_photos_are_never_compressed(api, world, app, database, clock):
    oid = await on_site_order(api, world)
    sha = await store_photo(app, database, camera_jpeg((1200, 900), 3), clock.now())
    await step(api, oid, "拆开检查", at=clock.now(), photos=[sha])
    for size in ("thumb", "view"):
        r = await api.get("tech_a", f"/api/photos/{sha}/{size}", headers={"Accept-Encoding": "br, gzip"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/")
        assert "content-encoding" not in r.headers
        assert int(r.headers["content-length"]) == len(r.content)


@get("/stream", media_type="text/event-stream")
async def _stream() -> Response:
    return Response(b"data: x\n\n" * 200, media_type="text/event-stream")


@get("/jpeg")
async def _jpeg() -> Response:
    return Response(b"\xff\xd8" + b"\x00" * 5000, media_type="image/jpeg")


@get("/js")
async def _js() -> Response:
    return Response(b"console.log('x');\n" * 200, media_type="text/javascript")


async def test_only_text_types_are_compressed():
    app = Litestar([_stream, _jpeg, _js], compression_config=compression_config())
    async with AsyncTestClient(app=app) as client:
        for path, encoded in (("/stream", False), ("/jpeg", False), ("/js", True)):
            r = await client.get(path, headers={"Accept-Encoding": "br"})
            assert (r.headers.get("content-encoding") == "br") is encoded, path
        r = await client.get("/js", headers={"Accept-Encoding": "br"})
        assert vary(r) == ["accept-encoding"]  # once, though both layers name it


def test_accept_encoding_is_parsed_with_its_weights():
    assert accepted_encodings("gzip, deflate, br") == {"gzip", "deflate", "br"}
    assert accepted_encodings("br;q=0, gzip;q=0.5") == {"gzip"}
    assert accepted_encodings("BR ; q=1.0") == {"br"}
    assert accepted_encodings("") == set()
    assert accepted_encodings("br;q=x") == set()


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    d = tmp_path / "dist"
    (d / "chunks").mkdir(parents=True)
    (d / "index.html").write_text("<!doctype html><title>物业外勤</title>" + "<p>x</p>" * 200)
    (d / "app.js").write_text("console.log('物业');\n" * 300)
    (d / "app.css").write_text("body{color:red}\n" * 300)
    (d / "chunks" / "a.js").write_text("export const a = 1;\n" * 300)
    for f in ("index.html", "app.js", "chunks/a.js"):  # app.css has no precompressed copies
        raw = (d / f).read_bytes()
        (d / f"{f}.br").write_bytes(brotli.compress(raw))
        (d / f"{f}.gz").write_bytes(gzip.compress(raw))
    (d / "photo.jpg").write_bytes(b"\xff\xd8" + b"\x00" * 4000)
    (d / "photo.jpg.gz").write_bytes(gzip.compress((d / "photo.jpg").read_bytes()))
    return d


async def test_static_files_are_served_precompressed_when_accepted(dist):
    app = Litestar(pwa_handlers(dist), compression_config=compression_config())
    async with AsyncTestClient(app=app) as client:
        for path, file in (("/app/app.js", "app.js"), ("/app/", "index.html"), ("/app/chunks/a.js", "chunks/a.js")):
            raw = (dist / file).read_bytes()
            for accept, encoding, suffix in (("br, gzip", "br", ".br"), ("gzip", "gzip", ".gz")):
                r = await client.get(path, headers={"Accept-Encoding": accept})
                assert r.status_code == 200, (path, r.text)
                assert r.headers["content-encoding"] == encoding, path
                assert int(r.headers["content-length"]) == (dist / f"{file}{suffix}").stat().st_size
                assert r.content == raw and "accept-encoding" in vary(r)
                assert r.headers["cache-control"] == "no-cache"
                kind = "text/html" if file.endswith(".html") else "javascript"
                assert kind in r.headers["content-type"]
                again = await client.get(path, headers={"Accept-Encoding": accept, "If-None-Match": r.headers["etag"]})
                assert again.status_code == 304
            r = await client.get(path, headers={"Accept-Encoding": "identity"})
            assert "content-encoding" not in r.headers and r.content == raw
            assert int(r.headers["content-length"]) == len(raw)
        # No precompressed copy: compressed on the fly instead.
        r = await client.get("/app/app.css", headers={"Accept-Encoding": "br"})
        assert r.headers["content-encoding"] == "br" and r.content == (dist / "app.css").read_bytes()
        # A photo never, even when a .gz copy happens to exist.
        r = await client.get("/app/photo.jpg", headers={"Accept-Encoding": "gzip, br"})
        assert r.status_code == 200 and "content-encoding" not in r.headers
        # Nothing outside the build directory through the precompressed lookup.
        (dist.parent / "secret.js.br").write_bytes(brotli.compress(b"secret" * 200))
        r = await client.get("/app/../secret.js", headers={"Accept-Encoding": "br"})
        assert b"secret" not in r.content
