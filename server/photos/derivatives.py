"""Owner-safe derivatives of stored photos: upright, resized, colour-managed to sRGB, metadata-free.

Originals keep everything a camera wrote (GPS position, device, time) because they are evidence;
what is shown in lists and to other people is a derivative with none of it.

JPEG was chosen over WebP after measuring on this 2-core machine (``bench/photo_bench.py``):
encoding a 480 px thumbnail takes ~1 ms as progressive JPEG, ~8 ms as WebP at its default effort
and ~1.4 ms at ``method=0``, so WebP is slower at every setting; JPEG also decodes everywhere.
The whole thumbnail from a 12 MP camera JPEG takes ~50 ms, nearly all of it libjpeg's Huffman
decoding (``draft`` lets it skip most of the IDCT work).

Derivatives are cached beside the blobs: on the local backend under
``cache_root/v<RENDER_VERSION>/<size>/ab/<sha>.jpg`` (rendered under an ``flock``, threads and
processes alike, and renamed into place, so a reader never sees a partial file and concurrent first
requests render once); on object storage as objects of the same names under ``derived/``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

from server.errors import DomainError
from server.photos.blobstore import ACCEPTED_FORMATS, BlobStore, check_sha, file_lock, make_dirs_durable
from server.photos.s3blobs import S3BlobStore

SIZES: dict[str, int] = {"thumb": 480, "view": 1600}
RENDER_VERSION = 1  # bump when the output changes: old cache entries are then never served again
CONTENT_TYPE = "image/jpeg"
QUALITY = 82

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_ETAG_CACHE_MAX = 4096
_STREAM_BLOCK = 64 * 1024


@dataclass(frozen=True, slots=True)
class DerivativeFile:
    """A cached derivative. ``path`` is its file on the local backend (None on object storage);
    :meth:`chunks` streams it from wherever it is."""

    etag: str
    content_type: str
    length: int
    path: Path | None = None
    stream: Callable[[], Iterator[bytes]] | None = None

    def chunks(self) -> Iterator[bytes]:
        if self.stream is not None:
            yield from self.stream()
            return
        assert self.path is not None
        with open(self.path, "rb") as f:
            while block := f.read(_STREAM_BLOCK):
                yield block

    def read_bytes(self) -> bytes:
        return b"".join(self.chunks())


def target_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """Fit ``size`` within ``max_side`` on its longest side, keeping the aspect; never upscale."""
    w, h = size
    longest = max(w, h)
    if longest <= max_side:
        return w, h
    scale = max_side / longest
    return max(1, round(w * scale)), max(1, round(h * scale))


@functools.lru_cache(maxsize=32)
def _srgb_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """Transform from an embedded profile to sRGB; None if it is sRGB already or is unusable."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if ImageCms.getProfileDescription(profile).strip().lower().startswith("srgb"):
            return None  # applying it would cost ~25 ms on a 1600 px view for no visible change
        # NOCACHE: LittleCMS's one-pixel cache is not safe when threads share a transform.
        return ImageCms.buildTransform(profile, _SRGB, mode, "RGB", flags=ImageCms.Flags.NOCACHE)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # broken or mismatched profile: the plain conversion below is the best we can do


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB pixels in sRGB; an embedded profile (Display P3 on iPhones, ...) is applied, not kept."""
    transform = _srgb_transform(icc, im.mode) if icc else None
    if transform is not None:
        return ImageCms.applyTransform(im, transform)
    return im if im.mode == "RGB" else im.convert("RGB")


def _flatten(im: Image.Image) -> Image.Image:
    """Put transparent images on white and bring odd modes (P, 1, I;16, ...) to L/RGB/CMYK."""
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        flat.info = im.info
        return flat
    if im.mode.startswith("I"):  # 16/32-bit grey: scale to 8 bits
        flat = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
        flat.info = im.info
        return flat
    if im.mode not in ("L", "RGB", "CMYK"):
        flat = im.convert("RGB")
        flat.info = im.info
        return flat
    return im


def render(source: Path | BinaryIO, max_side: int, *, quality: int = QUALITY) -> bytes:
    """JPEG bytes of ``source`` upright, at most ``max_side`` px on its longest side, with no metadata."""
    with Image.open(source, formats=ACCEPTED_FORMATS) as im:
        want = target_size(im.size, max_side)
        if isinstance(im, JpegImagePlugin.JpegImageFile):
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale (never below ``want``): the IDCT and the
            # colour conversion then run on a fraction of the pixels.
            im.draft("RGB", want)
        im.load()
        icc = im.info.get("icc_profile")
        pic = _flatten(im)
        if pic.size != want:
            pic = pic.resize(want, Image.Resampling.LANCZOS, reducing_gap=3.0)
        # Orientation is applied after resizing (identical result on far fewer pixels). The
        # resized copy still carries the EXIF block in .info, which exif_transpose reads.
        pic = ImageOps.exif_transpose(pic)
        pic = _to_srgb(pic, icc)
    # Nothing from the original may travel: no EXIF (GPS, device, time), ICC, XMP or comment.
    pic.info = {}
    out = io.BytesIO()
    pic.save(out, "JPEG", quality=quality, progressive=True, optimize=True, exif=b"")
    return out.getvalue()


class Derivatives:
    def __init__(
        self,
        store: BlobStore | S3BlobStore,
        cache_root: Path | None = None,
        *,
        on_generate: Callable[[str, str], None] | None = None,
    ) -> None:
        """Derivatives of ``store``'s blobs, cached under ``cache_root`` on the local backend and in
        the bucket on object storage (``cache_root`` is then unused).

        ``on_generate(sha, size)`` is called after each rendering (tests count them; metrics)."""
        self.store = store
        self.on_generate = on_generate
        self._cache: _LocalCache | _ObjectCache
        if isinstance(store, BlobStore):
            if cache_root is None:
                raise ValueError("the local backend keeps derivatives in a cache_root")
            self._cache = _LocalCache(Path(cache_root))
        else:
            self._cache = _ObjectCache(store)

    def cached_path(self, sha: str, size: str) -> Path:
        assert isinstance(self._cache, _LocalCache)
        return self._cache.path(sha, size)

    def get(self, sha: str, size: str) -> DerivativeFile:
        check_sha(sha)
        if size not in SIZES:
            raise DomainError(
                "invalid_size", f"unknown photo size {size!r}", status=400, details={"sizes": list(SIZES)}
            )
        cached = self._cache.lookup(sha, size)
        if cached is not None:
            return cached
        with self._cache.lock(sha):
            cached = self._cache.lookup(sha, size)  # someone else may have rendered it while we waited
            if cached is None:
                # 404 from source() while the photo has not (fully) arrived
                cached = self._cache.save(sha, size, render(self.store.source(sha), SIZES[size]))
                if self.on_generate is not None:
                    self.on_generate(sha, size)
        return cached


def _name(sha: str, size: str) -> str:
    return f"v{RENDER_VERSION}/{size}/{sha[:2]}/{sha}.jpg"


class _LocalCache:
    """Files under ``cache_root/v<RENDER_VERSION>/<size>/ab/<sha>.jpg``, rendered under an ``flock``
    (threads and processes alike render once) and renamed into place (never seen half-written)."""

    def __init__(self, cache_root: Path) -> None:
        self.cache_root = cache_root
        self._locks = cache_root / "locks"
        make_dirs_durable(self._locks)
        self._etags: dict[Path, tuple[int, int, int, str]] = {}
        self._etags_lock = threading.Lock()

    def path(self, sha: str, size: str) -> Path:
        return self.cache_root / _name(sha, size)

    def lock(self, sha: str) -> AbstractContextManager[None]:
        return file_lock(self._locks / f"{sha[:3]}.lock")

    def lookup(self, sha: str, size: str) -> DerivativeFile | None:
        target = self.path(sha, size)
        return self._describe(target) if target.is_file() else None

    def save(self, sha: str, size: str, data: bytes) -> DerivativeFile:
        target = self.path(sha, size)
        make_dirs_durable(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".jpg")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                # Without it a crash could leave an empty file under the final name after the
                # rename, and an empty file would then be served forever.
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self._describe(target)

    def _describe(self, path: Path) -> DerivativeFile:
        st = path.stat()
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._etags_lock:
            cached = self._etags.get(path)
        if cached is not None and cached[:3] == key:
            etag = cached[3]
        else:
            etag = '"' + hashlib.sha256(path.read_bytes()).hexdigest() + '"'
            with self._etags_lock:
                if len(self._etags) >= _ETAG_CACHE_MAX:
                    self._etags.clear()
                self._etags[path] = (*key, etag)
        return DerivativeFile(etag=etag, content_type=CONTENT_TYPE, length=st.st_size, path=path)


class _ObjectCache:
    """Objects under ``<prefix>derived/`` of the blob bucket, shared by every node. A node renders a
    missing derivative under its own lock; two nodes asked at the same moment may both render it
    (the same bytes: the first write wins, the other is moot)."""

    def __init__(self, store: S3BlobStore) -> None:
        self.store = store

    def lock(self, sha: str) -> AbstractContextManager[object]:
        return self.store.render_lock(sha)

    def _file(self, name: str, etag: str, length: int) -> DerivativeFile:
        return DerivativeFile(
            etag=etag,
            content_type=CONTENT_TYPE,
            length=length,
            stream=functools.partial(self.store.derived_chunks, name),
        )

    def lookup(self, sha: str, size: str) -> DerivativeFile | None:
        name = _name(sha, size)
        found = self.store.derived_head(name)
        return None if found is None else self._file(name, *found)

    def save(self, sha: str, size: str, data: bytes) -> DerivativeFile:
        name = _name(sha, size)
        return self._file(name, *self.store.derived_put(name, data))
