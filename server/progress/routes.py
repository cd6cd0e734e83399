"""HTTP for progress links (staff API) and the owner pages (/p/<token>, /r/<grid token>). Thin: parse,
authorise, call the services, render."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

import anyio
from litestar import Request, Response, Router, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Role
from server.accounts.scope import MANAGERS, Actor
from server.db import commits
from server.errors import DomainError
from server.orders import feedback, lifecycle
from server.orders.models import RatingLevel
from server.photos.derivatives import SIZES
from server.photos.serving import derivative_response
from server.progress import i18n, links, owner, printed, qr, report, service
from server.progress.cache import FreshPages, Hot, PageCache
from server.progress.layout import csp
from server.progress.page import PAGE_CSS, POLL_SCRIPT, error_page, not_found_page
from server.progress.page import notice as notice_html
from server.progress.photos import stores
from server.progress.report_page import FORM_CSS, bad_link_page, form_page, too_large_page, too_many_page
from server.progress.tokens import grid_from_token, grid_id_in_token, grid_token, new_poster_key
from server.sites.models import Estate, Grid, Household
from server.web.context import AppContext
from sync.text import CONTROL

log = logging.getLogger("wuye.progress")
STAFF = (Role.front_desk, Role.team_lead, Role.supervisor, Role.steward, Role.admin)
HTML = "text/html"  # Litestar adds "; charset=utf-8"
PAGE_CSP = csp(script=POLL_SCRIPT, form_action=True, styles=(PAGE_CSS, ""))
FORM_CSP = csp(form_action=True, styles=(FORM_CSS, ""))
PLAIN_CSP = csp()
OWNER_HEADERS = {
    "Cache-Control": "no-cache, private",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}
# Three photos of 8 MB plus the form fields and multipart framing.
REPORT_MAX_BODY = 3 * 8 * 2**20 + 512 * 1024


def _html(body: str | bytes, *, status: int = 200, policy: str = PLAIN_CSP, headers: dict | None = None) -> Response:
    return Response(
        body,
        status_code=status,
        media_type=HTML,
        headers={**OWNER_HEADERS, "Content-Security-Policy": policy, **(headers or {})},
    )


def _lang(request: Request, query: str | None) -> str:
    return i18n.pick_lang(query, request.headers.get("accept-language"))


def _cache(ctx: AppContext) -> PageCache:
    cache = ctx.services.get("progress_pages")
    if cache is None:
        cache = ctx.services["progress_pages"] = PageCache()
    return cache


def _fresh(ctx: AppContext) -> FreshPages:
    pages = ctx.services.get("progress_fresh")
    if pages is None:
        pages = FreshPages(ttl=ctx.settings.progress_fresh_ms / 1000, generation=commits.generation)
        ctx.services["progress_fresh"] = pages
    return pages


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- staff API ----------------------------------------------------------------------------------------


def _link_out(ctx: AppContext, issued: links.IssuedLink) -> dict[str, Any]:
    link = issued.link
    api = f"/api/orders/{link.order_id}"
    return {
        "order_id": str(link.order_id),
        "url": f"{ctx.settings.base_url}/p/{issued.token}",
        "token": issued.token,
        "qr_png_url": f"{api}/progress-link/qr.png",
        "qr_svg_url": f"{api}/progress-link/qr.svg",
        "slip_url": f"{api}/slip",
        "created_at": link.created_at.isoformat(),
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
    }


@post("/orders/{order_id:uuid}/progress-link", status_code=201)
async def create_link(
    order_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    """Create the order's progress link, or rotate it (the previous link stops working)."""
    actor.require_role(*STAFF)
    order = await lifecycle.visible_order(tx, actor, order_id, lock=True)
    issued = await links.issue(
        tx,
        order,
        secret=ctx.settings.secret,
        now=ctx.clock.now(),
        days=ctx.settings.progress_link_days_after_close,
        created_by=actor.staff_id,
    )
    await tx.commit()
    return _link_out(ctx, issued)


@put("/orders/{order_id:uuid}/progress-link", status_code=200)
async def ensure_link(
    order_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    """The order's progress link, created if it has none (idempotent: unlike POST it never rotates a
    live link). What the desk calls before printing a slip or sending the link."""
    actor.require_role(*STAFF)
    order = await lifecycle.visible_order(tx, actor, order_id, lock=True)
    issued, created = await links.ensure(
        tx,
        order,
        secret=ctx.settings.secret,
        now=ctx.clock.now(),
        days=ctx.settings.progress_link_days_after_close,
        created_by=actor.staff_id,
    )
    if created:
        await tx.commit()
    return _link_out(ctx, issued)


@get("/orders/{order_id:uuid}/progress-link")
async def get_link(
    order_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    actor.require_role(*STAFF)
    await lifecycle.visible_order(db, actor, order_id)
    return _link_out(ctx, await links.current(db, order_id, secret=ctx.settings.secret))


@delete("/orders/{order_id:uuid}/progress-link", status_code=200)
async def revoke_link(
    order_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    actor.require_role(*STAFF)
    await lifecycle.visible_order(tx, actor, order_id, lock=True)
    revoked = await links.revoke(tx, order_id, now=ctx.clock.now())
    await tx.commit()
    return {"order_id": str(order_id), "revoked": revoked}


async def _qr_source(db: AsyncSession, actor: Actor, ctx: AppContext, order_id: uuid.UUID) -> tuple[str, str]:
    actor.require_role(*STAFF)
    order = await lifecycle.visible_order(db, actor, order_id)
    issued = await links.current(db, order_id, secret=ctx.settings.secret)
    return f"{ctx.settings.base_url}/p/{issued.token}", order.number


PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@get("/orders/{order_id:uuid}/progress-link/qr.png")
async def qr_png(
    order_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    url, number = await _qr_source(db, actor, ctx, order_id)
    body = await anyio.to_thread.run_sync(qr.png, url, number)
    return Response(body, media_type="image/png", headers=PRIVATE)


@get("/orders/{order_id:uuid}/progress-link/qr.svg")
async def qr_svg(
    order_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    url, number = await _qr_source(db, actor, ctx, order_id)
    return Response(qr.svg_document(url, number), media_type="image/svg+xml", headers=PRIVATE)


@get("/orders/{order_id:uuid}/slip")
async def slip(
    order_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    """A printable slip for the owner (A6 / 80 mm thermal), with the progress-link QR."""
    url, _ = await _qr_source(db, actor, ctx, order_id)
    order = await lifecycle.visible_order(db, actor, order_id)
    estate = await db.get(Estate, order.estate_id)
    household = await db.scalar(select(Household.label).where(Household.id == order.household_id))
    steward = await feedback.grid_steward(db, order)
    page = printed.slip(
        url=url,
        estate=estate.name if estate else "",
        number=order.number,
        household=household or order.location,
        kind=str(order.kind),
        category=str(order.category),
        created_at=order.created_at,
        description=order.description,
        steward_name=steward.name if steward else None,
        steward_phone=steward.phone if steward else None,
    )
    return Response(page, media_type=HTML, headers={**PRIVATE, "Content-Security-Policy": printed.SLIP_CSP})


@get("/grids/{grid_id:uuid}/poster")
async def poster(
    grid_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    """An A4 poster for the grid: "扫码报事报修" with a QR to the report form and the steward's contact."""
    actor.require_role(*STAFF)
    grid = await guard.in_scope(db, actor, Grid, grid_id)
    estate = await db.get(Estate, grid.estate_id)
    steward = await owner.grid_steward(db, grid.id)
    page = printed.poster(
        url=_poster_url(ctx, grid),
        estate=estate.name if estate else "",
        grid=grid.name,
        steward_name=steward.name if steward else None,
        steward_phone=steward.phone if steward else None,
        hotline=estate.hotline if estate else "",
    )
    return Response(page, media_type=HTML, headers={**PRIVATE, "Content-Security-Policy": printed.POSTER_CSP})


def _poster_url(ctx: AppContext, grid: Grid) -> str:
    return f"{ctx.settings.base_url}/r/{grid_token(ctx.settings.secret, grid.id, grid.poster_key)}"


@post("/grids/{grid_id:uuid}/poster/rotate", status_code=200)
async def rotate_poster(
    grid_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    """A leaked or defaced poster: give the grid a new poster key. Every poster printed before then
    answers 404 (the friendly "link not valid" page); print the new one."""
    actor.require_role(*MANAGERS)
    grid = await guard.in_scope(tx, actor, Grid, grid_id)
    grid.poster_key = new_poster_key()
    await tx.commit()
    return {"grid_id": str(grid.id), "url": _poster_url(ctx, grid)}


staff_router = Router(
    path="/api",
    route_handlers=[create_link, ensure_link, get_link, revoke_link, qr_png, qr_svg, slip, poster, rotate_poster],
    tags=["progress"],
)


# --- owner pages ----------------------------------------------------------------------------------------


LangQuery = Annotated[str | None, QueryParameter(name="lang", max_length=8)]


async def _owner_answer(ctx: AppContext, token: str, *, reuse: bool = True) -> Hot | None:
    """The link's state and page snapshot, from the micro-cache when ``reuse`` (see FreshPages)."""
    now = ctx.clock.now()
    pages = _fresh(ctx)

    async def build() -> Hot | None:
        born, generation = pages.stamp()
        async with ctx.db.reader() as db:
            resolved = await links.resolve(db, token, now=now, days=ctx.settings.progress_link_days_after_close)
            if resolved is None:
                return None
            snap = await service.snapshot(db, _cache(ctx), resolved)
        order = resolved.order
        last = order.last_update_at or order.updated_at
        return Hot(snap, resolved.link.id, resolved.expires_at, last, born, generation)

    return await pages.load(token, now, build) if reuse else await build()


@get("/p/{token:str}", include_in_schema=False)
async def progress_page(
    request: Request,
    token: FromPath[str],
    ctx: NamedDependency[AppContext],
    lang: LangQuery = None,
    m: Annotated[str | None, QueryParameter(name="m", max_length=20)] = None,
) -> Response:
    language = _lang(request, lang)
    # After a rating (?m=…) the page must show what this owner just did, whichever worker took it.
    hot = await _owner_answer(ctx, token, reuse=m is None)
    if hot is None:
        return _html(not_found_page(language), status=404)
    snap = hot.snap
    note = notice_html(m, language, follow_up=snap.view.rating_level == "unsatisfied")
    etag = f'"{snap.version}-{language}-{m or ""}"'
    headers = {"ETag": etag, "Vary": "Accept-Language"}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers={**OWNER_HEADERS, "Content-Security-Policy": PAGE_CSP, **headers})
    body = service.page_bytes(snap, token=token, lang=language, notice=note)
    return _html(body, policy=PAGE_CSP, headers=headers)


@get("/p/{token:str}/state", include_in_schema=False)
async def progress_state(token: FromPath[str], ctx: NamedDependency[AppContext]) -> Response:
    """What the page's script polls: a version that changes when anything on the page changes."""
    hot = await _owner_answer(ctx, token)
    if hot is None:
        return Response({"code": "not_found", "message": "link not found"}, status_code=404, headers=PRIVATE)
    return Response(
        {"version": hot.snap.version, "status": hot.snap.view.status, "updated_at": hot.updated_at.isoformat()},
        headers=PRIVATE,
    )


# The textarea says maxlength=500; a longer or control-laden comment comes from a script or an odd
# paste, and is refused with a notice rather than cut or stored.
MAX_RATING_COMMENT = 500


@post("/p/{token:str}/rating", include_in_schema=False)
async def progress_rating(
    request: Request, token: FromPath[str], tx: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext]
) -> Response:
    """The page's rating form (plain HTML POST); answers with a redirect back to the page (PRG)."""
    form = await request.form()
    language = _lang(request, str(form.get("lang") or ""))
    now = ctx.clock.now()
    resolved = await links.resolve(tx, token, now=now, days=ctx.settings.progress_link_days_after_close)
    if resolved is None:
        return _html(not_found_page(language), status=404)
    level = str(form.get("level") or "")
    comment = str(form.get("comment") or "").replace("\r\n", "\n").strip()  # a form sends CRLF
    if level not in RatingLevel.__members__:
        outcome = "pick"
    elif len(comment) > MAX_RATING_COMMENT:
        outcome = "comment_too_long"
    elif CONTROL.search(comment):
        outcome = "comment_bad_text"
    else:
        try:
            await feedback.rate(tx, resolved.order.id, RatingLevel(level), comment, now=now, source="owner")
            await tx.commit()
            outcome = "thanks"
        except DomainError as exc:
            await tx.rollback()
            outcome = "already" if exc.code == "already_rated" else "not_ratable"
    return Redirect(f"/p/{token}?lang={language}&m={outcome}", status_code=303, headers=OWNER_HEADERS)


# Only the owner's browser may keep a photo, and only for an hour: the URL carries the progress token,
# and a revoked or expired link must stop showing photos (a shared cache or an immutable year would
# keep serving them). The strong ETag makes a revalidation after the hour a cheap 304.
PHOTO_CACHE = "private, max-age=3600"


@get("/p/{token:str}/photos/{sha:str}/{size:str}", include_in_schema=False)
async def progress_photo(
    request: Request,
    token: FromPath[str],
    sha: FromPath[str],
    size: FromPath[str],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    """An owner-safe derivative of a photo of THIS order (no EXIF/GPS, upright); 404 for any other."""
    resolved = await links.resolve(db, token, now=ctx.clock.now(), days=ctx.settings.progress_link_days_after_close)
    if resolved is None or size not in SIZES or sha not in await owner.order_photos(db, resolved.order.id):
        return _html(not_found_page(_lang(request, None)), status=404)
    _, derivatives = stores(ctx)
    try:
        return await derivative_response(request, derivatives, sha, size, cache_control=PHOTO_CACHE)
    except DomainError:
        return _html(not_found_page(_lang(request, None)), status=404)  # not uploaded yet


@get("/r/{grid:str}", include_in_schema=False)
async def report_form(
    request: Request,
    grid: FromPath[str],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    lang: LangQuery = None,
) -> Response:
    language = _lang(request, lang)
    found = await _grid(db, ctx, grid)
    if found is None:
        return _html(bad_link_page(language), status=404)
    grid_row, estate = found
    page = form_page(
        estate=estate.name,
        grid=grid_row.name,
        action=f"/r/{grid}",
        choices=await report.choices(db, grid_row.id),
        lang=language,
    )
    return _html(page, policy=FORM_CSP)


async def _grid(db: AsyncSession, ctx: AppContext, token: str) -> tuple[Grid, Estate] | None:
    claimed = grid_id_in_token(token)
    grid = await db.get(Grid, claimed) if claimed else None
    if grid is None or grid_from_token(ctx.settings.secret, token, grid.poster_key) != grid.id:
        return None
    return grid, await db.get(Estate, grid.estate_id)


async def _read_form(request: Request, policy: report.ReportPolicy) -> report.ReportForm:
    data = await request.form()

    def text(name: str, limit: int = 2000) -> str:
        value = data.get(name)
        return value[:limit] if isinstance(value, str) else ""

    photos, names = [], []
    for item in data.getall("photos") if "photos" in data else []:
        if isinstance(item, UploadFile):
            content = await item.read(policy.max_photo_bytes + 1)
            await item.close()
            if content:
                photos.append(content)
                names.append((item.filename or "")[-80:])
    return report.ReportForm(
        building=text("building", 40),
        unit=text("unit", 40),
        room=text("room", 40),
        kind=text("kind", 20),
        category=text("category", 30),
        description=text("description", policy.max_description + 1),
        phone=text("phone", 30),
        name=text("name", 40),
        honeypot=text("website", 200),
        photos=photos,
        photo_names=names,
    )


@post("/r/{grid:str}", include_in_schema=False, request_max_body_size=REPORT_MAX_BODY)
async def report_submit(
    request: Request,
    grid: FromPath[str],
    db: NamedDependency[AsyncSession],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    """The owner's report: checks (reads only), photos (no lock held), then one write transaction."""
    language = _lang(request, request.query_params.get("lang"))
    found = await _grid(db, ctx, grid)
    if found is None:
        return _html(bad_link_page(language), status=404)
    grid_row, estate = found
    policy = report.ReportPolicy.from_extra(ctx.settings.extra)
    try:
        form = await _read_form(request, policy)
    except HTTPException as exc:
        if exc.status_code == 413:
            return _html(too_large_page(language), status=413)
        return _html(error_page(language), status=400)
    now, ip = ctx.clock.now(), _ip(request)
    try:
        household = await report.precheck(db, grid_row.id, form, policy, ip=ip, now=now)
        infos = await report.store_photos(stores(ctx)[0], form) if household is not None else []
        outcome = await report.submit(
            tx,
            grid_row,
            household,
            form,
            policy,
            photo_infos=infos,
            ip=ip,
            now=now,
            secret=ctx.settings.secret,
            link_days=ctx.settings.progress_link_days_after_close,
        )
        await tx.commit()
    except report.FormInvalid as exc:
        page = form_page(
            estate=estate.name,
            grid=grid_row.name,
            action=f"/r/{grid}",
            choices=await report.choices(db, grid_row.id),
            lang=language,
            form=form,
            errors=exc.errors,
            photo_problems=exc.photo_problems,
        )
        return _html(page, status=422, policy=FORM_CSP)
    except DomainError as exc:
        if exc.status != 429:
            raise
        retry = int((exc.details or {}).get("retry_after", 3600))
        return _html(too_many_page(language, retry), status=429, headers={"Retry-After": str(retry)})
    return Redirect(f"/p/{outcome.token}?lang={language}&m=reported", status_code=303, headers=OWNER_HEADERS)


def _owner_error(request: Request, exc: Exception) -> Response:
    """Owner pages answer in HTML, never with the API's JSON error shape."""
    language = _lang(request, request.query_params.get("lang"))
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None) or 500
    if status == 404:
        return _html(not_found_page(language), status=404)
    if status >= 500:
        log.exception("owner page failed: %s", request.url.path, exc_info=exc)
    return _html(error_page(language), status=status if 400 <= status < 600 else 500)


owner_router = Router(
    path="/",
    route_handlers=[
        progress_page,
        progress_state,
        progress_rating,
        progress_photo,
        report_form,
        report_submit,
    ],
    # Every key the app maps, too: a handler is chosen by the exception's most specific class.
    exception_handlers={DomainError: _owner_error, HTTPException: _owner_error, Exception: _owner_error},
)

progress_router = Router(path="/", route_handlers=[staff_router, owner_router])
