"""Pull cursors: ``1.<epoch>.<version>``, opaque to devices (PROTOCOL.md §5).

``epoch`` names one server database: it changes when the database is replaced or restored from a
backup, so a cursor from another database can never be mistaken for a position in this one.
``version`` is the server version counter up to which the device holds every change in its scope.
The leading ``1`` is the cursor format, so the format can change without confusing old cursors.

A cursor issued to a signed-in account ends in ``.<owner>``: :func:`owner_tag` of the epoch and the
account, 12 hex digits. A pull by another account with it is a reset (PROTOCOL.md §5): the device
holds a replica of someone else's scope, which a delta from there would never correct.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

CURSOR_FORMAT = "1"
MAX_VERSION = 2**63 - 1
_EPOCH = re.compile(r"[A-Za-z0-9_-]{1,32}")
_CURSOR = re.compile(r"1\.([A-Za-z0-9_-]{1,32})\.(0|[1-9][0-9]{0,18})(?:\.([0-9a-f]{12}))?")
_OWNER = re.compile(r"[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class Cursor:
    epoch: str
    version: int
    owner: str = ""  # owner_tag of the account it was issued to; "" for an engine without accounts

    def __post_init__(self) -> None:
        if not _EPOCH.fullmatch(self.epoch):
            raise ValueError(f"bad epoch {self.epoch!r}: 1-32 characters of [A-Za-z0-9_-]")
        if not 0 <= self.version <= MAX_VERSION:
            raise ValueError(f"version out of range: {self.version}")
        if self.owner and not _OWNER.fullmatch(self.owner):
            raise ValueError(f"bad owner tag {self.owner!r}: 12 lower-case hex digits")

    def encode(self) -> str:
        text = f"{CURSOR_FORMAT}.{self.epoch}.{self.version}"
        return f"{text}.{self.owner}" if self.owner else text


def owner_tag(epoch: str, account: str | None) -> str:
    """The ``owner`` part of a cursor issued to ``account`` (no account: "")."""
    if not account:
        return ""
    return hashlib.sha256(f"{epoch}:{account}".encode()).hexdigest()[:12]


def parse(text: str | None, *, epoch: str, horizon: int, owner: str = "") -> Cursor | None:
    """The cursor ``text`` names, or None when the device must reset (start again from version 0).

    None for: no cursor, a malformed one, one from another epoch, one issued to another account
    than ``owner`` names (see :func:`owner_tag`), and one below ``horizon``.
    ``horizon`` is the highest version whose tombstones may have been purged: a device positioned
    below it may have missed a deletion, so only a full pull makes it correct again.
    """
    if text is None:
        return None
    match = _CURSOR.fullmatch(text)
    if match is None or match.group(1) != epoch or (match.group(3) or "") != owner:
        return None
    version = int(match.group(2))
    if version > MAX_VERSION or version < horizon:
        return None
    return Cursor(epoch, version, owner)


def new_epoch() -> str:
    """A fresh epoch for a new (or restored) database: 12 random hex characters."""
    return secrets.token_hex(6)
