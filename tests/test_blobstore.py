"""BlobStore: resumable, verified, content-addressed photo uploads (sync/PROTOCOL.md §6)."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.errors import DomainError
from server.photos.blobstore import BlobStatus, BlobStore
from tests.support.camera_jpegs import (
    bomb_png,
    camera_jpeg,
    gif_bytes,
    not_an_image_bytes,
    png_bytes,
    truncated_jpeg,
)

PHOTO = camera_jpeg((320, 240), 6)  # ~30 KB of realistic JPEG
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()


def sha_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(store: BlobStore, data: bytes, chunk: int = 4096) -> str:
    sha = sha_of(data)
    offset = 0
    while offset < len(data):
        offset = store.append(sha, offset, data[offset : offset + chunk])
    return sha


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "blobs").rglob("*") if p.is_file())


def refused(exc: pytest.ExceptionInfo[DomainError], code: str, status: int) -> DomainError:
    assert (exc.value.code, exc.value.status) == (code, status)
    return exc.value


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "store")


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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=upload_plans())
def test_interrupted_upload_resumes_to_the_right_hash(plan: tuple[list[int], list[str]]) -> None:
    bounds, events = plan
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = BlobStore(root)
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
            if event == "restart":  # server process restarted between chunks
                store = BlobStore(root)
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
        assert store.path(PHOTO_SHA).read_bytes() == PHOTO
        assert not (root / "partial" / PHOTO_SHA).exists()


def test_status_now_answers_without_waiting_or_says_it_would_wait(store: BlobStore) -> None:
    assert store.status_now(PHOTO_SHA) == BlobStatus(complete=False, size=0, offset=0)
    store.append(PHOTO_SHA, 0, PHOTO[:1000])
    assert store.status_now(PHOTO_SHA) == store.status(PHOTO_SHA) == BlobStatus(complete=False, size=0, offset=1000)
    with store._lock(PHOTO_SHA):  # an append or finish of the same stripe is under way
        assert store.status_now(PHOTO_SHA) is None
    store.append_and_finish(PHOTO_SHA, 1000, PHOTO[1000:])
    assert store.status_now(PHOTO_SHA) == BlobStatus(complete=True, size=len(PHOTO), offset=len(PHOTO))


def test_status_of_an_unknown_blob_is_offset_zero(store: BlobStore) -> None:
    assert store.status(PHOTO_SHA) == BlobStatus(complete=False, size=0, offset=0)


def test_wrong_offset_is_409_with_the_right_offset(store: BlobStore) -> None:
    with pytest.raises(DomainError) as exc:
        store.append(PHOTO_SHA, 10, PHOTO[10:20])
    assert refused(exc, "wrong_offset", 409).details == {"offset": 0}
    assert not (store.root / "partial" / PHOTO_SHA).exists()  # a refused first chunk leaves nothing

    store.append(PHOTO_SHA, 0, PHOTO[:1000])
    for bad in (0, 999, 1001, -1):
        with pytest.raises(DomainError) as exc:
            store.append(PHOTO_SHA, bad, PHOTO[1000:2000])
        assert refused(exc, "wrong_offset", 409).details == {"offset": 1000}
    assert store.status(PHOTO_SHA).offset == 1000


def test_corrupted_chunk_is_422_on_finish_and_the_partial_is_discarded(store: BlobStore) -> None:
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
    assert not (store.root / "partial" / PHOTO_SHA).exists()
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
        store.path(PHOTO_SHA)
    refused(exc, "not_found", 404)


def test_the_last_chunk_can_finish_the_upload(store: BlobStore) -> None:
    half = len(PHOTO) // 2
    store.append(PHOTO_SHA, 0, PHOTO[:half])
    info = store.append_and_finish(PHOTO_SHA, half, PHOTO[half:])
    assert (info.sha256, info.size, info.content_type) == (PHOTO_SHA, len(PHOTO), "image/jpeg")
    assert store.path(PHOTO_SHA).read_bytes() == PHOTO
    assert not (store.root / "partial" / PHOTO_SHA).exists()
    # Sent again (its answer was lost): the blob is complete, the chunk is moot.
    assert store.append_and_finish(PHOTO_SHA, half, PHOTO[half:]) == info
    assert store.append_and_finish(PHOTO_SHA, 0, PHOTO) == info


def test_a_finishing_chunk_at_the_wrong_offset_is_409_and_finishes_nothing(store: BlobStore) -> None:
    store.append(PHOTO_SHA, 0, PHOTO[:1000])
    with pytest.raises(DomainError) as exc:
        store.append_and_finish(PHOTO_SHA, 500, PHOTO[500:])
    assert refused(exc, "wrong_offset", 409).details == {"offset": 1000}
    assert store.status(PHOTO_SHA) == BlobStatus(complete=False, size=0, offset=1000)


def test_a_finishing_chunk_with_bad_bytes_is_422_or_415_and_discards_the_partial(store: BlobStore) -> None:
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
    assert list((store.root / "partial").iterdir()) == []
    assert stored_files(store.root) == []


def test_finish_without_any_bytes_asks_for_offset_zero(store: BlobStore) -> None:
    with pytest.raises(DomainError) as exc:
        store.finish(PHOTO_SHA)
    assert refused(exc, "hash_mismatch", 422).details == {"offset": 0}


def test_complete_upload_is_durable_read_only_and_named_by_hash(store: BlobStore) -> None:
    upload(store, PHOTO)
    info = store.finish(PHOTO_SHA)
    path = store.path(PHOTO_SHA)
    assert path == store.root / "blobs" / PHOTO_SHA[:2] / PHOTO_SHA[2:4] / PHOTO_SHA
    assert stat.S_IMODE(path.stat().st_mode) & 0o222 == 0
    assert store.info(PHOTO_SHA) == info
    assert BlobStore(store.root).info(PHOTO_SHA) == info  # nothing lives only in memory
    assert store.verify(PHOTO_SHA)


# -- dedupe ------------------------------------------------------------------------------------------


def test_identical_bytes_are_stored_once(store: BlobStore) -> None:
    upload(store, PHOTO)
    first = store.finish(PHOTO_SHA)
    assert store.finish(PHOTO_SHA) == first  # a repeated finish (lost response) answers the same
    # The same photo again, from another phone: already complete, nothing is written.
    assert store.status(PHOTO_SHA).complete
    assert store.append(PHOTO_SHA, 0, PHOTO[:4096]) == len(PHOTO)
    assert not (store.root / "partial" / PHOTO_SHA).exists()
    assert store.put(PHOTO) == first
    assert stored_files(store.root) == [store.path(PHOTO_SHA)]


def test_put_stores_once_and_supersedes_a_pending_resumable_upload(store: BlobStore) -> None:
    store.append(PHOTO_SHA, 0, PHOTO[:5000])
    info = store.put(PHOTO)
    assert info.sha256 == PHOTO_SHA
    assert store.put(PHOTO) == info
    assert stored_files(store.root) == [store.path(PHOTO_SHA)]
    assert list((store.root / "partial").iterdir()) == []
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
def test_non_images_are_415_and_discarded(store: BlobStore, data: bytes) -> None:
    sha = sha_of(data)
    store.append(sha, 0, data)
    with pytest.raises(DomainError) as exc:
        store.finish(sha)
    refused(exc, "not_an_image", 415)
    assert store.status(sha).offset == 0
    assert stored_files(store.root) == []
    with pytest.raises(DomainError) as exc:
        store.put(data)
    refused(exc, "not_an_image", 415)
    assert stored_files(store.root) == []


@pytest.mark.parametrize(
    ("bomb", "max_pixels"),
    [
        (bomb_png(50_000, 50_000), 40_000_000),  # Pillow itself refuses: DecompressionBombError
        (bomb_png(7_000, 7_000, real_rows=True), 40_000_000),  # 49 MB of pixels from a ~50 KB file
        (png_bytes((1200, 1000)), 1_000_000),  # an honest image over this store's limit
    ],
    ids=["declared-2.5Gpx", "deflate-49Mpx", "over-max-pixels"],
)
def test_decompression_bombs_are_413(tmp_path: Path, bomb: bytes, max_pixels: int) -> None:
    store = BlobStore(tmp_path, max_pixels=max_pixels)
    sha = sha_of(bomb)
    upload(store, bomb, chunk=2**20)
    with pytest.raises(DomainError) as exc:
        store.finish(sha)
    refused(exc, "blob_too_large", 413)
    assert store.status(sha).offset == 0
    with pytest.raises(DomainError) as exc:
        store.put(bomb)
    refused(exc, "blob_too_large", 413)
    assert stored_files(tmp_path) == []


def test_oversize_chunk_is_413_and_keeps_the_partial(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, chunk_limit=1000)
    store.append(PHOTO_SHA, 0, PHOTO[:1000])
    with pytest.raises(DomainError) as exc:
        store.append(PHOTO_SHA, 1000, PHOTO[1000:2001])
    refused(exc, "blob_too_large", 413)
    assert store.status(PHOTO_SHA).offset == 1000


def test_oversize_total_is_413_and_discards_the_partial(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, max_bytes=len(PHOTO) - 1)
    offset = store.append(PHOTO_SHA, 0, PHOTO[:10_000])
    with pytest.raises(DomainError) as exc:
        store.append(PHOTO_SHA, offset, PHOTO[offset:])
    refused(exc, "blob_too_large", 413)
    assert store.status(PHOTO_SHA).offset == 0
    assert not (tmp_path / "partial" / PHOTO_SHA).exists()
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
def test_invalid_hash_is_400_everywhere(store: BlobStore, bad: str) -> None:
    calls = [
        lambda: store.status(bad),
        lambda: store.status_now(bad),
        lambda: store.append(bad, 0, b"x"),
        lambda: store.finish(bad),
        lambda: store.append_and_finish(bad, 0, b"x"),
        lambda: store.path(bad),
        lambda: store.info(bad),
        lambda: store.verify(bad),
    ]
    for call in calls:
        with pytest.raises(DomainError) as exc:
            call()
        refused(exc, "invalid_hash", 400)
    assert list((store.root / "partial").iterdir()) == []


def test_unknown_blob_is_404(store: BlobStore) -> None:
    for call in (store.path, store.info, store.verify):
        with pytest.raises(DomainError) as exc:
            call(PHOTO_SHA)
        refused(exc, "not_found", 404)


# -- concurrency -----------------------------------------------------------------------------------


def race_upload(root: Path, data: bytes, chunk: int, start: threading.Barrier | None = None) -> list[int]:
    """Upload like an impatient phone: ask the offset, send from there; return the accepted lengths."""
    store = BlobStore(root)
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


def test_concurrent_appends_from_threads_do_not_corrupt(tmp_path: Path) -> None:
    n = 6
    start = threading.Barrier(n)
    results: list[list[int]] = [[] for _ in range(n)]

    def worker(i: int) -> None:
        results[i] = race_upload(tmp_path, PHOTO, 1024, start)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Every byte was accepted exactly once: no two threads wrote the same offset.
    assert sum(sum(r) for r in results) == len(PHOTO)
    assert BlobStore(tmp_path).finish(PHOTO_SHA).size == len(PHOTO)
    assert (tmp_path / "blobs" / PHOTO_SHA[:2] / PHOTO_SHA[2:4] / PHOTO_SHA).read_bytes() == PHOTO


def _process_upload(root: str, data: bytes, queue: multiprocessing.Queue) -> None:
    queue.put(sum(race_upload(Path(root), data, 512)))


def test_concurrent_appends_from_processes_do_not_corrupt(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_process_upload, args=(str(tmp_path), PHOTO, queue)) for _ in range(3)]
    for p in procs:
        p.start()
    totals = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sum(totals) == len(PHOTO)
    assert BlobStore(tmp_path).finish(PHOTO_SHA).sha256 == PHOTO_SHA


def test_concurrent_finishes_store_once(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    upload(store, PHOTO)
    start = threading.Barrier(4)
    infos = []

    def worker() -> None:
        start.wait()
        infos.append(BlobStore(tmp_path).finish(PHOTO_SHA))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(infos) == 4 and len(set(infos)) == 1
    assert stored_files(tmp_path) == [store.path(PHOTO_SHA)]


# -- tamper detection ------------------------------------------------------------------------------


def test_verify_detects_a_flipped_byte(store: BlobStore) -> None:
    info = store.put(PHOTO)
    assert store.verify(info.sha256)
    path = store.path(info.sha256)
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(len(PHOTO) - 100)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0x10]))
    assert not store.verify(info.sha256)
