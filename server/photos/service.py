"""Photos arriving: the bytes go to the blob store; a verified arrival is recorded as a ``Blob`` row
and announced to every device that replicates a step, checkpoint visit or finding referencing it (its
"uploading" badge clears)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.bulk import insert_rows
from server.orders.access import audiences
from server.orders.models import Order, Status, Step
from server.photos.blobstore import BlobInfo, BlobStore
from server.photos.models import Blob, photo_refs_any
from server.syncing import changelog

# Built once: every arriving photo runs them. Core statements and rows: recording an arrival through
# the ORM (a get, an add and a flush per photo, entities for the orders) was about a third of the
# event loop's work per photo in the upload benchmark.
_KNOWN = select(Blob.sha256).where(Blob.sha256.in_(bindparam("shas", expanding=True)))
_STEPS_WITH_PHOTOS = (
    select(Step.id, Order.estate_id, Order.grid_id, Order.assignee_id, Order.status, Order.department)
    .join(Order, Order.id == Step.order_id)
    .where(Step.id.in_(photo_refs_any("steps")))
)


async def record_arrivals(session: AsyncSession, infos: Sequence[BlobInfo], now: datetime) -> list[str]:
    """Record verified photos (each a no-op if already recorded) and announce each new one to the
    devices replicating what references it. Returns the hashes recorded now."""
    fresh = {info.sha256: info for info in infos}
    if not fresh:
        return []
    connection = await session.connection()
    for (sha,) in await connection.execute(_KNOWN, {"shas": list(fresh)}):
        del fresh[sha]
    if not fresh:
        return []
    await insert_rows(
        session,
        Blob.__table__,
        [
            {
                "sha256": i.sha256,
                "size": i.size,
                "width": i.width,
                "height": i.height,
                "content_type": i.content_type,
                "created_at": now,
            }
            for i in fresh.values()
        ],
    )
    shas = list(fresh)
    for step_id, *order in await connection.execute(_STEPS_WITH_PHOTOS, {"shas": shas}):
        await changelog.record(session, "steps", [step_id], audiences(_OrderAudience(*order)))
    from server.walks.service import photos_arrived  # walk visits and findings reference photos too

    await photos_arrived(session, shas)
    return shas


async def record_arrival(session: AsyncSession, info: BlobInfo, now: datetime) -> None:
    await record_arrivals(session, [info], now)


class _OrderAudience(NamedTuple):
    """The columns of an order that :func:`server.orders.access.audiences` reads."""

    estate_id: uuid.UUID
    grid_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    status: Status
    department: str


def photo_checker(store: BlobStore):
    """For the evidence check: True/False for a stored photo's integrity, None if not uploaded yet."""

    def check(sha: str) -> bool | None:
        if not store.status(sha).complete:
            return None
        return store.verify(sha)

    return check
