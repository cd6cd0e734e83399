"""The application factory: ``create_app(settings)`` everywhere (CLI, tests, production)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Request, get
from litestar.di import NamedDependency
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server import jobs
from server.accounts import passwords
from server.accounts.routes import accounts_router, auth_router
from server.admin.routes import admin_router
from server.answers.routes import answers_router
from server.board.routes import board_router, desk_router, reports_router
from server.bulletins.routes import bulletins_router
from server.clock import Clock
from server.cluster.keys import adopt_shared_keys
from server.config import Settings
from server.db.engine import Database
from server.duty.routes import duty_router
from server.meta import meta
from server.notify import service as notify_service
from server.notify.routes import notify_router, owner_sms_router
from server.orders.kpi_routes import kpi_router
from server.orders.routes import orders_router
from server.orders.routing_routes import routing_router
from server.orders.sla_routes import sla_router
from server.outbound import Outbound
from server.photos.arrivals import ArrivalRecorder
from server.photos.backends import open_blobs
from server.photos.routes import photos_router
from server.photos.service import photo_checker
from server.progress.routes import progress_router
from server.push.delivery import PushSender
from server.push.routes import push_router
from server.push.transport import PushTransport
from server.push.vapid import candidate as vapid_candidate
from server.reports.routes import baseline_router
from server.reports.routes import reports_router as analysis_router
from server.sites.routes import sites_router
from server.syncing.routes import sync_router
from server.syncing.stream_routes import stream_router
from server.walks.routes import checkpoint_link, walks_router
from server.web.compression import compression_config
from server.web.context import AppContext
from server.web.deps import DEPENDENCIES
from server.web.errors import EXCEPTION_HANDLERS, error_response
from server.web.head import answer_head_on_pages
from server.web.media import require_json
from server.web.openapi import TrueSchemaPlugin
from server.web.pwa import pwa_handlers
from server.web.request import WuyeRequest
from server.web.security import security_headers
from server.web.strict import strict_body

log = logging.getLogger("wuye")


@get("/healthz", include_in_schema=False)
async def healthz(ctx: NamedDependency[AppContext]) -> dict:
    try:
        async with ctx.db.reader() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any DB failure means unhealthy
        return error_response(503, "database_unreachable", f"database not reachable: {type(exc).__name__}")
    return {"ok": True, "database": "sqlite" if ctx.db.is_sqlite else "postgresql"}


async def inbound_checks(request: Request) -> None:
    """The app's one ``before_request`` hook (Litestar keeps a single one per layer): a JSON
    endpoint's media type first (415), then its body decoded strictly (400)."""
    await require_json(request)
    await strict_body(request)


async def adopted(ctx: AppContext) -> bool:
    """Take the keys every node shares (before any request, so all sign and verify alike); False
    if the database cannot be reached yet. The node still starts (``/healthz`` says 503 meanwhile);
    everything its keys sign or check needs the database too."""
    try:
        await adopt_shared_keys(ctx)
    except (OSError, SQLAlchemyError) as exc:
        log.warning("shared keys not read yet (database: %s); retrying", type(exc).__name__)
        return False
    return True


async def adopt_later(ctx: AppContext) -> None:
    while not await adopted(ctx):
        await asyncio.sleep(2.0)


def create_app(settings: Settings, *, clock: Clock | None = None, database: Database | None = None) -> Litestar:
    ctx = AppContext(settings=settings, db=database or Database(settings.database_url), clock=clock or Clock())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    passwords.configure(settings.password_log2_n)
    notify_service.register()
    blobs, derivatives = open_blobs(settings)
    outbound = Outbound(push_hosts=settings.push_hosts, dev_loopback_hosts=settings.dev_loopback_hosts)
    http = outbound.client(timeout=10.0)  # webhooks: public addresses only, no redirects
    vapid = vapid_candidate(settings.data_dir, settings.vapid_private_key)  # the shared one replaces it
    ctx.services.update(
        blobs=blobs,
        arrivals=ArrivalRecorder(ctx.db, ctx.clock),
        derivatives=derivatives,
        photo_ok=photo_checker(blobs),
        http=http,
        outbound=outbound,
        vapid=vapid,
        push_sender=PushSender(vapid, contact=settings.push_contact, transport=PushTransport(outbound=outbound)),
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        tasks = [] if await adopted(ctx) else [asyncio.create_task(adopt_later(ctx), name="adopt-keys")]
        tasks += jobs.start(ctx) if settings.background_jobs else []
        try:
            yield
        finally:
            await jobs.stop(tasks)
            await ctx.services["push_sender"].aclose()
            await http.aclose()
            if database is None:
                await ctx.db.dispose()

    app = Litestar(
        route_handlers=[
            healthz,
            meta,
            auth_router,
            accounts_router,
            sites_router,
            orders_router,
            kpi_router,
            sla_router,
            duty_router,
            routing_router,
            sync_router,
            stream_router,
            push_router,
            notify_router,
            owner_sms_router,
            answers_router,
            admin_router,
            board_router,
            desk_router,
            reports_router,
            analysis_router,
            baseline_router,
            progress_router,
            bulletins_router,
            photos_router,
            walks_router,
            checkpoint_link,
            *pwa_handlers(),
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=WuyeRequest,
        before_request=inbound_checks,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Wuye Field API",
            version="0.1.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(), TrueSchemaPlugin()],
        ),
        lifespan=[lifespan],
        before_send=[security_headers],
        compression_config=compression_config(),
        debug=False,
    )
    app.state.ctx = ctx
    answer_head_on_pages(app)
    return app


def request_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
