"""Fixtures: every database test runs twice, on SQLite and on the local PostgreSQL.

PostgreSQL is required: an unreachable server fails the run (and under CI=true that is the rule
the brief sets). Start it with
``pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.clock import ManualClock
from server.config import Settings
from server.db.engine import Database
from tests.support.databases import PostgresFactory, SqliteFactory, pg_reachable
from tests.support.s3_server import LocalS3
from tests.support.world import PASSWORD, TEST_LOG2_N, World, build_world

BACKENDS = ("sqlite", "postgres")


def pytest_sessionstart(session: pytest.Session) -> None:
    reason = pg_reachable()
    if reason is not None:
        raise pytest.UsageError(
            f"PostgreSQL at 127.0.0.1:5432 is not reachable ({reason}); the suite runs on SQLite and "
            "PostgreSQL and does not skip either. Start it with: "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def sqlite_factory(tmp_path_factory: pytest.TempPathFactory) -> SqliteFactory:
    return SqliteFactory(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_factory() -> PostgresFactory:
    factory = PostgresFactory()
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def local_s3(tmp_path_factory: pytest.TempPathFactory) -> LocalS3:
    """One S3-compatible server per test process (tests/support/s3_server.py says which and why)."""
    server = LocalS3(tmp_path_factory.mktemp("s3") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        yield request.getfixturevalue("sqlite_factory").fresh()
        return
    factory: PostgresFactory = request.getfixturevalue("postgres_factory")
    url = factory.fresh()
    yield url
    factory.drop(url)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    env = {
        "WUYE_DATABASE_URL": database_url,
        "WUYE_DATA_DIR": str(tmp_path / "data"),
        "WUYE_BASE_URL": "http://testserver.local",
        "WUYE_SECRET": "t" * 40,
        "WUYE_BACKGROUND_JOBS": "0",
        "WUYE_PASSWORD_LOG2N": str(TEST_LOG2_N),  # scrypt at 2**17 would cost ~0.5 s per sign-in
    }
    return Settings.from_env(env, root=tmp_path)


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def world(database: Database, clock: ManualClock) -> World:
    async with database.writer() as session:
        w = await build_world(session, clock)
        await session.commit()
    return w


@pytest.fixture
def app(settings: Settings, clock: ManualClock):
    # The app gets its own engine: AsyncTestClient runs it on another event loop, and pooled
    # asyncpg connections must not cross loops. Tests read the same database via `database`.
    return create_app(settings, clock=clock)


class Api:
    """A test client that can sign in as any world staff member by key."""

    def __init__(self, client: AsyncTestClient, world: World | None):
        self.client = client
        self.world = world
        self._tokens: dict[str, str] = {}

    def sign_out_all(self) -> None:
        """Forget cached tokens (after moving the clock past their expiry)."""
        self._tokens.clear()

    async def token(self, key: str) -> str:
        if key not in self._tokens:
            r = await self.client.post("/api/auth/login", json={"phone": self.world.phone(key), "password": PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[key] = r.json()["token"]
        return self._tokens[key]

    async def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(key)}", "Wuye-Protocol": "1"}

    async def get(self, key: str, url: str, **kw):
        return await self.client.get(url, headers={**await self.headers(key), **kw.pop("headers", {})}, **kw)

    async def post(self, key: str, url: str, **kw):
        return await self.client.post(url, headers={**await self.headers(key), **kw.pop("headers", {})}, **kw)

    async def put(self, key: str, url: str, **kw):
        return await self.client.put(url, headers={**await self.headers(key), **kw.pop("headers", {})}, **kw)

    async def patch(self, key: str, url: str, **kw):
        return await self.client.patch(url, headers={**await self.headers(key), **kw.pop("headers", {})}, **kw)

    async def delete(self, key: str, url: str, **kw):
        return await self.client.delete(url, headers={**await self.headers(key), **kw.pop("headers", {})}, **kw)


@pytest.fixture
async def client(app) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.fixture
async def api(client: AsyncTestClient, world: World) -> Api:
    return Api(client, world)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests that do not use a database get no backend parameter; nothing to do. This hook only
    # makes sure CI does not silently lose the PostgreSQL half by an environment override.
    if os.environ.get("CI") == "true" and os.environ.get("WUYE_TEST_PG", "").startswith("sqlite"):
        raise pytest.UsageError("CI must test against PostgreSQL")
