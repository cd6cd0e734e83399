"""Staff auth: login, throttling, token expiry and revocation, password changes."""

from __future__ import annotations

import pytest

from tests.support.world import PASSWORD

pytestmark = pytest.mark.anyio


async def test_login_returns_token_and_staff_profile(api, world):
    r = await api.client.post("/api/auth/login", json={"phone": world.phone("tech_a"), "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["staff"]["role"] == "technician"
    assert body["staff"]["name"] == "李师傅"
    me = await api.client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json()["id"] == str(world.id("tech_a"))


@pytest.mark.parametrize("phone_key,password", [("tech_a", "wrong-password"), (None, PASSWORD)])
async def test_login_fails_with_the_same_answer_for_wrong_password_and_unknown_phone(api, world, phone_key, password):
    phone = world.phone(phone_key) if phone_key else "13999999999"
    r = await api.client.post("/api/auth/login", json={"phone": phone, "password": password})
    assert r.status_code == 401
    assert r.json() == {"code": "bad_credentials", "message": "wrong phone or password"}


async def test_login_is_throttled_per_phone_with_retry_after(api, world, clock):
    phone = world.phone("tech_a")
    for _ in range(5):
        r = await api.client.post("/api/auth/login", json={"phone": phone, "password": "nope-nope"})
        assert r.status_code == 401
    r = await api.client.post("/api/auth/login", json={"phone": phone, "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_attempts"
    retry_after = int(r.headers["retry-after"])
    assert 0 < retry_after <= 15 * 60
    clock.advance(minutes=16)
    r = await api.client.post("/api/auth/login", json={"phone": phone, "password": PASSWORD})
    assert r.status_code == 200


async def test_login_is_throttled_per_ip_across_phones(api, world, app):
    app.state.ctx.settings = app.state.ctx.settings.with_(login_max_failures_per_ip=3)
    for i in range(3):
        r = await api.client.post("/api/auth/login", json={"phone": f"1390000{i:04d}", "password": "nope-nope"})
        assert r.status_code == 401
    r = await api.client.post("/api/auth/login", json={"phone": world.phone("desk"), "password": PASSWORD})
    assert r.status_code == 429


async def test_logout_revokes_the_token(api):
    headers = await api.headers("tech_a")
    assert (await api.client.post("/api/auth/logout", headers=headers)).status_code == 200
    r = await api.client.get("/api/me", headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "token_revoked"


async def test_expired_token_gets_401_token_expired(api, clock):
    headers = await api.headers("tech_a")
    clock.advance(days=31)
    r = await api.client.get("/api/me", headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "token_expired"


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not-a-real-token"])
async def test_missing_or_unknown_token_gets_401(api, header):
    headers = {"Authorization": header} if header else {}
    r = await api.client.get("/api/me", headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


async def test_password_change_revokes_every_session(api, world):
    first = await api.headers("tech_a")
    second = {
        "Authorization": "Bearer "
        + (
            await api.client.post("/api/auth/login", json={"phone": world.phone("tech_a"), "password": PASSWORD})
        ).json()["token"]
    }
    r = await api.client.post(
        "/api/auth/password", headers=first, json={"old_password": PASSWORD, "new_password": "a-new-long-password"}
    )
    assert r.status_code == 200
    for h in (first, second):
        assert (await api.client.get("/api/me", headers=h)).json()["code"] == "token_revoked"
    r = await api.client.post(
        "/api/auth/login", json={"phone": world.phone("tech_a"), "password": "a-new-long-password"}
    )
    assert r.status_code == 200


async def test_password_change_needs_the_current_password_and_a_long_new_one(api):
    h = await api.headers("tech_a")
    r = await api.client.post("/api/auth/password", headers=h, json={"old_password": "wrong", "new_password": "x" * 10})
    assert r.status_code == 403
    r = await api.client.post("/api/auth/password", headers=h, json={"old_password": PASSWORD, "new_password": "short"})
    assert r.status_code == 422 and r.json()["code"] == "weak_password"


async def test_disabled_account_cannot_use_its_token(api, world, database):
    from server.accounts.models import Staff

    headers = await api.headers("tech_b")
    async with database.writer() as s:
        (await s.get(Staff, world.id("tech_b"))).active = False
        await s.commit()
    r = await api.client.get("/api/me", headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "account_disabled"


async def test_only_managers_create_staff_and_the_new_account_can_log_in(api, world):
    body = {
        "name": "新师傅",
        "phone": "13911112222",
        "role": "technician",
        "department": "engineering",
        "password": "long-enough-pw",
    }
    assert (await api.post("desk", "/api/staff", json=body)).status_code == 403
    r = await api.post("supervisor", "/api/staff", json=body)
    assert r.status_code == 201 and r.json()["estate_id"] == str(world.estate.id)
    assert (await api.post("supervisor", "/api/staff", json=body)).json()["code"] == "phone_taken"
    r = await api.client.post("/api/auth/login", json={"phone": "13911112222", "password": "long-enough-pw"})
    assert r.status_code == 200


async def test_create_staff_refuses_bad_phone(api):
    body = {
        "name": "x",
        "phone": "12345",
        "role": "technician",
        "department": "engineering",
        "password": "long-enough-pw",
    }
    r = await api.post("supervisor", "/api/staff", json=body)
    assert r.status_code == 422 and r.json()["code"] == "invalid_phone"
