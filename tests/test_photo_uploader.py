"""server/photos/uploader.py: photo requests are authenticated, with a one-second memory per token."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.anyio

SHA = "e" * 64


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Wuye-Protocol": "1", "Wuye-Request-Id": str(uuid.uuid4())}


async def test_photo_requests_need_a_valid_token(api):
    for method, path in (("GET", f"/sync/blobs/{SHA}"), ("PUT", f"/sync/blobs/{SHA}?offset=0"),
                         ("PUT", f"/sync/blobs/{SHA}?offset=0&finish=true"),
                         ("POST", f"/sync/blobs/{SHA}/finish")):  # fmt: skip
        r = await api.client.request(method, path, headers=headers("not-a-token"), content=b"x")
        assert r.status_code == 401, (method, r.text)
        r = await api.client.request(method, path, headers={"Wuye-Protocol": "1"}, content=b"x")
        assert r.status_code == 401, (method, r.text)


async def test_a_signed_out_token_is_refused_once_the_trust_second_has_passed(api, clock):
    token = await api.token("tech_a")
    status = f"/sync/blobs/{SHA}"
    assert (await api.client.get(status, headers=headers(token))).status_code == 200
    r = await api.client.post("/api/auth/logout", headers=headers(token))
    assert r.status_code in (200, 204), r.text
    assert (await api.client.get(status, headers=headers(token))).status_code == 200  # remembered
    clock.advance(seconds=1)
    r = await api.client.get(status, headers=headers(token))
    assert r.status_code == 401 and r.json()["code"] == "token_revoked", r.text
