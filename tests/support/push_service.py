"""A real local Web Push service for tests: an HTTP server on 127.0.0.1 that hands out subscriptions
with genuine P-256 user-agent keys, verifies every message's VAPID JWT (ES256 signature with the key
in ``k=``, ``aud`` = this origin, ``exp`` in the future and at most 24 h ahead, ``sub`` a mailto: or
https: contact), requires a TTL header, and decrypts the aes128gcm body with the subscriber's private
key — as a browser vendor's push service and the browser together would."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    plaintext: bytes
    headers: dict[str, str]
    claims: dict


@dataclass
class Endpoint:
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    gone: bool = False
    attempts: int = 0
    attempt_times: list[float] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


class LocalPushService:
    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.delay = 0.0  # seconds each answer is held back (threaded server only), so senders overlap
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests this service was handling at one time

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalPushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real push service

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                status, headers = service.handle(
                    self.path, dict(self.headers.items()), self.rfile.read(int(self.headers.get("content-length", 0)))
                )
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", "0")
                self.end_headers()

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # the default backlog of 5 resets bursts of concurrent senders

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    # --- test API ------------------------------------------------------------------------------------

    def new_subscription(self) -> dict:
        key = ec.generate_private_key(ec.SECP256R1())
        point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        ident = uuid.uuid4().hex
        self.endpoints[ident] = Endpoint(private_key=key, auth_secret=os.urandom(16))
        return {
            "endpoint": f"{self.origin}/push/{ident}",
            "keys": {"p256dh": b64u(point), "auth": b64u(self.endpoints[ident].auth_secret)},
        }

    def _ep(self, endpoint: str) -> Endpoint:
        return self.endpoints[endpoint.rsplit("/", 1)[1]]

    def script(self, endpoint: str, answers: list[tuple[int, dict[str, str]]]) -> None:
        self._ep(endpoint).script.extend(answers)

    def make_gone(self, endpoint: str) -> None:
        self._ep(endpoint).gone = True

    def received(self, endpoint: str) -> list[Received]:
        return list(self._ep(endpoint).received)

    def attempts(self, endpoint: str) -> int:
        return self._ep(endpoint).attempts

    def attempt_times(self, endpoint: str) -> list[float]:
        return list(self._ep(endpoint).attempt_times)

    def rejected(self) -> list[str]:
        return [r for ep in self.endpoints.values() for r in ep.rejected]

    # --- the service --------------------------------------------------------------------------------

    def _verify(self, headers: dict[str, str]) -> dict:
        auth = headers.get("authorization") or headers.get("Authorization") or ""
        if not auth.startswith("vapid "):
            raise ValueError("no VAPID authorization")
        parts = dict(p.strip().split("=", 1) for p in auth[6:].split(","))
        point = b64u_decode(parts["k"])
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        claims = jwt.decode(parts["t"], public, algorithms=["ES256"], audience=self.origin)
        now = time.time()
        if not now < claims["exp"] <= now + 24 * 3600 + 5:
            raise ValueError(f"exp out of range: {claims['exp'] - now:.0f} s ahead")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError("sub must be a mailto: or https: contact")
        if "ttl" not in {k.lower() for k in headers}:
            raise ValueError("TTL header missing")
        return claims

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            return self._answer(path, headers, body)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        ident = path.rsplit("/", 1)[1]
        ep = self.endpoints.get(ident)
        if ep is None:
            return 404, {}
        with self.lock:
            ep.attempts += 1
            ep.attempt_times.append(time.monotonic())
            if ep.gone:
                return 410, {}
            if ep.script:
                status, extra = ep.script.pop(0)
                if status >= 300:
                    return status, extra
        try:
            claims = self._verify(headers)
            plaintext = http_ece.decrypt(
                body, private_key=ep.private_key, auth_secret=ep.auth_secret, version="aes128gcm"
            )
        except Exception as exc:  # noqa: BLE001 - any failure is a rejected message, recorded for the test
            ep.rejected.append(f"{type(exc).__name__}: {exc}")
            return 400, {}
        lowered = {k.lower(): v for k, v in headers.items()}
        with self.lock:
            ep.received.append(Received(plaintext=plaintext, headers=lowered, claims=claims))
        return 201, {}

    def messages(self, endpoint: str) -> list[dict]:
        return [json.loads(r.plaintext) for r in self.received(endpoint)]


def asgi_app(svc: LocalPushService):
    """The same service as an ASGI app (uvicorn parses HTTP far faster than http.server)."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        status, extra = svc.handle(scope["path"], headers, body)
        # An explicit length keeps the answer in one segment: without it uvicorn sends a chunked
        # head and its terminating chunk apart, and Nagle plus delayed ACK add ~40 ms per request.
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-length", b"0"), *((k.encode(), v.encode()) for k, v in extra.items())],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    return app


def serve_forever_in_process() -> None:
    """``python -m tests.support.push_service N``: the service in its own process, under uvicorn, for
    benchmarks. Prints one JSON line with N subscriptions; answers "stats" on stdin with counts and
    the CPU seconds this process has used (a benchmark takes differences, to show the service's own
    cost apart from the sender's)."""
    import socket
    import sys

    import uvicorn

    svc = LocalPushService()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    svc.server = type("Addr", (), {"server_address": ("127.0.0.1", port)})()
    subs = [svc.new_subscription() for _ in range(int(sys.argv[1]))]
    server = uvicorn.Server(uvicorn.Config(asgi_app(svc), log_level="warning", access_log=False))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    print(json.dumps(subs), flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            received = sum(len(ep.received) for ep in svc.endpoints.values())
            stats = {"received": received, "rejected": len(svc.rejected()), "cpu": time.process_time()}
            print(json.dumps(stats), flush=True)
    server.should_exit = True


if __name__ == "__main__":
    serve_forever_in_process()
