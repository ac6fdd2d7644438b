"""MIP-04 encrypted media, version ``mip04-v2`` (marmot.md section 6).

::

    exporter = MLS-Exporter("marmot", "encrypted-media", 32)    // the sender's epoch
    x        = SHA-256(file)                 m = canonical MIME type
    file_key = HKDF-Expand(exporter, "mip04-v2" 00 x 00 m 00 filename 00 "key", 32)
    aad      = "mip04-v2" 00 x 00 m 00 filename
    blob     = ChaCha20-Poly1305(file_key, nonce, file, aad)

The ``imeta`` tag (NIP-92) carries ``url``, ``m``, ``filename``, optional ``dim``,
``blurhash``, ``thumbhash``, then ``x``, ``n``, ``v`` and last the audio fields ``duration``
and ``waveform``: the order White Noise writes (MDK's own builder puts the audio fields
before ``x``; parsers take any order).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from marmot.errors import InvalidMedia
from marmot.primitives import CryptoFailure, aead_open, aead_seal, hkdf_expand, sha256
from nostr.keys import Rng, system_rng

SCHEME_VERSION = "mip04-v2"
EXPORTER_LABEL = "marmot"
EXPORTER_CONTEXT = b"encrypted-media"
MAX_FILE_SIZE = 100 * 1024 * 1024
MAX_FILENAME_BYTES = 210
MAX_WAVEFORM_SAMPLES = 16384
ESCAPE_HATCH_MIME = "application/octet-stream"
IMAGE_MIME_TYPES = frozenset(
    "image/" + s
    for s in ("png", "jpeg", "gif", "webp", "bmp", "x-icon", "tiff", "x-farbfeld", "avif", "qoi")
)
MEDIA_MIME_TYPES = IMAGE_MIME_TYPES | frozenset(
    {
        *("video/" + s for s in ("mp4", "quicktime", "x-matroska", "webm", "x-msvideo", "ogg")),
        *(
            "audio/" + s
            for s in ("ogg", "flac", "x-flac", "aac", "mp4", "webm", "mpeg", "wav", "x-matroska")
        ),
        "application/pdf",
        "text/plain",
    }
)
_DIM = re.compile(r"([0-9]{1,10})x([0-9]{1,10})")
_DURATION = re.compile(r"[0-9]+(\.[0-9]{1,3})?")  # MDK keeps milliseconds
_HEX_FIELDS = {"x": 32, "n": 12}


def mime_essence(mime_type: str) -> str:
    """Trimmed, ASCII lower-case, parameters dropped (Rust ``to_ascii_lowercase``: other
    letters keep their case, so no Unicode folding can reach the allowlist)."""
    lowered = "".join(c.lower() if c.isascii() else c for c in mime_type.strip())
    return lowered.split(";", 1)[0].strip()


def canonical_mime(mime_type: str) -> str:
    """:func:`mime_essence`, checked against the MIP-04 allowlist."""
    canonical = mime_essence(mime_type)
    if "/" not in canonical or len(canonical) > 100:
        raise InvalidMedia(f"invalid MIME type {mime_type!r}")
    if canonical != ESCAPE_HATCH_MIME and canonical not in MEDIA_MIME_TYPES:
        raise InvalidMedia(f"MIME type {canonical!r} is not allowed")
    return canonical


def validate_filename(filename: str) -> None:
    if not filename:
        raise InvalidMedia("filename is empty")
    if len(filename.encode()) > MAX_FILENAME_BYTES:
        raise InvalidMedia(f"filename is longer than {MAX_FILENAME_BYTES} bytes")
    if "/" in filename or "\\" in filename or any(_is_control(c) for c in filename):
        raise InvalidMedia("filename contains a path separator or control character")


def _is_control(c: str) -> bool:
    # Rust char::is_control: general category Cc (C0, DEL, C1).
    o = ord(c)
    return o < 0x20 or 0x7F <= o <= 0x9F


def sniff_image(data: bytes) -> str | None:
    """The image type the magic bytes announce (enough to refuse a spoofed type)."""
    signatures = (
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"BM", "image/bmp"),
        (b"\x00\x00\x01\x00", "image/x-icon"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"farbfeld", "image/x-farbfeld"),
        (b"qoif", "image/qoi"),
    )
    for magic, mime in signatures:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "image/avif"
    return None


def _context(file_hash: bytes, mime_type: str, filename: str) -> bytes:
    return b"\x00".join((SCHEME_VERSION.encode(), file_hash, mime_type.encode(), filename.encode()))


def file_key(exporter_secret: bytes, file_hash: bytes, mime_type: str, filename: str) -> bytes:
    """The per-file ChaCha20-Poly1305 key (expand-only HKDF of the media exporter)."""
    info = _context(file_hash, mime_type, filename) + b"\x00key"
    return hkdf_expand(exporter_secret, info, 32)


@dataclass(frozen=True, slots=True)
class MediaReference:
    """What an ``imeta`` tag says about one encrypted file."""

    url: str
    mime_type: str
    filename: str
    file_hash: bytes
    nonce: bytes
    dimensions: tuple[int, int] | None = None
    blurhash: str | None = None
    thumbhash: str | None = None
    duration: str | None = None
    waveform: tuple[int, ...] | None = None
    version: str = SCHEME_VERSION


@dataclass(frozen=True, slots=True)
class EncryptedMedia:
    """The result of :func:`encrypt_media`: the blob to upload and its reference fields."""

    blob: bytes = field(repr=False)
    file_hash: bytes
    nonce: bytes
    mime_type: str
    filename: str

    @property
    def blob_hash(self) -> bytes:
        """The Blossom address of the blob."""
        return sha256(self.blob)

    def reference(
        self,
        url: str,
        *,
        dimensions: tuple[int, int] | None = None,
        blurhash: str | None = None,
        thumbhash: str | None = None,
        duration: str | None = None,
        waveform: tuple[int, ...] | None = None,
    ) -> MediaReference:
        """The reference to put in an ``imeta`` tag once the blob is uploaded to ``url``."""
        return MediaReference(
            url,
            self.mime_type,
            self.filename,
            self.file_hash,
            self.nonce,
            dimensions,
            blurhash,
            thumbhash,
            duration,
            waveform,
        )


def encrypt_media(
    exporter_secret: bytes,
    data: bytes,
    mime_type: str,
    filename: str,
    *,
    rng: Rng = system_rng,
) -> EncryptedMedia:
    """Encrypt a file (already stripped of metadata) for upload."""
    if len(data) > MAX_FILE_SIZE:
        raise InvalidMedia(f"file is larger than {MAX_FILE_SIZE} bytes")
    mime = canonical_mime(mime_type)
    if mime.startswith("image/") and sniff_image(data) != mime:
        raise InvalidMedia(f"file content is not {mime}")
    validate_filename(filename)
    file_hash = sha256(data)
    nonce = rng(12)
    key = file_key(exporter_secret, file_hash, mime, filename)
    blob = aead_seal(key, nonce, data, _context(file_hash, mime, filename))
    return EncryptedMedia(blob, file_hash, nonce, mime, filename)


def decrypt_media(exporter_secret: bytes, blob: bytes, ref: MediaReference) -> bytes:
    """Decrypt a downloaded blob and check ``SHA-256(file) == x``."""
    key = file_key(exporter_secret, ref.file_hash, ref.mime_type, ref.filename)
    try:
        data = aead_open(key, ref.nonce, blob, _context(ref.file_hash, ref.mime_type, ref.filename))
    except CryptoFailure:
        raise InvalidMedia("media blob does not decrypt with this epoch's key") from None
    if sha256(data) != ref.file_hash:
        raise InvalidMedia("decrypted media does not match its hash")
    return data


def build_imeta_tag(ref: MediaReference) -> tuple[str, ...]:
    """``["imeta", "url …", "m …", "filename …", [dim, blurhash, thumbhash], "x …", "n …",
    "v mip04-v2", [duration, waveform]]``, in White Noise's order."""
    items = ["imeta", f"url {ref.url}", f"m {ref.mime_type}", f"filename {ref.filename}"]
    if ref.dimensions is not None:
        items.append(f"dim {ref.dimensions[0]}x{ref.dimensions[1]}")
    for key in ("blurhash", "thumbhash"):
        value = getattr(ref, key)
        if value is not None:
            items.append(f"{key} {value}")
    items += [f"x {ref.file_hash.hex()}", f"n {ref.nonce.hex()}", f"v {ref.version}"]
    if ref.duration is not None:
        items.append(f"duration {ref.duration}")
    if ref.waveform is not None:
        items.append("waveform " + " ".join(str(s) for s in ref.waveform))
    return tuple(items)


def _hex_field(value: str, length: int, name: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise InvalidMedia(f"imeta {name!r} is not hex") from None
    if len(raw) != length or len(value) != 2 * length:
        raise InvalidMedia(f"imeta {name!r} must be {length} bytes")
    return raw


def _parse_waveform(value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    parts = value.split(" ")
    if len(parts) > MAX_WAVEFORM_SAMPLES or not all(
        p.isascii() and p.isdigit() and int(p) <= 100 for p in parts
    ):
        return None
    return tuple(int(p) for p in parts)


def _imeta_fields(tag: Sequence[str]) -> dict[str, str]:
    """``key -> value`` of an imeta tag; like MDK, a later item overrides an earlier one
    and every ``m``, ``filename``, ``x`` and ``n`` item must be valid."""
    if len(tag) < 7 or tag[0] != "imeta":
        raise InvalidMedia("an imeta tag needs at least url, m, filename, x, n and v")
    fields: dict[str, str] = {}
    for item in tag[1:]:
        key, sep, value = item.partition(" ")
        if not sep:
            continue
        if key == "m":
            value = canonical_mime(value)
        elif key == "filename":
            validate_filename(value)
        elif key in _HEX_FIELDS:
            _hex_field(value, _HEX_FIELDS[key], key)
        fields[key] = value
    for key in ("url", "m", "filename", "x", "n", "v"):
        if key not in fields:
            raise InvalidMedia(f"imeta tag has no {key!r} field")
    return fields


def parse_imeta_tag(tag: Sequence[str]) -> MediaReference:
    """Parse and validate an ``imeta`` tag; unknown fields are ignored."""
    f = _imeta_fields(tag)
    if f["v"] != SCHEME_VERSION:
        raise InvalidMedia(f"unsupported MIP-04 version {f['v']!r}")
    # Optional display hints: MDK ignores malformed ones, so we drop them instead of
    # refusing a message White Noise would show.
    dims = None
    match = _DIM.fullmatch(f.get("dim", ""))
    if match is not None and max(int(match[1]), int(match[2])) <= 0xFFFFFFFF:
        dims = (int(match[1]), int(match[2]))
    duration = f.get("duration", "").strip()
    if not _DURATION.fullmatch(duration):
        duration = ""
    return MediaReference(
        url=f["url"],
        mime_type=f["m"],
        filename=f["filename"],
        file_hash=bytes.fromhex(f["x"]),
        nonce=bytes.fromhex(f["n"]),
        dimensions=dims,
        blurhash=f.get("blurhash"),
        thumbhash=f.get("thumbhash"),
        duration=duration or None,
        waveform=_parse_waveform(f.get("waveform")),
    )
