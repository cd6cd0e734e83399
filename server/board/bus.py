"""A small in-process publish/subscribe bus: one per app, many subscribers (open board streams).

Publishing never blocks and never fails: a subscriber that does not keep up loses messages and is
told so with one ``{"type": "resync"}`` (its board reloads in full instead of drifting). A message
published from another thread or event loop is handed over with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

RESYNC: dict[str, Any] = {"type": "resync"}


class Subscription:
    def __init__(self, maxsize: int):
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize)
        self._overflowed = False

    def offer(self, message: dict[str, Any]) -> None:
        if self._overflowed:
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self._overflowed = True

    async def next(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message, or None when ``timeout`` seconds pass without one."""
        if self._overflowed and self._queue.empty():
            self._overflowed = False
            return RESYNC
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            pass
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None


class Bus:
    def __init__(self, *, maxsize: int = 1000):
        self._subscriptions: set[Subscription] = set()
        self._maxsize = maxsize

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def subscribe(self) -> Subscription:
        sub = Subscription(self._maxsize)
        self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    def publish(self, message: dict[str, Any]) -> None:
        here = threading.get_ident()
        for sub in list(self._subscriptions):
            if sub.thread == here:
                sub.offer(message)
            elif not sub.loop.is_closed():
                sub.loop.call_soon_threadsafe(sub.offer, message)
