"""Sending one Web Push message (RFC 8030/8291/8292). The ``webpush`` package encrypts (aes128gcm);
it does not send, so this module posts with httpx and sets TTL, Urgency and Topic itself. The
package brings pydantic; it stays behind this module.

Traps handled here (see STACK.md): the package's default TTL is 0 and per-call settings stick to the
instance, so one instance per TTL is built with everything in the constructor; it encrypts a single
4096-byte record without a size check, so payloads are capped well below; its VAPID ``aud`` drops
the port, so the JWT is made here with the full origin.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
import jwt
from webpush import WebPush
from webpush.types import WebPushSubscription

from server.push.vapid import VapidKeys

MAX_PAYLOAD = 3000  # bytes of plaintext; one record holds 3,993 at most
JWT_LIFETIME = 12 * 3600  # RFC 8292: at most 24 h
JWT_REUSE = 3600  # a token is reused for an hour per audience (signing is not free at 1,000 msg/s)


class Urgency(enum.StrEnum):
    very_low = "very-low"
    low = "low"
    normal = "normal"
    high = "high"


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class Outcome:
    kind: str  # delivered | retry | gone | failed
    status: int | None
    retry_after: float | None
    detail: str


def topic_for(key: str) -> str:
    """A valid Topic (≤ 32 URL-safe base64 characters) standing for any string."""
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()[:24]).decode().rstrip("=")[:32]


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def classify(status: int, retry_after: str | None) -> Outcome:
    if 200 <= status < 300:
        return Outcome("delivered", status, None, "")
    if status in (404, 410):
        return Outcome("gone", status, None, f"HTTP {status}: subscription expired or removed")
    if status == 429 or status >= 500:
        return Outcome("retry", status, parse_retry_after(retry_after), f"HTTP {status}")
    return Outcome("failed", status, None, f"HTTP {status}")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class PushSender:
    def __init__(
        self, keys: VapidKeys, *, contact: str, client: httpx.AsyncClient, ttl: int = 24 * 3600, timeout: float = 10.0
    ):
        self.keys = keys
        self.contact = contact.removeprefix("mailto:")
        self.client = client
        self.ttl = ttl
        self.timeout = timeout
        self._instances: dict[int, WebPush] = {}
        self._jwts: dict[str, tuple[str, float]] = {}

    def _instance(self, ttl: int) -> WebPush:
        if ttl not in self._instances:
            self._instances[ttl] = WebPush(
                private_key=self.keys.private_pem,
                public_key=self.keys.public_pem,
                subscriber=self.contact,
                ttl=ttl,
                expiration=JWT_LIFETIME,
            )
        return self._instances[ttl]

    def authorization(self, endpoint: str) -> str:
        aud = origin(endpoint)
        token, made = self._jwts.get(aud, ("", 0.0))
        now = time.time()
        if now - made > JWT_REUSE:
            token = jwt.encode(
                {"aud": aud, "exp": int(now) + JWT_LIFETIME, "sub": f"mailto:{self.contact}"},
                self.keys.private_pem,
                algorithm="ES256",
            )
            self._jwts[aud] = (token, now)
        return f"vapid t={token}, k={self.keys.application_server_key}"

    def encrypt(self, sub: Subscription, payload: bytes, ttl: int) -> tuple[bytes, dict[str, str]]:
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"push payload is {len(payload)} bytes; at most {MAX_PAYLOAD}")
        subscription = WebPushSubscription.model_validate(
            {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
        )
        message = self._instance(ttl).get(message=payload, subscription=subscription)
        headers = {
            "ttl": str(ttl),
            "content-encoding": "aes128gcm",
            "content-type": "application/octet-stream",
            "authorization": self.authorization(sub.endpoint),
        }
        return message.encrypted, headers

    async def send(
        self,
        sub: Subscription,
        payload: bytes,
        *,
        urgency: Urgency = Urgency.normal,
        topic: str | None = None,
        ttl: int | None = None,
    ) -> Outcome:
        body, headers = self.encrypt(sub, payload, self.ttl if ttl is None else ttl)
        headers["urgency"] = urgency.value
        if topic:
            headers["topic"] = topic
        try:
            r = await self.client.post(sub.endpoint, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            return Outcome("retry", None, None, f"{type(exc).__name__}: {exc}")
        return classify(r.status_code, r.headers.get("retry-after"))
