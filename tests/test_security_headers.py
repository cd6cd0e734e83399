"""Security headers: a strict CSP on the console and the PWA, hashed inline styles and scripts only on
the server-rendered pages, no framing, no sniffing, no referrer, and answers carrying a token are
never stored (issue 18, finding 6). The same policies hold in Chromium: tests/browser/test_csp.py."""

from __future__ import annotations

import re

import pytest

from server.progress.layout import script_hash, style_hash
from server.progress.tokens import grid_token
from tests.support.world import PASSWORD
from tests.test_progress_support import make_link, new_order, page_path

pytestmark = pytest.mark.anyio


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_common(r) -> dict[str, list[str]]:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] in ("no-referrer", "same-origin")
    policy = directives(r.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    for name in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in policy.get(name, []), (name, policy)
        assert "'unsafe-eval'" not in policy.get(name, []), (name, policy)
    assert policy["base-uri"] == ["'none'"]
    return policy


def assert_inline_allowed_by_hash(html: str, policy: dict[str, list[str]]) -> None:
    """Every ``<style>`` and ``<script>`` of the page is allowed by its hash; no inline handlers or
    style attributes (a hash cannot allow those without 'unsafe-hashes')."""
    for css in re.findall(r"<style>(.*?)</style>", html, re.S):
        assert style_hash(css) in policy["style-src"]
    for js in re.findall(r"<script>(.*?)</script>", html, re.S):
        assert script_hash(js) in policy["script-src"]
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert not re.search(r"\sstyle=", html), "style attribute"


@pytest.mark.parametrize("path", ["/app/", "/app/app.js", "/app/sw.js", "/app/console.js", "/app/manifest.webmanifest"])
async def test_console_and_pwa_files_carry_a_strict_csp_and_framing_protection(client, path):
    r = await client.get(path)
    assert r.status_code == 200
    policy = assert_common(r)
    assert policy["script-src"][0] == "'self'"
    assert policy["connect-src"] == ["'self'"]
    assert "blob:" in policy["img-src"]  # photos from IndexedDB, the slip's QR code
    assert policy["object-src"] == ["'none'"]


async def test_errors_and_api_answers_carry_the_headers_too(client):
    for r in (await client.get("/api/me"), await client.get("/no/such/page")):
        assert_common(r)
    assert (await client.get("/api/me")).headers["cache-control"] == "no-store"


async def test_the_login_answer_is_never_stored(api, world):
    r = await api.client.post("/api/auth/login", json={"phone": world.phone("desk"), "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token"]
    assert r.headers["cache-control"] == "no-store"
    assert_common(r)


async def test_answers_carrying_a_progress_token_or_a_ticket_are_never_stored(api, world):
    oid = (await new_order(api, world))["id"]
    created = await api.post("desk", f"/api/orders/{oid}/progress-link")
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    for path in (f"/api/orders/{oid}/progress-link", f"/api/orders/{oid}/progress-link/qr.svg"):
        r = await api.get("desk", path)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", path
    ticket = await api.post("supervisor", "/api/board/ticket")
    assert ticket.status_code == 200 and ticket.headers["cache-control"] == "no-store"


async def test_owner_progress_page_allows_only_its_own_hashed_style_and_script(api, world):
    oid = (await new_order(api, world))["id"]
    link = await make_link(api, oid)
    r = await api.client.get(page_path(link))
    assert r.status_code == 200
    assert r.headers["referrer-policy"] == "no-referrer"  # the URL carries the token
    policy = assert_common(r)
    assert policy["default-src"] == ["'none'"]
    assert_inline_allowed_by_hash(r.text, policy)
    again = await api.client.get(page_path(link), headers={"If-None-Match": r.headers["etag"]})
    if again.status_code == 304:  # a 304 must not replace the stored page's policy with another
        assert again.headers["content-security-policy"] == r.headers["content-security-policy"]


async def test_owner_report_form_allows_only_its_own_hashed_style(client, world, settings):
    r = await client.get(f"/r/{grid_token(settings.secret, world.grids[0].id)}")
    assert r.status_code == 200
    policy = assert_common(r)
    assert_inline_allowed_by_hash(r.text, policy)


async def test_printable_slip_poster_and_labels_have_no_inline_handlers(api, world):
    oid = (await new_order(api, world))["id"]
    await make_link(api, oid)
    pages = [
        await api.get("desk", f"/api/orders/{oid}/slip"),
        await api.get("supervisor", f"/api/grids/{world.grids[0].id}/poster"),
    ]
    for r in pages:
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        policy = assert_common(r)
        assert_inline_allowed_by_hash(r.text, policy)
        assert 'id="print"' in r.text


async def test_the_console_policy_allows_the_printables_it_previews_in_srcdoc_frames(api, world, client):
    """A ``srcdoc`` frame inherits the console's policy: the slip's stylesheet and print script must
    pass it as they are."""
    oid = (await new_order(api, world))["id"]
    await make_link(api, oid)
    slip = (await api.get("desk", f"/api/orders/{oid}/slip")).text
    console = directives((await client.get("/app/")).headers["content-security-policy"])
    assert_inline_allowed_by_hash(slip, console)
