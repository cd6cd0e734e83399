"""Tokens for owner links, derived from the server secret so that nothing secret is stored.

Progress link: ``token = b64url(HMAC-SHA256(secret, "progress-link" | order id | link id)[:24])``,
192 bits, 32 characters. Only ``sha256(token)`` is stored; the staff endpoints can re-render the QR
at any time by deriving the token again from the link row. Rotating a link makes a new row (new
id, new token); revoking marks the row. If the secret changes, every derived token changes: stored
hashes no longer match what can be re-derived, and the staff API then asks for a new link
(``link_secret_changed``) while the printed QR keeps working until it is revoked.

Grid report link: ``b64url(grid id (16 bytes) | HMAC-SHA256(secret, "grid-report" | grid id
[| poster key])[:12])``, 38 characters. Derived, so a poster can be re-printed any time; forging one
for another grid needs the secret (96-bit tag, behind the report form's rate limits). The grid's
``poster_key`` (empty until first rotated, which keeps the posters printed before keys existed)
is rotated by a supervisor when a poster leaks: every token of the old key then stops verifying.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import uuid

PROGRESS_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")
GRID_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{38}")
_GRID_TAG_BYTES = 12


def _mac(secret: str, *parts: bytes) -> bytes:
    return hmac.new(secret.encode(), b"\x00".join(parts), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def progress_token(secret: str, order_id: uuid.UUID, link_id: uuid.UUID) -> str:
    return _b64(_mac(secret, b"progress-link", order_id.bytes, link_id.bytes)[:24])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _grid_tag(secret: str, grid_id: uuid.UUID, key: str) -> bytes:
    parts = (b"grid-report", grid_id.bytes, key.encode()) if key else (b"grid-report", grid_id.bytes)
    return _mac(secret, *parts)[:_GRID_TAG_BYTES]


def grid_token(secret: str, grid_id: uuid.UUID, key: str = "") -> str:
    return _b64(grid_id.bytes + _grid_tag(secret, grid_id, key))


def new_poster_key() -> str:
    return secrets.token_urlsafe(24)  # 32 characters


def grid_id_in_token(token: str) -> uuid.UUID | None:
    """The grid a well-formed poster token claims (its tag is checked by :func:`grid_from_token`)."""
    raw = _grid_raw(token)
    return uuid.UUID(bytes=raw[:16]) if raw else None


def _grid_raw(token: str) -> bytes | None:
    if not GRID_TOKEN_RE.fullmatch(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    # Base64 leaves spare bits in the last character: several spellings decode to the same bytes.
    # Only the canonical one is the printed token; the others are forgeries of a kind.
    if len(raw) != 16 + _GRID_TAG_BYTES or _b64(raw) != token:
        return None
    return raw


def grid_from_token(secret: str, token: str, key: str = "") -> uuid.UUID | None:
    """The grid a poster token names, or None if it is malformed or its tag does not verify with the
    grid's current ``key``."""
    raw = _grid_raw(token)
    if raw is None:
        return None
    grid_id = uuid.UUID(bytes=raw[:16])
    return grid_id if hmac.compare_digest(raw[16:], _grid_tag(secret, grid_id, key)) else None


# Bulletin share link (server/bulletins): the same shape as a grid token, under its own label, with
# the bulletin's ``share_key`` always mixed in (a new key revokes every link shared before).
def bulletin_token(secret: str, bulletin_id: uuid.UUID, key: str) -> str:
    return _b64(bulletin_id.bytes + _mac(secret, b"bulletin", bulletin_id.bytes, key.encode())[:_GRID_TAG_BYTES])


def bulletin_id_in_token(token: str) -> uuid.UUID | None:
    """The bulletin a well-formed token claims; check it with :func:`bulletin_token_valid`."""
    raw = _grid_raw(token)
    return uuid.UUID(bytes=raw[:16]) if raw else None


def bulletin_token_valid(secret: str, token: str, bulletin_id: uuid.UUID, key: str) -> bool:
    return hmac.compare_digest(token, bulletin_token(secret, bulletin_id, key))
