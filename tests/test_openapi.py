"""``/schema`` tells the truth (issue 18, finding 11): errors in the shape the server sends, a security
scheme, request schemas for ``/sync/*``, the error statuses each operation can answer; and JSON bodies
are decoded strictly (``{"eta": 0}`` is not a date, ``0`` is not ``false``)."""

from __future__ import annotations

import pytest

from tests.test_progress_support import new_order

pytestmark = pytest.mark.anyio


async def schema(client) -> dict:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()


async def test_a_number_is_not_an_eta(api, world):
    oid = (await new_order(api, world, assignee_id=str(world.id("tech_a"))))["id"]
    await api.post("tech_a", f"/api/orders/{oid}/actions/accept", json={})
    r = await api.post("tech_a", f"/api/orders/{oid}/eta", json={"eta": 0})
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.text
    detail = await api.get("tech_a", f"/api/orders/{oid}")
    assert detail.json()["order"].get("eta") in (None, "")


async def test_a_number_is_not_a_boolean(api, world):
    r = await api.post(
        "admin",
        "/api/answers",
        json={"category": "fees", "question": "物业费怎么交", "answer": "前台或线上缴纳", "active": 0},
    )
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.text


async def test_strict_bodies_still_accept_what_clients_send(api, world):
    oid = (await new_order(api, world, assignee_id=str(world.id("tech_a"))))["id"]
    await api.post("tech_a", f"/api/orders/{oid}/actions/accept", json={})
    r = await api.post("tech_a", f"/api/orders/{oid}/eta", json={"eta": "2026-11-22T16:40:00+08:00"})
    assert r.status_code == 200, r.text


async def test_errors_are_documented_in_the_shape_the_server_sends(client):
    doc = await schema(client)
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message"]
    assert "status_code" not in str(doc["paths"])  # Litestar's default error body is gone
    login = doc["paths"]["/api/auth/login"]["post"]["responses"]
    assert login["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert {"400", "401", "429"} <= set(login)


async def test_signed_in_operations_name_the_bearer_scheme_and_their_401_403(client):
    doc = await schema(client)
    assert doc["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}
    me = doc["paths"]["/api/me"]["get"]
    assert me["security"] == [{"BearerToken": []}]
    assert {"401", "403"} <= set(me["responses"])
    assert "security" not in doc["paths"]["/api/auth/login"]["post"]
    order = doc["paths"]["/api/orders/{order_id}/eta"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409"} <= set(order)


async def test_sync_operations_have_request_schemas_and_their_headers(client):
    doc = await schema(client)
    push = doc["paths"]["/sync/push"]["post"]
    body = push["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PushRequest"}
    assert "mutations" in doc["components"]["schemas"]["PushRequest"]["properties"]
    headers = {p["name"]: p for p in push["parameters"] if p["in"] == "header"}
    assert headers["Wuye-Request-Id"]["required"] and headers["Wuye-Protocol"]["required"]
    assert push["security"] == [{"BearerToken": []}]
    assert {"400", "401", "426", "429"} <= set(push["responses"])
    chunk = doc["paths"]["/sync/blobs/{sha}"]["put"]
    assert "application/octet-stream" in chunk["requestBody"]["content"]
    [sha] = [p for p in chunk["parameters"] if p["name"] == "sha"]
    assert sha["schema"]["pattern"] == "^[0-9a-f]{64}$"


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1999-12"])
async def test_a_scorecard_month_out_of_range_is_a_400_not_a_500(api, world, month):
    """Found by schemathesis: ``month=0000-01`` raised ValueError (year 0 is out of range)."""
    r = await api.get("supervisor", f"/api/stewards/{world.id('steward_a')}/scorecard", params={"month": month})
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.text
