"""Owner-safe photos for the progress page: only derivatives (no EXIF/GPS), only of this order."""

from __future__ import annotations

from server.photos.backends import Blobs, open_blobs
from server.photos.derivatives import Derivatives
from server.web.context import AppContext


def stores(ctx: AppContext) -> tuple[Blobs, Derivatives]:
    """The app's blob store and derivatives, created on first use if the app did not register them.

    The lead will move creation into ``create_app``; until then this keeps one pair per app.
    """
    if "blobs" not in ctx.services or "derivatives" not in ctx.services:
        ctx.services["blobs"], ctx.services["derivatives"] = open_blobs(ctx.settings)
    return ctx.services["blobs"], ctx.services["derivatives"]
