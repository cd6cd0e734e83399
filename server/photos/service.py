"""Photos arriving: the bytes go to the blob store; a verified arrival is recorded as a ``Blob`` row
and announced to every device that replicates a step, checkpoint visit or finding referencing it (its
"uploading" badge clears)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.orders.access import audiences
from server.orders.models import Order, Step
from server.photos.blobstore import BlobInfo, BlobStore
from server.photos.models import Blob, photo_refs
from server.syncing import changelog

# Built once: every arriving photo runs it.
_STEPS_WITH_PHOTO = (
    select(Step.id, Order).join(Order, Order.id == Step.order_id).where(Step.id.in_(photo_refs("steps")))
)


async def record_arrival(session: AsyncSession, info: BlobInfo, now: datetime) -> Blob:
    blob = await session.get(Blob, info.sha256)
    if blob is not None:
        return blob
    blob = Blob(
        sha256=info.sha256,
        size=info.size,
        width=info.width,
        height=info.height,
        content_type=info.content_type,
        created_at=now,
    )
    session.add(blob)
    await session.flush()
    rows = (await session.execute(_STEPS_WITH_PHOTO, {"sha": info.sha256})).all()
    for step_id, order in rows:
        await changelog.record(session, "steps", [step_id], audiences(order))
    from server.walks.service import photo_arrived  # walk visits and findings reference photos too

    await photo_arrived(session, info.sha256)
    return blob


def photo_checker(store: BlobStore):
    """For the evidence check: True/False for a stored photo's integrity, None if not uploaded yet."""

    def check(sha: str) -> bool | None:
        if not store.status(sha).complete:
            return None
        return store.verify(sha)

    return check
