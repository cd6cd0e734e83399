"""Every endpoint that takes a JSON body refuses broken input with the one error shape.

The routes come from the app's own OpenAPI schema, so a new endpoint is covered the day it is added.
"""

from __future__ import annotations

import re

import pytest

from server.app import create_app
from server.config import Settings

pytestmark = pytest.mark.anyio


def _json_body_routes() -> list[tuple[str, str]]:
    app = create_app(Settings.from_env({"WUYE_SECRET": "s" * 40, "WUYE_DATA_DIR": "/tmp/wuye-schema"}))
    routes = []
    for path, item in app.openapi_schema.paths.items():
        for method in ("post", "put", "patch"):
            op = getattr(item, method, None)
            if op is None or op.request_body is None:
                continue
            if "application/json" in (op.request_body.content or {}):
                routes.append((method.upper(), path))
    return sorted(routes)


JSON_ROUTES = _json_body_routes()


def _concrete(path: str, world) -> str:
    # Any well-formed id: the body is checked before the record is looked up or the refusal is 404.
    return re.sub(r"\{[^}]+\}", "00000000-0000-7000-8000-000000000000", path)


def test_the_schema_lists_json_endpoints():
    assert ("POST", "/api/auth/login") in JSON_ROUTES
    assert len(JSON_ROUTES) >= 3


def _shape(r) -> dict:
    body = r.json()
    assert set(body) <= {"code", "message", "details"}, body
    assert isinstance(body["code"], str) and isinstance(body["message"], str) and body["message"]
    return body


@pytest.mark.parametrize("method,path", JSON_ROUTES)
async def test_malformed_json_is_400_malformed_json(api, world, method, path):
    r = await api.client.request(
        method,
        _concrete(path, world),
        content=b'{"phone": "1',
        headers={**await api.headers("admin"), "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert _shape(r)["code"] == "malformed_json"


@pytest.mark.parametrize("method,path", JSON_ROUTES)
async def test_unknown_field_is_400_unknown_field(api, world, method, path):
    r = await api.client.request(
        method, _concrete(path, world), json={"definitely_not_a_field": 1}, headers=await api.headers("admin")
    )
    assert r.status_code == 400, r.text
    assert _shape(r)["code"] in ("unknown_field", "validation_error")


@pytest.mark.parametrize("method,path", JSON_ROUTES)
async def test_wrong_type_is_400_validation_error(api, world, method, path):
    r = await api.client.request(
        method, _concrete(path, world), json=["not", "an", "object"], headers=await api.headers("admin")
    )
    assert r.status_code == 400, r.text
    assert _shape(r)["code"] == "validation_error"


@pytest.mark.parametrize("method,path", JSON_ROUTES)
async def test_oversized_body_is_413(api, world, method, path):
    big = b'{"x": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    r = await api.client.request(
        method,
        _concrete(path, world),
        content=big,
        headers={**await api.headers("admin"), "Content-Type": "application/json"},
    )
    assert r.status_code == 413, r.text
    assert _shape(r)["code"] in ("body_too_large", "batch_too_large")


async def test_wrong_field_type_names_the_field(api):
    r = await api.client.post("/api/auth/login", json={"phone": 13900000000, "password": "x"})
    assert r.status_code == 400
    body = _shape(r)
    assert body["code"] == "validation_error"
    assert "phone" in body["message"]


async def test_bad_input_leaves_stored_data_intact(api, world):
    before = (await api.get("admin", "/api/staff")).json()
    await api.client.post(
        "/api/staff", content=b"{broken", headers={**await api.headers("admin"), "Content-Type": "application/json"}
    )
    await api.post(
        "admin",
        "/api/staff",
        json={
            "name": "x",
            "phone": "13911110000",
            "role": "wizard",
            "department": "engineering",
            "password": "long-enough-pw",
        },
    )
    assert (await api.get("admin", "/api/staff")).json() == before


async def test_unknown_route_is_404_in_the_error_shape(api):
    r = await api.get("admin", "/api/nope")
    assert r.status_code == 404 and _shape(r)["code"] == "not_found"


async def test_wrong_method_is_405_in_the_error_shape(api):
    r = await api.client.delete("/api/auth/login")
    assert r.status_code == 405 and _shape(r)["code"] == "method_not_allowed"
