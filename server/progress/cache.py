"""A per-process cache of rendered progress pages.

An entry is reused only while the order's stamp (chain length, updated_at, expiry) is unchanged,
none of the photos it showed as "uploading" has arrived since, and it is younger than ``ttl`` (which
bounds staleness of things that do not touch the order: a technician's new phone number). Link
validity (revoked, expired) is checked against the database on every request before the cache.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
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
