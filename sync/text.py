"""Inbound text carries no control characters except newline and tab.

A NUL byte stored in a note broke exports and PostgreSQL text columns; other C0 controls (and DEL)
have no business in what people type either. :func:`refuse_control_characters` runs from the
``__post_init__`` of the inbound bases (``server.wire.Wire`` for HTTP bodies, :class:`sync.registry.Args`
for mutation args), which msgspec calls after decoding: the ValueError becomes a
``msgspec.ValidationError`` naming the field, i.e. a ``400 validation_error`` over HTTP and a
``validation_error`` rejection in a push. Nested Structs check their own fields the same way.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # C0 controls and DEL, except \t (09) and \n (0a)
MESSAGE = "control characters are not allowed in text (only newline and tab)"


def _has_control(value: object) -> bool:
    if isinstance(value, str):
        return CONTROL.search(value) is not None
    if isinstance(value, (list, tuple)):
        return any(_has_control(v) for v in value)
    if isinstance(value, dict):
        return any(_has_control(k) or _has_control(v) for k, v in value.items())
    return False


def refuse_control_characters(struct) -> None:
    for name in struct.__struct_fields__:
        if _has_control(getattr(struct, name)):
            raise ValueError(f"{name}: {MESSAGE}")
