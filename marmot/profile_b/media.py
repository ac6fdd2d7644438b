"""Profile B encrypted media references: the ``imeta`` tag of ``encrypted-media-v1/-v2``
(MDK 0.9 ``marmot-app`` media; not Profile A's MIP-04 ``mip04-v2``).

::

    ["imeta", "v encrypted-media-v2", "locator blossom-v1 <url>", ...more locators,
     "ciphertext_sha256 <hex>", "plaintext_sha256 <hex>", "nonce <24 hex>",
     "m <media type>", "filename <name>", "dim <WxH>"?, "thumbhash <b64>"?]

Reading: every single-value field at most once (``m``, ``filename`` and
``plaintext_sha256`` feed the file key, so first-wins and last-wins readers would
disagree); ``blurhash`` is refused (these formats use thumbhash); unknown fields are
ignored; a present-but-empty ``dim``/``thumbhash`` is kept apart from an absent one.
Rules that differ by version: v1 needs the Blossom URL to carry the ciphertext hash, an
https (or loopback http) host, a file name that is not blank, and accepts a
non-canonical ``m`` (its frozen rule only needs a slash); v2 takes http(s) Blossom URLs,
any 1..255-byte file name without NUL (spaces count), and only a canonical ``m``.
Rejected references raise :class:`~marmot.errors.InvalidMedia`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from marmot.errors import InvalidMedia
from marmot.profile_b.components import BLOSSOM_LOCATOR, MEDIA_FORMATS, canonical_media_type
from marmot.profile_b.errors import InvalidComponent
from marmot.profile_b.text import rust_trim
from marmot.profile_b.urls import (
    UrlError,
    host_of,
    is_ip_literal,
    is_loopback_host,
    is_public_ip,
    normalize_http_url,
)

V1, V2 = MEDIA_FORMATS[1], MEDIA_FORMATS[2]
_SINGLE = {
    "v": "version",
    "ciphertext_sha256": "ciphertext_sha256",
    "plaintext_sha256": "plaintext_sha256",
    "nonce": "nonce",
    "m": "m",
    "filename": "filename",
    "dim": "dim",
    "thumbhash": "thumbhash",
}
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

__all__ = [
    "Locator",
    "MediaReference",
    "canonical_media_type_for",
    "media_tag",
    "parse_media_tag",
]


@dataclass(frozen=True, slots=True)
class Locator:
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class MediaReference:
    version: str
    locators: tuple[Locator, ...]
    ciphertext_sha256: str
    plaintext_sha256: str
    nonce_hex: str
    media_type: str
    file_name: str
    dim: str | None = None
    thumbhash: str | None = None


def canonical_media_type_for(version: str, value: str) -> str:
    """v2: the token grammar of ``components.canonical_media_type``. v1 (frozen): only
    non-empty with a ``/`` after dropping parameters and ASCII space, ASCII-lowered."""
    if version == V2:
        try:
            return canonical_media_type(value)
        except InvalidComponent as exc:
            raise InvalidMedia(f"media type: {exc.reason}") from None
    if version != V1:
        raise InvalidMedia(f"unknown encrypted media version {version!r}")
    essence = value.split(";", 1)[0].strip(" \t\n\r\x0c").translate(_ASCII_LOWER)
    if not essence or "/" not in essence:
        raise InvalidMedia("media type must be a MIME type")
    return "image/jpeg" if essence == "image/jpg" else essence


def media_tag(ref: MediaReference) -> tuple[str, ...]:
    """The exact wire form (what a reader round-trips)."""
    fields = [f"v {ref.version}", *(f"locator {loc.kind} {loc.value}" for loc in ref.locators)]
    fields += [
        f"ciphertext_sha256 {ref.ciphertext_sha256}",
        f"plaintext_sha256 {ref.plaintext_sha256}",
        f"nonce {ref.nonce_hex}",
        f"m {ref.media_type}",
        f"filename {ref.file_name}",
    ]
    if ref.dim is not None:
        fields.append(f"dim {ref.dim}")
    if ref.thumbhash is not None:
        fields.append(f"thumbhash {ref.thumbhash}")
    return ("imeta", *fields)


def _fields(tag: Sequence[str]) -> tuple[dict[str, str], list[Locator]]:
    if not tag or tag[0] != "imeta":
        raise InvalidMedia("media tag must be imeta")
    values: dict[str, str] = {}
    locators: list[Locator] = []
    for field in tag[1:]:
        if field == "blurhash" or field.startswith("blurhash "):
            raise InvalidMedia("encrypted media uses thumbhash, not blurhash")
        if field.startswith("locator "):
            kind, sep, value = field[len("locator ") :].partition(" ")
            if not sep:
                raise InvalidMedia("media locator must include kind and value")
            locators.append(Locator(kind, value))
            continue
        key, sep, value = field.partition(" ")
        if not sep:
            if key in _SINGLE or key == "locator":
                raise InvalidMedia(f"media field {key} is missing its value")
            continue
        if key in _SINGLE:
            if key in values:
                raise InvalidMedia(f"media tag must contain exactly one {_SINGLE[key]}")
            if key == "v" and value not in (V1, V2):
                raise InvalidMedia(f"unknown encrypted media version {value!r}")
            values[key] = value
    return values, locators


def parse_media_tag(tag: Sequence[str], *, allow_loopback_http: bool = False) -> MediaReference:
    values, locators = _fields(tag)
    for key, name in (
        ("ciphertext_sha256", "ciphertext_sha256"),
        ("plaintext_sha256", "plaintext_sha256"),
        ("nonce", "nonce"),
        ("filename", "filename"),
        ("m", "m"),
        ("v", "v"),
    ):
        if not values.get(key):
            raise InvalidMedia(f"media tag missing {name}")
    ref = MediaReference(
        values["v"],
        tuple(locators),
        values["ciphertext_sha256"],
        values["plaintext_sha256"],
        values["nonce"],
        values["m"],
        values["filename"],
        values.get("dim"),
        values.get("thumbhash"),
    )
    _validate(ref, allow_loopback_http)
    return ref


def _validate(ref: MediaReference, allow_loopback_http: bool) -> None:
    for name, value in (("ciphertext", ref.ciphertext_sha256), ("plaintext", ref.plaintext_sha256)):
        if not _HEX64.fullmatch(value):
            raise InvalidMedia(f"media {name}_sha256 must be 64 hex characters")
    if not _HEX.fullmatch(ref.nonce_hex) or len(ref.nonce_hex) != 24:
        raise InvalidMedia("media nonce must be 12 bytes of hex")
    if not ref.locators:
        raise InvalidMedia("media attachment must include at least one locator")
    for locator in ref.locators:
        _check_locator(ref, locator, allow_loopback_http)
    _check_file_name(ref)
    canonical = canonical_media_type_for(ref.version, ref.media_type)
    if ref.version == V2 and canonical != ref.media_type:
        raise InvalidMedia("media type is not canonical for encrypted-media-v2")


def _check_file_name(ref: MediaReference) -> None:
    if ref.version == V1 and not rust_trim(ref.file_name):
        raise InvalidMedia("media file name cannot be empty")
    name = ref.file_name
    if ref.version == V2 and (not name or len(name.encode()) > 255 or "\0" in name):
        raise InvalidMedia("media file name must be 1..255 UTF-8 bytes and contain no NUL")


def _check_locator(ref: MediaReference, locator: Locator, allow_loopback_http: bool) -> None:
    """Only structure makes a reference invalid; a kind we cannot fetch just makes that
    locator unfetchable. Blossom locators are fetched, so their host must be safe."""
    if not rust_trim(locator.kind) or not rust_trim(locator.value):
        raise InvalidMedia("media locator kind and value cannot be empty")
    scheme, sep, rest = locator.value.partition("://")
    if not sep or not scheme or not rest:
        raise InvalidMedia("media locator URL is invalid")
    if locator.kind != BLOSSOM_LOCATOR:
        return
    try:
        url = normalize_http_url(locator.value, ("http", "https"))
    except UrlError as exc:
        raise InvalidMedia(f"Blossom media locator URL: {exc}") from None
    if ref.version == V1:
        _check_v1_blossom(ref, url, allow_loopback_http)


def _check_v1_blossom(ref: MediaReference, url: str, allow_loopback_http: bool) -> None:
    host = host_of(url)
    if url.startswith("http:") and not (allow_loopback_http and is_loopback_host(host)):
        raise InvalidMedia("media locator URL is unsafe: http only to loopback, when allowed")
    if url.startswith("https:") and (
        is_loopback_host(host) or (is_ip_literal(host) and not is_public_ip(host))
    ):
        raise InvalidMedia("media locator URL is unsafe: not a public host")
    path = url.split("://", 1)[1].partition("/")[2].split("?", 1)[0]
    hashes = [path[i : i + 64] for i in range(len(path) - 63) if _HEX64.fullmatch(path[i : i + 64])]
    if not hashes:
        raise InvalidMedia("Blossom locator URL must include the encrypted blob hash")
    if hashes[-1].lower() != ref.ciphertext_sha256.lower():
        raise InvalidMedia("Blossom locator hash does not match media reference")
