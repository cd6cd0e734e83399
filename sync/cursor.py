"""Pull cursors: ``1.<epoch>.<version>``, opaque to devices (PROTOCOL.md §5).

``epoch`` names one server database: it changes when the database is replaced or restored from a
backup, so a cursor from another database can never be mistaken for a position in this one.
``version`` is the server version counter up to which the device holds every change in its scope.
The leading ``1`` is the cursor format, so the format can change without confusing old cursors.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

CURSOR_FORMAT = "1"
MAX_VERSION = 2**63 - 1
_EPOCH = re.compile(r"[A-Za-z0-9_-]{1,32}")
_CURSOR = re.compile(r"1\.([A-Za-z0-9_-]{1,32})\.(0|[1-9][0-9]{0,18})")


@dataclass(frozen=True, slots=True)
class Cursor:
    epoch: str
    version: int

    def __post_init__(self) -> None:
        if not _EPOCH.fullmatch(self.epoch):
            raise ValueError(f"bad epoch {self.epoch!r}: 1-32 characters of [A-Za-z0-9_-]")
        if not 0 <= self.version <= MAX_VERSION:
            raise ValueError(f"version out of range: {self.version}")

    def encode(self) -> str:
        return f"{CURSOR_FORMAT}.{self.epoch}.{self.version}"


def parse(text: str | None, *, epoch: str, horizon: int) -> Cursor | None:
    """The cursor ``text`` names, or None when the device must reset (start again from version 0).

    None for: no cursor, a malformed one, one from another epoch, and one below ``horizon``.
    ``horizon`` is the highest version whose tombstones may have been purged: a device positioned
    below it may have missed a deletion, so only a full pull makes it correct again.
    """
    if text is None:
        return None
    match = _CURSOR.fullmatch(text)
    if match is None or match.group(1) != epoch:
        return None
    version = int(match.group(2))
    if version > MAX_VERSION or version < horizon:
        return None
    return Cursor(epoch, version)


def new_epoch() -> str:
    """A fresh epoch for a new (or restored) database: 12 random hex characters."""
    return secrets.token_hex(6)
