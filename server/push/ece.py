"""Message encryption for Web Push (RFC 8291 over RFC 8188 ``aes128gcm``, one record), done by the
``webpush`` package and kept behind this module so its pydantic types stay here.

``WebPush.get()`` draws a fresh ephemeral key pair and salt for every message, as RFC 8291 requires
(tests patch ``webpush.os.urandom`` and ``webpush.ec.generate_private_key`` to reproduce the RFC's
test vector). It also signs a VAPID JWT on each call, which we do not use: its ``aud`` drops the
port of the push service's origin, so :mod:`server.push.delivery` signs its own (and reuses it per
audience). What a subscription fixes — its validated form — is built once per subscription.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec
from webpush import WebPush
from webpush.types import WebPushSubscription

from server.push.vapid import VapidKeys

RECORD_SIZE = 4096  # what webpush writes: one record
MAX_PLAINTEXT = RECORD_SIZE - 16 - 1  # minus the AEAD tag and the 0x02 padding delimiter


@lru_cache(maxsize=16384)
def subscription(endpoint: str, p256dh: str, auth: str) -> WebPushSubscription:
    """The package's form of a subscription; unusable keys are a ValueError here, before sending."""
    sub = WebPushSubscription.model_validate({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})
    point = _b64u(p256dh)
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)  # ValueError if not a P-256 point
    if len(_b64u(auth)) != 16:
        raise ValueError("the subscription's auth secret must be 16 bytes")
    return sub


def _b64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Encryptor:
    """One ``WebPush`` instance, configured once (per-call settings would stick to it)."""

    def __init__(self, keys: VapidKeys, contact: str):
        self._webpush = WebPush(private_key=keys.private_pem, public_key=keys.public_pem, subscriber=contact, ttl=60)

    def encrypt(self, plaintext: bytes, sub: WebPushSubscription) -> bytes:
        if len(plaintext) > MAX_PLAINTEXT:
            raise ValueError(f"plaintext of {len(plaintext)} bytes does not fit one {RECORD_SIZE}-byte record")
        return self._webpush.get(message=plaintext, subscription=sub).encrypted
