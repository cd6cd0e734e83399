"""Web Push that is never lost: encryption checked against RFC 8291, delivery through the transactional
outbox to a real local push service that decrypts every message and verifies its VAPID JWT."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from server.cluster.keys import shared
from server.outbound import Outbound
from server.push import outbox
from server.push.delivery import PushSender, Subscription, Urgency, topic_for
from server.push.models import Delivery, PushSubscription
from server.push.sender import drain, send_due, sign
from server.push.transport import PushTransport, TransportError
from server.push.vapid import VapidKeys, load_or_create
from server.web.context import AppContext
from tests.support.push_service import LocalPushService, b64u, b64u_decode

# The local push service, the canned servers and the webhook gateway listen on 127.0.0.1: these tests
# use the explicit development allowance (off by default; see server/outbound.py and test_outbound.py).
DEV = Outbound(dev_loopback_hosts=frozenset({"127.0.0.1"}))


@pytest.fixture
def settings(settings):
    return settings.with_(dev_loopback_hosts=DEV.dev_loopback_hosts)


# --- RFC 8291 Appendix A ------------------------------------------------------------------------------

RFC = {
    "plaintext": b"When I grow up, I want to be a watermelon",
    "auth": "BTBZMqHH6r4Tts7J_aSIgg",
    "salt": "DGv6ra1nlYgDCS1FRnbzlw",
    "as_private": "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
    "ua_public": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
    "body": "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6"
    "PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
}


def test_encryption_matches_the_rfc_8291_test_vector(monkeypatch, tmp_path):
    """The webpush package draws the ephemeral key and salt itself: fix both to the RFC's."""
    import webpush

    ephemeral = ec.derive_private_key(int.from_bytes(b64u_decode(RFC["as_private"]), "big"), ec.SECP256R1())
    monkeypatch.setattr(webpush.os, "urandom", lambda n: b64u_decode(RFC["salt"]))
    monkeypatch.setattr(webpush.ec, "generate_private_key", lambda *a, **k: ephemeral)
    sender = PushSender(load_or_create(tmp_path), transport=PushTransport(outbound=DEV), contact="ops@example.org")
    sub = Subscription(endpoint="https://push.example.net/x", p256dh=RFC["ua_public"], auth=RFC["auth"])
    body, headers = sender.encrypt(sub, RFC["plaintext"], ttl=60)
    assert len(body) == 144
    assert b64u(body) == RFC["body"]
    assert headers["content-encoding"] == "aes128gcm" and headers["ttl"] == "60"


def test_unusable_subscription_keys_are_refused_before_sending(tmp_path):
    sender = PushSender(load_or_create(tmp_path), transport=PushTransport(outbound=DEV), contact="ops@example.org")
    for p256dh, auth in ((RFC["ua_public"][:-4], RFC["auth"]), (RFC["ua_public"], RFC["auth"][:-4])):
        with pytest.raises(ValueError):
            sender.encrypt(Subscription(endpoint="https://push.example.net/x", p256dh=p256dh, auth=auth), b"{}", 60)


def test_every_message_has_a_fresh_ephemeral_key_and_salt(tmp_path):
    """RFC 8291: a new key pair per message. Only the subscription's own keys are reused."""
    sender = PushSender(load_or_create(tmp_path), transport=PushTransport(outbound=DEV), contact="ops@example.org")
    sub = Subscription(endpoint="https://push.example.net/x", p256dh=RFC["ua_public"], auth=RFC["auth"])
    bodies = [sender.encrypt(sub, RFC["plaintext"], ttl=60)[0] for _ in range(3)]
    salts = {b[:16] for b in bodies}
    keys = {b[21:86] for b in bodies}  # salt(16) ‖ record size(4) ‖ key id length(1) ‖ key id(65)
    assert len(salts) == 3 and len(keys) == 3
    _, headers = sender.encrypt(sub, RFC["plaintext"], ttl=60)
    assert headers["content-encoding"] == "aes128gcm" and headers["ttl"] == "60"


def test_oversized_payloads_are_refused(tmp_path):
    sender = PushSender(load_or_create(tmp_path), transport=PushTransport(outbound=DEV), contact="ops@example.org")
    sub = Subscription(endpoint="https://push.example.net/x", p256dh=RFC["ua_public"], auth=RFC["auth"])
    with pytest.raises(ValueError, match="at most 3000"):
        sender.encrypt(sub, b"x" * 3001, ttl=60)


def test_topic_is_always_valid():
    for key in ("order-CH-20261122-0042", "x" * 500, "短"):
        t = topic_for(key)
        assert len(t) <= 32 and all(c.isalnum() or c in "-_" for c in t)
    assert topic_for("a") == topic_for("a") != topic_for("b")


def test_vapid_keys_persist_with_private_permissions(tmp_path):
    a = load_or_create(tmp_path)
    b = load_or_create(tmp_path)
    assert a == b and len(b64u_decode(a.application_server_key)) == 65
    assert (tmp_path / "vapid" / "private.pem").stat().st_mode & 0o077 == 0
    assert VapidKeys.from_private_pem(a.private_pem) == a


# --- through the outbox ---------------------------------------------------------------------------------


@pytest.fixture
def push_service():
    svc = LocalPushService().start()
    yield svc
    svc.stop()


@pytest.fixture
async def sender_ctx(settings, database, clock, api):
    """The sender as a server process runs it, on this test's event loop, with the key every node
    shares (the app under ``api`` has written it to the database by now)."""
    http = DEV.client(timeout=5)
    mine = load_or_create(settings.data_dir, None)
    vapid = VapidKeys.from_private_pem(
        (await shared(database, "vapid_private_pem", mine.private_pem.decode(), clock.now())).encode()
    )
    sender = PushSender(vapid, contact="ops@wuye.example", timeout=5, transport=PushTransport(outbound=DEV))
    ctx = AppContext(
        settings=settings,
        db=database,
        clock=clock,
        services={"http": http, "vapid": vapid, "push_sender": sender, "outbound": DEV},
    )
    yield ctx
    await sender.aclose()
    await http.aclose()


async def subscribe(api, key, svc) -> dict:
    sub = svc.new_subscription()
    r = await api.post(key, "/api/push/subscriptions", json=sub)
    assert r.status_code == 201, r.text
    return sub


async def assign(api, world, who="tech_a", kind="repair") -> dict:
    r = await api.post(
        "desk",
        "/api/orders/",
        json={
            "kind": kind,
            "category": "water_electric",
            "channel": "phone",
            "description": "厨房漏水（业主张三 13712345678）",  # noqa: E501
            "household_id": str(world.households["1栋1单元101"].id),
            "assignee_id": str(world.id(who)),
        },
    )
    assert r.status_code == 201
    return r.json()["order"]


pytestmark = pytest.mark.anyio


async def test_an_assignment_arrives_decrypted_with_a_verified_vapid_jwt(api, world, push_service, sender_ctx):
    sub = await subscribe(api, "tech_a", push_service)
    r = await api.get("tech_a", "/api/push/vapid-public-key")
    assert r.json()["key"] == sender_ctx.services["vapid"].application_server_key
    order = await assign(api, world, kind="emergency")
    assert await send_due(sender_ctx) == 1
    [msg] = push_service.received(sub["endpoint"])
    assert push_service.rejected() == []
    payload = json.loads(msg.plaintext)
    assert order["number"] in payload["title"] and payload["url"] == f"/app/#/orders/{order['id']}"
    assert payload["body"] == "1栋"  # the building only: no owner name, phone or room on a lock screen
    assert "13712345678" not in msg.plaintext.decode() and "张三" not in msg.plaintext.decode()
    assert msg.headers["urgency"] == "high" and int(msg.headers["ttl"]) > 0 and len(msg.headers["topic"]) <= 32
    assert msg.claims["aud"] == push_service.origin and msg.claims["sub"] == "mailto:ops@wuye.example"
    assert await send_due(sender_ctx) == 0  # nothing sent twice


async def test_500_then_200_is_retried_and_delivered_once(api, world, push_service, sender_ctx, clock, database):
    sub = await subscribe(api, "tech_a", push_service)
    push_service.script(sub["endpoint"], [(500, {})])
    await assign(api, world)
    await send_due(sender_ctx)
    assert push_service.received(sub["endpoint"]) == []
    async with database.reader() as s:
        d = await s.scalar(select(Delivery))
    assert d.state == "retry" and d.attempts == 1 and d.last_status == 500
    assert await send_due(sender_ctx) == 0  # backoff: not due yet
    clock.advance(seconds=5)
    await send_due(sender_ctx)
    assert len(push_service.received(sub["endpoint"])) == 1 and push_service.attempts(sub["endpoint"]) == 2
    r = await api.get("tech_a", f"/api/push/notifications/{d.notification_id}/deliveries")
    assert r.json()[0]["state"] == "delivered" and r.json()[0]["attempts"] == 2


async def test_429_retry_after_is_honoured(api, world, push_service, sender_ctx, clock):
    sub = await subscribe(api, "tech_a", push_service)
    push_service.script(sub["endpoint"], [(429, {"Retry-After": "120"})])
    await assign(api, world)
    await send_due(sender_ctx)
    clock.advance(seconds=119)
    await send_due(sender_ctx)
    assert push_service.attempts(sub["endpoint"]) == 1
    clock.advance(seconds=2)
    await send_due(sender_ctx)
    assert push_service.attempts(sub["endpoint"]) == 2 and len(push_service.received(sub["endpoint"])) == 1


async def test_410_removes_the_subscription_and_stops_attempts(api, world, push_service, sender_ctx, clock, database):
    sub = await subscribe(api, "tech_a", push_service)
    push_service.make_gone(sub["endpoint"])
    await assign(api, world)
    await send_due(sender_ctx)
    async with database.reader() as s:
        assert await s.scalar(select(PushSubscription)) is None
        assert (await s.scalar(select(Delivery))).state == "gone"
    await assign(api, world)
    clock.advance(hours=1)
    await send_due(sender_ctx)
    assert push_service.attempts(sub["endpoint"]) == 1


async def test_a_server_killed_between_commit_and_send_sends_after_restart_exactly_once(
    api, world, push_service, sender_ctx, clock, database, settings
):
    subs = [await subscribe(api, "tech_a", push_service) for _ in range(2)]  # two phones
    await assign(api, world)  # committed; this process "dies" before its sender runs
    # A claim whose process dies before sending leaves a lease; it lapses and the row is taken again.
    async with database.writer() as s:
        claimed = await outbox.claim(s, clock.now())
        await s.commit()
    assert len(claimed) == 2
    assert await send_due(sender_ctx) == 0  # leased to the dead process
    clock.advance(seconds=61)
    restarted = AppContext(settings=settings, db=database, clock=clock, services=sender_ctx.services)
    assert await send_due(restarted) == 2
    assert await send_due(restarted) == 0
    for sub in subs:
        assert len(push_service.received(sub["endpoint"])) == 1


async def test_logout_removes_that_devices_subscription(api, world, push_service, database):
    await subscribe(api, "tech_a", push_service)
    assert (await api.post("tech_a", "/api/auth/logout")).status_code == 200
    async with database.reader() as s:
        assert await s.scalar(select(PushSubscription)) is None


async def test_devices_are_listed_and_removed_only_by_their_owner(api, world, push_service):
    await subscribe(api, "tech_a", push_service)
    [device] = (await api.get("tech_a", "/api/push/subscriptions")).json()
    assert (await api.get("tech_b", "/api/push/subscriptions")).json() == []
    assert (await api.delete("tech_b", f"/api/push/subscriptions/{device['id']}")).status_code == 404
    assert (await api.delete("tech_a", f"/api/push/subscriptions/{device['id']}")).status_code == 200
    assert (await api.get("tech_a", "/api/push/subscriptions")).json() == []


async def test_the_in_app_feed_arrives_with_pull_without_any_push_service(api, world, tmp_path):
    from sync.client import SyncClient

    order = await assign(api, world)
    phone = SyncClient(
        "http://testserver.local",
        db_path=str(tmp_path / "p.sqlite3"),
        token=await api.token("tech_a"),
        transport=api.client,
    )
    await phone.pull()
    feed = list(phone.rows("notifications").values())
    assert [n["kind"] for n in feed] == ["assigned"] and feed[0]["order_id"] == order["id"]
    other = SyncClient(
        "http://testserver.local",
        db_path=str(tmp_path / "q.sqlite3"),
        token=await api.token("tech_b"),
        transport=api.client,
    )
    await other.pull()
    assert other.rows("notifications") == {}


class Gateway:
    """An SMS / enterprise-chat gateway stand-in that checks the HMAC signature."""

    def __init__(self, secret_box: dict):
        self.got: list[dict] = []
        gw = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                ts = self.headers["x-wuye-timestamp"]
                good = (
                    "sha256="
                    + hmac.new(secret_box["secret"].encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
                )
                ok = hmac.compare_digest(good, self.headers["x-wuye-signature"])
                if ok:
                    gw.got.append(json.loads(body))
                self.send_response(200 if ok else 401)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


async def test_webhooks_are_signed_and_delivered(api, world, sender_ctx):
    box: dict = {}
    gw = Gateway(box)
    try:
        r = await api.post("supervisor", "/api/push/webhooks", json={"url": gw.url})
        assert r.status_code == 201
        box["secret"] = r.json()["secret"]
        assert (await api.post("desk", "/api/push/webhooks", json={"url": gw.url})).status_code == 403
        order = await assign(api, world)
        await send_due(sender_ctx)
        assert [m["order_id"] for m in gw.got] == [order["id"]]
    finally:
        gw.server.shutdown()


def test_signature_covers_timestamp_and_body():
    assert sign("k", "1", b"x") != sign("k", "2", b"x") != sign("k", "1", b"y")


async def test_per_call_ttl_does_not_stick(push_service, tmp_path):
    sender = PushSender(
        load_or_create(tmp_path), transport=PushTransport(outbound=DEV), contact="ops@example.org", ttl=3600
    )
    sub = push_service.new_subscription()
    s = Subscription(endpoint=sub["endpoint"], p256dh=sub["keys"]["p256dh"], auth=sub["keys"]["auth"])
    assert (await sender.send(s, b"{}", ttl=60)).kind == "delivered"
    assert (await sender.send(s, b"{}", urgency=Urgency.low)).kind == "delivered"
    await sender.aclose()
    ttls = [m.headers["ttl"] for m in push_service.received(sub["endpoint"])]
    assert ttls == ["60", "3600"]


async def test_connection_refused_is_a_retry(tmp_path):
    sender = PushSender(load_or_create(tmp_path), transport=PushTransport(outbound=DEV), contact="ops@example.org")
    s = Subscription(endpoint="http://127.0.0.1:1/push/x", p256dh=RFC["ua_public"], auth=RFC["auth"])
    outcome = await sender.send(s, b"{}")
    assert outcome.kind == "retry" and outcome.status is None


def test_backoff_grows_and_honours_retry_after():
    assert outbox.backoff(1, None) <= 2 and outbox.backoff(6, None) >= 16
    assert outbox.backoff(1, 90) == 90
    assert outbox.backoff(50, None) <= outbox.BACKOFF_CAP


# --- the transport --------------------------------------------------------------------------------------


class CannedServer:
    """A raw TCP server that answers each request with the next canned bytes (``None``: close the
    connection without answering; ``...``: never answer), and closes the connection after an answer
    without length or with ``connection: close``. Counts connections and requests."""

    def __init__(self, answers: list):
        self.answers = list(answers)
        self.connections = 0
        self.requests: list[bytes] = []

    async def __aenter__(self) -> CannedServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/push/x"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while self.answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(
                        v
                        for k, v in (h.split(b": ", 1) for h in head.split(b"\r\n")[1:-2])
                        if k.lower() == b"content-length"
                    )
                )
                self.requests.append(head + await reader.readexactly(length))
                answer = self.answers.pop(0)
                if answer is ...:
                    await asyncio.sleep(3600)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                framed = b"content-length" in answer or b"chunked" in answer
                if not framed or b"connection: close" in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


async def test_a_malformed_or_missing_answer_is_a_transport_error():
    transport = PushTransport(outbound=DEV)
    async with CannedServer([b"HELLO\r\n\r\n", None]) as srv:
        for _ in range(2):
            with pytest.raises(TransportError):
                await transport.post(srv.url, {}, b"x")
    await transport.aclose()


async def test_no_answer_in_time_is_a_retry_and_nothing_starts_after_its_deadline(tmp_path):
    sender = PushSender(
        load_or_create(tmp_path), transport=PushTransport(outbound=DEV), contact="ops@example.org", timeout=0.2
    )
    async with CannedServer([...]) as srv:
        s = Subscription(endpoint=srv.url, p256dh=RFC["ua_public"], auth=RFC["auth"])
        late = await sender.send(s, b"{}", start_by=asyncio.get_running_loop().time() - 1)
        assert late.kind == "retry" and "not sent" in late.detail and srv.requests == []
        slow = await sender.send(s, b"{}")
        assert slow.kind == "retry" and "no answer within" in slow.detail and len(srv.requests) == 1
    await sender.aclose()


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http:///no-host", "http://127.0.0.1:99999/x"])
async def test_an_endpoint_that_cannot_be_sent_to_is_refused_not_retried(url):
    with pytest.raises(ValueError, match="not sendable"):
        await PushTransport().post(url, {}, b"x")


# --- concurrent sending through the outbox --------------------------------------------------------------


async def test_a_pipelined_drain_delivers_once_per_device_and_honours_each_answer(
    api, world, push_service, sender_ctx, clock, database
):
    """Twelve devices in rounds of five, three messages in flight at most: each answer (500, 429 with
    Retry-After, 410, 404) only affects its own device, and every other device gets exactly one."""
    sender_ctx.services["push_sender"] = PushSender(
        sender_ctx.services["vapid"], contact="ops@wuye.example", transport=PushTransport(per_origin=3, outbound=DEV)
    )
    push_service.delay = 0.05  # answers overlap, so the in-flight bound is really exercised
    subs = [await subscribe(api, "tech_a", push_service) for _ in range(12)]
    flaky, throttled, gone, missing, *fine = (s["endpoint"] for s in subs)
    push_service.script(flaky, [(500, {})])
    push_service.script(throttled, [(429, {"Retry-After": "120"})])
    push_service.make_gone(gone)
    push_service.script(missing, [(404, {})])
    await assign(api, world)
    assert await drain(sender_ctx, limit=5) == 12
    assert push_service.max_in_flight == 3
    assert all(len(push_service.received(e)) == 1 for e in fine)
    assert [push_service.attempts(e) for e in (flaky, throttled, gone, missing)] == [1, 1, 1, 1]
    async with database.reader() as s:
        states = sorted((await s.scalars(select(Delivery.state))).all())
        left = {p.endpoint for p in await s.scalars(select(PushSubscription))}
    assert states == ["delivered"] * 8 + ["gone"] * 2 + ["retry"] * 2
    assert left == set(fine) | {flaky, throttled}
    clock.advance(seconds=5)
    assert await drain(sender_ctx, limit=5) == 1  # the 500 is due again; the 429 waits its 120 s
    clock.advance(seconds=120)
    assert await drain(sender_ctx, limit=5) == 1
    assert await drain(sender_ctx, limit=5) == 0
    assert all(len(push_service.received(e)) == 1 for e in [*fine, flaky, throttled])
    assert push_service.rejected() == []
    await sender_ctx.services["push_sender"].aclose()


async def test_a_payload_too_large_for_one_record_fails_instead_of_blocking_the_round(
    api, world, push_service, sender_ctx, database, clock
):
    from server.notifications.service import notify

    ok = await subscribe(api, "tech_a", push_service)
    async with database.writer() as s:
        await notify(s, staff_id=world.id("tech_a"), kind="assigned", title="t", body="长" * 2000, now=clock.now())
        await notify(s, staff_id=world.id("tech_a"), kind="assigned", title="t", body="short", now=clock.now())
        await s.commit()
    assert await send_due(sender_ctx) == 2
    async with database.reader() as s:
        rows = (await s.scalars(select(Delivery).order_by(Delivery.state))).all()
    assert [d.state for d in rows] == ["delivered", "failed"] and "at most 3000" in rows[1].last_error
    assert [m["body"] for m in push_service.messages(ok["endpoint"])] == ["short"]
