"""The photo vectors of ``sync/vectors/blobs.json`` (PROTOCOL.md §6) against the real server over
HTTP; the PWA runs the same file in ``pwa/test/vectors.test.mjs``. (The push and pull vectors run on
the engine: ``tests/sync_engine/test_vectors.py``.)"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path

import pytest

from tests.sync_engine.test_vectors import contains

pytestmark = pytest.mark.anyio

DOC = json.loads((Path(__file__).resolve().parents[1] / "sync" / "vectors" / "blobs.json").read_text())
BLOBS = {key: base64.b64decode(value) for key, value in DOC["blobs"].items()}


@pytest.mark.parametrize("case", [pytest.param(c, id=c["name"]) for c in DOC["cases"]])
async def test_blob_vector(api, world, case):
    token = await api.token("tech_a")
    name = case.get("blob_name") or hashlib.sha256(BLOBS[case["blob"]]).hexdigest()
    for i, step in enumerate(case["steps"]):
        req = step["request"]
        headers = {"Authorization": f"Bearer {token}", "Wuye-Protocol": "1", "Wuye-Request-Id": str(uuid.uuid4())}
        url = f"/sync/blobs/{name}{req.get('suffix', '')}"
        if req["method"] == "PUT":
            send = req["send"]
            first, last = send["range"]
            body = BLOBS[send.get("blob", case["blob"])][first:last]
            headers["Content-Type"] = "application/octet-stream"
            r = await api.client.put(url, params=req["query"], content=body, headers=headers)
        else:
            r = await api.client.request(req["method"], url, headers=headers)
        contains({"status": r.status_code, "body": r.json()}, step["answer"], f"step {i}")
