"""Bodies that break the decoder are a 400 with the error shape, never a 500 with a traceback in the
log, and the server answers them before anyone has signed in."""

from __future__ import annotations

import logging

import pytest

pytestmark = pytest.mark.anyio

DEEP = ('{"phone":' + "[" * 1000 + "]" * 1000 + ',"password":"x"}').encode()
# JSON endpoints that read their body before (or without) authentication.
DEEP_TARGETS = [
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/password"),
    ("POST", "/api/orders"),
    ("POST", "/api/staff"),
    ("POST", "/api/push/subscriptions"),
    ("POST", "/api/push/webhooks"),
]


def _no_traceback(caplog) -> None:
    logged = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert logged == [], [r.getMessage() for r in logged]
    assert "Traceback" not in caplog.text


def _error_shape(r) -> dict:
    body = r.json()
    assert set(body) <= {"code", "message", "details"} and body["code"] and body["message"], body
    return body


@pytest.mark.parametrize("method,path", DEEP_TARGETS)
async def test_a_body_nested_a_thousand_deep_is_a_400_without_a_traceback(client, method, path, caplog):
    caplog.set_level(logging.DEBUG)
    r = await client.request(method, path, content=DEEP, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert _error_shape(r)["code"] == "malformed_json"
    _no_traceback(caplog)


async def test_a_deep_body_to_a_signed_in_json_endpoint_is_a_400(api, world, caplog):
    caplog.set_level(logging.DEBUG)
    r = await api.post("supervisor", "/api/push/webhooks", content=DEEP, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and _error_shape(r)["code"] == "malformed_json", r.text
    _no_traceback(caplog)


async def test_a_deep_sync_push_is_a_400_malformed_json(api, world, caplog):
    caplog.set_level(logging.DEBUG)
    deep = b"[" * 1000 + b"]" * 1000
    body = (
        b'{"client_id":"0190a0b0-0000-7000-8000-000000000001","client_time":"2026-01-01T00:00:00Z","mutations":'
        b'[{"seq":1,"id":"0190a0b0-0000-7000-8000-000000000002","name":"order.accept","args":{"x":'
        + deep
        + b'},"client_time":"2026-01-01T00:00:00Z"}]}'
    )
    headers = {"Content-Type": "application/json", "Wuye-Request-Id": "0190a0b0-0000-7000-8000-000000000003"}
    r = await api.post("tech_a", "/sync/push", content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "malformed_json"
    _no_traceback(caplog)


def _multipart(**fields: str) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body of text parts only (httpx sends multipart only with a file)."""
    parts = [f'--b0undary\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    body = ("".join(parts) + "--b0undary--\r\n").encode()
    return body, {"Content-Type": "multipart/form-data; boundary=b0undary"}


@pytest.mark.parametrize("signed_in", [False, True])
async def test_an_import_without_a_file_part_is_a_400(api, world, caplog, signed_in):
    caplog.set_level(logging.DEBUG)
    body, headers = _multipart(note="no file here")
    if signed_in:
        headers.update(await api.headers("supervisor"))
    r = await api.client.post("/api/admin/import/households", content=body, headers=headers)
    if not signed_in:
        assert r.status_code in (400, 401), r.text
    else:
        assert r.status_code == 400, r.text
        assert _error_shape(r)["code"] == "file_required"
    _error_shape(r)
    _no_traceback(caplog)


async def test_an_import_with_a_text_field_named_file_is_a_400(api, world, caplog):
    caplog.set_level(logging.DEBUG)
    body, headers = _multipart(file="not a file")
    r = await api.post("supervisor", "/api/admin/import/households", content=body, headers=headers)
    assert r.status_code == 400, r.text
    _error_shape(r)
    _no_traceback(caplog)


async def test_a_binary_form_field_without_a_filename_is_a_400(api, world, caplog):
    """A file part sent without ``filename`` is decoded by the form parser as text (found by schemathesis)."""
    caplog.set_level(logging.DEBUG)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
    body = b'--b0undary\r\nContent-Disposition: form-data; name="file"\r\n\r\n' + png + b"\r\n--b0undary--\r\n"
    headers = {"Content-Type": "multipart/form-data; boundary=b0undary"}
    r = await api.post(
        "supervisor", "/api/admin/import/households", content=body, headers=headers, params={"dry_run": "true"}
    )
    assert r.status_code == 400, r.text
    assert _error_shape(r)["code"] == "malformed_body"
    _no_traceback(caplog)
