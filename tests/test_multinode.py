"""Three `wuye serve` nodes on one PostgreSQL database and one S3-compatible bucket, behind Debian's
nginx with the shipped config (deploy/nginx-wuye.conf, rendered with this test's ports), driven by
the device simulator.

- Phones push, pull and upload photos through nginx, which spreads their requests round robin: each
  node's access log shows it served pushes, pulls and photo chunks. A chunk taken by one node is
  continued or finished by another, and a step's photo uploaded through one is served by all.
- One node is killed with SIGKILL while the phones are at work, and started again later: the phones
  retry what failed, and at the end every accepted mutation is applied exactly once, every photo is
  in the bucket with its hash, and every phone's replica matches the server (check_fleet).
- A desk's board stream open on node A shows the step a phone pushed straight to node B.

Without nginx (not installable) the phones' transport itself would have to spread the requests; the
Makefile installs nginx-light from Debian, so this test requires it rather than pretending.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import anyio
import httpx
import pytest

from server.db.engine import Database
from sync.client import SyncClient
from tests.support.camera_jpegs import camera_jpeg
from tests.support.live_server import REPO, LiveServer, free_port, seed
from tests.support.s3_server import LocalS3
from tests.support.simulator import SimPhone, check_fleet
from tests.support.world import PASSWORD
from tests.test_board import Stream

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
NODES = 3
PHONES = 4
ORDERS_EACH = 2


class Nginx:
    """Debian's nginx in the foreground with deploy/nginx-wuye.conf, upstreams replaced by ``ports``."""

    def __init__(self, root: Path, ports: list[int]) -> None:
        self.root = root
        self.port = free_port()
        shipped = (REPO / "deploy" / "nginx-wuye.conf").read_text()
        upstreams = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in ports)
        shipped_nodes = re.compile(r"^    server 127\.0\.0\.1:\d+ [^\n]*\n", re.M)
        first = shipped_nodes.search(shipped)
        assert first is not None
        site = shipped[: first.start()] + upstreams + shipped_nodes.sub("", shipped[first.start() :])
        site = site.replace("listen 8000;", f"listen 127.0.0.1:{self.port};")
        assert all(f"127.0.0.1:{p} " in site for p in ports) and ":800" not in site
        (root / "logs").mkdir(parents=True, exist_ok=True)
        (root / "site.conf").write_text(site)
        (root / "nginx.conf").write_text(
            ""
            # As root, nginx's workers would run as nobody and could not write its temp files here.
            + ("user root root;\n" if os.geteuid() == 0 else "")
            + "worker_processes 1;\npid nginx.pid;\nerror_log logs/error.log warn;\n"
            "events { worker_connections 256; }\n"
            "http {\n  access_log logs/access.log;\n  client_body_temp_path tmp;\n  proxy_temp_path tmp;\n"
            "  include site.conf;\n}\n"
        )
        (root / "tmp").mkdir(exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(NGINX), "-p", str(self.root), "-c", "nginx.conf", "-g",
             "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError((self.root / "logs" / "error.log").read_text())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def served(log: Path) -> dict[str, int]:
    """How many pushes, pulls and photo requests a node's access log shows."""
    text = log.read_text(errors="replace")
    return {
        "push": len(re.findall(r'"POST /sync/push', text)),
        "pull": len(re.findall(r'"(?:GET|POST) /sync/pull', text)),
        "photo": len(re.findall(r'"(?:GET|PUT|POST) /sync/blobs/', text)),
    }


def photo(rng: random.Random) -> bytes:
    # 150-450 KB: one or two 256 KiB chunks, so one photo's chunks land on different nodes.
    return camera_jpeg(rng.choice([(640, 480), (1024, 768)]), 1, quality=85)


async def test_three_nodes_behind_nginx_converge_and_a_killed_node_loses_nothing(
    postgres_factory, local_s3: LocalS3, tmp_path
):
    assert NGINX is not None, "nginx is needed (make test installs nginx-light from Debian)"
    rng = random.Random()
    seed_value = rng.randrange(2**32)
    rng.seed(seed_value)
    url = await anyio.to_thread.run_sync(postgres_factory.fresh)  # it runs its own event loop
    world, fleet = await seed(url, phones=PHONES + 1, orders_each=ORDERS_EACH)
    bucket = local_s3.new_bucket()
    env = {**local_s3.env(bucket, "field"), "WUYE_BACKGROUND_JOBS": "1"}
    nodes = [
        LiveServer(url, tmp_path / f"node{i}", env=env, log_path=tmp_path / f"node{i}.log") for i in range(NODES)
    ]
    front = Nginx(tmp_path / "nginx", [n.port for n in nodes])
    http = httpx.AsyncClient(timeout=httpx.Timeout(20.0))
    phones_all: list[SimPhone] = []
    try:
        async with anyio.create_task_group() as tg:
            for node in nodes:
                tg.start_soon(anyio.to_thread.run_sync, node.start)
        await anyio.to_thread.run_sync(front.start)
        *workers, board_tech = fleet.technicians
        phones = [
            SimPhone(
                tech,
                fleet.orders[tech.key],
                SyncClient(front.base_url, db_path=str(tmp_path / f"{tech.key}.sqlite3"), token=tech.token,
                           transport=httpx.AsyncClient(timeout=httpx.Timeout(20.0))),
            )
            for tech in workers
        ]
        # A phone that talks to node B only, for the board check below.
        node_b_phone = SimPhone(
            board_tech,
            fleet.orders[board_tech.key],
            SyncClient(nodes[1].base_url, db_path=str(tmp_path / "b.sqlite3"), token=board_tech.token,
                       transport=httpx.AsyncClient(timeout=httpx.Timeout(20.0))),
        )
        phones_all = [*phones, node_b_phone]
        failures: dict[str, int] = {}
        killed = anyio.Event()

        async def killer() -> None:
            # Mid-load: once node C has taken pushes and photo chunks, at a random moment after that.
            while not all(served(nodes[2].log_path).values()):
                await anyio.sleep(0.05)
            await anyio.sleep(rng.uniform(0.0, 0.5))
            await anyio.to_thread.run_sync(nodes[2].kill)  # SIGKILL: no shutdown code runs
            killed.set()
            await anyio.sleep(1.0)
            await anyio.to_thread.run_sync(nodes[2].start)

        async def work(phone: SimPhone) -> None:
            prng = random.Random(rng.random())
            for order_id in phone.orders:
                for action in ("accept", "depart", "arrive"):
                    phone.act(action, order_id)
                    err = await phone.sync_once(batch_size=prng.choice([1, 3]))
                    if err is not None:
                        failures[err.code] = failures.get(err.code, 0) + 1
                for i in range(2):
                    phone.step(order_id, f"拍照记录 {i + 1}", [photo(prng)])
                    err = await phone.sync_once(batch_size=2)
                    if err is not None:
                        failures[err.code] = failures.get(err.code, 0) + 1
                        await anyio.sleep(0.1)
                phone.act("complete", order_id)
            await killed.wait()  # keep syncing while the node is down and after it is back
            for _ in range(3):
                phone.step(phone.orders[0], "补充记录")
                if (err := await phone.sync_once(batch_size=5)) is not None:
                    failures[err.code] = failures.get(err.code, 0) + 1
                await anyio.sleep(0.3)

        async with anyio.create_task_group() as tg:
            tg.start_soon(killer)
            for phone in phones:
                tg.start_soon(work, phone)
        assert nodes[2].kills == 1 and all(n.running() for n in nodes)

        # The desk watches the board on node A; a phone pushes a step to node B.
        login = await http.post(nodes[0].base_url + "/api/auth/login",
                                json={"phone": world.phone("desk"), "password": PASSWORD})
        assert login.status_code == 200, login.text
        desk = {"Authorization": f"Bearer {login.json()['token']}"}
        order_b = node_b_phone.orders[0]
        async with http.stream("GET", nodes[0].base_url + "/api/board/events", headers=desk) as r:
            assert r.status_code == 200
            stream = Stream(r.aiter_lines())
            assert (await stream.next())["type"] == "hello"
            node_b_phone.act("accept", order_b)
            node_b_phone.step(order_b, "B 节点记录")
            await node_b_phone.drain(attempts=10, pause=0.1)
            while True:  # other orders' news may come first
                message = await stream.next()
                if message.get("id") == order_b:
                    break
            assert message["status"] == "accepted"

        for phone in phones_all:
            await phone.drain(attempts=60, pause=0.1, batch_size=50)

        s3 = local_s3.client()

        def read_blob(sha: str) -> bytes | None:
            with contextlib.suppress(Exception):
                return s3.get_object(Bucket=bucket, Key=f"field/blobs/{sha[:2]}/{sha[2:4]}/{sha}")["Body"].read()
            return None

        db = Database(url)
        try:
            async with db.reader() as session:
                problems = await check_fleet(session, phones_all, read_blob=read_blob)
        finally:
            await db.dispose()
        assert problems == [], "\n".join([f"seed {seed_value}", *problems])
        partial = s3.list_objects_v2(Bucket=bucket, Prefix="field/partial/").get("KeyCount", 0)
        assert partial == 0  # every upload finished: no chunk left staged

        # Every node served pushes, pulls and photo requests; every node serves every photo.
        for node in nodes:
            counts = served(node.log_path)
            assert all(counts.values()), (node.port, counts)
        sha = next(iter(phones[0].photos))
        token = phones[0].tech.token
        for node in nodes:
            r = await http.get(f"{node.base_url}/api/photos/{sha}/thumb", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", (node.port, r.text[:200])
        assert not any(n.data_dir.joinpath("photos").exists() for n in nodes)  # nothing on a node's disk
    finally:
        for phone in phones_all:
            await phone.client.aclose()
        await http.aclose()
        await anyio.to_thread.run_sync(front.stop)
        for node in nodes:
            await anyio.to_thread.run_sync(node.stop)
