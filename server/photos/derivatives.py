"""Owner-safe derivatives of stored photos: upright, resized, colour-managed to sRGB, metadata-free.

Originals keep everything a camera wrote (GPS position, device, time) because they are evidence;
what is shown in lists and to other people is a derivative with none of it.

JPEG was chosen over WebP after measuring on this 2-core machine (``bench/photo_bench.py``):
encoding a 480 px thumbnail takes ~1 ms as progressive JPEG, ~8 ms as WebP at its default effort
and ~1.4 ms at ``method=0``, so WebP is slower at every setting; JPEG also decodes everywhere.
The whole thumbnail from a 12 MP camera JPEG takes ~50 ms, nearly all of it libjpeg's Huffman
decoding (``draft`` lets it skip most of the IDCT work).

Derivatives are cached under ``cache_root/v<RENDER_VERSION>/<size>/ab/<sha>.jpg``. The first request
generates the file under an ``flock`` (threads and processes alike) and renames it into place, so a
reader never sees a partial file and concurrent first requests render once.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

from server.errors import DomainError
from server.photos.blobstore import ACCEPTED_FORMATS, BlobStore, check_sha, file_lock, make_dirs_durable

SIZES: dict[str, int] = {"thumb": 480, "view": 1600}
RENDER_VERSION = 1  # bump when the output changes: old cache entries are then never served again
CONTENT_TYPE = "image/jpeg"
QUALITY = 82

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_ETAG_CACHE_MAX = 4096


@dataclass(frozen=True, slots=True)
class DerivativeFile:
    path: Path
    etag: str
    content_type: str
    length: int


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
        store: BlobStore,
        cache_root: Path,
        *,
        on_generate: Callable[[str, str], None] | None = None,
    ) -> None:
        """``on_generate(sha, size)`` is called after each rendering (tests count them; metrics)."""
        self.store = store
        self.cache_root = Path(cache_root)
        self.on_generate = on_generate
        self._root = self.cache_root / f"v{RENDER_VERSION}"
        self._locks = self.cache_root / "locks"
        make_dirs_durable(self._locks)
        self._etags: dict[Path, tuple[int, int, int, str]] = {}
        self._etags_lock = threading.Lock()

    def cached_path(self, sha: str, size: str) -> Path:
        return self._root / size / sha[:2] / f"{sha}.jpg"

    def get(self, sha: str, size: str) -> DerivativeFile:
        check_sha(sha)
        if size not in SIZES:
            raise DomainError(
                "invalid_size", f"unknown photo size {size!r}", status=400, details={"sizes": list(SIZES)}
            )
        target = self.cached_path(sha, size)
        if not target.is_file():
            source = self.store.path(sha)  # 404 if the photo has not (fully) arrived
            with file_lock(self._locks / f"{sha[:3]}.lock"):
                if not target.is_file():  # someone else may have rendered it while we waited
                    self._generate(source, target, SIZES[size])
                    if self.on_generate is not None:
                        self.on_generate(sha, size)
        return self._describe(target)

    def _generate(self, source: Path, target: Path, max_side: int) -> None:
        data = render(source, max_side)
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
        return DerivativeFile(path=path, etag=etag, content_type=CONTENT_TYPE, length=st.st_size)
