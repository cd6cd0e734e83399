"""The owner pages' micro-cache (FreshPages): what it may reuse, for how long, and what it must not.

Unit tests drive it with a fake monotonic clock and a fake commit generation. The app tests show the
two promises end to end on both databases: a write committed by this process is visible on the very
next request, and a write committed elsewhere (another worker; here a connection that bypasses
SQLAlchemy, so this process's commit count does not move) is visible once ``ttl`` has passed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from server.progress.cache import FreshPages, Hot, Snapshot
from tests.test_progress_support import act, make_link, on_site_order, page_path, step

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


class Fake:
    def __init__(self):
        self.t = 100.0
        self.gen = 0
        self.builds = 0


def pages(fake: Fake, ttl: float = 1.0) -> FreshPages:
    return FreshPages(ttl=ttl, generation=lambda: fake.gen, clock=lambda: fake.t)


def hot(p: FreshPages, fake: Fake, expires_at: datetime | None = None) -> Hot:
    fake.builds += 1
    born, generation = p.stamp()
    snap = Snapshot(stamp=(fake.builds,), view=None, version=str(fake.builds), born=born)  # type: ignore[arg-type]
    return Hot(snap, uuid.uuid4(), expires_at, NOW, born, generation)


async def test_an_answer_is_reused_within_ttl_and_rebuilt_after():
    fake = Fake()
    p = pages(fake)
    first = await p.load("tok", NOW, lambda: asyncio.sleep(0, hot(p, fake)))
    fake.t += 0.9
    assert await p.load("tok", NOW, lambda: asyncio.sleep(0, hot(p, fake))) is first
    fake.t += 0.1
    again = await p.load("tok", NOW, lambda: asyncio.sleep(0, hot(p, fake)))
    assert again is not first and fake.builds == 2


async def test_any_commit_in_this_process_makes_every_entry_stale():
    fake = Fake()
    p = pages(fake, ttl=3600)
    first = await p.load("tok", NOW, lambda: asyncio.sleep(0, hot(p, fake)))
    fake.gen += 1
    assert await p.load("tok", NOW, lambda: asyncio.sleep(0, hot(p, fake))) is not first


async def test_a_commit_during_the_build_leaves_the_entry_stale():
    fake = Fake()
    p = pages(fake, ttl=3600)

    async def build_with_a_commit_meanwhile() -> Hot:
        h = hot(p, fake)  # stamped before the read ...
        fake.gen += 1  # ... which a commit overtakes
        return h

    first = await p.load("tok", NOW, build_with_a_commit_meanwhile)
    assert await p.load("tok", NOW, lambda: asyncio.sleep(0, hot(p, fake))) is not first


async def test_link_expiry_is_checked_against_the_request_time_on_every_hit():
    fake = Fake()
    p = pages(fake, ttl=3600)
    await p.load("tok", NOW, lambda: asyncio.sleep(0, hot(p, fake, expires_at=NOW + timedelta(minutes=1))))
    assert p.get("tok", NOW + timedelta(seconds=59)) is not None
    assert p.get("tok", NOW + timedelta(minutes=1)) is None


async def test_concurrent_misses_share_one_build_and_failures_are_not_kept():
    fake = Fake()
    p = pages(fake)
    gate = asyncio.Event()

    async def slow() -> Hot:
        await gate.wait()
        return hot(p, fake)

    tasks = [asyncio.create_task(p.load("tok", NOW, slow)) for _ in range(20)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert fake.builds == 1 and all(r is results[0] for r in results)

    async def boom() -> Hot:
        raise RuntimeError("database down")

    fake.t += 5
    waiters = [asyncio.create_task(p.load("tok", NOW, boom)) for _ in range(3)]
    outcomes = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert p.get("tok", NOW) is None


async def test_unknown_tokens_and_ttl_zero_keep_nothing():
    fake = Fake()
    p = pages(fake)
    assert await p.load("nope", NOW, lambda: asyncio.sleep(0, None)) is None
    assert p.get("nope", NOW) is None
    off = pages(fake, ttl=0)
    await off.load("tok", NOW, lambda: asyncio.sleep(0, hot(off, fake)))
    await off.load("tok", NOW, lambda: asyncio.sleep(0, hot(off, fake)))
    assert fake.builds == 2  # both loads built: nothing was kept


# --- end to end ---------------------------------------------------------------------------------------


async def foreign_sql(url: str, sql: str, *args) -> None:
    """Write as another process would: a connection of its own, outside SQLAlchemy."""
    if url.startswith("sqlite"):
        con = sqlite3.connect(url.split("///", 1)[1])
        with con:
            con.execute(sql.replace("$1", "?"), args)
        con.close()
        return
    con = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await con.execute(sql, *args)
    finally:
        await con.close()


def fresh_pages(app) -> FreshPages:
    from server.progress.routes import _fresh

    return _fresh(app.state.ctx)


async def test_this_process_sees_its_own_writes_on_the_next_request(api, world, app, clock):
    oid = await on_site_order(api, world)
    link = await make_link(api, oid)
    fresh_pages(app).ttl = 3600  # reuse as long as nothing is committed here
    assert "更换密封圈" not in (await api.client.get(page_path(link))).text
    await step(api, oid, "更换密封圈", at=clock.now())
    assert "更换密封圈" in (await api.client.get(page_path(link))).text
    r = await api.delete("desk", f"/api/orders/{oid}/progress-link")
    assert r.status_code == 200
    assert (await api.client.get(page_path(link))).status_code == 404


async def test_another_workers_revocation_is_honoured_within_ttl(api, world, app, settings):
    oid = await on_site_order(api, world)
    link = await make_link(api, oid)
    p = fresh_pages(app)
    now = [1000.0]
    p.clock = lambda: now[0]
    assert (await api.client.get(page_path(link))).status_code == 200
    await foreign_sql(
        settings.database_url,
        "UPDATE progress_links SET revoked_at = CURRENT_TIMESTAMP WHERE order_id = $1",
        uuid.UUID(oid) if "postgresql" in settings.database_url else uuid.UUID(oid).hex,
    )
    now[0] += p.ttl * 0.5
    assert (await api.client.get(page_path(link))).status_code == 200  # the bounded staleness
    now[0] += p.ttl * 0.5
    assert (await api.client.get(page_path(link))).status_code == 404


async def test_the_page_after_rating_is_read_fresh_whichever_worker_took_the_rating(api, world, app, clock):
    oid = await on_site_order(api, world)
    link = await make_link(api, oid)
    await step(api, oid, "检查完毕", at=clock.now())
    await act(api, "tech_a", oid, "complete")
    p = fresh_pages(app)
    p.ttl = 3600
    p.generation = lambda: 0  # as if every commit from here on were made by another worker
    assert 'name="level"' in (await api.client.get(page_path(link))).text
    r = await api.client.post(page_path(link) + "/rating", data={"level": "satisfied"}, follow_redirects=False)
    assert r.status_code == 303
    assert 'name="level"' in (await api.client.get(page_path(link))).text  # a plain reload: still cached
    after = await api.client.get(r.headers["location"])  # the redirect (?m=thanks) reads the database
    assert after.status_code == 200 and 'name="level"' not in after.text
