"""Security headers on every answer the app sends (a ``before_send`` hook, so errors, static files of
the PWA and streamed answers get them too).

A handler that knows better sets its own header and the hook leaves it alone: the owner pages set a
CSP with the hash of their one inline script and stylesheet (server/progress/layout.py), photos set
their own ``Cache-Control``.

- ``Content-Security-Policy``: the console and the PWA (``/app/``) load only their own scripts and
  stylesheets, no inline script, and talk only to this origin; photos are shown from ``blob:`` URLs
  (IndexedDB bytes) and the slip's QR code too. ``frame-ancestors 'none'``: nobody may frame the
  console (clickjacking on dispatch).
- ``X-Frame-Options: DENY`` for browsers that predate ``frame-ancestors``.
- ``Referrer-Policy: no-referrer``: owner page and poster URLs carry a token.
- ``X-Content-Type-Options: nosniff``.
- ``Cache-Control: no-store`` on every API and sync answer that does not say otherwise: the login
  answer, progress links, board tickets and the personal data of households never sit in a cache.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from server.progress.layout import PRINT_SCRIPT, script_hash, style_hash
from server.progress.printed import POSTER_CSS, SLIP_CSS
from server.reports.render import REPORT_CSS
from server.walks.labels import LABEL_CSS

# The console previews the slip, the checkpoint labels and the analysis report in ``srcdoc`` frames, which inherit its
# policy: their one stylesheet and print script are allowed by hash, nothing else inline.
PRINTABLE_STYLES = " ".join(style_hash(css) for css in (SLIP_CSS, POSTER_CSS, LABEL_CSS, REPORT_CSS))

APP_CSP = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' {script_hash(PRINT_SCRIPT)}",
        f"style-src 'self' {PRINTABLE_STYLES}",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# The API documentation at /schema (Swagger UI from its CDN, with its inline start-up script): no
# tokens or personal data live there; it may not be framed either.
DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src https://cdn.jsdelivr.net 'unsafe-inline'",
        "style-src https://cdn.jsdelivr.net 'unsafe-inline'",
        "img-src 'self' data: https://cdn.jsdelivr.net",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}

NO_STORE_PREFIXES = ("/api/", "/sync/")


def _policy(path: str) -> str:
    if path == "/schema" or path.startswith("/schema/"):
        return DOCS_CSP
    return APP_CSP


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in COMMON.items():
        if name not in headers:
            headers[name] = value
    path = scope.get("path", "")
    # A 304 updates the headers a browser stored with the page: it must not swap the page's policy.
    if "content-security-policy" not in headers and message["status"] != 304:
        headers["content-security-policy"] = _policy(path)
    if "cache-control" not in headers and path.startswith(NO_STORE_PREFIXES):
        headers["cache-control"] = "no-store"
