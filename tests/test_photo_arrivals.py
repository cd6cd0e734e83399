"""server/photos/arrivals.py: verified photos recorded several per transaction, each caller answered
only once its own arrival has committed; and the last chunk finishing an upload over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from server.photos.arrivals import ArrivalRecorder
from server.photos.blobstore import BlobInfo
from server.photos.models import Blob
from tests.support.camera_jpegs import camera_jpeg

pytestmark = pytest.mark.anyio


def fake_info(i: int) -> BlobInfo:
    return BlobInfo(hashlib.sha256(f"photo {i}".encode()).hexdigest(), 1000 + i, 64, 48, "image/jpeg")


class CountingRecorder(ArrivalRecorder):
    """Counts its transactions; refuses any transaction holding ``poison``."""

    def __init__(self, *args, poison: str | None = None):
        super().__init__(*args)
        self.transactions: list[int] = []
        self.poison = poison

    async def _write(self, infos: Sequence[BlobInfo]) -> None:
        self.transactions.append(len(infos))
        if any(info.sha256 == self.poison for info in infos):
            raise RuntimeError("this arrival cannot be written")
        await super()._write(infos)


async def recorded(database, infos: Sequence[BlobInfo]) -> int:
    async with database.reader() as s:
        return await s.scalar(select(func.count()).select_from(Blob).where(Blob.sha256.in_([i.sha256 for i in infos])))


async def test_arrivals_queued_together_share_one_transaction(database, clock):
    recorder = CountingRecorder(database, clock)
    infos = [fake_info(i) for i in range(10)]
    await asyncio.gather(*(recorder.record(info) for info in infos))
    assert await recorded(database, infos) == 10
    assert sum(recorder.transactions) == 10 and len(recorder.transactions) < 10
    await recorder.record(infos[0])  # recorded again: a no-op, no error
    assert await recorded(database, infos) == 10


async def test_a_failing_arrival_fails_only_its_own_caller(database, clock):
    infos = [fake_info(i) for i in range(5)]
    recorder = CountingRecorder(database, clock, poison=infos[2].sha256)
    results = await asyncio.gather(*(recorder.record(info) for info in infos), return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["NoneType", "NoneType", "RuntimeError", "NoneType", "NoneType"]
    assert await recorded(database, infos[:2] + infos[3:]) == 4
    assert await recorded(database, [infos[2]]) == 0


async def test_a_caller_that_goes_away_does_not_cancel_the_write(database, clock):
    recorder = CountingRecorder(database, clock)
    info = fake_info(99)
    caller = asyncio.ensure_future(recorder.record(info))
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    for _ in range(200):
        if await recorded(database, [info]):
            break
        await asyncio.sleep(0.01)
    assert await recorded(database, [info]) == 1


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Wuye-Protocol": "1", "Wuye-Request-Id": str(uuid.uuid4())}


async def test_the_last_chunk_finishes_the_upload_over_http(api, world, database):
    token = await api.token("tech_a")
    photo = camera_jpeg((640, 480), 1)
    sha = hashlib.sha256(photo).hexdigest()
    path = f"/sync/blobs/{sha}"
    half = len(photo) // 2
    r = await api.client.put(path, params={"offset": 0}, content=photo[:half], headers=headers(token))
    assert r.status_code == 200 and r.json()["offset"] == half
    assert await recorded(database, [BlobInfo(sha, 0, 0, 0, "")]) == 0

    wrong = await api.client.put(path, params={"offset": 0, "finish": "true"}, content=photo, headers=headers(token))
    assert wrong.status_code == 409 and wrong.json()["details"] == {"offset": half}

    r = await api.client.put(
        path, params={"offset": half, "finish": "true"}, content=photo[half:], headers=headers(token)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["complete"], body["sha256"], body["size"], body["width"], body["height"]) == (
        True, sha, len(photo), 640, 480,
    )  # fmt: skip
    assert await recorded(database, [BlobInfo(sha, 0, 0, 0, "")]) == 1
    status = (await api.client.get(path, headers=headers(token))).json()
    assert status["complete"] is True and status["size"] == len(photo)


async def test_a_finishing_chunk_that_is_not_an_image_or_has_another_hash_is_refused(api, world, database):
    token = await api.token("tech_a")
    text = b"%PDF-1.4 definitely not a photo"
    r = await api.client.put(
        f"/sync/blobs/{hashlib.sha256(text).hexdigest()}",
        params={"offset": 0, "finish": "true"},
        content=text,
        headers=headers(token),
    )
    assert r.status_code == 415 and r.json()["code"] == "not_an_image"
    wrong = "0" * 64
    r = await api.client.put(
        f"/sync/blobs/{wrong}",
        params={"offset": 0, "finish": "true"},
        content=camera_jpeg((64, 48), 1),
        headers=headers(token),
    )
    assert r.status_code == 422 and r.json()["code"] == "hash_mismatch"
    assert (await api.client.get(f"/sync/blobs/{wrong}", headers=headers(token))).json()["offset"] == 0
    r = await api.client.put(
        f"/sync/blobs/{wrong}", params={"offset": 0, "finish": "maybe"}, content=b"x", headers=headers(token)
    )
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.text
    async with database.reader() as s:
        assert await s.scalar(select(func.count()).select_from(Blob)) == 0
