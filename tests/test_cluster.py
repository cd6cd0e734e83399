"""Several nodes on one database: they agree on the keys, and each job round runs on one of them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from server import jobs
from server.app import create_app
from server.clock import ManualClock
from server.cluster.leases import claim
from server.config import Settings
from server.db.engine import Database
from server.push.vapid import load_or_create
from server.web.context import AppContext
from tests.support.world import TEST_LOG2_N

pytestmark = pytest.mark.anyio


def node_settings(database_url: str, data_dir: Path, **extra: str) -> Settings:
    env = {
        "WUYE_DATABASE_URL": database_url,
        "WUYE_DATA_DIR": str(data_dir),
        "WUYE_BACKGROUND_JOBS": "0",
        "WUYE_PASSWORD_LOG2N": str(TEST_LOG2_N),
        **extra,
    }
    return Settings.from_env(env, root=data_dir)


async def started(settings: Settings) -> tuple[AsyncTestClient, AppContext]:
    app = create_app(settings, clock=ManualClock())
    client = AsyncTestClient(app)
    await client.__aenter__()  # runs the lifespan: the node adopts the shared keys
    return client, app.state.ctx


async def test_nodes_share_the_secret_and_the_vapid_key_through_the_database(database_url, tmp_path):
    # The first node was a single-node install: its disk holds a secret and a VAPID key already.
    first_dir = tmp_path / "a"
    old_vapid = load_or_create(first_dir)
    a_settings = node_settings(database_url, first_dir)
    old_secret = a_settings.secret
    clients = []
    try:
        a_client, a = await started(a_settings)
        clients.append(a_client)
        b_client, b = await started(node_settings(database_url, tmp_path / "b"))
        clients.append(b_client)
        assert b.settings.secret == a.settings.secret == old_secret  # tokens and posters stay valid
        assert b.services["vapid"].application_server_key == old_vapid.application_server_key
        assert b.services["push_sender"].keys.private_pem == old_vapid.private_pem
        answers = [await c.get("/api/push/vapid-public-key") for c in clients]
        assert {r.status_code for r in answers} == {200}
        assert len({r.json()["key"] for r in answers}) == 1
        assert not (tmp_path / "b" / "vapid").exists()  # nothing of it on the second node's disk
        # Configuration still wins over the database.
        c_client, c = await started(node_settings(database_url, tmp_path / "c", WUYE_SECRET="s" * 40))
        clients.append(c_client)
        assert c.settings.secret == "s" * 40
    finally:
        for client in clients:
            await client.__aexit__(None, None, None)


async def test_a_job_round_runs_on_one_node_and_passes_on_when_its_lease_runs_out(database_url):
    db = Database(database_url)
    clock = ManualClock()
    try:
        now = clock.now()
        assert await claim(db, "sla_scan", "node-a", now, 30)
        assert not await claim(db, "sla_scan", "node-b", now + timedelta(seconds=29), 30)
        assert await claim(db, "compact_changes", "node-b", now, 30)  # leases are per job
        # node-a was killed: nobody renews its lease, and once it has run out node-b takes over.
        assert await claim(db, "sla_scan", "node-b", now + timedelta(seconds=30), 30)
        assert not await claim(db, "sla_scan", "node-a", now + timedelta(seconds=31), 30)
    finally:
        await db.dispose()


async def test_racing_nodes_run_each_round_once(database_url):
    runs: list[str] = []

    async def job(ctx: AppContext) -> None:
        runs.append(ctx.settings.base_url)

    dbs = [Database(database_url) for _ in range(3)]
    clock = ManualClock()
    contexts = [
        AppContext(settings=node_settings(database_url, Path("/nonexistent")).with_(base_url=f"http://n{i}"),
                   db=db, clock=clock)
        for i, db in enumerate(dbs)
    ]
    try:
        for round_ in range(3):
            ran = await asyncio.gather(
                *(jobs.run_claimed("sla_scan", job, 30.0, ctx, holder=f"node-{i}") for i, ctx in enumerate(contexts))
            )
            assert sum(ran) == 1, ran
            assert len(runs) == round_ + 1
            clock.advance(seconds=30)
    finally:
        for db in dbs:
            await db.dispose()
