"""Issue 18 finding 12: inbound text refuses control characters (newline and tab are fine), JSON
endpoints need ``application/json``, and pages answer HEAD."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from server.orders.models import Order
from server.progress.tokens import grid_token
from server.walks.models import Finding
from tests.support.orders import PHONED_IN_REPAIR, create_order
from tests.test_progress_report import submit
from tests.walks_support import Device, iso

pytestmark = pytest.mark.anyio


async def _count(database, model) -> int:
    async with database.reader() as s:
        return await s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b[31m", "\r", "\x7f"])
async def test_a_control_character_in_a_body_is_a_validation_error_and_nothing_is_stored(api, world, database, bad):
    body = {**PHONED_IN_REPAIR, "household_id": str(world.households["1栋1单元101"].id)}
    r = await api.post("desk", "/api/orders", json={**body, "description": f"厨房{bad}漏水"})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "validation_error" and "description" in r.json()["message"]
    assert await _count(database, Order) == 0


async def test_control_characters_are_refused_in_nested_fields_too(api, world, clock):
    order_id = await create_order(api, world)
    step = {"note": "换阀门", "captured_at": iso(clock.now()), "materials": [{"name": "阀门\x00", "quantity": 1}]}
    r = await api.post("tech_a", f"/api/orders/{order_id}/steps", json=step)
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.text


async def test_newlines_and_tabs_are_kept(api, world):
    body = {**PHONED_IN_REPAIR, "household_id": str(world.households["1栋1单元101"].id)}
    r = await api.post("desk", "/api/orders", json={**body, "description": "厨房漏水\n\t水表旁"})
    assert r.status_code == 201 and r.json()["order"]["description"] == "厨房漏水\n\t水表旁"


async def test_a_mutation_with_a_control_character_is_rejected(api, world, database, clock):
    dev = Device(api, "steward_a")
    finding = {
        "id": str(uuid.uuid4()),
        "grid_id": str(world.grids[0].id),
        "category": "facilities",
        "note": "门锁\x00坏了",
        "captured_at": iso(clock.now()),
    }
    [result] = await dev.push(dev.mutation("walk.finding.add", finding))
    assert (result["status"], result["code"]) == ("rejected", "validation_error")
    assert await _count(database, Finding) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_json_endpoint_refuses_a_body_that_is_not_sent_as_json(api, world, database, content_type):
    body = {**PHONED_IN_REPAIR, "household_id": str(world.households["1栋1单元101"].id)}
    headers = await api.headers("desk")
    if content_type:
        headers["Content-Type"] = content_type
    r = await api.client.post("/api/orders", content=json.dumps(body).encode(), headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["code"] == "unsupported_media_type"
    assert await _count(database, Order) == 0
    headers["Content-Type"] = "application/json; charset=utf-8"
    r = await api.client.post("/api/orders", content=json.dumps(body).encode(), headers=headers)
    assert r.status_code == 201, r.text


async def test_pages_answer_head_like_get_without_a_body(client, world, settings):
    poster = f"/r/{grid_token(settings.secret, world.grids[0].id)}"
    for url in (poster, "/c/ABCDEFGH23", "/healthz", "/p/not-a-token"):
        got = await client.get(url, follow_redirects=False)
        head = await client.head(url, follow_redirects=False)
        assert head.status_code == got.status_code != 405, url
        assert head.content == b"" and head.headers.get("content-type") == got.headers.get("content-type"), url
    assert (await client.head("/api/me")).status_code == 405  # the API is not a page


async def test_the_owner_report_form_refuses_control_characters_but_keeps_its_line_breaks(
    client, world, settings, database
):
    url = f"/r/{grid_token(settings.secret, world.grids[0].id)}"
    r = await submit(client, url, description="阳台地漏\x00返水")
    assert r.status_code == 422 and "特殊字符" in r.text
    r = await submit(client, url, name="陈\x1b女士")
    assert r.status_code == 422 and "特殊字符" in r.text
    assert await _count(database, Order) == 0
    r = await submit(client, url, description="阳台地漏返水\r\n昨晚开始")
    assert r.status_code == 303, r.text
    assert await _count(database, Order) == 1
