"""Issue 18 finding 12: scrypt at OWASP's minimum (N=2**17, r=8, p=1); a password stored at a lower
cost is re-hashed at today's cost on the next successful sign-in (and only then)."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from server.accounts import passwords
from server.accounts.models import Staff
from server.app import create_app
from tests.support.world import PASSWORD, TEST_LOG2_N

pytestmark = pytest.mark.anyio


def test_the_default_cost_is_owasps_minimum():
    assert (passwords.LOG2_N, passwords.R, passwords.P) == (17, 8, 1)
    stored = passwords.hash_password("correct horse", n=2**passwords.LOG2_N)
    assert stored.startswith("scrypt$131072$8$1$")
    assert passwords.verify_password("correct horse", stored)
    assert not passwords.verify_password("wrong horse", stored)


async def _stored(database, world, key) -> str:
    async with database.reader() as s:
        return (await s.get(Staff, world.id(key))).password_hash


async def test_a_weaker_hash_is_upgraded_on_the_next_successful_login(settings, clock, world, database):
    stronger = TEST_LOG2_N + 1
    assert (await _stored(database, world, "desk")).startswith(f"scrypt${2**TEST_LOG2_N}$")
    app = create_app(settings.with_(password_log2_n=stronger), clock=clock)
    async with AsyncTestClient(app=app) as client:
        phone = world.phone("desk")
        r = await client.post("/api/auth/login", json={"phone": phone, "password": "wrong-password"})
        assert r.status_code == 401
        assert (await _stored(database, world, "desk")).startswith(f"scrypt${2**TEST_LOG2_N}$")  # not on failure
        r = await client.post("/api/auth/login", json={"phone": phone, "password": PASSWORD})
        assert r.status_code == 200
        upgraded = await _stored(database, world, "desk")
        assert upgraded.startswith(f"scrypt${2**stronger}$8$1$") and passwords.verify_password(PASSWORD, upgraded)
        r = await client.post("/api/auth/login", json={"phone": phone, "password": PASSWORD})
        assert r.status_code == 200 and await _stored(database, world, "desk") == upgraded  # once is enough
    passwords.configure(TEST_LOG2_N)
