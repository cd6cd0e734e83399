"""The one base for every msgspec Struct that crosses a boundary (HTTP, sync, push payloads).

Inbound Structs forbid unknown fields so that a typo in a client is a 400, not silently ignored data.
"""

from __future__ import annotations

import msgspec


class Wire(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base for request and response bodies: keyword-only, snake_case, unknown fields refused."""


class Out(msgspec.Struct, kw_only=True, omit_defaults=False):
    """Base for response bodies the server renders (unknown-field checks are irrelevant outbound)."""
