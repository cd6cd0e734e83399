"""Owner page assembly: the cached snapshot of an order's owner view and its HTML per language."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from server.progress import owner
from server.progress.cache import PageCache, Snapshot
from server.progress.links import Resolved
from server.progress.page import NOTICE_MARK, progress_page, view_version


def stamp(resolved: Resolved) -> tuple:
    o = resolved.order
    return (o.chain_length, o.updated_at, o.status, o.assignee_id, o.eta, resolved.expires_at)


async def snapshot(session: AsyncSession, cache: PageCache, resolved: Resolved) -> Snapshot:
    """The owner view of the order, from the cache while it is current, else built again."""
    key = stamp(resolved)
    snap = cache.get(resolved.link.id, key)
    if snap is not None and not await owner.arrived_since(session, snap.view.pending):
        return snap
    view = await owner.build(session, resolved.order, expires_at=resolved.expires_at)
    snap = Snapshot(stamp=key, view=view, version=view_version(view), born=cache.clock())
    cache.put(resolved.link.id, snap)
    return snap


def page_bytes(snap: Snapshot, *, token: str, lang: str, notice: str = "") -> bytes:
    html = snap.pages.get(lang)
    if html is None:
        html = snap.pages[lang] = progress_page(snap.view, token=token, lang=lang).encode()
    if notice:
        return html.replace(NOTICE_MARK.encode(), notice.encode(), 1)
    return html
