"""The server's mutation registry: the single list of what a phone may do. Each domain registers its
intents in ``server/<domain>/mutations.py``; :func:`load` imports them all once.

Handlers receive a :class:`MutationContext` and their args Struct. They call the same domain
services as the HTTP routes, so a rule holds whichever way a change arrives. A ``DomainError`` is a
permanent rejection (shown on the phone, seq advances); anything else is transient (batch retried).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.errors import DomainError
from sync.engine import current_mutation
from sync.registry import Registry

registry = Registry(permanent_errors=(DomainError,))

DOMAIN_MUTATIONS = ("server.orders.mutations", "server.notifications.mutations", "server.walks.mutations")


@dataclass
class MutationContext:
    session: AsyncSession
    actor: Actor
    now: datetime  # server time of the batch

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
