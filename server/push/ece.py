"""Message encryption for Web Push (RFC 8291 over RFC 8188 ``aes128gcm``, one record).

Written here rather than taken from the ``webpush`` package: its ``get()`` signs a VAPID JWT on
every call (we make our own, once per audience) and validates the subscription with pydantic each
time, which together cost more than the encryption itself. What a subscription fixes — its decoded
P-256 point and auth secret — is parsed once and cached; what RFC 8291 requires to be fresh per
message — the ephemeral ECDH key pair and the 16-byte salt — is drawn for every message (tests
inject both to reproduce the RFC's test vector).
"""

from __future__ import annotations

import base64
import hmac
import os
import struct
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

RECORD_SIZE = 4096
MAX_PLAINTEXT = RECORD_SIZE - 16 - 1  # minus the AEAD tag and the 0x02 padding delimiter


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Recipient:
    """The user agent's side of the key agreement, as its subscription gives it."""

    point: bytes  # uncompressed P-256 point (65 bytes)
    key: ec.EllipticCurvePublicKey
    auth: bytes  # 16-byte auth secret


@lru_cache(maxsize=8192)
def recipient(p256dh: str, auth: str) -> Recipient:
    point = b64u_decode(p256dh)
    return Recipient(point, ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point), b64u_decode(auth))


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt, ikm, "sha256")


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand (RFC 5869, SHA-256) for outputs of one block at most, all that RFC 8291 needs."""
    return hmac.digest(prk, info + b"\x01", "sha256")[:length]


def encrypt(
    plaintext: bytes,
    to: Recipient,
    *,
    ephemeral: ec.EllipticCurvePrivateKey | None = None,
    salt: bytes | None = None,
) -> bytes:
    """The request body: salt ‖ record size ‖ key id (our ephemeral public point) ‖ ciphertext."""
    if len(plaintext) > MAX_PLAINTEXT:
        raise ValueError(f"plaintext of {len(plaintext)} bytes does not fit one {RECORD_SIZE}-byte record")
    ephemeral = ephemeral or ec.generate_private_key(ec.SECP256R1())
    salt = salt or os.urandom(16)
    as_point = ephemeral.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    shared = ephemeral.exchange(ec.ECDH(), to.key)
    ikm = _expand(_extract(to.auth, shared), b"WebPush: info\x00" + to.point + as_point, 32)
    prk = _extract(salt, ikm)
    cek = _expand(prk, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _expand(prk, b"Content-Encoding: nonce\x00", 12)
    ciphertext = AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)
    return salt + struct.pack("!LB", RECORD_SIZE, len(as_point)) + as_point + ciphertext
