"""The long-lived objects one app instance holds (no module-level state: see create_app)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.clock import Clock
from server.config import Settings
from server.db.engine import Database


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock
    # Domain services that need process-wide state register here (blob store, push sender, ...).
    services: dict[str, Any] = field(default_factory=dict)
