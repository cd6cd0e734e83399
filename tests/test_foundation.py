"""Migrations, configuration, health and schema."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect

from server.config import ConfigError, Settings
from server.db.migrate import downgrade, upgrade
from server.db.models import metadata
from server.photos.s3blobs import S3Location
from tests.support.databases import PostgresFactory


def _tables(url: str) -> set[str]:
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    async def go():
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(go())


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_upgrade_an_empty_database_to_head_and_back(backend, tmp_path, postgres_factory: PostgresFactory):
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
    else:
        url = postgres_factory.fresh_empty()
    upgrade(url)
    assert set(metadata.tables) <= _tables(url)
    downgrade(url, "base")
    assert _tables(url) <= {"alembic_version"}
    upgrade(url)
    assert set(metadata.tables) <= _tables(url)


def test_models_and_migrations_agree(tmp_path):
    """Autogenerate against a migrated database finds nothing to do (no model change without a migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    path = tmp_path / "cmp.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize(
    "env,fragment",
    [
        ({"WUYE_DATABASE_URL": "mysql://x"}, "WUYE_DATABASE_URL"),
        ({"WUYE_BASE_URL": "ftp://x"}, "WUYE_BASE_URL"),
        ({"WUYE_SECRET": "short"}, "WUYE_SECRET"),
        ({"WUYE_TOKEN_TTL_HOURS": "soon"}, "WUYE_TOKEN_TTL_HOURS"),
        ({"WUYE_MAX_BODY_BYTES": "10"}, "WUYE_MAX_BODY_BYTES"),
        ({"WUYE_BACKGROUND_JOBS": "yes"}, "WUYE_BACKGROUND_JOBS"),
        ({"WUYE_BLOBS": "/var/photos"}, "WUYE_BLOBS"),
        ({"WUYE_BLOBS": "s3://"}, "WUYE_BLOBS"),
        ({"WUYE_BLOBS": "s3://UPPER_case"}, "WUYE_BLOBS"),
        ({"WUYE_BLOBS": "s3://photos", "WUYE_S3_ENDPOINT": "minio:9000"}, "WUYE_S3_ENDPOINT"),
        ({"WUYE_BLOBS": "s3://photos", "WUYE_S3_PATH_STYLE": "yes"}, "WUYE_S3_PATH_STYLE"),
        ({"WUYE_BLOBS": "s3://photos", "WUYE_S3_ACCESS_KEY": "AKIA"}, "WUYE_S3_SECRET_KEY"),
    ],
)
def test_bad_configuration_names_the_variable(env, fragment, tmp_path):
    with pytest.raises(ConfigError, match=fragment):
        Settings.from_env({"WUYE_DATA_DIR": str(tmp_path), **env}, root=tmp_path)


def test_blobs_are_local_by_default_and_on_s3_when_configured(tmp_path):
    assert Settings.from_env({"WUYE_DATA_DIR": str(tmp_path)}, root=tmp_path).blobs is None
    env = {
        "WUYE_DATA_DIR": str(tmp_path),
        "WUYE_BLOBS": "s3://wuye-photos/field/",
        "WUYE_S3_ENDPOINT": "https://oss-cn-shanghai.aliyuncs.com",
        "WUYE_S3_REGION": "oss-cn-shanghai",
        "WUYE_S3_ACCESS_KEY": "AK",
        "WUYE_S3_SECRET_KEY": "SK",
        "WUYE_S3_PATH_STYLE": "1",
    }
    location = Settings.from_env(env, root=tmp_path).blobs
    assert location == S3Location(
        bucket="wuye-photos",
        prefix="field",
        endpoint_url="https://oss-cn-shanghai.aliyuncs.com",
        region="oss-cn-shanghai",
        access_key="AK",
        secret_key="SK",
        path_style=True,
    )


def test_secret_is_generated_once_and_persisted(tmp_path):
    a = Settings.from_env({"WUYE_DATA_DIR": str(tmp_path)}, root=tmp_path)
    b = Settings.from_env({"WUYE_DATA_DIR": str(tmp_path)}, root=tmp_path)
    assert a.secret == b.secret and len(a.secret) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_defaults_are_the_embedded_setup(tmp_path):
    s = Settings.from_env({}, root=tmp_path)
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'wuye.sqlite3'}"
    assert s.data_dir == tmp_path / "var" / "data"
    assert s.base_url == "http://127.0.0.1:8000"


@pytest.mark.anyio
async def test_healthz_reports_the_database(client, backend):
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"ok": True, "database": "sqlite" if backend == "sqlite" else "postgresql"}


@pytest.mark.anyio
async def test_healthz_is_503_when_the_database_is_gone(tmp_path):
    from litestar.testing import AsyncTestClient

    from server.app import create_app

    bad = Settings.from_env(
        {"WUYE_DATA_DIR": str(tmp_path), "WUYE_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/none"},
        root=tmp_path,
    )
    async with AsyncTestClient(app=create_app(bad)) as c:
        r = await c.get("/healthz")
    assert r.status_code == 503 and r.json()["code"] == "database_unreachable"


@pytest.mark.anyio
async def test_openapi_schema_is_served(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200 and "/api/auth/login" in r.json()["paths"]


@pytest.mark.anyio
async def test_sqlite_runs_in_wal_with_foreign_keys_and_full_sync(tmp_path):
    from sqlalchemy import text

    from server.db.engine import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'p.sqlite3'}")
    async with db.reader() as s:
        values = [
            (await s.execute(text(f"PRAGMA {p}"))).scalar()
            for p in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        ]
    await db.dispose()
    assert values == ["wal", 1, 2, 30000]


def test_demo_is_idempotent_and_realistic(tmp_path):
    import asyncio
    from datetime import timedelta

    from sqlalchemy import func, select

    from server.answers.library import library
    from server.answers.models import Answer
    from server.bulletins.models import Bulletin
    from server.bulletins.service import week_of
    from server.clock import CHINA, Clock
    from server.db.engine import Database
    from server.demo import load_demo
    from server.duty import service as duty_service
    from server.orders import routing
    from server.sites.models import Estate, Grid, Household
    from server.walks.models import Checkpoint, WalkRoute

    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
    upgrade(url)

    async def go():
        db = Database(url)
        results = []
        for _ in range(2):
            async with db.writer() as s:
                results.append(await load_demo(s, Clock()))
                await s.commit()
        async with db.reader() as s:
            households = await s.scalar(select(func.count()).select_from(Household))
            grids = await s.scalar(select(func.count()).select_from(Grid))
            routes = (await s.scalars(select(WalkRoute.grid_id))).all()
            kinds = (await s.scalars(select(Checkpoint.checklist_type))).all()
            history = await history_facts(s)
            estate = await s.scalar(select(Estate.id))
            routed = {r["category"]: r["route"] for r in (await routing.overview(s, estate))["rules"]}
            staffed = await routing.queue_members(s, estate)
            bulletins = (await s.execute(select(Bulletin.status, Bulletin.week_start, Bulletin.plans))).all()
            answers = await s.scalar(select(func.count()).select_from(Answer).where(Answer.status == "approved"))
            callbacks = await demo_callbacks(s)
            duty = await duty_service.overview(s, estate, Clock().now().astimezone(CHINA).date(), 7, Clock().now())
        await db.dispose()
        return results, households, grids, routes, kinds, history, routed, staffed, bulletins, answers, duty, callbacks

    results, households, grids, routes, kinds, history, routed, staffed, bulletins, answers, duty, callbacks = (
        asyncio.run(go())
    )
    # The 话术库 holds the standard answers once, however often the demo is loaded.
    assert answers == len(library().entries) >= 120
    # 园区周报: last week's published (its plans in this week), this week's draft planning the next.
    this_week = week_of(Clock().now())
    assert sorted((status, week) for status, week, _ in bulletins) == [
        ("draft", this_week),
        ("published", this_week - timedelta(days=7)),
    ]
    for _, week, plans in bulletins:
        assert plans and {p["day"] for p in plans} <= {str(week + timedelta(days=d)) for d in range(7, 14)}
    # Office hours and a week of roster ahead: three people a night, in calling order.
    assert duty["office_hours"]["opens"] == "08:30"
    nights = [x for x in duty["roster"] if x["shift"] == "night"]
    assert len(nights) == 7 and all(
        [p["role"] for p in n["people"]] == ["technician", "steward", "team_lead"] for n in nights
    )
    # 待回访 for the demo steward and the desk: the overdue one first, the callback order the 不满意
    # opened (its rated order is not listed beside it), the 未联系上 at its retry time.
    for key in ("steward", "desk"):
        rows = callbacks[key]
        assert [(o["kind"], o["overdue"]) for o in rows] == [("repair", True), ("callback", False), ("repair", False)]
        assert rows[1]["assignee_name"] == "张丽" and rows[2]["callback_retry_at"] is not None
    # Every queue the demo routes to has people who can take from it; no category falls back.
    assert {r["warning"] for r in routed.values()} == {""}
    assert {"engineering", "cleaning", "security", "landscaping", "service"} <= {
        d for d, n in staffed.items() if n >= 1
    }
    assert routed["cleaning"]["department"] == "cleaning" and routed["fees"]["assignee_name"] == "刘芳"
    # Six weeks of finished work, so the dashboard has figures: every old order closed (no SLA clock
    # left running), called back, most rated and never 不满意 (that would open a follow-up), and its
    # notifications read. Today's shift (8 orders) is the only open work.
    assert 42 <= history["closed"] <= 126 and history["closed"] == history["called_back"]
    assert 0.6 * history["closed"] <= history["rated"] < history["closed"]
    assert history["unsatisfied"] == 0 and history["old_unread"] == 0
    assert history["open"] == 8 and history["history_after_shift"] == 0
    assert results == [True, False]
    assert grids == 3 and 1000 <= households <= 1200
    assert len(set(routes)) == len(routes) == 3  # one 日常巡查 route per grid, not duplicated by the rerun
    assert kinds.count("renovation") == 3 and 4 * 3 <= kinds.count("standard") <= 6 * 3


async def demo_callbacks(s) -> dict[str, list[dict]]:
    from sqlalchemy import select

    from server.accounts.models import Staff
    from server.accounts.service import actor_for
    from server.clock import Clock
    from server.orders.feedback import due_callbacks

    out = {}
    for key, phone in (("steward", "13800000011"), ("desk", "13800000003")):
        actor = await actor_for(s, await s.scalar(select(Staff).where(Staff.phone == phone)))
        out[key] = await due_callbacks(s, actor, now=Clock().now())
    return out


async def history_facts(s) -> dict[str, int]:
    from sqlalchemy import and_, func, or_, select

    from server.demo import DEMO_CALLBACKS
    from server.notifications.models import Notification
    from server.orders.models import Callback, Order, Rating, RatingLevel, Status

    # The demo's pending callbacks (server/demo.py ``_demo_callbacks``) are not history.
    seeded = select(Order.id).where(Order.description.in_([text for _, text, _, _ in DEMO_CALLBACKS]))
    seeded_and_follow_ups = select(Order.id).where(or_(Order.id.in_(seeded), Order.follow_up_of_id.in_(seeded)))
    not_seeded = {
        Order: and_(
            Order.id.not_in(seeded), or_(Order.follow_up_of_id.is_(None), Order.follow_up_of_id.not_in(seeded))
        ),
        Rating: Rating.order_id.not_in(seeded),
        Notification: or_(Notification.order_id.is_(None), Notification.order_id.not_in(seeded_and_follow_ups)),
    }

    async def count(model, *where) -> int:
        extra = [not_seeded[model]] if model in not_seeded else []
        return await s.scalar(select(func.count()).select_from(model).where(*where, *extra))

    # Today's shift is created after the history, at the time of loading: what is older is history.
    shift_start = await s.scalar(
        select(func.min(Order.created_at)).where(Order.status != Status.closed, not_seeded[Order])
    )
    return {
        "closed": await count(Order, Order.status == Status.closed),
        "called_back": await s.scalar(
            select(func.count(func.distinct(Callback.order_id))).where(Callback.order_id.not_in(seeded))
        ),
        "rated": await count(Rating),
        "unsatisfied": await count(Rating, Rating.level == RatingLevel.unsatisfied),
        "open": await count(Order, Order.status != Status.closed),
        "history_after_shift": await count(Order, Order.status == Status.closed, Order.created_at >= shift_start),
        "old_unread": await count(Notification, Notification.created_at < shift_start, Notification.read_at.is_(None)),
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kpi_migration_copies_each_ratings_order_estate_and_creation_time(
    backend, tmp_path, postgres_factory: PostgresFactory
):
    """0007 adds ratings.estate_id / order_created_at and fills them for ratings that already exist."""
    import asyncio
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    url = f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}" if backend == "sqlite" else postgres_factory.fresh_empty()
    upgrade(url, "0006_walks")
    created = datetime(2026, 11, 3, 1, 2, 3, tzinfo=UTC)
    ids = {}

    async def seed():
        import uuid

        engine = create_async_engine(url)
        hexid = (lambda u: u.hex) if backend == "sqlite" else (lambda u: u)
        ids.update(company=uuid.uuid4(), estate=uuid.uuid4(), order=uuid.uuid4(), rating=uuid.uuid4())
        async with engine.begin() as c:
            await c.execute(text("INSERT INTO companies (id, name) VALUES (:i, 'c')"), {"i": hexid(ids["company"])})
            await c.execute(
                text("INSERT INTO estates (id, company_id, name, code, address) VALUES (:i, :c, 'e', 'E', '')"),
                {"i": hexid(ids["estate"]), "c": hexid(ids["company"])},
            )
            await c.execute(
                text(
                    "INSERT INTO orders (id, number, estate_id, kind, channel, category, priority, description,"
                    " location, reporter_name, reporter_phone, internal_note, status, department, created_at,"
                    " updated_at, completion_no, chain_length, chain_head) VALUES (:i, 'E-1', :e, 'repair', 'phone',"
                    " 'other', 'normal', 'd', '', '', '', '', 'rated', 'engineering', :t, :t, 1, 0, '')"
                ),
                {"i": hexid(ids["order"]), "e": hexid(ids["estate"]), "t": created},
            )
            await c.execute(
                text(
                    "INSERT INTO order_ratings (id, order_id, completion_no, level, comment, source, created_at,"
                    " chain_index, prev_hash, hash) VALUES (:i, :o, 1, 'satisfied', '', 'owner', :t, 1, '', '')"
                ),
                {"i": hexid(ids["rating"]), "o": hexid(ids["order"]), "t": created},
            )
        await engine.dispose()

    asyncio.run(seed())
    upgrade(url)

    async def read():
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession

        from server.orders.models import Rating

        engine = create_async_engine(url)
        async with AsyncSession(engine) as s:
            rating = await s.scalar(select(Rating))
        await engine.dispose()
        return rating

    rating = asyncio.run(read())
    assert rating.estate_id == ids["estate"] and rating.order_created_at == created
