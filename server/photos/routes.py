"""Staff HTTP API for photos: ``GET /api/photos/{sha}/{size}`` (thin: parse, authorise, call, render).

The phone shows a step's photo from its own IndexedDB when it took it; on any other device (a second
phone, the desk console, a phone whose storage was wiped) the picture comes from here. Derivatives
only (``thumb`` 480 px, ``view`` 1600 px; upright, no EXIF/GPS): the originals stay evidence.
"""

from __future__ import annotations

from litestar import Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.errors import DomainError, NotFound
from server.photos.blobstore import check_sha
from server.photos.serving import derivative_response
from server.photos.viewing import may_view
from server.web.context import AppContext

# Content-addressed, so never stale; private: only the signed-in viewer's own cache may keep it.
STAFF_PHOTO_CACHE = "private, max-age=31536000, immutable"


@get("/{sha:str}/{size:str}")
async def staff_photo(
    request: Request,
    sha: FromPath[str],
    size: FromPath[str],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    check_sha(sha)
    if not await may_view(db, actor, sha):
        raise NotFound("photo")
    try:
        return await derivative_response(
            request, ctx.services["derivatives"], sha, size, cache_control=STAFF_PHOTO_CACHE
        )
    except DomainError as exc:
        if exc.status != 404:
            raise
        # Only said to someone who may see the photo: the step is synced, its photo is still queued
        # on the phone that took it.
        raise DomainError("photo_pending", "the photo has not been uploaded yet", status=404) from None


photos_router = Router(path="/api/photos", route_handlers=[staff_photo], tags=["photos"])
