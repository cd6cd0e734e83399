"""The real server as a subprocess: ``wuye serve`` (uvicorn) on a free 127.0.0.1 port.

Used by the crash test and the benchmarks. A :class:`LiveServer` can be SIGKILLed at any moment and
restarted on the same port, data directory and database, exactly as an operator's supervisor would.

    url = prepare_database("sqlite+aiosqlite:////tmp/x.sqlite3")      # migrations
    world, fleet = asyncio.run(seed(url, phones=4, orders_each=3))   # build_world + technicians
    with LiveServer(url, data_dir) as server:                          # started, /healthz answered
        ...  server.base_url ...
        server.kill()                                                  # SIGKILL, no clean-up at all
        server.start()                                                 # same port, same data

Only loopback, only processes this module started; ``stop()`` (and leaving the ``with``) always
reaps the child.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from server.clock import Clock
from server.db.engine import Database
from server.db.migrate import upgrade
from tests.support.simulator import Fleet, seed_fleet
from tests.support.world import World, build_world

REPO = Path(__file__).resolve().parents[2]
SECRET = "live-server-secret-" + "x" * 24


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(url: str) -> str:
    """Run the migrations on ``url`` (a new SQLite file is created); returns the URL."""
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    return url


async def seed(url: str, *, phones: int = 0, orders_each: int = 0, clock: Clock | None = None) -> tuple[World, Fleet]:
    """``build_world`` plus ``phones`` technicians with tokens and ``orders_each`` dispatched orders each,
    committed through a :class:`Database` of this process (disposed before returning)."""
    clock = clock or Clock()
    db = Database(url)
    try:
        async with db.writer() as session:
            world = await build_world(session, clock)
            fleet = await seed_fleet(session, world, clock, phones=phones, orders_each=orders_each)
            await session.commit()
    finally:
        await db.dispose()
    return world, fleet


def _wuye_command() -> list[str]:
    exe = Path(sys.executable).with_name("wuye")
    if exe.is_file():
        return [str(exe)]
    return [sys.executable, "-c", "from server.cli import main; main()"]


class LiveServer:
    """``wuye serve --host 127.0.0.1 --port <port> --workers <n>`` against ``database_url`` / ``data_dir``."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        *,
        port: int | None = None,
        workers: int = 1,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
        startup_timeout: float = 30.0,
    ):
        self.database_url = database_url
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.workers = workers
        self.extra_env = dict(env or {})
        self.log_path = Path(log_path) if log_path else self.data_dir.parent / f"server-{self.port}.log"
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.kills = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WUYE_")}
        env.update(
            WUYE_DATABASE_URL=self.database_url,
            WUYE_DATA_DIR=str(self.data_dir),
            WUYE_BASE_URL=self.base_url,
            WUYE_SECRET=SECRET,
            WUYE_BACKGROUND_JOBS="0",
            WUYE_PASSWORD_LOG2N="14",  # the test cost (tests/support/world.py TEST_LOG2_N)
            PYTHONUNBUFFERED="1",
        )
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        """Start the process and wait until ``/healthz`` answers 200 (raises if it does not)."""
        if self.running():
            raise RuntimeError("the server is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self.proc = subprocess.Popen(
                [*_wuye_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers)],
                cwd=REPO,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches uvicorn's workers too
            )
        finally:
            log.close()
        self.starts += 1
        self.wait_healthy()

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc and self.proc.returncode}; log:\n{self.tail()}")
            try:
                r = httpx.get(self.base_url + "/healthz", timeout=2.0)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server not healthy after {self.startup_timeout} s ({last}); log:\n{self.tail()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the server's process group (SIGKILL: no shutdown code runs) and reap it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            if sig == signal.SIGKILL:
                self.kills += 1
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        """Graceful stop (SIGTERM), SIGKILL if it hangs."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def remove_sqlite(url: str) -> None:
    """Delete a SQLite database file and its WAL/SHM companions."""
    path = Path(url.split("///", 1)[1])
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
