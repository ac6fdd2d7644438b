"""Images before sending: metadata stripped, upright, measured, BlurHash equal to the
reference encoder's (blurhash-python, C)."""

from __future__ import annotations

import io
import os

import blurhash as reference
import pytest
from PIL import Image

from app.blurhash import decode, encode
from app.errors import InvalidInput
from app.media_image import avatar_jpeg, prepare_image, thumbnail_of
from app.models import attachments_of
from marmot.media import MediaReference, build_imeta_tag


@pytest.mark.parametrize("size", [(1, 1), (20, 17), (32, 9), (7, 32)])
def test_blurhash_equals_the_reference_encoder(size: tuple[int, int]) -> None:
    w, h = size
    image = Image.frombytes("RGB", size, os.urandom(w * h * 3))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    buf.seek(0)
    assert encode(image.tobytes(), w, h) == reference.encode(Image.open(buf), 4, 3)


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (60, 40), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to display
    exif[0x010F] = "SecretCam"
    gps = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 2.0)}
    exif[0x8825] = gps
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes(), comment=b"private note")
    return buf.getvalue()


def test_jpeg_loses_exif_and_gps_and_is_turned_upright() -> None:
    original = _jpeg_with_gps()
    assert b"SecretCam" in original
    prepared = prepare_image(original, "image/jpeg")
    assert b"SecretCam" not in prepared.data and b"Exif" not in prepared.data
    assert b"private note" not in prepared.data
    back = Image.open(io.BytesIO(prepared.data))
    assert not back.getexif()
    assert (prepared.width, prepared.height) == (40, 60) == back.size  # rotated upright
    assert prepared.dim == "40x60"
    assert len(prepared.blurhash) == 28  # 4 x 3 components
    assert Image.open(io.BytesIO(prepared.thumbnail)).format == "JPEG"


def test_png_text_chunks_are_dropped_and_palette_kept_as_pixels() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "home address")
    image = Image.new("P", (10, 10), 3)
    image.putpalette([0, 0, 0, 10, 20, 30, 40, 50, 60, 255, 0, 0] * 64)
    buf = io.BytesIO()
    image.save(buf, "PNG", pnginfo=info)
    prepared = prepare_image(buf.getvalue(), "image/png")
    assert b"home address" not in prepared.data
    assert Image.open(io.BytesIO(prepared.data)).convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def test_garbage_and_bombs_are_typed_errors() -> None:
    with pytest.raises(InvalidInput):
        prepare_image(b"\xff\xd8\xff not really a jpeg", "image/jpeg")
    header = io.BytesIO()
    Image.new("L", (1, 1)).save(header, "PNG")
    big = bytearray(header.getvalue())
    big[16:24] = (60000).to_bytes(4, "big") * 2  # IHDR claims 60000 x 60000
    with pytest.raises(InvalidInput):
        prepare_image(bytes(big), "image/png")
    assert thumbnail_of(b"junk") is None


def test_attachments_are_read_from_imeta_and_bad_tags_skipped() -> None:
    ref = MediaReference(
        "http://127.0.0.1:1/" + "ab" * 32,
        "image/jpeg",
        "cat.jpg",
        b"\x01" * 32,
        b"\x02" * 12,
        dimensions=(40, 60),
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
    )
    tags = [("imeta", "url x"), build_imeta_tag(ref), ("p", "00" * 32)]
    [found] = attachments_of(tags)
    assert (found.filename, found.mime_type, found.width, found.height) == (
        "cat.jpg",
        "image/jpeg",
        40,
        60,
    )
    assert found.file_hash == "01" * 32 and found.is_image


@pytest.mark.parametrize(
    "blurhash",
    [
        "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        "00DBY=",
        "|rF?hV%2WCj[ayj[a|j[az_NaeWBj@ayfRayfQfQM{M|azj[azf6fQfQfQIpWXofj[ayj[j[fQayWCoeoeaya}j[ayfQa{oLj?j[WVj[ayayj[fQoff7azayj[ayj[j[ayofayayayj[fQj[ayayj[ayfjj[j[ayjuayj[",
    ],
)
def test_blurhash_decode_equals_the_reference_decoder(blurhash: str) -> None:
    ours = decode(blurhash, 24, 16)
    theirs = reference.decode(blurhash, 24, 16).convert("RGB").tobytes()
    assert ours == theirs


def test_blurhash_decode_refuses_malformed_hashes() -> None:
    for bad in ("", "LEHV6", "LEHV6nWB2yk8pyo0adR*.7kCMdn", "LEHV6nWB2yk8pyo0adR*.7kCMd\x00j"):
        with pytest.raises(ValueError):
            decode(bad, 8, 8)
    with pytest.raises(ValueError):
        decode("LEHV6nWB2yk8pyo0adR*.7kCMdnj", 1000, 1000)


def test_avatar_is_a_small_upright_square_without_metadata() -> None:
    source = _jpeg_with_gps()
    square = avatar_jpeg(source)
    image = Image.open(io.BytesIO(square))
    assert image.size == (128, 128) and image.format == "JPEG"
    assert not image.getexif()
    with pytest.raises(InvalidInput):
        avatar_jpeg(b"not a picture")
