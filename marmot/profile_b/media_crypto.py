"""Profile B encrypted media files: the per-file key and the AEAD (spec
features/encrypted-media.md; MDK 0.9 ``marmot-app`` media, whose v2 also follows)::

    media_secret = MLS-Exporter("marmot", "encrypted-media", 32)     at the source epoch
    info         = version || 0 || plaintext_sha256 || 0 || m || 0 || filename || 0 || "key"
    file_key     = HKDF-Expand(PRK = media_secret, info, 32)         (no Extract step)
    aad          = version || 0 || plaintext_sha256 || 0 || m || 0 || filename
    ciphertext   = ChaCha20-Poly1305(file_key, nonce, plaintext, aad)  (tag appended)

``version`` is the reference's ``encrypted-media-v1``/``-v2``, so the two formats never
share a key; ``m`` is the canonical media type (v1 references may carry a
non-canonical one, canonicalized the v1 way before use); ``filename`` is the reference's
bytes as they are (a v1 sender trims it first). The source epoch is the MLS epoch of the
message that carried the ``imeta`` tag, so the caller picks the exporter of that epoch
(:func:`media_secret`). Opening checks, in order: the blob's SHA-256 against
``ciphertext_sha256``, the AEAD, the plaintext's SHA-256 against ``plaintext_sha256``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from marmot.errors import InvalidMedia
from marmot.primitives import CryptoFailure, aead_open, aead_seal, hkdf_expand, sha256
from marmot.profile_b.media import (
    V1,
    Locator,
    MediaReference,
    canonical_media_type_for,
    media_tag,
    parse_media_tag,
)
from marmot.profile_b.text import rust_trim
from mls.group_state import GroupState
from nostr.keys import Rng, system_rng

__all__ = [
    "EXPORTER_CONTEXT",
    "EXPORTER_LABEL",
    "MAX_BLOB_BYTES",
    "SealedMedia",
    "file_key",
    "media_aad",
    "media_secret",
    "open_media",
    "seal_media",
]

EXPORTER_LABEL = "marmot"
EXPORTER_CONTEXT = b"encrypted-media"
MAX_BLOB_BYTES = 512 * 1024 * 1024
"""MDK's blob cap; the plaintext may be 16 bytes (the tag) shorter."""


def media_secret(state: GroupState, epoch: int | None = None) -> bytes:
    """The media exporter of ``epoch`` (default: the current one) of a retained state."""
    if epoch is None:
        return state.export(EXPORTER_LABEL, EXPORTER_CONTEXT, 32)
    return state.export_at(epoch, EXPORTER_LABEL, EXPORTER_CONTEXT, 32)


def media_aad(version: str, plaintext_sha256: bytes, media_type: str, file_name: str) -> bytes:
    if len(plaintext_sha256) != 32:
        raise InvalidMedia("plaintext_sha256 is 32 bytes")
    return b"\x00".join(
        (version.encode(), plaintext_sha256, media_type.encode(), file_name.encode())
    )


def file_key(
    secret: bytes, version: str, plaintext_sha256: bytes, media_type: str, file_name: str
) -> bytes:
    if len(secret) != 32:
        raise InvalidMedia("the media exporter secret is 32 bytes")
    info = media_aad(version, plaintext_sha256, media_type, file_name) + b"\x00key"
    return hkdf_expand(secret, info, 32)


@dataclass(frozen=True, slots=True)
class SealedMedia:
    """One encrypted file ready to upload, with what its ``imeta`` reference will say."""

    version: str
    ciphertext: bytes = field(repr=False)
    ciphertext_sha256: str
    plaintext_sha256: str
    nonce_hex: str
    media_type: str
    file_name: str

    def reference(
        self,
        locators: Sequence[Locator],
        *,
        dim: str | None = None,
        thumbhash: str | None = None,
        allow_loopback_http: bool = False,
    ) -> MediaReference:
        """The reference once uploaded, checked by the very reader receivers use."""
        ref = MediaReference(
            self.version,
            tuple(locators),
            self.ciphertext_sha256,
            self.plaintext_sha256,
            self.nonce_hex,
            self.media_type,
            self.file_name,
            dim,
            thumbhash,
        )
        return parse_media_tag(media_tag(ref), allow_loopback_http=allow_loopback_http)


def _outbound_name(version: str, file_name: str) -> str:
    if version == V1:
        name = rust_trim(file_name)
        if not name:
            raise InvalidMedia("media file name cannot be empty")
        return name
    if not file_name or len(file_name.encode()) > 255 or "\0" in file_name:
        raise InvalidMedia("media file name must be 1..255 UTF-8 bytes and contain no NUL")
    return file_name


def seal_media(
    secret: bytes,
    version: str,
    plaintext: bytes,
    media_type: str,
    file_name: str,
    *,
    rng: Rng = system_rng,
) -> SealedMedia:
    if not plaintext:
        raise InvalidMedia("media plaintext cannot be empty")
    if len(plaintext) > MAX_BLOB_BYTES - 16:
        raise InvalidMedia(f"media plaintext exceeds {MAX_BLOB_BYTES - 16} bytes")
    m = canonical_media_type_for(version, media_type)
    name = _outbound_name(version, file_name)
    digest, nonce = sha256(plaintext), rng(12)
    key = file_key(secret, version, digest, m, name)
    ciphertext = aead_seal(key, nonce, plaintext, media_aad(version, digest, m, name))
    return SealedMedia(
        version, ciphertext, sha256(ciphertext).hex(), digest.hex(), nonce.hex(), m, name
    )


def open_media(secret: bytes, ref: MediaReference, blob: bytes) -> bytes:
    """Decrypt a fetched blob for ``ref`` with the exporter of its source epoch; raises
    :class:`InvalidMedia` for a wrong blob, a failed AEAD or a wrong plaintext."""
    if len(blob) > MAX_BLOB_BYTES:
        raise InvalidMedia(f"encrypted media exceeds {MAX_BLOB_BYTES} bytes")
    if sha256(blob).hex() != ref.ciphertext_sha256.lower():
        raise InvalidMedia("encrypted blob hash does not match media reference")
    digest = bytes.fromhex(ref.plaintext_sha256)
    m = canonical_media_type_for(ref.version, ref.media_type)
    key = file_key(secret, ref.version, digest, m, ref.file_name)
    aad = media_aad(ref.version, digest, m, ref.file_name)
    try:
        plaintext = aead_open(key, bytes.fromhex(ref.nonce_hex), blob, aad)
    except CryptoFailure:
        raise InvalidMedia("media decryption failed") from None
    if sha256(plaintext) != digest:
        raise InvalidMedia("media plaintext hash does not match reference")
    return plaintext
