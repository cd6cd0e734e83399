"""Shared devices and conformance with PROTOCOL.md (issue 19): the server protects itself against a
cursor or a mutation of another person, and answers exactly what the contract says."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy import func, select

from server.orders.models import OrderEvent
from tests.test_sync_server import _raw_push, m, new_order

pytestmark = pytest.mark.anyio


def sync_headers(token: str, **over) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Wuye-Protocol": "1",
        "Wuye-Request-Id": str(uuid.uuid4()),
        **over,
    }


async def pull(api, key, client_id, cursor=None, limit=None, **headers):
    params = {"client_id": client_id}
    if cursor is not None:
        params["cursor"] = cursor
    if limit is not None:
        params["limit"] = limit
    return await api.client.get("/sync/pull", params=params, headers=sync_headers(await api.token(key), **headers))


async def accepts(database, oid: str) -> int:
    async with database.reader() as s:
        return await s.scalar(
            select(func.count())
            .select_from(OrderEvent)
            .where(OrderEvent.order_id == uuid.UUID(oid), OrderEvent.action == "accept")
        )


# --- a cursor belongs to the account it was issued to -------------------------------------------


async def test_a_cursor_issued_to_another_account_is_a_reset_and_the_new_person_gets_her_orders(api, world):
    theirs = [await new_order(api, world, assignee="tech_b") for _ in range(3)]
    cid = str(uuid.uuid4())
    first = await pull(api, "tech_a", cid)
    assert first.status_code == 200 and first.json()["reset"] is False
    cursor = first.json()["cursor"]
    # Same installation, same cursor, another person signed in.
    other = await pull(api, "tech_b", cid, cursor)
    body = other.json()
    assert other.status_code == 200 and body["reset"] is True
    got = {c["id"] for c in body["changes"] if c["table"] == "orders"}
    assert set(theirs) <= got
    # Her cursor is hers: the first person's next pull with it is a reset again.
    back = await pull(api, "tech_a", cid, body["cursor"])
    assert back.json()["reset"] is True


async def test_the_same_account_keeps_its_cursor(api, world):
    cid = str(uuid.uuid4())
    first = await pull(api, "tech_a", cid)
    again = await pull(api, "tech_a", cid, first.json()["cursor"])
    assert again.json()["reset"] is False


# --- a mutation carries its author --------------------------------------------------------------


async def test_a_mutation_of_another_author_is_refused_per_mutation_and_not_applied(api, world, database):
    oid = await new_order(api, world, assignee="tech_a")
    cid = str(uuid.uuid4())
    mine = m(2, "notification.read", {"notification_id": str(uuid.uuid4())})
    mine["author"] = str(world.id("tech_b"))
    theirs = m(1, "order.accept", {"order_id": oid})
    theirs["author"] = str(world.id("tech_a"))
    r = await _raw_push(api, "tech_b", cid, [theirs, mine])
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert (first["status"], first["code"]) == ("rejected", "wrong_author")
    assert second["status"] != "rejected" or second["code"] != "wrong_author"
    assert r.json()["last_seq"] == 2  # the queue is not blocked
    assert await accepts(database, oid) == 0
    # Its author pushes the same mutation later under her own token (another installation): applied.
    r = await _raw_push(api, "tech_a", str(uuid.uuid4()), [{**theirs, "seq": 1}])
    assert r.json()["results"][0]["status"] == "applied", r.text
    assert await accepts(database, oid) == 1


async def test_a_mutation_with_its_own_author_is_applied(api, world, database):
    oid = await new_order(api, world, assignee="tech_a")
    mine = m(1, "order.accept", {"order_id": oid})
    mine["author"] = str(world.id("tech_a"))
    r = await _raw_push(api, "tech_a", str(uuid.uuid4()), [mine])
    assert r.json()["results"][0]["status"] == "applied", r.text
    assert await accepts(database, oid) == 1


async def test_a_resent_wrong_author_mutation_is_answered_as_before(api, world, database):
    oid = await new_order(api, world, assignee="tech_a")
    cid = str(uuid.uuid4())
    theirs = m(1, "order.accept", {"order_id": oid})
    theirs["author"] = str(world.id("tech_a"))
    await _raw_push(api, "tech_b", cid, [theirs])
    again = await _raw_push(api, "tech_b", cid, [theirs])
    assert again.json()["results"][0]["code"] == "wrong_author"
    assert await accepts(database, oid) == 0


# --- conformance ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "1.5", "", "1e3", "v1"])
async def test_a_protocol_header_that_is_not_an_integer_is_a_validation_error(api, world, value):
    r = await pull(api, "tech_a", str(uuid.uuid4()), **{"Wuye-Protocol": value})
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.text


@pytest.mark.parametrize("value", ["0", "-1"])
async def test_a_protocol_header_below_the_minimum_is_client_outdated(api, world, value):
    r = await pull(api, "tech_a", str(uuid.uuid4()), **{"Wuye-Protocol": value})
    assert r.status_code == 426 and r.json()["code"] == "client_outdated", r.text


async def test_a_push_with_a_non_integer_protocol_header_is_a_validation_error(api, world):
    token = await api.token("tech_a")
    r = await api.client.post("/sync/push", json={}, headers=sync_headers(token, **{"Wuye-Protocol": "abc"}))
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.text


async def test_a_pull_limit_above_1000_is_capped_not_refused(api, world):
    r = await pull(api, "tech_a", str(uuid.uuid4()), limit=5000)
    assert r.status_code == 200, r.text


async def test_a_pull_limit_below_1_is_a_validation_error(api, world):
    r = await pull(api, "tech_a", str(uuid.uuid4()), limit=0)
    assert r.status_code == 400 and r.json()["code"] == "validation_error"


@pytest.mark.parametrize("cursor", ["x" * 150, "1.e1.5" + "0" * 200, "\u00e9t\u00e9", "1..1"])
async def test_a_malformed_cursor_of_any_length_is_a_reset(api, world, cursor):
    cid = str(uuid.uuid4())
    await pull(api, "tech_a", cid)
    r = await pull(api, "tech_a", cid, cursor)
    assert r.status_code == 200 and r.json()["reset"] is True, r.text


async def test_query_validation_details_are_an_object(api, world):
    r = await pull(api, "tech_a", "not-a-uuid" * 10)
    assert r.status_code == 400
    assert isinstance(r.json().get("details", {}), dict), r.text


def _jpeg():
    from tests.support.camera_jpegs import camera_jpeg

    data = camera_jpeg((64, 48), 3)
    return data, hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("value", ["1", "TRUE", "True", "yes", "0"])
async def test_finish_other_than_true_or_false_is_refused_and_the_upload_continues(api, world, value):
    data, sha = _jpeg()
    token = await api.token("tech_a")
    half = len(data) // 2
    r = await api.client.put(
        f"/sync/blobs/{sha}?offset=0&finish={value}",
        content=data[:half],
        headers={**sync_headers(token), "Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.text
    status = await api.client.get(f"/sync/blobs/{sha}", headers=sync_headers(token))
    assert status.json()["complete"] is False and status.json()["offset"] == 0


async def test_finish_false_appends_and_finish_true_finishes(api, world):
    data, sha = _jpeg()
    token = await api.token("tech_a")
    half = len(data) // 2
    octet = {"Content-Type": "application/octet-stream"}
    r = await api.client.put(
        f"/sync/blobs/{sha}?offset=0&finish=false", content=data[:half], headers={**sync_headers(token), **octet}
    )
    assert r.status_code == 200 and r.json()["offset"] == half, r.text
    r = await api.client.put(
        f"/sync/blobs/{sha}?offset={half}&finish=true", content=data[half:], headers={**sync_headers(token), **octet}
    )
    assert r.status_code == 200 and r.json()["complete"] is True, r.text


# --- the contract's gaps, as PROTOCOL.md now states them -------------------------------------------


async def test_an_order_that_re_enters_the_scope_brings_its_events_and_steps_again(api, world, tmp_path):
    from tests.test_sync_server import phone

    oid = await new_order(api, world)
    tech = await phone(api, "tech_a", tmp_path)
    tech.enqueue("order.accept", {"order_id": oid})
    step = {"id": str(uuid.uuid4()), "order_id": oid, "note": "先看一下", "captured_at": "2026-11-22T08:00:00+00:00"}
    tech.enqueue("step.add", step)
    await tech.sync()
    await api.post("lead", f"/api/orders/{oid}/actions/reassign", json={"assignee_id": str(world.id("tech_b"))})
    await tech.pull()
    assert tech.rows("steps") == {} and tech.rows("order_events") == {}  # dropped with the order
    await api.post("lead", f"/api/orders/{oid}/actions/reassign", json={"assignee_id": str(world.id("tech_a"))})
    await tech.pull()
    assert [s["note"] for s in tech.rows("steps").values()] == ["先看一下"]
    assert {e["action"] for e in tech.rows("order_events").values()} >= {"create", "dispatch", "accept"}


async def test_query_validation_details_list_the_problems_under_errors(api, world):
    r = await pull(api, "tech_a", "not-a-uuid" * 10)
    details = r.json()["details"]
    assert isinstance(details["errors"], list) and details["errors"][0]["key"] == "client_id", r.text


async def test_an_api_error_echoes_the_request_id_and_a_success_does_not(api, world):
    rid = str(uuid.uuid4())
    wrong = {"phone": "1", "password": "x"}
    bad = await api.client.post("/api/auth/login", json=wrong, headers={"Wuye-Request-Id": rid})
    assert bad.status_code == 401 and bad.json()["code"] == "bad_credentials"
    assert bad.headers.get("wuye-request-id") == rid
    good = await api.client.get("/api/meta", headers={**await api.headers("tech_a"), "Wuye-Request-Id": rid})
    assert good.status_code == 200 and "wuye-request-id" not in good.headers


async def test_a_missing_request_id_under_sync_is_a_validation_error(api, world):
    token = await api.token("tech_a")
    r = await api.client.get(
        "/sync/pull",
        params={"client_id": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {token}", "Wuye-Protocol": "1"},
    )
    assert r.status_code == 400 and r.json()["code"] == "validation_error"


async def test_a_blob_name_that_is_not_a_sha256_is_invalid_hash(api, world):
    token = await api.token("tech_a")
    r = await api.client.get("/sync/blobs/NOTAHASH", headers=sync_headers(token))
    assert r.status_code == 400 and r.json()["code"] == "invalid_hash", r.text


async def test_the_reference_client_with_an_author_is_refused_under_another_token(api, world, database, tmp_path):
    from sync.client import SyncClient

    oid = await new_order(api, world, assignee="tech_a")
    tech = SyncClient(
        "http://testserver.local",
        db_path=str(tmp_path / "shared.sqlite3"),
        token=await api.token("tech_b"),  # someone else's token on this outbox
        transport=api.client,
        author=str(world.id("tech_a")),
    )
    tech.enqueue("order.accept", {"order_id": oid})
    await tech.push()
    [rej] = tech.rejected()
    assert rej.code == "wrong_author"
    assert await accepts(database, oid) == 0
