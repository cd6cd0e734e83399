"""Helpers shared by the walk tests: raw pushes with a chosen device clock, pulls, and walk scripts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from server.orders.kpi import CHINA
from sync.client import SyncClient

BASE = "http://testserver.local"


def local(day: str, hhmm: str) -> datetime:
    """A China-time instant, e.g. local("2026-11-23", "07:10")."""
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=CHINA)


def iso(dt: datetime) -> str:
    return dt.isoformat()


class Device:
    """One phone: its own client_id and seq counter; pushes through the real /sync/push."""

    def __init__(self, api, key: str, *, skew: timedelta = timedelta(0)):
        self.api, self.key, self.skew = api, key, skew
        self.client_id = str(uuid.uuid4())
        self.seq = 0
        self.sent: list[dict] = []

    def mutation(self, name: str, args: dict, *, at: datetime | None = None) -> dict:
        self.seq += 1
        when = at or self.device_now()
        return {"seq": self.seq, "id": str(uuid.uuid4()), "name": name, "args": args, "client_time": iso(when)}

    def device_now(self) -> datetime:
        return self.api.client.app.state.ctx.clock.now() - self.skew

    async def push(self, *mutations: dict, client_time: datetime | None = None) -> list[dict]:
        body = {
            "client_id": self.client_id,
            "client_time": iso(client_time or self.device_now()),
            "mutations": list(mutations),
        }
        self.sent = list(mutations)
        r = await self.api.client.post(
            "/sync/push",
            json=body,
            headers={**await self.api.headers(self.key), "Wuye-Request-Id": str(uuid.uuid4())},
        )
        assert r.status_code == 200, r.text
        return r.json()["results"]

    async def resend(self) -> list[dict]:
        body = {"client_id": self.client_id, "client_time": iso(self.device_now()), "mutations": self.sent}
        r = await self.api.client.post(
            "/sync/push",
            json=body,
            headers={**await self.api.headers(self.key), "Wuye-Request-Id": str(uuid.uuid4())},
        )
        assert r.status_code == 200, r.text
        return r.json()["results"]


async def phone(api, key, tmp_path, name=None) -> SyncClient:
    return SyncClient(
        BASE,
        db_path=str(tmp_path / f"{name or key}-{uuid.uuid4().hex[:6]}.sqlite3"),
        token=await api.token(key),
        transport=api.client,
        now=lambda: api.client.app.state.ctx.clock.now(),
    )


async def pulled(api, key, tmp_path) -> SyncClient:
    device = await phone(api, key, tmp_path)
    await device.pull()
    return device


def answers(checkpoint, *, failed: dict[str, str] | None = None) -> list[dict]:
    """All items ok except those in ``failed`` (item key → note)."""
    failed = failed or {}
    return [
        {"item": i["key"], "ok": i["key"] not in failed, **({"note": failed[i["key"]]} if i["key"] in failed else {})}
        for i in checkpoint.checklist
    ]


def visit_args(walk_id: str, checkpoint, at: datetime, **kw) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "walk_id": walk_id,
        "checkpoint_id": str(checkpoint.id),
        "method": kw.pop("method", "scan"),
        "visited_at": iso(at),
        "answers": kw.pop("answers", None) or answers(checkpoint),
        **kw,
    }


def statuses(results: list[dict]) -> list[tuple[str, str | None]]:
    return [(r["status"], r.get("code")) for r in results]
