"""HTTP for bulletins: the staff API (/api/bulletins) and the owners' public page (/w/<token>).
Thin: parse, authorise, call the service, render."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Annotated, Any

import anyio
from litestar import Request, Response, Router, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.bulletins import render, service
from server.bulletins.models import Bulletin
from server.bulletins.schemas import DraftIn, OpenWeekIn
from server.errors import DomainError
from server.photos.derivatives import SIZES
from server.photos.serving import derivative_response
from server.progress.layout import csp
from server.progress.page import not_found_page
from server.progress.photos import stores
from server.progress.qr import svg_element
from server.progress.tokens import bulletin_id_in_token, bulletin_token, bulletin_token_valid
from server.web import dates
from server.web.context import AppContext

PUBLIC_HEADERS = {
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}
PAGE_CSP = csp(styles=(render.PAGE_CSS,))
NOT_FOUND_CSP = csp()
# As on the progress page: only the viewer's browser keeps a photo, for an hour, so a new share link
# (revocation) stops it being served from shared caches.
PHOTO_CACHE = "private, max-age=3600"
PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _url(ctx: AppContext, row: Bulletin) -> str:
    return f"{ctx.settings.base_url}/w/{bulletin_token(ctx.settings.secret, row.id, row.share_key)}"


async def _out(db: AsyncSession, ctx: AppContext, row: Bulletin) -> dict[str, Any]:
    draft = row.status == "draft"
    content = row.published if row.published is not None else await service.public_content(db, row)
    out: dict[str, Any] = {
        "id": str(row.id),
        "estate_id": str(row.estate_id),
        "estate": content["estate"],
        "week_start": row.week_start.isoformat(),
        "week_label": render.week_range(row.week_start),
        "status": row.status,
        "note": row.note,
        "plans": row.plans,
        "highlights": row.highlights,
        "content": content,
        "updated_at": row.updated_at.isoformat(),
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "image_url": f"/api/bulletins/{row.id}/image.png",
        "candidates": [],
        "share": None,
    }
    if draft:
        out["candidates"] = [
            {
                "order_id": str(c.order_id),
                "number": c.number,
                "building": c.building,
                "category": c.category,
                "completed_at": c.completed_at.isoformat(),
                "photos": c.photos,
            }
            for c in await service.candidates(db, row.estate_id, row.week_start)
        ]
    else:
        url = _url(ctx, row)
        out["share"] = {"url": url, "qr_svg": svg_element(url), "image_url": f"{url}/bulletin.png"}
    return out


@get("/")
async def list_bulletins(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    estate_id: Annotated[uuid.UUID | None, QueryParameter(name="estate_id")] = None,
) -> dict:
    estate, rows = await service.listing(db, actor, estate_id)
    this_week = service.week_of(ctx.clock.now())
    return {
        "estate_id": str(estate.id),
        "estate": estate.name,
        "this_week": this_week.isoformat(),
        "bulletins": [
            {
                "id": str(r.id),
                "week_start": r.week_start.isoformat(),
                "week_label": render.week_range(r.week_start),
                "status": r.status,
                "published_at": r.published_at.isoformat() if r.published_at else None,
            }
            for r in rows
        ],
    }


@post("/")
async def open_week(
    data: JSONBody[OpenWeekIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    """The estate's bulletin for the week starting ``week_start`` (a Monday), created as a draft if
    there is none: 201 when created, 200 when it existed."""
    week = dates.day(data.week_start, "week_start")
    row, created = await service.open_week(tx, actor, data.estate_id, week, ctx.clock.now())
    await tx.commit()
    return Response(await _out(tx, ctx, row), status_code=201 if created else 200)


@get("/{bulletin_id:uuid}")
async def get_bulletin(
    bulletin_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    return await _out(db, ctx, await service.visible(db, actor, bulletin_id))


@put("/{bulletin_id:uuid}")
async def save_draft(
    bulletin_id: FromPath[uuid.UUID],
    data: JSONBody[DraftIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    row = await service.visible(tx, actor, bulletin_id, lock=True)
    await service.save_draft(
        tx,
        actor,
        row,
        note=data.note,
        plans=[service.Plan(p.kind, p.day, p.start, p.end, p.area, p.title) for p in data.plans],
        highlights=[service.Highlight(h.order_id, h.photo, h.caption) for h in data.highlights],
        now=ctx.clock.now(),
    )
    await tx.commit()
    return await _out(tx, ctx, row)


async def _act(tx: AsyncSession, actor: Actor, ctx: AppContext, bulletin_id: uuid.UUID, action) -> dict:
    """Publish, withdraw or renew the link: ``action(session, actor, bulletin, now)`` of the service."""
    row = await service.visible(tx, actor, bulletin_id, lock=True)
    await action(tx, actor, row, ctx.clock.now())
    await tx.commit()
    return await _out(tx, ctx, row)


@post("/{bulletin_id:uuid}/publish", status_code=200)
async def publish(
    bulletin_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    """Freeze the figures and notable repairs and open the public page and image."""
    return await _act(tx, actor, ctx, bulletin_id, service.publish)


@post("/{bulletin_id:uuid}/withdraw", status_code=200)
async def withdraw(
    bulletin_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    """Back to a draft (to correct it); the shared links answer 404 until it is published again."""
    return await _act(tx, actor, ctx, bulletin_id, service.withdraw)


@post("/{bulletin_id:uuid}/new-link", status_code=200)
async def new_link(
    bulletin_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    """Revoke the share link and QR given out so far; answers with the new ones."""
    return await _act(tx, actor, ctx, bulletin_id, service.new_link)


def _images(ctx: AppContext) -> OrderedDict:
    cache = ctx.services.get("bulletin_images")
    if cache is None:
        cache = ctx.services["bulletin_images"] = OrderedDict()
    return cache


async def _png(ctx: AppContext, row: Bulletin, content: dict, url: str) -> bytes:
    """Rendered once per published state and link (a group of hundreds opening it costs one render)."""
    key = (row.id, row.share_key, row.published_at, row.status == "draft" and row.updated_at)
    cache = _images(ctx)
    if key in cache and row.status == "published":
        return cache[key]
    _, derivatives = stores(ctx)

    def photo(sha: str):
        try:
            return derivatives.get(sha, "view").path
        except DomainError:
            return None  # not uploaded (yet): the line shows without its picture

    body = await anyio.to_thread.run_sync(
        lambda: render.image(content, url=url, photo=photo, draft=row.status == "draft")
    )
    if row.status == "published":
        cache[key] = body
        while len(cache) > 64:
            cache.popitem(last=False)
    return body


@get("/{bulletin_id:uuid}/image.png")
async def staff_image(
    bulletin_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    """The PNG for the groups; for a draft, the preview (marked 草稿)."""
    row = await service.visible(db, actor, bulletin_id)
    content = row.published if row.published is not None else await service.public_content(db, row)
    body = await _png(ctx, row, content, _url(ctx, row))
    return Response(body, media_type="image/png", headers=PRIVATE)


staff_router = Router(
    path="/api/bulletins",
    route_handlers=[list_bulletins, open_week, get_bulletin, save_draft, publish, withdraw, new_link, staff_image],
    tags=["bulletins"],
)


# --- the public side ----------------------------------------------------------------------------------------


async def _public(db: AsyncSession, ctx: AppContext, token: str) -> Bulletin | None:
    """The published bulletin a share token opens; None for anything else (one answer: 404)."""
    claimed = bulletin_id_in_token(token)
    row = await db.get(Bulletin, claimed) if claimed else None
    if row is None or row.status != "published" or row.published is None:
        return None
    return row if bulletin_token_valid(ctx.settings.secret, token, row.id, row.share_key) else None


def _not_found() -> Response:
    return Response(
        not_found_page("zh"),
        status_code=404,
        media_type="text/html",
        headers={**PUBLIC_HEADERS, "Content-Security-Policy": NOT_FOUND_CSP},
    )


@get("/w/{token:str}", include_in_schema=False)
async def public_page(
    token: FromPath[str], db: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext]
) -> Response:
    row = await _public(db, ctx, token)
    if row is None:
        return _not_found()
    html = render.page(row.published, url=_url(ctx, row), base=f"/w/{token}")
    return Response(html, media_type="text/html", headers={**PUBLIC_HEADERS, "Content-Security-Policy": PAGE_CSP})


@get("/w/{token:str}/bulletin.png", include_in_schema=False)
async def public_image(
    token: FromPath[str], db: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext]
) -> Response:
    row = await _public(db, ctx, token)
    if row is None:
        return _not_found()
    body = await _png(ctx, row, row.published, _url(ctx, row))
    return Response(body, media_type="image/png", headers=PUBLIC_HEADERS)


@get("/w/{token:str}/photos/{sha:str}/{size:str}", include_in_schema=False)
async def public_photo(
    request: Request,
    token: FromPath[str],
    sha: FromPath[str],
    size: FromPath[str],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    """A derivative (EXIF/GPS stripped) of a photo the published bulletin shows; 404 for any other."""
    row = await _public(db, ctx, token)
    shown = {n.get("photo") for n in (row.published or {}).get("notable", [])} if row else set()
    if row is None or size not in SIZES or sha not in shown:
        return _not_found()
    _, derivatives = stores(ctx)
    try:
        return await derivative_response(request, derivatives, sha, size, cache_control=PHOTO_CACHE)
    except DomainError:
        return _not_found()


public_router = Router(path="/", route_handlers=[public_page, public_image, public_photo])

bulletins_router = Router(path="/", route_handlers=[staff_router, public_router])
