"""Throttled password checks that strangers cannot turn into a lock on someone's account: back-off per
(phone, IP) and per IP, a per-phone ceiling that stops new devices but only slows a device that has
signed in before, and the old password of a password change under the same throttle. Time moves on
the test's ManualClock only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.accounts import service, throttle
from server.errors import DomainError
from tests.support.world import PASSWORD

pytestmark = pytest.mark.anyio

POLICY = service.LoginPolicy(
    token_ttl=timedelta(hours=1), max_failures_per_phone=5, max_failures_per_ip=30, window=timedelta(minutes=15)
)
OWNERS_PHONE = "K" * 43  # the owner's device cookie


async def attempt(database, clock, phone, password, ip, cookie=None, policy=POLICY) -> tuple[int, int | None]:
    """(status, retry_after) of one sign-in through the service."""
    async with database.writer() as s:
        try:
            await service.login(
                s,
                phone=phone,
                password=password,
                ip=ip,
                device_name="",
                clock=clock,
                policy=policy,
                device_cookie=cookie,
            )
            await s.commit()
            return 200, None
        except DomainError as exc:
            await s.rollback()
            return exc.status, (exc.details or {}).get("retry_after")


async def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(database, world, clock):
    phone = world.phone("tech_a")
    for _ in range(5):
        assert await attempt(database, clock, phone, "guess-guess", "203.0.113.7") == (401, None)
    assert await attempt(database, clock, phone, PASSWORD, "203.0.113.7") == (429, 30)
    assert await attempt(database, clock, phone, PASSWORD, "198.51.100.20") == (200, None)


async def test_the_back_off_doubles_with_each_further_failure_up_to_the_window(database, world, clock):
    phone, ip = world.phone("tech_a"), "203.0.113.7"
    for _ in range(5):
        await attempt(database, clock, phone, "guess-guess", ip)
    waits = []
    for _ in range(5):
        status, retry_after = await attempt(database, clock, phone, "guess-guess", ip)
        assert status == 429
        waits.append(retry_after)
        clock.advance(seconds=retry_after)
        assert (await attempt(database, clock, phone, "guess-guess", ip))[0] == 401
    assert waits == [30, 60, 120, 240, 480]
    # Failures older than the window no longer count; a wait is never longer than the window.
    assert throttle._backoff(throttle.ThrottlePolicy(), 40, 5) == timedelta(minutes=15)


async def test_one_address_guessing_many_phones_is_slowed_and_others_are_not(database, world, clock):
    policy = service.LoginPolicy(**{**POLICY.__dict__, "max_failures_per_ip": 3})
    for i in range(3):
        assert (await attempt(database, clock, f"1390000{i:04d}", "guess-guess", "203.0.113.7", policy=policy))[
            0
        ] == 401
    status, retry_after = await attempt(database, clock, world.phone("desk"), PASSWORD, "203.0.113.7", policy=policy)
    assert status == 429 and retry_after == 30
    assert (await attempt(database, clock, world.phone("desk"), PASSWORD, "198.51.100.20", policy=policy))[0] == 200


async def test_the_phone_ceiling_stops_new_devices_but_not_the_owners_known_device(database, world, clock):
    phone = world.phone("tech_a")
    assert (await attempt(database, clock, phone, PASSWORD, "198.51.100.20", cookie=OWNERS_PHONE))[0] == 200
    for i in range(20):  # a botnet: one guess from each of twenty addresses
        assert (await attempt(database, clock, phone, "guess-guess", f"203.0.113.{i}"))[0] == 401
    status, retry_after = await attempt(database, clock, phone, PASSWORD, "192.0.2.55")
    assert status == 429 and 0 < retry_after <= 15 * 60
    assert (await attempt(database, clock, phone, PASSWORD, "192.0.2.55", cookie="N" * 43))[0] == 429
    # The owner's phone, even behind the attackers' own carrier NAT address: in.
    assert await attempt(database, clock, phone, PASSWORD, "203.0.113.3", cookie=OWNERS_PHONE) == (200, None)


async def test_over_the_ceiling_a_known_device_is_slowed_not_locked(database, world, clock):
    phone = world.phone("tech_a")
    await attempt(database, clock, phone, PASSWORD, "198.51.100.20", cookie=OWNERS_PHONE)
    for i in range(20):
        await attempt(database, clock, phone, "guess-guess", f"203.0.113.{i}")
    assert (await attempt(database, clock, phone, "typo-typo", "198.51.100.20", cookie=OWNERS_PHONE))[0] == 401
    assert await attempt(database, clock, phone, PASSWORD, "198.51.100.20", cookie=OWNERS_PHONE) == (429, 5)
    clock.advance(seconds=5)
    assert (await attempt(database, clock, phone, PASSWORD, "198.51.100.20", cookie=OWNERS_PHONE))[0] == 200


async def test_a_changed_password_forgets_the_known_devices(database, world, clock):
    phone = world.phone("tech_a")
    await attempt(database, clock, phone, PASSWORD, "198.51.100.20", cookie=OWNERS_PHONE)
    async with database.writer() as s:
        await service.set_password(s, world.id("tech_a"), "another-password", clock)
        await s.commit()
    for i in range(20):
        await attempt(database, clock, phone, "guess-guess", f"203.0.113.{i}")
    assert (await attempt(database, clock, phone, "another-password", "198.51.100.20", cookie=OWNERS_PHONE))[0] == 429


async def test_a_sign_in_sets_an_http_only_device_cookie_that_outlasts_strangers_guesses(client, world):
    phone = world.phone("tech_a")
    r = await client.post("/api/auth/login", json={"phone": phone, "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("wuye_device=")
    assert {"httponly", "samesite=strict", "path=/api/auth"} <= {p.strip().lower() for p in cookie.split(";")}
    owners = client.cookies["wuye_device"]
    client.cookies.clear()  # now a stranger at the same address, without the cookie
    for _ in range(5):
        r = await client.post("/api/auth/login", json={"phone": phone, "password": "guess-guess"})
        assert r.status_code == 401
        client.cookies.clear()
    r = await client.post("/api/auth/login", json={"phone": phone, "password": PASSWORD})
    assert r.status_code == 429 and r.headers["retry-after"] == "30"
    body = r.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == "too_many_attempts"
    r = await client.post(
        "/api/auth/login", json={"phone": phone, "password": PASSWORD}, headers={"Cookie": f"wuye_device={owners}"}
    )
    assert r.status_code == 200


async def test_the_old_password_of_a_password_change_is_throttled_too(api, world, clock):
    url, new = "/api/auth/password", "a-new-password-1"
    for _ in range(5):
        r = await api.post("tech_a", url, json={"old_password": "guess-guess", "new_password": new})
        assert r.status_code == 403 and r.json()["code"] == "bad_credentials"
    r = await api.post("tech_a", url, json={"old_password": PASSWORD, "new_password": new})
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    assert r.headers["retry-after"] == "30"
    clock.advance(seconds=30)
    r = await api.post("tech_a", url, json={"old_password": PASSWORD, "new_password": new})
    assert r.status_code == 200, r.text
