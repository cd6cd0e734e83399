"""Owner-safe photos for the progress page: only derivatives (no EXIF/GPS), only of this order."""

from __future__ import annotations

from server.photos.blobstore import BlobStore
from server.photos.derivatives import Derivatives
from server.web.context import AppContext


def stores(ctx: AppContext) -> tuple[BlobStore, Derivatives]:
    """The app's blob store and derivatives, created on first use if the app did not register them.

    The lead will move creation into ``create_app``; until then this keeps one pair per app.
    """
    blobs = ctx.services.get("blobs")
    if blobs is None:
        blobs = ctx.services["blobs"] = BlobStore(ctx.settings.data_dir / "photos")
    derivatives = ctx.services.get("derivatives")
    if derivatives is None:
        derivatives = ctx.services["derivatives"] = Derivatives(blobs, ctx.settings.data_dir / "derived")
    return blobs, derivatives
