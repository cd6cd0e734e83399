"""SSRF: push endpoints and webhooks may only point at public addresses (after DNS resolution, at
registration and again on every connection the sender opens), over https, push endpoints only at
known push services, and no redirect is followed. The development allowance is off by default."""

from __future__ import annotations

import ipaddress
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import select

from server import outbound as outbound_module
from server.config import ConfigError, Settings
from server.outbound import DEFAULT_PUSH_HOSTS, Outbound, RefusedDestination, is_public
from server.push import outbox
from server.push.delivery import PushSender
from server.push.models import Delivery
from server.push.sender import send_due, send_webhook
from server.push.transport import PushTransport
from server.push.vapid import load_or_create
from server.web.context import AppContext
from tests.test_push import assign

pytestmark = pytest.mark.anyio

KEYS = {"p256dh": "B" + "x" * 86, "auth": "a" * 22}
NOT_PUBLIC = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.251",
    "240.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "2002:a9fe:a9fe::1",
    "64:ff9b::a9fe:a9fe",
]


@pytest.fixture
def dns(monkeypatch):
    """A fake resolver: name → addresses (a name not listed does not resolve)."""
    table: dict[str, list[str]] = {}

    async def resolve(host: str, port: int) -> list[str]:
        try:
            ipaddress.ip_address(host)
            return [host]
        except ValueError:
            pass
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    monkeypatch.setattr(outbound_module, "resolve_host", resolve)
    return table


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_loopback_private_link_local_reserved_and_mapped_addresses_are_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["142.250.72.10", "17.253.144.10", "2a00:1450:4001:82a::200a"])
def test_public_addresses_are_public(address):
    assert is_public(ipaddress.ip_address(address))


def test_the_push_hosts_and_the_development_allowance_come_from_settings():
    base = {"WUYE_SECRET": "s" * 40, "WUYE_DATA_DIR": "/tmp/wuye-outbound"}
    s = Settings.from_env(base)
    assert s.push_hosts == DEFAULT_PUSH_HOSTS and s.dev_loopback_hosts == frozenset()
    s = Settings.from_env(
        {**base, "WUYE_PUSH_HOSTS": "push.example.cn, FCM.googleapis.com", "WUYE_DEV_LOOPBACK_HOSTS": "[::1],localhost"}
    )
    assert s.push_hosts == ("push.example.cn", "fcm.googleapis.com")
    assert s.dev_loopback_hosts == frozenset({"::1", "localhost"})
    with pytest.raises(ConfigError, match="WUYE_PUSH_HOSTS"):
        Settings.from_env({**base, "WUYE_PUSH_HOSTS": "https://push.example.cn/x"})


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1/push/x",
        "http://127.0.0.1:8000/push/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:127.0.0.1]/x",
        "https://[::1]/x",
        "https://10.0.0.5/x",
        "https://fcm.googleapis.com.evil.example/x",  # not a push service (suffix match is by label)
        "http://fcm.googleapis.com/fcm/send/x",  # push endpoints must be https
        "https://user:pw@fcm.googleapis.com/fcm/send/x",
        "https://rebound.fcm.googleapis.com/fcm/send/x",  # a push host's name resolving to a private address
    ],
)
async def test_a_push_subscription_to_a_non_public_or_unknown_destination_is_refused(api, world, dns, endpoint):
    dns["rebound.fcm.googleapis.com"] = ["142.250.72.10", "10.1.2.3"]
    dns["fcm.googleapis.com.evil.example"] = ["142.250.72.10"]
    r = await api.post("tech_a", "/api/push/subscriptions", json={"endpoint": endpoint, "keys": KEYS})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "destination_refused" and r.json()["details"]["reason"]
    assert (await api.get("tech_a", "/api/push/subscriptions")).json() == []


async def test_a_push_subscription_to_a_known_public_push_service_is_kept(api, world, dns):
    dns["fcm.googleapis.com"] = ["142.250.72.10"]
    dns["wns2-sg2p.notify.windows.com"] = ["20.44.10.1"]
    for endpoint in ("https://fcm.googleapis.com/fcm/send/abc", "https://wns2-sg2p.notify.windows.com/w/?token=x"):
        r = await api.post("tech_a", "/api/push/subscriptions", json={"endpoint": endpoint, "keys": KEYS})
        assert r.status_code == 201, r.text
    r = await api.post(
        "tech_a", "/api/push/subscriptions", json={"endpoint": "https://nx.push.apple.com/x", "keys": KEYS}
    )
    assert r.status_code == 422 and r.json()["code"] == "destination_unresolvable"


@pytest.mark.parametrize(
    "url,code",
    [
        ("http://hooks.example.com/wuye", "destination_refused"),  # webhooks must be https
        ("https://127.0.0.1/hook", "destination_refused"),
        ("https://metadata.example.com/latest", "destination_refused"),  # resolves to 169.254.169.254
        ("https://[fd00::1]/hook", "destination_refused"),
        ("https://nowhere.example.com/hook", "destination_unresolvable"),
    ],
)
async def test_a_webhook_to_a_non_public_destination_is_refused(api, world, dns, url, code):
    dns["hooks.example.com"] = ["93.184.215.14"]
    dns["metadata.example.com"] = ["169.254.169.254"]
    r = await api.post("supervisor", "/api/push/webhooks", json={"url": url})
    assert r.status_code == 422 and r.json()["code"] == code, r.text


async def test_a_webhook_whose_name_resolves_to_loopback_by_send_time_is_not_sent(
    api, world, dns, settings, database, clock
):
    dns["hooks.example.com"] = ["93.184.215.14"]
    r = await api.post("supervisor", "/api/push/webhooks", json={"url": "https://hooks.example.com/wuye"})
    assert r.status_code == 201, r.text
    dns["hooks.example.com"] = ["127.0.0.1"]  # DNS rebinding after the check
    strict = Outbound()
    http = strict.client(timeout=5)
    sender = PushSender(load_or_create(settings.data_dir), contact="ops@wuye.example", transport=PushTransport())
    services = {"http": http, "outbound": strict, "push_sender": sender}
    ctx = AppContext(settings=settings, db=database, clock=clock, services=services)
    try:
        await assign(api, world)
        assert await send_due(ctx) == 1
    finally:
        await http.aclose()
        await sender.aclose()
    async with database.reader() as s:
        [d] = (await s.scalars(select(Delivery).where(Delivery.channel == "webhook"))).all()
    assert d.state == "failed" and "127.0.0.1" in d.last_error, (d.state, d.last_error)


async def test_a_push_endpoint_resolving_to_a_private_address_at_send_time_is_refused(dns):
    dns["fcm.googleapis.com"] = ["10.0.0.9"]
    transport = PushTransport()
    try:
        with pytest.raises(RefusedDestination, match="10.0.0.9"):
            await transport.post("https://fcm.googleapis.com/fcm/send/x", {}, b"x", timeout=2)
        with pytest.raises(ValueError, match="not a known push service"):
            await transport.post("https://push.evil.example/x", {}, b"x", timeout=2)
    finally:
        await transport.aclose()


async def test_the_development_allowance_reaches_loopback_only(dns):
    dns["devbox"] = ["10.0.0.9"]
    dev = Outbound(dev_loopback_hosts=frozenset({"devbox", "127.0.0.1"}))
    with pytest.raises(RefusedDestination, match="not a loopback address"):
        await dev.check("http://devbox:8080/hook", push=False)
    await dev.check("http://127.0.0.1:8080/hook", push=False)
    with pytest.raises(RefusedDestination):
        await Outbound().check("http://127.0.0.1:8080/hook", push=False)  # off by default


class _Server:
    def __init__(self, status: int, location: str = ""):
        self.hits: list[str] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):  # noqa: N802
                outer.hits.append(self.path)
                self.rfile.read(int(self.headers.get("content-length", 0)))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()


async def test_a_webhook_redirect_is_not_followed():
    target = _Server(200)
    redirecting = _Server(307, target.url)
    dev = Outbound(dev_loopback_hosts=frozenset({"127.0.0.1"}))
    http = dev.client(timeout=5)
    job = outbox.Job(
        delivery_id=uuid.uuid4(),
        channel="webhook",
        attempts=0,
        notification={"id": "n"},
        webhook_url=redirecting.url,
        webhook_secret="s",
    )
    try:
        outcome = await send_webhook(http, job, dev)
    finally:
        await http.aclose()
        redirecting.close()
        target.close()
    assert outcome.kind == "failed" and outcome.status == 307
    assert redirecting.hits == ["/hook"] and target.hits == []


async def test_the_apps_webhook_client_follows_no_redirect_and_uses_no_proxy(app):
    http: httpx.AsyncClient = app.state.ctx.services["http"]
    assert http.follow_redirects is False and http._trust_env is False
