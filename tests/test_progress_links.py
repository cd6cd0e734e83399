"""Progress links for staff: create/rotate/revoke, QR codes (PNG and SVG, decoded for real), the
printed slip and grid poster, expiry after close or cancel, scope refusals."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from server.app import create_app
from server.progress.models import ProgressLink
from server.progress.tokens import grid_from_token
from tests.test_progress_support import (
    act,
    completed_order,
    decode_png,
    decode_svg,
    extract_svgs,
    make_link,
    new_order,
    page_path,
)

pytestmark = pytest.mark.anyio

BASE = "http://testserver.local"


async def test_desk_creates_a_link_whose_png_qr_decodes_to_it(api, world, database):
    order = await new_order(api, world)
    link = await make_link(api, order["id"])
    token = link["token"]
    assert len(token) == 32 and link["url"] == f"{BASE}/p/{token}"
    assert link["qr_png_url"] == f"/api/orders/{order['id']}/progress-link/qr.png"
    r = await api.get("desk", link["qr_png_url"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "no-store"
    assert decode_png(r.content) == [link["url"]]
    # Only the hash is stored.
    async with database.reader() as s:
        rows = (await s.scalars(select(ProgressLink))).all()
    assert [row.token_hash for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert all(token not in str(v) for row in rows for v in vars(row).values())
    page = await api.client.get(page_path(link))
    assert page.status_code == 200 and order["number"] in page.text


async def test_svg_qr_is_valid_xml_that_decodes_to_the_link_with_the_order_number_under_it(api, world):
    order = await new_order(api, world)
    link = await make_link(api, order["id"])
    r = await api.get("desk", link["qr_svg_url"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    decoded, caption = decode_svg(r.text.split("\n", 1)[1])
    assert decoded == [link["url"]] and caption == order["number"]


async def test_qr_can_be_rendered_again_later_from_the_stored_link(api, world):
    order = await new_order(api, world)
    link = await make_link(api, order["id"])
    again = await api.get("lead", f"/api/orders/{order['id']}/progress-link")
    assert again.status_code == 200 and again.json()["token"] == link["token"]
    png = await api.get("supervisor", link["qr_png_url"])
    assert decode_png(png.content) == [link["url"]]


async def test_rotating_the_link_retires_the_old_one(api, world):
    order = await new_order(api, world)
    old = await make_link(api, order["id"])
    new = await make_link(api, order["id"], key="steward_a")
    assert new["token"] != old["token"]
    assert (await api.client.get(page_path(old))).status_code == 404
    assert (await api.client.get(page_path(new))).status_code == 200
    current = await api.get("desk", f"/api/orders/{order['id']}/progress-link")
    assert current.json()["token"] == new["token"]


async def test_revoked_link_answers_a_friendly_404_and_the_qr_needs_a_new_link(api, world):
    order = await new_order(api, world)
    link = await make_link(api, order["id"])
    r = await api.delete("desk", f"/api/orders/{order['id']}/progress-link")
    assert r.status_code == 200 and r.json()["revoked"] == 1
    page = await api.client.get(page_path(link))
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "链接无效或已过期" in page.text and order["number"] not in page.text
    assert (await api.client.get(page_path(link) + "/state")).status_code == 404
    qr = await api.get("desk", link["qr_png_url"])
    assert qr.status_code == 404 and qr.json()["code"] == "no_progress_link"
    again = await api.delete("desk", f"/api/orders/{order['id']}/progress-link")
    assert again.json()["revoked"] == 0


async def test_link_works_until_n_days_after_close_and_again_after_reopen(api, world, clock, settings):
    oid = await completed_order(api, world)
    link = await make_link(api, oid)
    await act(api, "desk", oid, "close")
    days = settings.progress_link_days_after_close
    clock.advance(days=days, minutes=-1)
    r = await api.client.get(page_path(link))
    assert r.status_code == 200 and "工单已完结" in r.text
    clock.advance(minutes=2)
    api.sign_out_all()
    assert (await api.client.get(page_path(link))).status_code == 404
    await act(api, "lead", oid, "reopen")
    assert (await api.client.get(page_path(link))).status_code == 200


async def test_link_of_a_cancelled_order_expires_n_days_after_the_cancellation(api, world, clock, settings):
    order = await new_order(api, world)
    link = await make_link(api, order["id"])
    clock.advance(hours=1)
    await act(api, "desk", order["id"], "cancel", note="业主自行修好")
    clock.advance(days=settings.progress_link_days_after_close, minutes=-1)
    r = await api.client.get(page_path(link))
    assert r.status_code == 200 and "工单已取消" in r.text
    clock.advance(minutes=2)
    assert (await api.client.get(page_path(link))).status_code == 404


async def test_a_link_made_after_close_gets_a_fixed_expiry(api, world, clock, settings):
    oid = await completed_order(api, world)
    await act(api, "desk", oid, "close")
    closed_at = clock.now()
    link = await make_link(api, oid)
    expected = closed_at + timedelta(days=settings.progress_link_days_after_close)
    assert link["expires_at"] == expected.isoformat()


@pytest.mark.parametrize(
    ("key", "status"),
    [("tech_a", 403), ("steward_b", 404), ("other_supervisor", 404), ("other_steward", 404)],
)
async def test_staff_outside_the_role_or_scope_get_no_link(api, world, key, status):
    order = await new_order(api, world, assignee_id=str(world.id("tech_a")))
    await make_link(api, order["id"])
    base = f"/api/orders/{order['id']}"
    assert (await api.post(key, f"{base}/progress-link")).status_code == status
    assert (await api.get(key, f"{base}/progress-link")).status_code == status
    assert (await api.get(key, f"{base}/progress-link/qr.png")).status_code == status
    assert (await api.get(key, f"{base}/slip")).status_code == status
    assert (await api.delete(key, f"{base}/progress-link")).status_code == status


async def test_progress_token_is_not_an_api_credential(api, world):
    order = await new_order(api, world)
    link = await make_link(api, order["id"])
    bearer = {"Authorization": f"Bearer {link['token']}", "Wuye-Protocol": "1"}
    for url in (f"/api/orders/{order['id']}", "/api/orders/", f"/api/orders/{order['id']}/progress-link", "/api/me"):
        r = await api.client.get(url, headers=bearer)
        assert r.status_code == 401, url


async def test_slip_is_a_printable_page_with_number_household_kind_qr_and_steward(api, world):
    order = await new_order(api, world, description="卫生间<b>地漏</b>堵塞")
    link = await make_link(api, order["id"])
    r = await api.get("desk", f"/api/orders/{order['id']}/slip")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    for text in (order["number"], "1栋1单元101", "报修 · 水电", "张管家", "139 0000 0011", "@media print", "72mm"):
        assert text in html, text
    assert "<b>地漏</b>" not in html and "&lt;b&gt;地漏&lt;/b&gt;" in html
    [svg] = extract_svgs(html)
    decoded, caption = decode_svg(svg)
    assert decoded == [link["url"]] and caption == order["number"]


async def test_slip_needs_a_link_first(api, world):
    order = await new_order(api, world)
    r = await api.get("desk", f"/api/orders/{order['id']}/slip")
    assert r.status_code == 404 and r.json()["code"] == "no_progress_link"


async def test_grid_poster_carries_a_qr_to_that_grids_report_form_and_the_steward(api, world, settings):
    grid = world.grids[0]
    r = await api.get("steward_a", f"/api/grids/{grid.id}/poster")
    assert r.status_code == 200
    html = r.text
    for text in ("扫码报事报修", "张管家", "139 0000 0011", "翠湖花园", "东区", "size:A4"):
        assert text in html, text
    [svg] = extract_svgs(html)
    [url], _ = decode_svg(svg)
    assert url.startswith(f"{BASE}/r/")
    assert grid_from_token(settings.secret, url.rsplit("/", 1)[1]) == grid.id
    # Re-printing gives the same QR: nothing is stored per poster.
    assert extract_svgs((await api.get("desk", f"/api/grids/{grid.id}/poster")).text) == [svg]
    form = await api.client.get(url.removeprefix(BASE))
    assert form.status_code == 200 and "报事报修" in form.text


async def test_poster_is_refused_outside_scope(api, world):
    grid = world.grids[0]
    assert (await api.get("steward_b", f"/api/grids/{grid.id}/poster")).status_code == 404
    assert (await api.get("other_supervisor", f"/api/grids/{grid.id}/poster")).status_code == 404
    assert (await api.get("tech_a", f"/api/grids/{grid.id}/poster")).status_code == 403
    assert (await api.get("desk", f"/api/grids/{uuid.uuid4()}/poster")).status_code == 404


async def test_after_a_secret_change_printed_links_work_but_the_qr_asks_for_a_new_link(api, world, settings, clock):
    order = await new_order(api, world)
    link = await make_link(api, order["id"])
    other = create_app(settings.with_(secret="s" * 40), clock=clock)
    async with AsyncTestClient(app=other) as client:
        headers = await api.headers("desk")
        r = await client.get(link["qr_png_url"], headers=headers)
        assert r.status_code == 409 and r.json()["code"] == "link_secret_changed"
        assert (await client.get(page_path(link))).status_code == 200
