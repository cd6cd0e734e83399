"""A per-process cache of rendered progress pages.

An entry is reused only while the order's stamp (chain length, updated_at, expiry) is unchanged,
none of the photos it showed as "uploading" has arrived since, and it is younger than ``ttl`` (which
bounds staleness of things that do not touch the order: a technician's new phone number). Link
validity (revoked, expired) is checked against the database on every request before the cache.
Each node keeps its own: the stamp is read from the shared database, so a step pushed to another
node invalidates the entry at the next read, and ``ttl`` bounds the rest the same on every node.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.progress.owner import OwnerView


@dataclass
class Snapshot:
    stamp: tuple[Any, ...]
    view: OwnerView
    version: str
    born: float
    pages: dict[str, bytes] = field(default_factory=dict)  # by language, with the notice mark


class PageCache:
    def __init__(self, *, max_entries: int = 4096, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.max_entries = max_entries
        self.ttl = ttl
        self.clock = clock
        self._entries: OrderedDict[uuid.UUID, Snapshot] = OrderedDict()

    def get(self, link_id: uuid.UUID, stamp: tuple[Any, ...]) -> Snapshot | None:
        snap = self._entries.get(link_id)
        if snap is None:
            return None
        if snap.stamp != stamp or self.clock() - snap.born > self.ttl:
            del self._entries[link_id]
            return None
        self._entries.move_to_end(link_id)
        return snap

    def put(self, link_id: uuid.UUID, snap: Snapshot) -> None:
        self._entries[link_id] = snap
        self._entries.move_to_end(link_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def discard(self, link_id: uuid.UUID) -> None:
        self._entries.pop(link_id, None)


@dataclass(slots=True)
class Hot:
    """Everything an owner GET needs for one token, without the database: the link is known to be
    valid until ``expires_at`` (checked against the request's clock) and the snapshot current as of
    ``born`` (this process's monotonic clock) and commit generation ``generation``."""

    snap: Snapshot
    link_id: uuid.UUID
    expires_at: datetime | None
    updated_at: datetime
    born: float
    generation: int


class FreshPages:
    """Micro-cache in front of the database for the owner pages: a token's answer is reused for at
    most ``ttl`` seconds, and not at all once this process has committed anything since (so a write
    made here — a rating, a revocation, a step — is seen by the next request at once). A write made
    by another worker process or another node is seen within ``ttl`` (``WUYE_PROGRESS_FRESH_MS``,
    1 s by default): that is the bounded staleness of a cluster; with one process, never later
    than at once. Nothing here needs sharing between nodes: the database stays the truth.

    Why: an owner's phone polls, and a QR link shared in a building's chat group can be opened by
    dozens at once. One link check plus one order read per request is what limits the page to a few
    hundred requests/s per core; a one-second window turns that into one read per second per token.
    Concurrent misses on one token wait for a single load (no stampede when an entry ages out).
    """

    def __init__(
        self,
        *,
        ttl: float,
        generation: Callable[[], int],
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl = ttl
        self.generation = generation
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, Hot] = OrderedDict()
        self._loading: dict[str, asyncio.Future[Hot | None]] = {}

    def get(self, token: str, now: datetime) -> Hot | None:
        hot = self._entries.get(token)
        if hot is None:
            return None
        if (
            self.clock() - hot.born >= self.ttl
            or hot.generation != self.generation()
            or (hot.expires_at is not None and now >= hot.expires_at)
        ):
            del self._entries[token]
            return None
        return hot

    async def load(self, token: str, now: datetime, build: Callable[[], Awaitable[Hot | None]]) -> Hot | None:
        """The cached answer, else ``build()`` once for all concurrent callers (None is not kept)."""
        hot = self.get(token, now)
        if hot is not None:
            return hot
        pending = self._loading.get(token)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Hot | None] = asyncio.get_running_loop().create_future()
        self._loading[token] = future
        try:
            hot = await build()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else needs to
            raise
        finally:
            self._loading.pop(token, None)
        future.set_result(hot)
        if hot is not None and self.ttl > 0:
            self._entries[token] = hot
            self._entries.move_to_end(token)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return hot

    def stamp(self) -> tuple[float, int]:
        """(born, generation) for a Hot built now: take it *before* reading, so a commit made while
        the read runs makes the entry stale rather than hiding the commit."""
        return self.clock(), self.generation()
