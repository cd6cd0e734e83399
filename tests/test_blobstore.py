"""The blob store: resumable, verified, content-addressed photo uploads (sync/PROTOCOL.md §6), on
both backends: the local disk and S3-compatible object storage (a local moto server, see
tests/support/s3_server.py). Every test taking ``backend``/``store`` runs on each."""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import os
import stat
import threading
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.errors import DomainError
from server.photos.blobstore import BlobStatus, BlobStore
from server.photos.s3blobs import S3BlobStore
from tests.support.camera_jpegs import (
    bomb_png,
    camera_jpeg,
    gif_bytes,
    not_an_image_bytes,
    png_bytes,
    truncated_jpeg,
)
from tests.support.live_server import free_port
from tests.support.s3_server import LocalS3

PHOTO = camera_jpeg((320, 240), 6)  # ~30 KB of realistic JPEG
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()

Store = BlobStore | S3BlobStore


def sha_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(store: Store, data: bytes, chunk: int = 4096) -> str:
    sha = sha_of(data)
    offset = 0
    while offset < len(data):
        offset = store.append(sha, offset, data[offset : offset + chunk])
    return sha


def refused(exc: pytest.ExceptionInfo[DomainError], code: str, status: int) -> DomainError:
    assert (exc.value.code, exc.value.status) == (code, status)
    return exc.value


class Backend:
    """Makes stores of one kind and looks at what they hold, as each kind keeps it."""

    def __init__(self, kind: str, tmp_path: Path, s3: LocalS3 | None) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.s3 = s3
        self.bucket = s3.new_bucket() if s3 is not None else ""

    def make(self, **limits) -> Store:
        """A new, empty store."""
        name = uuid.uuid4().hex[:8]
        if self.s3 is None:
            return BlobStore(self.tmp_path / name, **limits)
        return S3BlobStore(self.s3.location(self.bucket, f"t/{name}"), **limits)

    def reopen(self, store: Store) -> Store:
        """Another instance on the same storage (a restarted process, another node)."""
        limits = {"max_bytes": store.max_bytes, "max_pixels": store.max_pixels, "chunk_limit": store.chunk_limit}
        if isinstance(store, BlobStore):
            return BlobStore(store.root, **limits)
        return S3BlobStore(store.location, **limits)

    def _keys(self, store: S3BlobStore, under: str) -> list[str]:
        base = f"{store.prefix}{under}/"
        return [obj["Key"][len(base) :] for obj in store._list(base)]

    def blobs(self, store: Store) -> list[str]:
        """Names of the complete blobs held."""
        if isinstance(store, BlobStore):
            return sorted(p.name for p in (store.root / "blobs").rglob("*") if p.is_file())
        return sorted(k.rsplit("/", 1)[-1] for k in self._keys(store, "blobs"))

    def partials(self, store: Store) -> list[str]:
        """Hashes with upload data staged (chunks not yet a blob)."""
        if isinstance(store, BlobStore):
            return sorted(p.name for p in (store.root / "partial").iterdir())
        return sorted({k.split("/", 1)[0] for k in self._keys(store, "partial")})

    def flip_a_byte(self, store: Store, sha: str) -> None:
        """Bit rot or tampering in the stored blob."""
        if isinstance(store, BlobStore):
            path = store.path(sha)
            os.chmod(path, 0o644)
            data = bytearray(path.read_bytes())
            data[-100] ^= 0x10
            path.write_bytes(bytes(data))
            return
        data = bytearray(store.read(sha))
        data[-100] ^= 0x10
        store.client.put_object(Bucket=store.bucket, Key=store._final(sha), Body=bytes(data))


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    s3 = request.getfixturevalue("local_s3") if request.param == "s3" else None
    return Backend(request.param, tmp_path, s3)


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.make()


# -- resumable uploads ------------------------------------------------------------------------------


@st.composite
def upload_plans(draw: st.DrawFn) -> tuple[list[int], list[str]]:
    """Chunk boundaries of PHOTO and, per chunk, what goes wrong around it."""
    cuts = draw(st.lists(st.integers(1, len(PHOTO) - 1), max_size=24, unique=True))
    bounds = [0, *sorted(cuts), len(PHOTO)]
    events = draw(
        st.lists(
            st.sampled_from(["ok", "lost_ack", "resend_old", "restart", "status", "ahead"]),
            min_size=len(bounds) - 1,
            max_size=len(bounds) - 1,
        )
    )
    return bounds, events


# A fresh store per example: backend.make() (the fixture only says which kind). Fewer examples on
# object storage: each chunk is several round trips to the S3 server.
_PLANS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]}


@settings(max_examples=60, **_PLANS)
@given(plan=upload_plans())
def test_interrupted_upload_resumes_to_the_right_hash(tmp_path: Path, plan: tuple[list[int], list[str]]) -> None:
    resume_per_plan(Backend("local", tmp_path, None), plan)


@settings(max_examples=8, **_PLANS)
@given(plan=upload_plans())
def test_interrupted_upload_resumes_to_the_right_hash_on_object_storage(
    tmp_path: Path, local_s3: LocalS3, plan: tuple[list[int], list[str]]
) -> None:
    resume_per_plan(Backend("s3", tmp_path, local_s3), plan)


def resume_per_plan(backend: Backend, plan: tuple[list[int], list[str]]) -> None:
    bounds, events = plan
    store = backend.make()
    offset = 0  # what the client believes the server holds
    for (start, end), event in zip(zip(bounds, bounds[1:], strict=False), events, strict=True):
        assert start == offset
        if event == "resend_old" and offset > 0:
            # A retried request that already succeeded arrives late: refused, right offset given.
            with pytest.raises(DomainError) as exc:
                store.append(PHOTO_SHA, 0, PHOTO[: min(offset, 100)])
            assert refused(exc, "wrong_offset", 409).details == {"offset": offset}
        if event == "ahead":
            with pytest.raises(DomainError) as exc:
                store.append(PHOTO_SHA, offset + 1, PHOTO[offset + 1 : end])
            assert refused(exc, "wrong_offset", 409).details == {"offset": offset}
        if event == "restart":  # server process restarted between chunks (or the next chunk went to another node)
            store = backend.reopen(store)
        new_offset = store.append(PHOTO_SHA, offset, PHOTO[start:end])
        assert new_offset == end
        if event == "lost_ack":  # the response never reached the phone: it asks again
            new_offset = store.status(PHOTO_SHA).offset
        if event == "status":
            assert store.status(PHOTO_SHA) == BlobStatus(complete=False, size=0, offset=end)
        offset = new_offset
    info = store.finish(PHOTO_SHA)
    assert (info.sha256, info.size, info.width, info.height) == (PHOTO_SHA, len(PHOTO), 320, 240)
    assert info.content_type == "image/jpeg"
    assert store.status(PHOTO_SHA) == BlobStatus(complete=True, size=len(PHOTO), offset=len(PHOTO))
    assert store.read(PHOTO_SHA) == PHOTO
    assert backend.partials(store) == []


def test_status_now_answers_without_waiting_or_says_it_would_wait(tmp_path: Path, local_s3: LocalS3) -> None:
    # Object storage never answers without a round trip: the caller asks status() in a thread.
    assert S3BlobStore(local_s3.location(local_s3.new_bucket())).status_now(PHOTO_SHA) is None
    store = BlobStore(tmp_path)
    assert store.status_now(PHOTO_SHA) == BlobStatus(complete=False, size=0, offset=0)
    store.append(PHOTO_SHA, 0, PHOTO[:1000])
    assert store.status_now(PHOTO_SHA) == store.status(PHOTO_SHA) == BlobStatus(complete=False, size=0, offset=1000)
    with store._lock(PHOTO_SHA):  # an append or finish of the same stripe is under way
        assert store.status_now(PHOTO_SHA) is None
    store.append_and_finish(PHOTO_SHA, 1000, PHOTO[1000:])
    assert store.status_now(PHOTO_SHA) == BlobStatus(complete=True, size=len(PHOTO), offset=len(PHOTO))


def test_status_of_an_unknown_blob_is_offset_zero(store: BlobStore) -> None:
    assert store.status(PHOTO_SHA) == BlobStatus(complete=False, size=0, offset=0)


def test_wrong_offset_is_409_with_the_right_offset(backend: Backend, store: Store) -> None:
    with pytest.raises(DomainError) as exc:
        store.append(PHOTO_SHA, 10, PHOTO[10:20])
    assert refused(exc, "wrong_offset", 409).details == {"offset": 0}
    assert backend.partials(store) == []  # a refused first chunk leaves nothing

    store.append(PHOTO_SHA, 0, PHOTO[:1000])
    for bad in (0, 999, 1001, -1):
        with pytest.raises(DomainError) as exc:
            store.append(PHOTO_SHA, bad, PHOTO[1000:2000])
        assert refused(exc, "wrong_offset", 409).details == {"offset": 1000}
    assert store.status(PHOTO_SHA).offset == 1000


def test_corrupted_chunk_is_422_on_finish_and_the_partial_is_discarded(backend: Backend, store: Store) -> None:
    damaged = bytearray(PHOTO)
    damaged[len(PHOTO) // 2] ^= 0x01
    offset = 0
    while offset < len(damaged):
        offset = store.append(PHOTO_SHA, offset, bytes(damaged[offset : offset + 4096]))
    with pytest.raises(DomainError) as exc:
        store.finish(PHOTO_SHA)
    err = refused(exc, "hash_mismatch", 422)
    assert err.details["offset"] == 0
    assert err.details["received_sha256"] == sha_of(bytes(damaged))
    assert store.status(PHOTO_SHA) == BlobStatus(complete=False, size=0, offset=0)
    assert backend.partials(store) == []
    # Starting again at 0 with the right bytes succeeds.
    upload(store, PHOTO)
    assert store.finish(PHOTO_SHA).size == len(PHOTO)


def test_resumed_upload_with_different_bytes_is_422(store: BlobStore) -> None:
    # The phone re-encoded the photo between attempts: the first half came from other bytes.
    first_attempt = camera_jpeg((320, 240), 6)
    assert first_attempt[:2000] != PHOTO[:2000]
    half = len(PHOTO) // 2
    store.append(PHOTO_SHA, 0, first_attempt[:half])
    assert store.status(PHOTO_SHA).offset == half
    store.append(PHOTO_SHA, half, PHOTO[half:])
    with pytest.raises(DomainError) as exc:
        store.finish(PHOTO_SHA)
    refused(exc, "hash_mismatch", 422)
    assert store.status(PHOTO_SHA).offset == 0
    with pytest.raises(DomainError) as exc:
        store.read(PHOTO_SHA)
    refused(exc, "not_found", 404)


def test_the_last_chunk_can_finish_the_upload(backend: Backend, store: Store) -> None:
    half = len(PHOTO) // 2
    store.append(PHOTO_SHA, 0, PHOTO[:half])
    info = store.append_and_finish(PHOTO_SHA, half, PHOTO[half:])
    assert (info.sha256, info.size, info.content_type) == (PHOTO_SHA, len(PHOTO), "image/jpeg")
    assert store.read(PHOTO_SHA) == PHOTO
    assert backend.partials(store) == []
    # Sent again (its answer was lost): the blob is complete, the chunk is moot.
    assert store.append_and_finish(PHOTO_SHA, half, PHOTO[half:]) == info
    assert store.append_and_finish(PHOTO_SHA, 0, PHOTO) == info


def test_a_finishing_chunk_at_the_wrong_offset_is_409_and_finishes_nothing(store: BlobStore) -> None:
    store.append(PHOTO_SHA, 0, PHOTO[:1000])
    with pytest.raises(DomainError) as exc:
        store.append_and_finish(PHOTO_SHA, 500, PHOTO[500:])
    assert refused(exc, "wrong_offset", 409).details == {"offset": 1000}
    assert store.status(PHOTO_SHA) == BlobStatus(complete=False, size=0, offset=1000)


def test_a_finishing_chunk_with_bad_bytes_is_422_or_415_and_discards_the_partial(
    backend: Backend, store: Store
) -> None:
    damaged = bytearray(PHOTO)
    damaged[-100] ^= 0x01
    store.append(PHOTO_SHA, 0, PHOTO[:1000])
    with pytest.raises(DomainError) as exc:
        store.append_and_finish(PHOTO_SHA, 1000, bytes(damaged[1000:]))
    refused(exc, "hash_mismatch", 422)
    assert store.status(PHOTO_SHA).offset == 0
    text = b"not a photo at all"
    with pytest.raises(DomainError) as exc:
        store.append_and_finish(sha_of(text), 0, text)
    refused(exc, "not_an_image", 415)
    assert backend.partials(store) == []
    assert backend.blobs(store) == []


def test_finish_without_any_bytes_asks_for_offset_zero(store: BlobStore) -> None:
    with pytest.raises(DomainError) as exc:
        store.finish(PHOTO_SHA)
    assert refused(exc, "hash_mismatch", 422).details == {"offset": 0}


def test_complete_upload_is_durable_and_named_by_hash(backend: Backend, store: Store) -> None:
    upload(store, PHOTO)
    info = store.finish(PHOTO_SHA)
    if isinstance(store, BlobStore):
        path = store.path(PHOTO_SHA)
        assert path == store.root / "blobs" / PHOTO_SHA[:2] / PHOTO_SHA[2:4] / PHOTO_SHA
        assert stat.S_IMODE(path.stat().st_mode) & 0o222 == 0
    assert backend.blobs(store) == [PHOTO_SHA]
    assert store.info(PHOTO_SHA) == info
    assert backend.reopen(store).info(PHOTO_SHA) == info  # nothing lives only in memory
    assert store.read(PHOTO_SHA) == PHOTO
    assert store.verify(PHOTO_SHA)


# -- dedupe ------------------------------------------------------------------------------------------


def test_identical_bytes_are_stored_once(backend: Backend, store: Store) -> None:
    upload(store, PHOTO)
    first = store.finish(PHOTO_SHA)
    assert store.finish(PHOTO_SHA) == first  # a repeated finish (lost response) answers the same
    # The same photo again, from another phone: already complete, nothing is written.
    assert store.status(PHOTO_SHA).complete
    assert store.append(PHOTO_SHA, 0, PHOTO[:4096]) == len(PHOTO)
    assert backend.partials(store) == []
    assert store.put(PHOTO) == first
    assert backend.blobs(store) == [PHOTO_SHA]


def test_put_stores_once_and_supersedes_a_pending_resumable_upload(backend: Backend, store: Store) -> None:
    store.append(PHOTO_SHA, 0, PHOTO[:5000])
    info = store.put(PHOTO)
    assert info.sha256 == PHOTO_SHA
    assert store.put(PHOTO) == info
    assert backend.blobs(store) == [PHOTO_SHA]
    assert backend.partials(store) == []
    assert store.status(PHOTO_SHA) == BlobStatus(complete=True, size=len(PHOTO), offset=len(PHOTO))


def test_put_reports_png_dimensions_and_type(store: BlobStore) -> None:
    info = store.put(png_bytes((33, 17)))
    assert (info.width, info.height, info.content_type) == (33, 17, "image/png")


# -- refusals --------------------------------------------------------------------------------------


NON_IMAGES = [not_an_image_bytes(), truncated_jpeg(), gif_bytes(), b"", b"%PDF-1.7\n"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (not_an_image_bytes(), "unsupported"),
        (truncated_jpeg(), "incomplete"),
        (gif_bytes(), "unsupported"),
        (b"", "unsupported"),
        (b"%PDF-1.7\n", "unsupported"),
    ],
    ids=["fake-jpeg", "truncated-jpeg", "gif", "empty", "pdf"],
)
def test_an_unusable_image_says_whether_it_is_incomplete_or_unsupported(store: BlobStore, data: bytes, problem) -> None:
    with pytest.raises(DomainError) as exc:
        store.put(data)
    assert refused(exc, "not_an_image", 415).details == {"problem": problem}


@pytest.mark.parametrize("data", NON_IMAGES, ids=["fake-jpeg", "truncated-jpeg", "gif", "empty", "pdf"])
def test_non_images_are_415_and_discarded(backend: Backend, store: Store, data: bytes) -> None:
    sha = sha_of(data)
    store.append(sha, 0, data)
    with pytest.raises(DomainError) as exc:
        store.finish(sha)
    refused(exc, "not_an_image", 415)
    assert store.status(sha).offset == 0
    assert backend.blobs(store) == backend.partials(store) == []
    with pytest.raises(DomainError) as exc:
        store.put(data)
    refused(exc, "not_an_image", 415)
    assert backend.blobs(store) == []


@pytest.mark.parametrize(
    ("bomb", "max_pixels"),
    [
        (bomb_png(50_000, 50_000), 40_000_000),  # Pillow itself refuses: DecompressionBombError
        (bomb_png(7_000, 7_000, real_rows=True), 40_000_000),  # 49 MB of pixels from a ~50 KB file
        (png_bytes((1200, 1000)), 1_000_000),  # an honest image over this store's limit
    ],
    ids=["declared-2.5Gpx", "deflate-49Mpx", "over-max-pixels"],
)
def test_decompression_bombs_are_413(backend: Backend, bomb: bytes, max_pixels: int) -> None:
    store = backend.make(max_pixels=max_pixels)
    sha = sha_of(bomb)
    upload(store, bomb, chunk=2**20)
    with pytest.raises(DomainError) as exc:
        store.finish(sha)
    refused(exc, "blob_too_large", 413)
    assert store.status(sha).offset == 0
    with pytest.raises(DomainError) as exc:
        store.put(bomb)
    refused(exc, "blob_too_large", 413)
    assert backend.blobs(store) == backend.partials(store) == []


def test_oversize_chunk_is_413_and_keeps_the_partial(backend: Backend) -> None:
    store = backend.make(chunk_limit=1000)
    store.append(PHOTO_SHA, 0, PHOTO[:1000])
    with pytest.raises(DomainError) as exc:
        store.append(PHOTO_SHA, 1000, PHOTO[1000:2001])
    refused(exc, "blob_too_large", 413)
    assert store.status(PHOTO_SHA).offset == 1000


def test_oversize_total_is_413_and_discards_the_partial(backend: Backend) -> None:
    store = backend.make(max_bytes=len(PHOTO) - 1)
    offset = store.append(PHOTO_SHA, 0, PHOTO[:10_000])
    with pytest.raises(DomainError) as exc:
        store.append(PHOTO_SHA, offset, PHOTO[offset:])
    refused(exc, "blob_too_large", 413)
    assert store.status(PHOTO_SHA).offset == 0
    assert backend.partials(store) == []
    with pytest.raises(DomainError) as exc:
        store.put(PHOTO)
    refused(exc, "blob_too_large", 413)


@pytest.mark.parametrize(
    "bad",
    [
        PHOTO_SHA.upper(),
        PHOTO_SHA[:63],
        PHOTO_SHA + "0",
        "g" * 64,
        "../" + PHOTO_SHA[3:],
        "",
        " " + PHOTO_SHA[1:],
    ],
    # Stable ids: the photo is drawn afresh in each process, and xdist workers must collect alike.
    ids=["upper-case", "63-chars", "65-chars", "not-hex", "path-traversal", "empty", "leading-space"],
)
def test_invalid_hash_is_400_everywhere(backend: Backend, store: Store, bad: str) -> None:
    calls = [
        lambda: store.status(bad),
        lambda: store.status_now(bad),
        lambda: store.append(bad, 0, b"x"),
        lambda: store.finish(bad),
        lambda: store.append_and_finish(bad, 0, b"x"),
        lambda: store.read(bad),
        lambda: store.source(bad),
        lambda: store.info(bad),
        lambda: store.verify(bad),
    ]
    for call in calls:
        with pytest.raises(DomainError) as exc:
            call()
        refused(exc, "invalid_hash", 400)
    assert backend.partials(store) == []


def test_unknown_blob_is_404(store: Store) -> None:
    for call in (store.read, store.source, store.info, store.verify):
        with pytest.raises(DomainError) as exc:
            call(PHOTO_SHA)
        refused(exc, "not_found", 404)


# -- concurrency -----------------------------------------------------------------------------------


def race_upload(store: Store, data: bytes, chunk: int, start: threading.Barrier | None = None) -> list[int]:
    """Upload like an impatient phone: ask the offset, send from there; return the accepted lengths."""
    sha = sha_of(data)
    accepted: list[int] = []
    if start is not None:
        start.wait()
    while not (now := store.status(sha)).complete and now.offset < len(data):
        try:
            new = store.append(sha, now.offset, data[now.offset : now.offset + chunk])
        except DomainError as exc:
            assert exc.code == "wrong_offset"
            continue
        accepted.append(new - now.offset)
    return accepted


def test_concurrent_appends_from_threads_do_not_corrupt(backend: Backend) -> None:
    n = 6
    first = backend.make()
    stores = [backend.reopen(first) for _ in range(n)]  # like as many nodes
    start = threading.Barrier(n)
    results: list[list[int]] = [[] for _ in range(n)]

    def worker(i: int) -> None:
        results[i] = race_upload(stores[i], PHOTO, 1024, start)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Every byte was accepted exactly once: no two writers wrote the same offset.
    assert sum(sum(r) for r in results) == len(PHOTO)
    assert backend.reopen(first).finish(PHOTO_SHA).size == len(PHOTO)
    assert first.read(PHOTO_SHA) == PHOTO


def _process_upload(backend: Backend, first: Store, data: bytes, queue: multiprocessing.Queue) -> None:
    queue.put(sum(race_upload(backend.reopen(first), data, 512)))  # its own client, after the fork


def test_concurrent_appends_from_processes_do_not_corrupt(backend: Backend) -> None:
    first = backend.make()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_process_upload, args=(backend, first, PHOTO, queue)) for _ in range(3)]
    for p in procs:
        p.start()
    totals = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sum(totals) == len(PHOTO)
    assert backend.reopen(first).finish(PHOTO_SHA).sha256 == PHOTO_SHA


def test_concurrent_finishes_store_once(backend: Backend) -> None:
    store = backend.make()
    upload(store, PHOTO)
    start = threading.Barrier(4)
    infos = []
    stores = [backend.reopen(store) for _ in range(4)]

    def worker(i: int) -> None:
        start.wait()
        infos.append(stores[i].finish(PHOTO_SHA))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(infos) == 4 and len(set(infos)) == 1
    assert backend.blobs(store) == [PHOTO_SHA]
    assert backend.partials(store) == []


# -- tamper detection ------------------------------------------------------------------------------


def test_verify_detects_a_flipped_byte(backend: Backend, store: Store) -> None:
    info = store.put(PHOTO)
    assert store.verify(info.sha256)
    backend.flip_a_byte(store, info.sha256)
    assert not store.verify(info.sha256)


# -- abandoned uploads -----------------------------------------------------------------------------


def test_abandoned_partials_are_collected_and_live_ones_kept(backend: Backend, store: Store) -> None:
    other = camera_jpeg((160, 120), 3)
    store.append(PHOTO_SHA, 0, PHOTO[:1000])
    store.append(sha_of(other), 0, other[:1000])
    assert store.collect_partials(older_than=3600) == 0  # both were added to just now
    assert backend.partials(store) == sorted([PHOTO_SHA, sha_of(other)])
    assert store.collect_partials(older_than=-60) == 2  # as if an hour had passed since
    assert backend.partials(store) == []
    assert store.status(PHOTO_SHA).offset == 0
    upload(store, PHOTO)  # the phone that comes back starts again at 0
    assert store.finish(PHOTO_SHA).size == len(PHOTO)


# -- object storage out of reach ---------------------------------------------------------------------


def test_object_storage_out_of_reach_is_503_unavailable_and_acknowledges_nothing(local_s3: LocalS3) -> None:
    location = local_s3.location(local_s3.new_bucket(), "p")
    refused_key = S3BlobStore(dataclasses.replace(location, secret_key="not-the-secret"))
    nobody_there = S3BlobStore(dataclasses.replace(location, endpoint_url=f"http://127.0.0.1:{free_port()}"))
    # Every call starts with a HEAD, whose refusal has no body: S3 says only 403.
    for store, why in ((refused_key, "403"), (nobody_there, "EndpointConnectionError")):
        calls = [
            (store.status, (PHOTO_SHA,)),
            (store.append, (PHOTO_SHA, 0, PHOTO[:1000])),
            (store.finish, (PHOTO_SHA,)),
            (store.put, (PHOTO,)),
            (store.info, (PHOTO_SHA,)),
        ]
        for call, args in calls:
            with pytest.raises(DomainError) as exc:
                call(*args)
            assert refused(exc, "unavailable", 503).details == {"storage": why}
    assert S3BlobStore(location).status(PHOTO_SHA) == BlobStatus(complete=False, size=0, offset=0)
