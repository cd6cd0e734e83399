"""Sending one Web Push message (RFC 8030/8291/8292): encrypt (``ece``, the ``webpush`` package),
sign (VAPID), POST (``transport``, httpx), classify the answer. TTL, Urgency and Topic are set here.

Payloads are capped well below what one 4096-byte record holds. The VAPID JWT is made here with the
full origin as ``aud`` (port included) and reused for an hour per audience.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache, partial
from urllib.parse import urlsplit

import jwt

from server.push import ece
from server.push.transport import PushTransport, TransportError
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
    answer: str = ""  # a provider's own code and message (SMS, WeCom), verbatim
    reason: str = ""  # what staff are shown, in Chinese


@lru_cache(maxsize=4096)
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


@lru_cache(maxsize=16384)  # one endpoint per device: parsed once, not once per message
def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class PushSender:
    """Encrypts (``ece``), signs (VAPID) and posts (``transport``)."""

    def __init__(
        self,
        keys: VapidKeys,
        *,
        contact: str,
        transport: PushTransport | None = None,
        ttl: int = 24 * 3600,
        timeout: float = 10.0,
    ):
        self.keys = keys
        self.contact = contact.removeprefix("mailto:")
        self.transport = transport or PushTransport()
        self.ttl = ttl
        self.timeout = timeout
        self._jwts: dict[str, tuple[str, float]] = {}
        self._encryptor = ece.Encryptor(keys, self.contact)

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

    def prepare(self, sub: Subscription, payload: bytes, ttl: int) -> tuple[Callable[[], bytes], dict[str, str]]:
        """Checks and headers now; the encryption as a function, to run when the message goes out.
        A payload over the cap or unusable subscription keys are a ValueError."""
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"push payload is {len(payload)} bytes; at most {MAX_PAYLOAD}")
        to = ece.subscription(sub.endpoint, sub.p256dh, sub.auth)
        headers = {
            "ttl": str(ttl),
            "content-encoding": "aes128gcm",
            "content-type": "application/octet-stream",
            "authorization": self.authorization(sub.endpoint),
        }
        return partial(self._encryptor.encrypt, payload, to), headers

    def encrypt(self, sub: Subscription, payload: bytes, ttl: int) -> tuple[bytes, dict[str, str]]:
        make, headers = self.prepare(sub, payload, ttl)
        return make(), headers

    async def send(
        self,
        sub: Subscription,
        payload: bytes,
        *,
        urgency: Urgency = Urgency.normal,
        topic: str | None = None,
        ttl: int | None = None,
        start_by: float | None = None,
    ) -> Outcome:
        """``start_by``: see ``PushTransport.post``; a message not started by then is a retry."""
        body, headers = self.prepare(sub, payload, self.ttl if ttl is None else ttl)
        headers["urgency"] = urgency.value
        if topic:
            headers["topic"] = topic
        try:
            reply = await self.transport.post(sub.endpoint, headers, body, timeout=self.timeout, start_by=start_by)
        except TransportError as exc:
            return Outcome("retry", None, None, str(exc))
        return classify(reply.status, reply.headers.get("retry-after"))

    async def aclose(self) -> None:
        await self.transport.aclose()
