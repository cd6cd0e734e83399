"""Derivatives: upright, bounded in size, metadata-free, rendered once, stable ETags."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import threading
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from server.errors import DomainError
from server.photos.blobstore import BlobStore
from server.photos.derivatives import RENDER_VERSION, DerivativeFile, Derivatives
from server.photos.s3blobs import S3BlobStore
from tests.support.camera_jpegs import (
    BLUE,
    GREEN,
    MAKE,
    MODEL,
    RED,
    camera_jpeg,
    display_p3_icc,
    jpeg_segments,
    marker_side,
    phone_jpegs,
    png_bytes,
    upright_size,
)
from tests.support.s3_server import LocalS3

COM = 0xFE
METADATA_MARKERS = {*range(0xE1, 0xF0), COM}  # APP1 (EXIF, XMP) .. APP15, comments


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 60) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def corners(im: Image.Image) -> dict[str, tuple[int, ...]]:
    """Colours at the centres of the three marker squares and of the fourth (unmarked) corner."""
    c = marker_side(im.size) // 2
    w, h = im.size
    return {
        "top_left": im.getpixel((c, c)),
        "top_right": im.getpixel((w - 1 - c, c)),
        "bottom_left": im.getpixel((c, h - 1 - c)),
        "bottom_right": im.getpixel((w - 1 - c, h - 1 - c)),
    }


def assert_upright(im: Image.Image) -> None:
    seen = corners(im)
    assert near(seen["top_left"], RED), seen
    assert near(seen["top_right"], GREEN), seen
    assert near(seen["bottom_left"], BLUE), seen
    assert not any(near(seen["bottom_right"], c) for c in (RED, GREEN, BLUE)), seen


def assert_no_metadata(data: bytes) -> None:
    markers = jpeg_segments(data)
    assert not METADATA_MARKERS & set(markers), [hex(m) for m in markers]
    assert MAKE.encode() not in data and MODEL.encode() not in data
    with Image.open(io.BytesIO(data)) as im:
        assert len(im.getexif()) == 0
        assert len(im.getexif().get_ifd(0x8825)) == 0  # GPS
        for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"):
            assert key not in im.info, key


def open_derivative(f: DerivativeFile) -> Image.Image:
    im = Image.open(io.BytesIO(f.read_bytes()))
    im.load()
    return im


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def derivatives(store: BlobStore, tmp_path: Path) -> Derivatives:
    return Derivatives(store, tmp_path / "cache")


def test_the_fixture_photo_really_carries_what_must_be_stripped() -> None:
    # Guards the tests below: stripping is only proven if the input had the metadata.
    data = camera_jpeg((200, 150), 6)
    markers = jpeg_segments(data)
    assert 0xE1 in markers and 0xE2 in markers and COM in markers
    with Image.open(io.BytesIO(data)) as im:
        exif = im.getexif()
        assert exif[0x0112] == 6 and exif[0x010F] == MAKE
        assert exif.get_ifd(0x8825)[1] == "N"
        assert exif.get_ifd(0x8769)[0x9003]
        assert "icc_profile" in im.info
        # Stored sideways: without transposing, the markers are not where an upright photo has them.
        assert not near(corners(im.convert("RGB"))["top_left"], RED)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("size", ["thumb", "view"])
def test_every_orientation_comes_out_upright_and_stripped(
    store: BlobStore, derivatives: Derivatives, orientation: int, size: str
) -> None:
    sensor = (800, 600)
    info = store.put(camera_jpeg(sensor, orientation))
    f = derivatives.get(info.sha256, size)
    im = open_derivative(f)
    upright = upright_size(sensor, orientation)
    expected = upright if size == "view" else tuple(480 * d // 800 for d in upright)
    assert im.size == expected
    assert im.mode == "RGB" and im.format == "JPEG"
    assert_upright(im)
    data = f.path.read_bytes()
    assert_no_metadata(data)
    assert f.content_type == "image/jpeg" and f.length == len(data)
    # The original, which is evidence, keeps everything.
    with Image.open(store.path(info.sha256)) as original:
        assert original.getexif().get_ifd(0x8825)


PHONE_JPEGS = phone_jpegs()


@pytest.mark.filterwarnings("ignore:(Tag data larger|Truncated File):UserWarning")  # Pillow on broken EXIF
@pytest.mark.parametrize("name", list(PHONE_JPEGS))
@pytest.mark.parametrize("size", ["thumb", "view"])
def test_the_jpegs_todays_phones_write_are_accepted_and_come_out_upright_and_stripped(
    store: BlobStore, derivatives: Derivatives, name: str, size: str
) -> None:
    data = PHONE_JPEGS[name]
    info = store.put(data)
    assert info.content_type == "image/jpeg"
    im = open_derivative(derivatives.get(info.sha256, size))
    assert im.mode == "RGB" and max(im.size) == min(max(info.width, info.height), 480 if size == "thumb" else 1600)
    assert_upright(im)
    assert_no_metadata(derivatives.get(info.sha256, size).path.read_bytes())


def test_the_phone_jpegs_really_are_what_they_claim() -> None:
    # Guards the test above: an UltraHDR/iPhone file has an MPF index and a second picture after it.
    for name in ("ultrahdr", "iphone_mpo"):
        data = PHONE_JPEGS[name]
        assert 0xE2 in jpeg_segments(data) and b"MPF\0" in data, name
        assert data.count(b"\xff\xd8\xff") >= 2, name  # the gain map is a JPEG of its own
    assert b"hdrgm:Version" in PHONE_JPEGS["ultrahdr"] and b"HDRGainMap" in PHONE_JPEGS["iphone_mpo"]
    with Image.open(io.BytesIO(PHONE_JPEGS["progressive"])) as im:
        assert im.info.get("progressive") or im.info.get("progression")
    with Image.open(io.BytesIO(PHONE_JPEGS["cmyk"])) as im:
        assert im.mode == "CMYK"


@pytest.mark.parametrize(
    ("orientation", "thumb", "view"), [(1, (480, 360), (1600, 1200)), (6, (360, 480), (1200, 1600))]
)
def test_sizes_are_bounded(
    store: BlobStore,
    derivatives: Derivatives,
    orientation: int,
    thumb: tuple[int, int],
    view: tuple[int, int],
) -> None:
    sha = store.put(camera_jpeg((2000, 1500), orientation)).sha256
    assert open_derivative(derivatives.get(sha, "thumb")).size == thumb
    big = open_derivative(derivatives.get(sha, "view"))
    assert big.size == view
    assert_upright(big)


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (camera_jpeg((300, 200), 1), (300, 200)),
        (camera_jpeg((300, 200), 8), (200, 300)),
        (png_bytes((100, 50)), (100, 50)),
    ],
    ids=["jpeg", "jpeg-rotated", "png"],
)
def test_small_images_are_never_upscaled(
    store: BlobStore, derivatives: Derivatives, data: bytes, size: tuple[int, int]
) -> None:
    sha = store.put(data).sha256
    for name in ("thumb", "view"):
        f = derivatives.get(sha, name)
        assert open_derivative(f).size == size
        assert_no_metadata(f.path.read_bytes())


def test_transparent_png_is_flattened_on_white(store: BlobStore, derivatives: Derivatives) -> None:
    sha = store.put(png_bytes((40, 30), "RGBA", (0, 0, 0, 0))).sha256
    im = open_derivative(derivatives.get(sha, "thumb"))
    assert im.mode == "RGB"
    assert near(im.getpixel((20, 15)), (255, 255, 255), 8)


def test_cmyk_jpeg_becomes_rgb(store: BlobStore, derivatives: Derivatives) -> None:
    out = io.BytesIO()
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(out, "JPEG")  # red ink
    sha = store.put(out.getvalue()).sha256
    im = open_derivative(derivatives.get(sha, "thumb"))
    assert im.mode == "RGB"
    r, g, b = im.getpixel((32, 32))
    assert r > 200 and g < 60 and b < 60


def test_concurrent_first_requests_render_once(store: BlobStore, tmp_path: Path) -> None:
    sha = store.put(camera_jpeg((1200, 900), 6)).sha256
    renders: Counter[tuple[str, str]] = Counter()
    count_lock = threading.Lock()

    def count(sha: str, size: str) -> None:
        with count_lock:
            renders[(sha, size)] += 1

    n = 8
    start = threading.Barrier(n)
    results: list[DerivativeFile | None] = [None] * n

    def worker(i: int) -> None:
        derivatives = Derivatives(store, tmp_path / "cache", on_generate=count)  # like separate workers
        start.wait()
        results[i] = derivatives.get(sha, "thumb")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert renders == Counter({(sha, "thumb"): 1})
    assert len({(r.path, r.etag, r.length) for r in results if r is not None}) == 1
    assert all(r is not None for r in results)
    leftovers = [p.name for p in (tmp_path / "cache").rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []


def _render_in_process(blob_root: str, cache_root: str, log: str, sha: str, start) -> None:
    def record(sha: str, size: str) -> None:
        with open(log, "a") as f:
            f.write(f"{sha} {size}\n")

    derivatives = Derivatives(BlobStore(Path(blob_root)), Path(cache_root), on_generate=record)
    start.wait()
    derivatives.get(sha, "view")


def test_concurrent_first_requests_from_processes_render_once(store: BlobStore, tmp_path: Path) -> None:
    sha = store.put(camera_jpeg((1800, 1200), 3)).sha256
    log = tmp_path / "renders.log"
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(4)
    args = (str(store.root), str(tmp_path / "cache"), str(log), sha, start)
    procs = [ctx.Process(target=_render_in_process, args=args) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert log.read_text().splitlines() == [f"{sha} view"]
    assert_upright(open_derivative(Derivatives(store, tmp_path / "cache").get(sha, "view")))


def test_cached_derivative_is_served_without_rendering_again(store: BlobStore, tmp_path: Path) -> None:
    sha = store.put(camera_jpeg((900, 600), 1)).sha256
    calls: list[tuple[str, str]] = []
    derivatives = Derivatives(store, tmp_path / "cache", on_generate=lambda s, z: calls.append((s, z)))
    first = derivatives.get(sha, "thumb")
    mtime = first.path.stat().st_mtime_ns
    again = Derivatives(store, tmp_path / "cache", on_generate=lambda s, z: calls.append((s, z)))
    assert again.get(sha, "thumb") == first
    assert derivatives.get(sha, "thumb") == first
    assert calls == [(sha, "thumb")]
    assert first.path.stat().st_mtime_ns == mtime


def test_etag_is_the_quoted_hash_of_the_bytes_and_stable(store: BlobStore, tmp_path: Path) -> None:
    sha = store.put(camera_jpeg((900, 600), 5)).sha256
    derivatives = Derivatives(store, tmp_path / "cache")
    thumb = derivatives.get(sha, "thumb")
    assert thumb.etag == '"' + hashlib.sha256(thumb.path.read_bytes()).hexdigest() + '"'
    assert derivatives.get(sha, "thumb").etag == thumb.etag
    assert Derivatives(store, tmp_path / "cache").get(sha, "thumb").etag == thumb.etag
    assert derivatives.get(sha, "view").etag != thumb.etag


def test_refusals(store: BlobStore, derivatives: Derivatives) -> None:
    sha = store.put(png_bytes()).sha256
    with pytest.raises(DomainError) as exc:
        derivatives.get(sha, "original")
    assert (exc.value.code, exc.value.status) == ("invalid_size", 400)
    with pytest.raises(DomainError) as exc:
        derivatives.get("0" * 64, "thumb")
    assert (exc.value.code, exc.value.status) == ("not_found", 404)
    with pytest.raises(DomainError) as exc:
        derivatives.get("../" + sha[3:], "thumb")
    assert (exc.value.code, exc.value.status) == ("invalid_hash", 400)


@pytest.mark.parametrize("orientation", [1, 6])
def test_photo_without_icc_profile_is_stripped_too(
    store: BlobStore, derivatives: Derivatives, orientation: int
) -> None:
    # Without a profile there is no colour conversion producing a fresh image: the EXIF block and
    # the comment of the decoded original must still be dropped.
    sha = store.put(camera_jpeg((640, 480), orientation, icc=None)).sha256
    f = derivatives.get(sha, "thumb")
    assert_no_metadata(f.path.read_bytes())
    assert_upright(open_derivative(f))


def test_wide_gamut_photo_is_converted_to_srgb_and_its_profile_dropped(
    store: BlobStore, derivatives: Derivatives
) -> None:
    icc = display_p3_icc()
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 60, 40)).save(out, "JPEG", quality=95, icc_profile=icc)
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as original:
        original.load()
        as_stored = original.getpixel((32, 32))
        p3 = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.createProfile("sRGB")
        in_srgb = ImageCms.profileToProfile(original, p3, srgb, outputMode="RGB").getpixel((32, 32))
    assert not near(as_stored, in_srgb, 15)  # otherwise this test could not tell the difference
    f = derivatives.get(store.put(data).sha256, "thumb")
    pixel = open_derivative(f).getpixel((32, 32))
    assert near(pixel, in_srgb, 4), (pixel, in_srgb, as_stored)
    assert_no_metadata(f.path.read_bytes())


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_with_exif_are_turned_upright_and_stripped(
    store: BlobStore, derivatives: Derivatives, fmt: str
) -> None:
    jpeg = Image.open(io.BytesIO(camera_jpeg((400, 300), 6, noise=False)))
    out = io.BytesIO()
    jpeg.save(out, fmt, exif=jpeg.info["exif"])
    info = store.put(out.getvalue())
    assert info.content_type == f"image/{fmt.lower()}"
    f = derivatives.get(info.sha256, "thumb")
    im = open_derivative(f)
    assert im.size == (300, 400)
    assert_upright(im)
    assert_no_metadata(f.path.read_bytes())


def test_sixteen_bit_grey_png_is_scaled_to_eight_bits(store: BlobStore, derivatives: Derivatives) -> None:
    out = io.BytesIO()
    Image.new("I;16", (20, 10), 40_000).save(out, "PNG")
    im = open_derivative(derivatives.get(store.put(out.getvalue()).sha256, "thumb"))
    assert im.mode == "RGB"
    assert near(im.getpixel((5, 5)), (156, 156, 156), 3)  # 40000 / 256


# -- on object storage ---------------------------------------------------------------------------------


def test_on_object_storage_derivatives_are_cached_in_the_bucket_and_shared_by_nodes(local_s3: LocalS3) -> None:
    location = local_s3.location(local_s3.new_bucket(), "photos")
    renders: list[tuple[str, str]] = []
    node_a = Derivatives(S3BlobStore(location), on_generate=lambda s, z: renders.append((s, z)))
    node_b = Derivatives(S3BlobStore(location), on_generate=lambda s, z: renders.append((s, z)))
    with pytest.raises(DomainError) as exc:
        node_a.get("0" * 64, "thumb")  # not arrived
    assert exc.value.status == 404
    info = node_a.store.put(camera_jpeg((800, 600), 6))
    first = node_a.get(info.sha256, "thumb")
    assert first.path is None  # nothing on the node's disk
    data = first.read_bytes()
    assert first.etag == '"' + hashlib.sha256(data).hexdigest() + '"' and first.length == len(data)
    assert_no_metadata(data)
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (360, 480)  # upright
    again = node_b.get(info.sha256, "thumb")  # another node: served from the bucket, not rendered
    assert (again.etag, again.length, again.read_bytes()) == (first.etag, first.length, data)
    assert renders == [(info.sha256, "thumb")]
    keys = [o["Key"] for o in local_s3.client().list_objects_v2(Bucket=location.bucket)["Contents"]]
    assert f"photos/derived/v{RENDER_VERSION}/thumb/{info.sha256[:2]}/{info.sha256}.jpg" in keys
