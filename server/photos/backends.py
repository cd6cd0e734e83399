"""Choosing the blob backend from the settings: the local disk, or S3-compatible object storage."""

from __future__ import annotations

from server.config import Settings
from server.photos.blobstore import BlobStore
from server.photos.derivatives import Derivatives
from server.photos.s3blobs import S3BlobStore

Blobs = BlobStore | S3BlobStore

#: An upload nobody has added a chunk to for this long is dropped (the phone was reset, or the
#: photo was given up on); a phone that does come back starts that photo again at offset 0.
PARTIAL_MAX_AGE_S = 7 * 24 * 3600.0


def open_blobs(settings: Settings) -> tuple[Blobs, Derivatives]:
    if settings.blobs is None:
        store = BlobStore(settings.data_dir / "photos")
        return store, Derivatives(store, settings.data_dir / "derived")
    s3 = S3BlobStore(settings.blobs)
    return s3, Derivatives(s3)
