"""How many SQL statements one push costs, on each database (SQLAlchemy's ``before_cursor_execute``
hook on the app's engine). On PostgreSQL every statement is a network round trip, so (b) push there
was 0.62x of SQLite's at ~15 statements a push; this keeps the count from creeping back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec
import pytest
from sqlalchemy import event

from tests.test_sync_server import new_order

pytestmark = pytest.mark.anyio


def batch(client_id: str, order_id: str, first_seq: int, n: int) -> bytes:
    now = datetime.now(UTC).isoformat()
    mutations = [
        {
            "seq": seq,
            "id": str(uuid.uuid4()),
            "name": "step.add",
            "args": {
                "id": str(uuid.uuid4()),
                "order_id": order_id,
                "note": f"更换弯头 {seq}",
                "captured_at": now,
                "materials": [{"name": "弯头", "quantity": 1, "unit": "个"}],
                "photos": [],
            },
            "client_time": now,
        }
        for seq in range(first_seq, first_seq + n)
    ]
    return msgspec.json.encode({"client_id": client_id, "client_time": now, "mutations": mutations})


async def test_statements_per_push(api, world, app):
    oid = await new_order(api, world)
    for action in ("accept", "depart", "arrive"):
        r = await api.post("tech_a", f"/api/orders/{oid}/actions/{action}", json={})
        assert r.status_code == 200, r.text
    statements: list[str] = []
    engine = app.state.ctx.db.engine.sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split()[0].upper() + " " + " ".join(statement.split()[1:6]))

    client_id = str(uuid.uuid4())
    headers = {"Content-Type": "application/json"}
    for i in range(3):  # the first push of a device registers it; the later ones are the steady state
        statements.clear()
        r = await api.post(
            "tech_a",
            "/sync/push",
            content=batch(client_id, oid, 1 + 100 * i, 100),
            headers={**headers, "Wuye-Request-Id": str(uuid.uuid4())},
        )
        assert r.status_code == 200, r.text
        assert all(x["status"] == "applied" for x in r.json()["results"])
    event.remove(engine, "before_cursor_execute", seen)
    print("\n".join(statements))
    # Fewer on SQLite, which has no pg_notify and reads the device once. Of these, the device
    # stream's log position (syncing/live.py) is one a commit and the estate's notification policy
    # one a push (read once per session, not once per step).
    assert len(statements) <= 15, statements
