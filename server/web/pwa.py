"""Serving the built field app (``pwa/dist``) under ``/app/``, with ``/`` redirecting there."""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from server.web.compression import precompressed

PWA_DIST = Path(__file__).resolve().parents[2] / "pwa" / "dist"


@get("/", include_in_schema=False)
async def root() -> Redirect:
    return Redirect("/app/")


@get("/app/", include_in_schema=False)
async def not_built() -> Response:
    return Response(
        "<h1>物业外勤</h1><p>The app is not built yet: run <code>make run</code>.</p>",
        media_type="text/html; charset=utf-8",
        status_code=503,
    )


def pwa_handlers(dist: Path = PWA_DIST) -> list:
    if not (dist / "index.html").exists():
        return [root, not_built]
    # Revalidate everything: the service worker holds the offline copy; a stale sw.js or index.html
    # from an HTTP cache would delay updates.
    static = create_static_files_router(
        path="/app",
        directories=[dist],
        html_mode=True,
        name="pwa",
        cache_control=CacheControlHeader(no_cache=True),
        middleware=[precompressed(dist)],  # the build's .br / .gz copies when the browser accepts them
    )
    return [root, static]
