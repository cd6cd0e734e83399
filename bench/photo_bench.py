"""Photo pipeline benchmark: ``python bench/photo_bench.py`` (temp data only, removed at the end).

(a) 480 px thumbnail from a 4000x3000 camera JPEG, against a plain full decode of the same file.
(b) photos/s through BlobStore.append + finish (500 KB JPEGs, 256 KB chunks, fsync on), against
    raw writes of the same bytes in the same chunks with an fsync after each.
Each figure has its baseline measured in the same run, so the ratios hold on any machine.
"""

from __future__ import annotations

import hashlib
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from server.photos.blobstore import BlobStore  # noqa: E402
from server.photos.derivatives import Derivatives, render  # noqa: E402
from tests.support.camera_jpegs import camera_jpeg  # noqa: E402

REPEAT = 10
PHOTOS = 40
CHUNK = 256 * 1024


def median_ms(fn: Callable[[], object], repeat: int = REPEAT) -> float:
    fn()  # warm-up: page cache, lazy imports
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def full_decode(path: Path) -> None:
    with Image.open(path) as im:
        im.load()


def bench_thumbnail(tmp: Path) -> None:
    print("(a) thumbnail, 4000x3000 camera JPEG (orientation 6, EXIF + GPS + ICC)")
    path = tmp / "camera.jpg"
    path.write_bytes(camera_jpeg((4000, 3000), 6, quality=92))
    print(f"    source: {path.stat().st_size / 2**20:.1f} MiB")
    decode = median_ms(lambda: full_decode(path))
    thumb = median_ms(lambda: render(path, 480))
    view = median_ms(lambda: render(path, 1600))
    print(f"    baseline full decode          median {decode:7.1f} ms")
    print(f"    thumb 480 px (render)         median {thumb:7.1f} ms   = {thumb / decode:.2f} x full decode")
    print(f"    view 1600 px (render)         median {view:7.1f} ms   = {view / decode:.2f} x full decode")

    # The cold path of Derivatives.get: render + write + fsync + rename, a new cache dir each time.
    store = BlobStore(tmp / "store-a")
    sha = store.put(path.read_bytes()).sha256
    runs = iter(range(10**6))
    cold = median_ms(lambda: Derivatives(store, tmp / f"cache-{next(runs)}").get(sha, "thumb"))
    warm_d = Derivatives(store, tmp / "cache-warm")
    warm_d.get(sha, "thumb")
    warm = median_ms(lambda: warm_d.get(sha, "thumb"), repeat=1000)
    print(f"    Derivatives.get thumb, cold   median {cold:7.1f} ms   (render + write + fsync)")
    print(f"    Derivatives.get thumb, cached median {warm * 1000:7.1f} us")

    # Encoder choice: the same 480 px pixels encoded as JPEG (what render does) and as WebP.
    small = Image.open(io.BytesIO(render(path, 480)))
    small.load()

    def encode(fmt: str, **params: object) -> int:
        out = io.BytesIO()
        small.save(out, fmt, **params)
        return out.tell()

    for label, fmt, params in (
        ("JPEG q82 progressive optimize", "JPEG", {"quality": 82, "progressive": True, "optimize": True}),
        ("WebP q82 (method 4, default) ", "WEBP", {"quality": 82}),
        ("WebP q82 method 0            ", "WEBP", {"quality": 82, "method": 0}),
    ):
        ms = median_ms(lambda fmt=fmt, params=params: encode(fmt, **params), repeat=30)
        print(f"    encode {label} median {ms:6.2f} ms, {encode(fmt, **params) / 1024:5.1f} KiB")


def bench_uploads(tmp: Path) -> None:
    print(f"(b) uploads: {PHOTOS} distinct ~500 KB JPEGs in {CHUNK // 1024} KB chunks, fsync on")
    photos = [camera_jpeg((1280, 960), 1, quality=92) for _ in range(PHOTOS)]
    mean_kb = statistics.mean(len(p) for p in photos) / 1024
    print(f"    mean photo size {mean_kb:.0f} KiB")

    raw_dir = tmp / "raw"
    raw_dir.mkdir()
    t0 = time.perf_counter()
    for i, data in enumerate(photos):
        fd = os.open(raw_dir / str(i), os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            for offset in range(0, len(data), CHUNK):
                os.pwrite(fd, data[offset : offset + CHUNK], offset)
                os.fsync(fd)
        finally:
            os.close(fd)
    raw = PHOTOS / (time.perf_counter() - t0)

    store = BlobStore(tmp / "store-b")
    shas = [hashlib.sha256(p).hexdigest() for p in photos]
    t0 = time.perf_counter()
    for sha, data in zip(shas, photos, strict=True):
        offset = 0
        while offset < len(data):
            offset = store.append(sha, offset, data[offset : offset + CHUNK])
        store.finish(sha)
    ours = PHOTOS / (time.perf_counter() - t0)
    # Where the difference goes: finish() decodes every photo (at 1/8 scale) to prove it is an image.
    t0 = time.perf_counter()
    for data in photos:
        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", (im.width // 8, im.height // 8))
            im.load()
    decode_only = PHOTOS / (time.perf_counter() - t0)
    print(f"    baseline raw write + fsync per chunk  {raw:7.1f} photos/s")
    print(f"    BlobStore append + finish             {ours:7.1f} photos/s   = {ours / raw:.2f} x raw")
    print(f"    of which: verification decode alone  {decode_only:7.1f} photos/s")


def main() -> None:
    print(f"Pillow {Image.__version__}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="photo-bench-") as tmp:
        bench_thumbnail(Path(tmp))
        bench_uploads(Path(tmp))


if __name__ == "__main__":
    main()
