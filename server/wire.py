"""The one base for every msgspec Struct that crosses a boundary (HTTP, sync, push payloads).

Inbound Structs forbid unknown fields so that a typo in a client is a 400, not silently ignored data,
and refuse control characters other than newline and tab in every text field (:mod:`sync.text`).
"""

from __future__ import annotations

import msgspec

from sync.text import refuse_control_characters


class Wire(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base for request bodies: keyword-only, snake_case, unknown fields and control characters refused."""

    def __post_init__(self) -> None:
        refuse_control_characters(self)


class Out(msgspec.Struct, kw_only=True, omit_defaults=False):
    """Base for response bodies the server renders (unknown-field checks are irrelevant outbound)."""
