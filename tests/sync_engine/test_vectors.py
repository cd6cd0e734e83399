"""The shared vectors of ``sync/vectors/`` against the engine (the PWA runs the same files in
``pwa/test/vectors.test.mjs``): each case's steps are replayed on a fresh in-memory server, and
every answer must contain what the vector says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sync.protocol import ProtocolError, check_protocol_header
from tests.sync_engine.memory_store import MemoryServer

VECTORS = Path(__file__).resolve().parents[2] / "sync" / "vectors"


def cases(name: str) -> list[pytest.param]:
    data = json.loads((VECTORS / f"{name}.json").read_text())
    return [pytest.param(case, id=case["name"]) for case in data["cases"]]


def contains(actual: Any, expected: Any, where: str = "$") -> None:
    """``expected`` is a subset of ``actual``: dicts by key, lists element by element (same length)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing in {actual!r}"
            contains(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            contains(a, e, f"{where}[{i}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


async def run_step(server: MemoryServer, step: dict, answers: list[dict]) -> dict:
    """One request on the engine: (status, body) as the server would answer it."""
    try:
        if "push" in step:
            req = step["push"]
            result = await server.push(json.dumps(req["body"]).encode(), actor_id=req["as"])
        else:
            req = step["pull"]
            cursor = req.get("cursor")
            if isinstance(cursor, dict):
                cursor = answers[cursor["from_step"]]["body"]["cursor"]
            result = await server.pull(cursor, req["client_id"], req.get("limit"), actor_id=req["as"])
        body = msgspec.to_builtins(result.response(request_id="r", server_time=server.now()))
        return {"status": 200, "body": body}
    except ProtocolError as exc:
        return {"status": exc.status, "body": msgspec.to_builtins(exc.body())}


@pytest.mark.anyio
@pytest.mark.parametrize("case", cases("push") + cases("pull"))
async def test_vector(case: dict) -> None:
    server = MemoryServer(epoch="e1")
    answers: list[dict] = []
    for i, step in enumerate(case["steps"]):
        answer = await run_step(server, step, answers)
        contains(answer, step["answer"], f"step {i}")
        answers.append(answer)


@pytest.mark.parametrize("case", [c for c in cases("transport") if "header" in c.values[0]])
def test_header_vector(case: dict) -> None:
    expected = case["answer"]
    if expected["status"] == 200:
        assert check_protocol_header(case["header"]) >= 1
        return
    with pytest.raises(ProtocolError) as caught:
        check_protocol_header(case["header"])
    contains({"status": caught.value.status, "body": msgspec.to_builtins(caught.value.body())}, expected)


def test_every_vector_names_its_rule() -> None:
    for name in ("push", "pull", "transport"):
        for param in cases(name):
            assert param.values[0]["rule"].startswith("§"), param.id
