"""The server's mutation registry: the single list of what a phone may do. Each domain registers its
intents in ``server/<domain>/mutations.py``; :func:`load` imports them all once.

Handlers receive a :class:`MutationContext` and their args Struct. They call the same domain
services as the HTTP routes, so a rule holds whichever way a change arrives. A ``DomainError`` is a
permanent rejection (shown on the phone, seq advances); anything else is transient (batch retried).

A handler marked :func:`batched` writes through ``ctx.batch`` (see :mod:`server.syncing.batch`) and
must raise its refusals before it writes anything. Every other handler is wrapped so that the
batch's pending rows are written before it runs and its caches dropped after: it sees the database
as if each earlier mutation had written directly, and it may change what the caches hold.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.errors import DomainError
from server.syncing.batch import PushBatch
from sync.engine import current_mutation
from sync.registry import Handler, Prepare, Registry


def batched(handler: Handler) -> Handler:
    """Mark a handler as batch-aware (it writes through ``ctx.batch``)."""
    handler.batched = True
    return handler


def _unbatched(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def run(ctx: MutationContext, args: Any) -> object:
        await ctx.batch.flush()
        try:
            return await handler(ctx, args)
        finally:
            ctx.batch.forget()

    return run


class ServerRegistry(Registry):
    def register(self, name: str, args_type: type, handler: Handler, *, prepare: Prepare | None = None) -> None:
        if not getattr(handler, "batched", False):
            handler = _unbatched(handler)
        super().register(name, args_type, handler, prepare=prepare)


registry = ServerRegistry(permanent_errors=(DomainError,))

DOMAIN_MUTATIONS = ("server.orders.mutations", "server.notifications.mutations", "server.walks.mutations")


@dataclass
class MutationContext:
    session: AsyncSession
    actor: Actor
    now: datetime  # server time of the batch

    @property
    def batch(self) -> PushBatch:
        return PushBatch.of(self.session)

    @property
    def client_time(self) -> datetime:
        return current_mutation().client_time

    @property
    def clock_offset_ms(self) -> int:
        return current_mutation().clock_offset_ms


_loaded = False


def load() -> Registry:
    """Import every domain's mutations module (each registers on import). Idempotent."""
    global _loaded
    if not _loaded:
        for module in DOMAIN_MUTATIONS:
            importlib.import_module(module)
        _loaded = True
    return registry
