"""Crash safety of sync against the real server process (``wuye serve``, uvicorn, one worker).

Phones push, pull and upload photos over real loopback HTTP while the server is killed with SIGKILL
at random moments and restarted on the same database and data directory. Phones treat every
transport failure as "try again later". Afterwards each phone drains, and the database holds every
step exactly once, every accepted transition exactly once, and every photo with the right sha256.
Runs on SQLite (a temp file) and PostgreSQL (a throw-away database).
"""

from __future__ import annotations

import hashlib
import random
import socket
import uuid

import anyio
import httpx
import pytest

from server.db.engine import Database
from sync.client import SyncClient
from tests.support.camera_jpegs import camera_jpeg
from tests.support.live_server import LiveServer, seed
from tests.support.simulator import SimPhone, check_fleet

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

KILLS = 5
PHONES = 4
ORDERS_EACH = 3


def photo(rng: random.Random) -> bytes:
    # 150-450 KB: one or two 256 KiB chunks per photo, so kills land between and inside uploads.
    return camera_jpeg(rng.choice([(640, 480), (1024, 768), (1280, 960)]), 1, quality=85)


async def test_sigkill_at_random_moments_loses_and_doubles_nothing(database_url, tmp_path):
    rng = random.Random()
    seed_value = rng.randrange(2**32)
    rng.seed(seed_value)
    world, fleet = await seed(database_url, phones=PHONES, orders_each=ORDERS_EACH)
    data_dir = tmp_path / "data"
    server = LiveServer(database_url, data_dir, log_path=tmp_path / "server.log")
    await anyio.to_thread.run_sync(server.start)

    phones = [
        SimPhone(
            tech,
            fleet.orders[tech.key],
            SyncClient(
                server.base_url,
                db_path=str(tmp_path / f"{tech.key}.sqlite3"),
                token=tech.token,
                transport=httpx.AsyncClient(timeout=httpx.Timeout(10.0)),
            ),
        )
        for tech in fleet.technicians
    ]
    failures: dict[str, int] = {}
    killing = True

    async def killer() -> None:
        nonlocal killing
        try:
            for _ in range(KILLS):
                await anyio.sleep(rng.uniform(0.3, 1.5))
                await anyio.to_thread.run_sync(server.kill)  # SIGKILL: no shutdown code runs
                await anyio.sleep(rng.uniform(0.0, 0.4))
                await anyio.to_thread.run_sync(server.start)  # waits for /healthz
        finally:
            killing = False

    async def work(phone: SimPhone) -> None:
        """A technician's shift, synced as it goes; while the server is being killed, the last job
        keeps collecting steps, so there is always load."""
        prng = random.Random(rng.random())
        pieces = []
        for order_id in phone.orders:
            pieces += [("accept", order_id), ("depart", order_id), ("arrive", order_id)]
            pieces += [("photo_step", order_id)] * 2 + [("step", order_id)]
            pieces.append(("complete", order_id))
        last = phone.orders[-1]
        tail = pieces.pop()  # the last job's "complete" waits until the killing is over
        for _ in range(10_000):  # bounded: a few hundred rounds are enough in practice
            if not pieces and not killing:
                break
            if pieces:
                what, order_id = pieces.pop(0)
            else:
                what, order_id = "step", last
            if what == "photo_step":
                phone.step(order_id, "拍照记录", [photo(prng)])
            elif what == "step":
                phone.step(order_id, f"记录 {len(phone.planned)}")
            else:
                phone.act(what, order_id)
            err = await phone.sync_once(batch_size=prng.choice([1, 3, 10]))
            if err is not None:
                failures[err.code] = failures.get(err.code, 0) + 1
                await anyio.sleep(prng.uniform(0.02, 0.2))
        phone.act(*tail)

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(killer)
            for phone in phones:
                tg.start_soon(work, phone)
        assert server.kills == KILLS and server.running()
        for phone in phones:
            await phone.drain(attempts=50, pause=0.1, batch_size=50)

        db = Database(database_url)
        try:
            async with db.reader() as session:
                problems = await check_fleet(session, phones, blob_root=data_dir / "photos")
        finally:
            await db.dispose()
        assert problems == [], "\n".join([f"seed {seed_value}", *problems])
        # The kills hit a busy server: phones saw requests fail and retried them.
        assert sum(failures.values()) >= 1, failures
    finally:
        for phone in phones:
            await phone.client.aclose()
        await anyio.to_thread.run_sync(server.stop)


# --- photo uploads cut off at the socket and by a crash ---------------------------------------------


def _cut_put(base_url: str, path: str, headers: dict[str, str], body: bytes, sent: int) -> None:
    """Send a PUT that announces ``len(body)`` bytes, deliver only ``sent`` of them, and hang up."""
    host, port = base_url.removeprefix("http://").split(":")
    lines = [f"PUT {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body[:sent])
        sock.shutdown(socket.SHUT_RDWR)


async def test_an_upload_cut_mid_chunk_and_by_a_crash_resumes_and_arrives_intact(database_url, tmp_path):
    world, fleet = await seed(database_url, phones=1, orders_each=0)
    tech = fleet.technicians[0]
    data_dir = tmp_path / "data"
    data = camera_jpeg((1024, 768), 1)
    sha = hashlib.sha256(data).hexdigest()
    chunk = 64 * 1024
    path = f"/sync/blobs/{sha}"
    server = LiveServer(database_url, data_dir, log_path=tmp_path / "server.log")
    await anyio.to_thread.run_sync(server.start)
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0))
    phone_puts: list[int] = []

    async def count_put(request: httpx.Request) -> None:
        if request.method == "PUT":
            phone_puts.append(int(request.url.params["offset"]))

    phone_http = httpx.AsyncClient(timeout=httpx.Timeout(10.0), event_hooks={"request": [count_put]})
    phone = SyncClient(server.base_url, db_path=str(tmp_path / "phone.sqlite3"), token=tech.token, transport=phone_http)

    def headers() -> dict[str, str]:
        return {
            "Authorization": f"Bearer {tech.token}",
            "Wuye-Protocol": "1",
            "Wuye-Request-Id": str(uuid.uuid4()),
            "Content-Type": "application/octet-stream",
        }

    async def server_offset() -> int:
        r = await http.get(server.base_url + path, headers=headers())
        assert r.status_code == 200, r.text
        return r.json()["offset"]

    try:
        # Two whole chunks arrive.
        for offset in (0, chunk):
            r = await http.put(
                server.base_url + path,
                params={"offset": offset},
                content=data[offset : offset + chunk],
                headers=headers(),
            )
            assert r.status_code == 200 and r.json()["offset"] == offset + chunk, r.text
        # The third dies on the wire after 10,000 of its 65,536 bytes: nothing of it is kept.
        await anyio.to_thread.run_sync(
            _cut_put, server.base_url, f"{path}?offset={2 * chunk}", headers(), data[2 * chunk : 3 * chunk], 10_000
        )
        assert await server_offset() == 2 * chunk
        # The server is killed between chunks and comes back: the acknowledged bytes survived.
        await anyio.to_thread.run_sync(server.kill)
        await anyio.to_thread.run_sync(server.start)
        assert await server_offset() == 2 * chunk
        # The phone resumes from the server's offset, not from 0, and the photo completes.
        assert await phone.upload_photo(data, chunk=chunk) == sha
        assert phone.photo_state(sha) == "uploaded"
        assert phone_puts == list(range(2 * chunk, len(data), chunk))
        stored = data_dir / "photos" / "blobs" / sha[:2] / sha[2:4] / sha
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
        r = await http.get(server.base_url + path, headers=headers())
        assert r.json()["complete"] is True and r.json()["size"] == len(data)
        # Killed again: a completed photo stays complete.
        await anyio.to_thread.run_sync(server.kill)
        await anyio.to_thread.run_sync(server.start)
        r = await http.get(server.base_url + path, headers=headers())
        assert r.json()["complete"] is True and r.json()["size"] == len(data)
    finally:
        await phone.aclose()
        await phone_http.aclose()
        await http.aclose()
        await anyio.to_thread.run_sync(server.stop)
