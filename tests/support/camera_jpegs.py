"""Test images made with Pillow: camera-like JPEGs with EXIF, plus non-images and decompression bombs.

Camera JPEGs are built upright with coloured corner markers (red top-left, green top-right, blue
bottom-left), then stored the way a camera stores them: the sensor pixels plus an EXIF Orientation
that says how to turn them upright. After a correct ``exif_transpose`` the red marker is top-left
again and the green one top-right; those two corners tell all eight orientations apart.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageCms, ImageDraw

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)

MAKE = "WuyeCam"
MODEL = "FieldShot 9"
TAKEN = "2024:05:01 10:11:12"
SHANGHAI = (31.2304, 121.4737)

# How the stored (sensor) pixels relate to the upright picture, per EXIF Orientation: the transpose
# that exif_transpose applies, and its inverse, used here to go from upright to stored.
_TO_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_TO_STORED = {**_TO_UPRIGHT, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Displayed size of a photo whose sensor pixels are ``size``."""
    w, h = size
    return (h, w) if orientation >= 5 else (w, h)


def marker_side(size: tuple[int, int]) -> int:
    """Side of the square corner markers of an upright picture of ``size``."""
    return max(4, min(size) // 6)


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def camera_exif(
    orientation: int = 1,
    *,
    gps: tuple[float, float] | None = SHANGHAI,
    make: str = MAKE,
    model: str = MODEL,
    taken: str = TAKEN,
) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0132] = taken  # DateTime
    exif[0x8769] = {0x9003: taken, 0x9004: taken}  # Exif IFD: DateTimeOriginal, DateTimeDigitized
    if gps is not None:
        lat, lng = gps
        exif[0x8825] = {  # GPS IFD
            0: b"\x02\x03\x00\x00",  # GPSVersionID
            1: "N" if lat >= 0 else "S",
            2: _dms(lat),
            3: "E" if lng >= 0 else "W",
            4: _dms(lng),
        }
    return exif


def upright_picture(size: tuple[int, int], *, noise: bool = True) -> Image.Image:
    """An upright RGB picture with the three corner markers; ``noise`` makes it compress like a photo."""
    w, h = size
    gradient = Image.linear_gradient("L").resize((w, h))
    if noise:
        channels = [Image.blend(Image.effect_noise((w, h), 48), gradient, 0.4) for _ in range(3)]
        im = Image.merge("RGB", channels)
    else:
        im = Image.merge("RGB", [gradient, gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM), gradient])
    # Keep the background well away from pure red/green/blue so a marker cannot be mistaken.
    im = im.point(lambda v: 64 + v // 2)
    m = marker_side(size)
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, m - 1, m - 1), fill=RED)
    draw.rectangle((w - m, 0, w - 1, m - 1), fill=GREEN)
    draw.rectangle((0, h - m, m - 1, h - 1), fill=BLUE)
    return im


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _s15f16(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15f16(x) + _s15f16(y) + _s15f16(z)


def display_p3_icc() -> bytes:
    """A matrix/TRC ICC v2 profile with Display P3 primaries (D50-adapted) and gamma 2.2.

    Hand-built because Pillow can only create sRGB/LAB/XYZ profiles and tests must not depend on
    profile files of the machine. Wider gamut than sRGB, so converting changes pixel values.
    """
    desc_text = b"Display P3 (Wuye test)\0"
    tags = {
        b"desc": b"desc\0\0\0\0" + struct.pack(">I", len(desc_text)) + desc_text + bytes(4 + 4 + 2 + 1 + 67),
        b"cprt": b"text\0\0\0\0" + b"No copyright, test data\0",
        b"wtpt": _xyz_tag(0.9642, 1.0, 0.8249),
        b"rXYZ": _xyz_tag(0.5151, 0.2412, -0.0011),
        b"gXYZ": _xyz_tag(0.2920, 0.6922, 0.0419),
        b"bXYZ": _xyz_tag(0.1571, 0.0666, 0.7841),
        b"rTRC": b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0",  # gamma 2.2 (u8Fixed8)
    }
    tags[b"gTRC"] = tags[b"bTRC"] = tags[b"rTRC"]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table = struct.pack(">I", len(tags))
    body = b""
    for sig, data in tags.items():
        data += bytes(-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = 128 + table_size + len(body)
    header = (
        struct.pack(">I", size)
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8)
        + struct.pack(">I", 0)  # perceptual intent
        + _s15f16(0.9642)
        + _s15f16(1.0)
        + _s15f16(0.8249)
        + bytes(4 + 16)
    )
    header += bytes(128 - len(header))
    return header + table + body


SRGB_ICC = srgb_icc()


def camera_jpeg(
    size: tuple[int, int] = (640, 480),
    orientation: int = 1,
    *,
    gps: tuple[float, float] | None = SHANGHAI,
    make: str = MAKE,
    model: str = MODEL,
    taken: str = TAKEN,
    quality: int = 90,
    noise: bool = True,
    icc: bytes | None = SRGB_ICC,
    comment: bytes = b"WuyeCam firmware 1.0",
) -> bytes:
    """JPEG bytes as a camera writes them: ``size`` is the stored (sensor) pixel size.

    The upright picture is ``upright_size(size, orientation)`` with the markers in place; metadata
    holds Orientation, Make/Model, DateTimeOriginal, a GPS IFD, an ICC profile (``icc``, sRGB unless
    told otherwise, None for none) and a COM comment.
    Each call draws fresh noise, so two calls give different bytes.
    """
    if orientation not in range(1, 9):
        raise ValueError("EXIF orientation is 1..8")
    picture = upright_picture(upright_size(size, orientation), noise=noise)
    stored = picture.transpose(_TO_STORED[orientation]) if orientation != 1 else picture
    assert stored.size == size
    out = io.BytesIO()
    params: dict[str, object] = {
        "quality": quality,
        "exif": camera_exif(orientation, gps=gps, make=make, model=model, taken=taken).tobytes(),
        "comment": comment,
    }
    if icc is not None:
        params["icc_profile"] = icc
    stored.save(out, "JPEG", **params)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (64, 48), mode: str = "RGB", color: object = (40, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def gif_bytes(size: tuple[int, int] = (32, 32)) -> bytes:
    """A valid image in a format the store does not accept."""
    out = io.BytesIO()
    Image.new("P", size, 3).save(out, "GIF")
    return out.getvalue()


def not_an_image_bytes() -> bytes:
    """Starts like a JPEG (SOI + APP0 marker) so format sniffing alone would be fooled."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"this is a PDF, honestly\n" * 40


def truncated_jpeg() -> bytes:
    data = camera_jpeg((320, 240))
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int = 50_000, height: int = 50_000, *, real_rows: bool = False) -> bytes:
    """A grayscale PNG declaring ``width`` x ``height`` pixels in a tiny file.

    By default the IDAT holds one row only (the header is the bomb). With ``real_rows`` every row is
    present as zeros, which deflate squeezes about 1000:1: a genuine decompression bomb.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    comp = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + pixels
    parts = [comp.compress(row) for _ in range(height if real_rows else 1)]
    parts.append(comp.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_segments(data: bytes) -> list[int]:
    """Marker bytes (0xE0 = APP0, 0xE1 = APP1/EXIF/XMP, 0xE2 = APP2/ICC, 0xFE = COM, ...) up to SOS."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    markers = []
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            raise ValueError(f"bad marker at {i}")
        marker = data[i + 1]
        markers.append(marker)
        if marker == 0xDA:  # SOS: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + length
    return markers


# -- JPEGs as current phones write them ------------------------------------------------------------
# Each one is upright-checkable like camera_jpeg (red top-left, green top-right once turned upright)
# and each is something a phone of 2023-2025 really produces; the server and the PWA must take all.

_HDRGM_PRIMARY = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:Container="http://ns.google.com/photos/1.0/container/"'
    b' xmlns:Item="http://ns.google.com/photos/1.0/container/item/"'
    b' xmlns:hdrgm="http://ns.adobe.com/hdr-gain-map/1.0/" hdrgm:Version="1.0">'
    b"<Container:Directory><rdf:Seq>"
    b'<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="Primary" Item:Mime="image/jpeg"/></rdf:li>'
    b'<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="GainMap" Item:Mime="image/jpeg"/></rdf:li>'
    b"</rdf:Seq></Container:Directory></rdf:Description></rdf:RDF></x:xmpmeta>"
)
_HDRGM_GAIN_MAP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:hdrgm="http://ns.adobe.com/hdr-gain-map/1.0/" hdrgm:Version="1.0"'
    b' hdrgm:GainMapMin="0" hdrgm:GainMapMax="2.3" hdrgm:Gamma="1" hdrgm:OffsetSDR="0.015625"'
    b' hdrgm:OffsetHDR="0.015625" hdrgm:HDRCapacityMin="0" hdrgm:HDRCapacityMax="2.3"'
    b' hdrgm:BaseRenditionIsHDR="False"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
_APPLE_HDR = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:HDRGainMap="http://ns.apple.com/HDRGainMap/1.0/" HDRGainMap:HDRGainMapVersion="65536"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def _stored_picture(size: tuple[int, int], orientation: int) -> Image.Image:
    picture = upright_picture(upright_size(size, orientation))
    return picture.transpose(_TO_STORED[orientation]) if orientation != 1 else picture


def _with_gain_map(primary: Image.Image, gain_map: Image.Image, **params: object) -> bytes:
    """A Multi-Picture (MPF, CIPA DC-007) file: the primary JPEG, an APP2 MPF index, the gain map after it."""
    gain_map.encoderinfo = {"quality": 85, "xmp": params.pop("gain_map_xmp")}
    out = io.BytesIO()
    primary.save(out, "MPO", save_all=True, append_images=[gain_map], **params)
    return out.getvalue()


def ultrahdr_jpeg(size: tuple[int, int] = (640, 480), orientation: int = 1) -> bytes:
    """Android UltraHDR (Pixel 8+, Galaxy S24+, Xiaomi 14...): an SDR JPEG with hdrgm XMP and a
    GContainer directory, an MPF index, and a quarter-size grey gain-map JPEG appended."""
    stored = _stored_picture(size, orientation)
    gain = stored.convert("L").resize((max(1, size[0] // 4), max(1, size[1] // 4)))
    return _with_gain_map(
        stored,
        gain,
        quality=90,
        exif=camera_exif(orientation, make="Google", model="Pixel 8").tobytes(),
        xmp=_HDRGM_PRIMARY,
        icc_profile=SRGB_ICC,
        gain_map_xmp=_HDRGM_GAIN_MAP,
    )


def iphone_mpo(size: tuple[int, int] = (640, 480), orientation: int = 6) -> bytes:
    """An iPhone JPEG (Most Compatible, iOS 17/18): turned by EXIF (portrait = 6), Display P3, an MPF
    index and Apple's HDR gain map as a second, half-size picture."""
    stored = _stored_picture(size, orientation)
    gain = stored.convert("L").resize((max(1, size[0] // 2), max(1, size[1] // 2)))
    return _with_gain_map(
        stored,
        gain,
        quality=92,
        exif=camera_exif(orientation, make="Apple", model="iPhone 15 Pro").tobytes(),
        icc_profile=display_p3_icc(),
        gain_map_xmp=_APPLE_HDR,
    )


def progressive_jpeg(size: tuple[int, int] = (640, 480), orientation: int = 3) -> bytes:
    """Progressive scans (what many Chinese phones' galleries and WeChat re-saves write)."""
    out = io.BytesIO()
    _stored_picture(size, orientation).save(
        out, "JPEG", quality=85, progressive=True, optimize=True, exif=camera_exif(orientation).tobytes()
    )
    return out.getvalue()


def cmyk_jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    """A CMYK JPEG (Adobe APP14), as printing apps and some scanners' 'photo' modes save."""
    out = io.BytesIO()
    upright_picture(size).convert("CMYK").save(out, "JPEG", quality=90)
    return out.getvalue()


def _exif_segment(body: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _insert_exif(data: bytes, exif_body: bytes) -> bytes:
    """``data`` (a JPEG with no APP1) with an APP1 segment of ``exif_body`` right after SOI."""
    return data[:2] + _exif_segment(exif_body) + data[2:]


def odd_exif_jpegs(size: tuple[int, int] = (320, 240)) -> dict[str, bytes]:
    """JPEGs whose EXIF is odd but real: none of them may be refused or break the derivatives."""

    def plain() -> bytes:
        out = io.BytesIO()
        upright_picture(size).save(out, "JPEG", quality=88)
        return out.getvalue()

    big_endian = (  # Motorola byte order, Orientation 1, as Canon / some Samsung firmwares write
        b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01" + b"\x01\x12\0\x03\0\0\0\x01\0\x01\0\0" + b"\0\0\0\0"
    )
    bad_offset = (  # one IFD entry (Make, 40 bytes) pointing far past the end of the segment
        b"Exif\0\0II\x2a\0\x08\0\0\0\x01\0" + b"\x0f\x01\x02\0\x28\0\0\0\xff\xff\x00\x00" + b"\0\0\0\0"
    )
    cut_short = camera_exif(1).tobytes()[:30]  # the IFD count promises entries that are not there
    orientation_0 = camera_exif(1)
    orientation_0[0x0112] = 0  # "unknown": not a valid value
    orientation_9 = camera_exif(1)
    orientation_9[0x0112] = 9
    zero_gps = camera_exif(1, gps=None)
    zero_gps[0x8825] = {1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}  # no fix: 0/0 rationals
    samsung = camera_jpeg(size, 1, make="samsung", model="SM-S9180")
    return {
        "big_endian": _insert_exif(plain(), big_endian),
        "ifd_offset_past_end": _insert_exif(plain(), bad_offset),
        "exif_cut_short": _insert_exif(plain(), b"Exif\0\0" + cut_short),
        "orientation_0": _save_with_exif(upright_picture(size), orientation_0),
        "orientation_9": _save_with_exif(upright_picture(size), orientation_9),
        "gps_without_fix": _save_with_exif(upright_picture(size), zero_gps),
        "samsung_trailer": samsung + b"SEFH" + b"\0" * 64 + b"SEFT",  # Samsung's data after EOI
    }


def _save_with_exif(picture: Image.Image, exif: Image.Exif) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=88, exif=exif.tobytes())
    return out.getvalue()


def phone_jpegs() -> dict[str, bytes]:
    """Every kind of JPEG a phone of today writes, by name (what the accept-them-all tests iterate)."""
    return {
        "ultrahdr": ultrahdr_jpeg(),
        "ultrahdr_portrait": ultrahdr_jpeg((480, 640), 6),
        "iphone_mpo": iphone_mpo(),
        "progressive": progressive_jpeg(),
        "cmyk": cmyk_jpeg(),
        **{f"exif_{k}": v for k, v in odd_exif_jpegs().items()},
    }
