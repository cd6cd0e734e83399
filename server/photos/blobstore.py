"""Content-addressed photo blobs with resumable uploads (sync/PROTOCOL.md §6).

Two backends answer the same calls: :class:`BlobStore` here, on the local disk (the embedded
default), and :class:`server.photos.s3blobs.S3BlobStore` on S3-compatible object storage (several
server nodes share it). :func:`server.photos.backends.open_blobs` picks one from ``WUYE_BLOBS``.

Local layout under ``root``::

    blobs/ab/cd/<sha256>   complete, verified, read-only
    partial/<sha256>       upload in progress (every acknowledged byte is fsynced)
    locks/<abc>.lock       flock stripes (4096 at most, never deleted)

Locking uses ``fcntl.flock`` on a stripe file chosen by the first three hex digits of the hash. Each
call opens its own descriptor, so the lock excludes other threads of this process as well as other
processes. A stripe is shared by unrelated hashes; that only costs an occasional short wait.

The device deletes a photo only after ``complete: true`` for its hash, so nothing here reports
``complete`` before the bytes are fsynced under their final name and the directory entry is fsynced.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import re
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, JpegImagePlugin

from server.errors import DomainError

_SHA_RE = re.compile(r"[0-9a-f]{64}")
_READ_BLOCK = 2**20

# Accepted formats (Pillow plugin ids). Restricting the list keeps exotic decoders (EPS runs
# Ghostscript, for one) away from untrusted bytes. Phones' MPO files come through the JPEG plugin.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
_CONTENT_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True, slots=True)
class BlobStatus:
    """``offset`` is the number of bytes held (== ``size`` once complete); ``size`` is 0 until then."""

    complete: bool
    size: int
    offset: int


@dataclass(frozen=True, slots=True)
class BlobInfo:
    sha256: str
    size: int
    width: int
    height: int
    content_type: str


def check_sha(sha: str) -> str:
    if not isinstance(sha, str) or _SHA_RE.fullmatch(sha) is None:
        raise DomainError("invalid_hash", "a blob name is 64 lower-case hex digits (sha256)", status=400)
    return sha


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive ``flock`` on ``path`` (created if needed), released when the descriptor is closed."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs_durable(path: Path) -> None:
    """``mkdir -p`` that fsyncs the parent of every directory it creates."""
    missing: list[Path] = []
    p = path
    while not p.is_dir():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            continue
        fsync_dir(d.parent)


def _hash_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(_READ_BLOCK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
            size += n
    return h.hexdigest(), size


def _write_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


class BlobRules:
    """What every backend checks the same way: chunk and total sizes, the image decode, the answers."""

    max_bytes: int
    max_pixels: int
    chunk_limit: int

    def _check_chunk(self, sha: str, data: bytes) -> None:
        check_sha(sha)
        if len(data) > self.chunk_limit:
            raise DomainError(
                "blob_too_large",
                f"a chunk may hold at most {self.chunk_limit} bytes",
                status=413,
                details={"chunk_limit": self.chunk_limit},
            )

    def _pixel_limit(self) -> int:
        # Pillow warns (DecompressionBombWarning) above MAX_IMAGE_PIXELS and raises above twice that.
        # Checking its threshold here turns the warning into a refusal without touching the
        # process-global warning filters from worker threads.
        pillow = Image.MAX_IMAGE_PIXELS
        return min(self.max_pixels, pillow) if pillow else self.max_pixels

    def _inspect(self, source: Path | BinaryIO) -> tuple[int, int, str]:
        """Decode the image for real (never trust a Content-Type); return width, height, MIME type."""
        opened = False  # past the header: a failure now means the file is cut short or damaged
        try:
            with Image.open(source, formats=ACCEPTED_FORMATS) as im:
                opened = True
                width, height = im.size
                if width * height > self._pixel_limit():
                    raise self._too_large(pixels=width * height)
                if isinstance(im, JpegImagePlugin.JpegImageFile):
                    # All entropy-coded data is still decoded (truncation is caught) but the IDCT
                    # runs at 1/8 scale. Huffman decoding dominates, so this saves ~25% of a full
                    # decode of a 12 MP photo (~42 ms instead of ~56 ms here), and no memory.
                    im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                im.load()
                content_type = _CONTENT_TYPES[im.format]
        except DomainError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise self._too_large() from None
        except ValueError as exc:
            if "decompressed data too large" in str(exc).lower():  # PNG text-chunk bomb
                raise self._too_large() from None
            raise self._not_an_image("incomplete" if opened else "unsupported") from None
        except Exception:
            # Malformed input makes Pillow raise many types (OSError, SyntaxError, EOFError,
            # struct.error, IndexError, ...): every one of them means "not a usable image". Which
            # one the person is told: a file whose header was read but whose pixels were not (a
            # phone file cut short in transfer) is incomplete; anything else is not a format we take.
            raise self._not_an_image("incomplete" if opened else "unsupported") from None
        return width, height, content_type

    @staticmethod
    def _start_again(message: str, **details: object) -> DomainError:
        """The upload's bytes are not (or no longer) there to finish: send them again from 0."""
        return DomainError("hash_mismatch", message, status=422, details={"offset": 0, **details})

    @staticmethod
    def _wrong_offset(actual: int) -> DomainError:
        return DomainError(
            "wrong_offset",
            f"this upload continues at offset {actual}",
            status=409,
            details={"offset": actual},
        )

    def _too_large(self, *, pixels: int | None = None) -> DomainError:
        details: dict[str, int] = {"max_bytes": self.max_bytes, "max_pixels": self.max_pixels}
        if pixels is not None:
            details["pixels"] = pixels
        return DomainError("blob_too_large", "the photo is too large", status=413, details=details)

    @staticmethod
    def _not_an_image(problem: str = "unsupported") -> DomainError:
        """``details.problem``: ``incomplete`` (a JPEG/PNG/WebP whose data is cut short or damaged) or
        ``unsupported`` (not one of those formats at all)."""
        message = (
            "the image is incomplete or damaged"
            if problem == "incomplete"
            else "the bytes are not a JPEG, PNG or WebP image"
        )
        return DomainError("not_an_image", message, status=415, details={"problem": problem})


class BlobStore(BlobRules):
    """The local-disk backend (the embedded default)."""

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int = 15 * 2**20,
        max_pixels: int = 40_000_000,
        chunk_limit: int = 2**20,
    ) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.chunk_limit = chunk_limit
        self._blobs = self.root / "blobs"
        self._partial = self.root / "partial"
        self._locks = self.root / "locks"
        for d in (self._blobs, self._partial, self._locks):
            make_dirs_durable(d)

    # -- paths -------------------------------------------------------------------------------------

    def _final(self, sha: str) -> Path:
        return self._blobs / sha[:2] / sha[2:4] / sha

    def _partial_path(self, sha: str) -> Path:
        return self._partial / sha

    def _lock_path(self, sha: str) -> Path:
        return self._locks / f"{sha[:3]}.lock"

    def _lock(self, sha: str) -> AbstractContextManager[None]:
        return file_lock(self._lock_path(sha))

    # -- queries -----------------------------------------------------------------------------------

    def status(self, sha: str) -> BlobStatus:
        check_sha(sha)
        with self._lock(sha):  # never report a chunk that an append is still writing
            return self._status_locked(sha)

    def status_now(self, sha: str) -> BlobStatus | None:
        """:meth:`status` if it needs no wait (a few stats, for the event loop), else None: an
        upload of the same lock stripe holds the lock, and :meth:`status` must wait in a thread."""
        check_sha(sha)
        fd = os.open(self._lock_path(sha), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            return self._status_locked(sha)
        finally:
            os.close(fd)

    def _status_locked(self, sha: str) -> BlobStatus:
        try:
            size = self._final(sha).stat().st_size
            return BlobStatus(complete=True, size=size, offset=size)
        except FileNotFoundError:
            pass
        try:
            offset = self._partial_path(sha).stat().st_size
        except FileNotFoundError:
            offset = 0
        return BlobStatus(complete=False, size=0, offset=offset)

    def path(self, sha: str) -> Path:
        """The stored file of a complete blob (read-only)."""
        check_sha(sha)
        final = self._final(sha)
        if not final.is_file():
            raise DomainError("not_found", "blob not found", status=404)
        return final

    def info(self, sha: str) -> BlobInfo:
        final = self.path(sha)
        # Only the header is read; the bytes were fully decoded when the blob was accepted.
        with Image.open(final, formats=ACCEPTED_FORMATS) as im:
            return BlobInfo(sha, final.stat().st_size, im.width, im.height, _CONTENT_TYPES[im.format])

    def verify(self, sha: str) -> bool:
        """Re-hash a stored blob; False means its bytes no longer match its name (tampering, bit rot)."""
        digest, _ = _hash_file(self.path(sha))
        return digest == sha

    def source(self, sha: str) -> Path:
        """What the image decoder reads a complete blob from (404 while it has not arrived)."""
        return self.path(sha)

    def read(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()

    def collect_partials(self, older_than: float) -> int:
        """Delete uploads nobody has added to for ``older_than`` seconds (a phone reset or gone for
        good); the number deleted. A phone that comes back later starts that photo again at 0."""
        cutoff = time.time() - older_than
        dropped = 0
        for partial in self._partial.iterdir():
            sha = partial.name.removeprefix(".put-")
            if _SHA_RE.fullmatch(sha) is None:
                continue
            with self._lock(sha):
                try:
                    if partial.stat().st_mtime >= cutoff:
                        continue
                    partial.unlink()
                except FileNotFoundError:
                    continue
            dropped += 1
        return dropped

    # -- uploads -----------------------------------------------------------------------------------

    def append(self, sha: str, offset: int, data: bytes) -> int:
        """Add a chunk at ``offset`` (fsynced before this returns); the new offset."""
        self._check_chunk(sha, data)
        with self._lock(sha):
            return self._append_locked(sha, offset, data, durable=True)

    def finish(self, sha: str) -> BlobInfo:
        """Verify the assembled bytes against ``sha`` and store them as a complete blob."""
        check_sha(sha)
        with self._lock(sha):
            return self._finish_locked(sha)

    def append_and_finish(self, sha: str, offset: int, data: bytes) -> BlobInfo:
        """The last chunk and the finish in one step. The chunk is not fsynced on its own: the
        finish fsyncs the whole file before it is renamed, and if the finish refuses (hash
        mismatch, not an image) the partial file is discarded anyway."""
        self._check_chunk(sha, data)
        with self._lock(sha):
            self._append_locked(sha, offset, data, durable=False)
            return self._finish_locked(sha)

    def _append_locked(self, sha: str, offset: int, data: bytes, *, durable: bool) -> int:
        partial = self._partial_path(sha)
        try:
            return self._final(sha).stat().st_size
        except FileNotFoundError:
            pass
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            if offset != 0:
                raise self._wrong_offset(0) from None
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            if durable:
                fsync_dir(self._partial)  # the file's name must survive a crash too
        try:
            held = os.fstat(fd).st_size
            if offset != held:
                raise self._wrong_offset(held)
            if held + len(data) > self.max_bytes:
                partial.unlink(missing_ok=True)
                raise self._too_large()
            _write_all(fd, data, offset)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        return offset + len(data)

    def _finish_locked(self, sha: str) -> BlobInfo:
        partial = self._partial_path(sha)
        if self._final(sha).is_file():
            partial.unlink(missing_ok=True)
            return self.info(sha)
        if not partial.is_file():
            raise self._start_again("no bytes were received for this blob; upload it from offset 0")
        digest, size = _hash_file(partial)
        if digest != sha:
            partial.unlink(missing_ok=True)
            raise self._start_again(
                "the bytes received do not have this sha256; upload again from offset 0",
                received_sha256=digest,
                received_size=size,
            )
        try:
            width, height, content_type = self._inspect(partial)
        except DomainError:
            partial.unlink(missing_ok=True)
            raise
        self._commit(partial, sha)
        return BlobInfo(sha, size, width, height, content_type)

    def put(self, data: bytes) -> BlobInfo:
        """Store a whole upload received by the server itself (report form); returns its info."""
        if len(data) > self.max_bytes:
            raise self._too_large()
        sha = hashlib.sha256(data).hexdigest()
        if self._final(sha).is_file():
            return self.info(sha)
        width, height, content_type = self._inspect(io.BytesIO(data))
        tmp = self._partial / f".put-{sha}"  # unique: only the lock holder uses it
        with self._lock(sha):
            if not self._final(sha).is_file():
                try:
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
                    try:
                        _write_all(fd, data, 0)
                    finally:
                        os.close(fd)
                    self._commit(tmp, sha)
                except BaseException:
                    tmp.unlink(missing_ok=True)  # disk full, ...: leave no debris behind
                    raise
                # A resumable upload of the same bytes may have been under way: it is now moot.
                self._partial_path(sha).unlink(missing_ok=True)
        return BlobInfo(sha, len(data), width, height, content_type)

    # -- internals ---------------------------------------------------------------------------------

    def _commit(self, src: Path, sha: str) -> None:
        """fsync ``src``, make it read-only and rename it to the blob's final name durably."""
        fd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fchmod(fd, 0o444)
            os.fsync(fd)
        finally:
            os.close(fd)
        final = self._final(sha)
        make_dirs_durable(final.parent)
        os.replace(src, final)
        fsync_dir(final.parent)
        fsync_dir(src.parent)
