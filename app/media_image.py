"""Images before they are sent: re-encoded without metadata (EXIF, GPS, XMP, comments),
turned upright, measured, given a BlurHash and a small preview. Pillow does the decoding
and encoding (see the README for why it is a dependency).

Formats that re-encode without losing a feature (JPEG, PNG, still WebP) are rebuilt from
their pixels only; others (GIF and animations, which carry no camera metadata) go as they
are. A picture too large to decode safely is refused, not sent unstripped.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageOps, UnidentifiedImageError

from app.blurhash import encode as blurhash_encode
from app.errors import InvalidInput

MAX_PIXELS = 50_000_000
"""Decompression-bomb bound (MDK's ``MAX_IMAGE_PIXELS``)."""
MAX_DIMENSION = 16384
THUMBNAIL = 320
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


@dataclass(frozen=True, slots=True)
class PreparedImage:
    data: bytes = field(repr=False)
    mime_type: str
    width: int
    height: int
    blurhash: str
    thumbnail: bytes = field(repr=False)
    """A JPEG at most `THUMBNAIL` pixels on its longer side (kept in the encrypted cache)."""

    @property
    def dim(self) -> str:
        return f"{self.width}x{self.height}"


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_DIMENSION:
                raise InvalidInput(f"the image is too large ({width}x{height})")
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"not a readable image: {exc}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput("the image is too large to decode safely") from None
    return image


def prepare_image(data: bytes, mime_type: str) -> PreparedImage:
    """The image as it is sent; `InvalidInput` when it cannot be decoded safely."""
    image = _open(data)
    animated = getattr(image, "n_frames", 1) > 1
    fmt = _FORMATS.get(mime_type)
    if fmt is not None and not animated:
        upright = ImageOps.exif_transpose(image)
        out = _reencode(upright, fmt)
    else:
        upright, out = image, data
    width, height = upright.size
    preview = upright.convert("RGB")
    small = preview.copy()
    small.thumbnail((32, 32), Image.Resampling.LANCZOS)
    hash_ = blurhash_encode(small.tobytes(), small.width, small.height)
    return PreparedImage(out, mime_type, width, height, hash_, thumbnail(preview))


def thumbnail(image: Image.Image) -> bytes:
    small = image.convert("RGB")
    small.thumbnail((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def thumbnail_of(data: bytes) -> bytes | None:
    """A preview of received image bytes, or None when they do not decode."""
    try:
        return thumbnail(_open(data))
    except InvalidInput:
        return None


def _reencode(image: Image.Image, fmt: str) -> bytes:
    """Pixels only: a fresh image carries no EXIF, XMP, ICC profile or text chunks."""
    mode = image.mode
    if fmt == "JPEG" and mode not in ("RGB", "L", "CMYK"):
        mode = "RGB"
    elif mode not in ("RGB", "RGBA", "L", "LA"):
        mode = "RGBA"  # a palette would be lost by a fresh image
    clean = Image.new(mode, image.size)
    clean.paste(image.convert(mode) if mode != image.mode else image)
    buf = io.BytesIO()
    if fmt == "JPEG":
        clean.save(buf, "JPEG", quality=92)
    elif fmt == "PNG":
        clean.save(buf, "PNG", optimize=False)
    else:
        clean.save(buf, "WEBP", quality=90)
    return buf.getvalue()


AVATAR = 128


def avatar_jpeg(data: bytes) -> bytes:
    """A profile picture: the centre square, `AVATAR` pixels, re-encoded as JPEG (nothing
    of the original file's metadata survives); `InvalidInput` when it does not decode."""
    image = ImageOps.exif_transpose(_open(data)).convert("RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    square = square.resize((AVATAR, AVATAR), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    square.save(buf, "JPEG", quality=85)
    return buf.getvalue()
