"""A count of the database commits made by this process, for caches that must see their own writes.

Every engine's ``commit`` event bumps it, whatever issued the commit (ORM session, Core connection,
either database). A cache entry remembers the count it was built under and is stale once the count
moved: coarse (any commit invalidates everything) but cheap, and never wrong in the unsafe direction.
Commits by other processes are not seen here; caches bound that staleness with their own TTL.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

_count = 0


def generation() -> int:
    return _count


def _bump(_conn) -> None:
    global _count
    _count += 1


def install() -> None:
    """Listen on every engine (idempotent)."""
    if not event.contains(Engine, "commit", _bump):
        event.listen(Engine, "commit", _bump)


install()
