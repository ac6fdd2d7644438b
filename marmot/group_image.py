"""MIP-01 group image (marmot.md section 3.4, mdk-core behaviour).

Upload always produces v2 material::

    image_key   = HKDF(salt=zeros, IKM=image_seed,  info="mip01-image-encryption-v2", 32)
    blob        = ChaCha20-Poly1305(image_key, image_nonce, image, aad="")
    image_hash  = SHA-256(blob)
    upload_sk   = HKDF(salt=zeros, IKM=upload_seed, info="mip01-blossom-upload-v2", 32)

``image_seed`` goes into the extension's ``image_key`` field and ``upload_seed`` into
``image_upload_key``. Decryption checks the hash first, tries the v2 key and falls back to
v1 (the field is the ChaCha key itself). Stripping EXIF metadata is the caller's job (it
needs an image library); the MIME type is checked against the group-image allowlist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marmot.errors import InvalidMedia
from marmot.group_data import NostrGroupData
from marmot.media import IMAGE_MIME_TYPES, mime_essence
from marmot.primitives import (
    CryptoFailure,
    aead_open,
    aead_seal,
    hkdf_expand,
    hkdf_extract,
    sha256,
)
from nostr.errors import InvalidKey
from nostr.keys import Rng, SecretKey, system_rng

IMAGE_INFO_V2 = b"mip01-image-encryption-v2"
UPLOAD_INFO_V2 = b"mip01-blossom-upload-v2"
UPLOAD_INFO_V1 = b"mip01-blossom-upload-v1"
GROUP_IMAGE_MIME_TYPES = IMAGE_MIME_TYPES  # the same list in MDK


def _derive(seed: bytes, info: bytes) -> bytes:
    # Rust ``Hkdf::new(None, ikm)``: extract with an all-zero salt, then expand.
    return hkdf_expand(hkdf_extract(b"", seed), info, 32)


def image_encryption_key(image_seed: bytes) -> bytes:
    """The v2 ChaCha20-Poly1305 key of a group image from its seed."""
    return _derive(image_seed, IMAGE_INFO_V2)


def upload_secret_key(seed: bytes, version: int = 2) -> SecretKey:
    """The Nostr key that signs Blossom uploads of the group image.

    ``seed`` is ``image_upload_key`` (v2) or, for v1 groups, ``image_key``.
    """
    info = UPLOAD_INFO_V2 if version >= 2 else UPLOAD_INFO_V1
    try:
        return SecretKey(_derive(seed, info))
    except InvalidKey:  # probability ~2^-128
        raise InvalidMedia("the derived upload key is not a valid secp256k1 scalar") from None


@dataclass(frozen=True, slots=True)
class PreparedGroupImage:
    """An encrypted group image and the extension fields that describe it."""

    encrypted_blob: bytes = field(repr=False)
    image_hash: bytes
    image_seed: bytes = field(repr=False)
    image_nonce: bytes = field(repr=False)
    upload_seed: bytes = field(repr=False)
    mime_type: str

    @property
    def upload_key(self) -> SecretKey:
        return upload_secret_key(self.upload_seed, 2)

    def apply_to(self, data: NostrGroupData) -> NostrGroupData:
        """``data`` with the image fields set (version 2 semantics)."""
        return data.updated(
            image_hash=self.image_hash,
            image_key=self.image_seed,
            image_nonce=self.image_nonce,
            image_upload_key=self.upload_seed,
            version=max(data.version, 2),
        )


def canonical_group_image_mime(mime_type: str) -> str:
    canonical = mime_essence(mime_type)
    if canonical not in GROUP_IMAGE_MIME_TYPES:
        raise InvalidMedia(f"{canonical!r} is not an allowed group image type")
    return canonical


def prepare_group_image(
    image: bytes, mime_type: str, *, rng: Rng = system_rng
) -> PreparedGroupImage:
    """Encrypt ``image`` (already stripped of metadata) with fresh seeds and nonce."""
    canonical = canonical_group_image_mime(mime_type)
    image_seed, upload_seed, nonce = rng(32), rng(32), rng(12)
    blob = aead_seal(image_encryption_key(image_seed), nonce, image)
    return PreparedGroupImage(blob, sha256(blob), image_seed, nonce, upload_seed, canonical)


def decrypt_group_image(blob: bytes, data: NostrGroupData) -> bytes:
    """Check the blob against ``image_hash`` and decrypt it (v2 key, then v1 fallback)."""
    if data.image_hash is None or data.image_key is None or data.image_nonce is None:
        raise InvalidMedia("the group has no image")
    if sha256(blob) != data.image_hash:
        raise InvalidMedia("group image blob does not match image_hash")
    for key in (image_encryption_key(data.image_key), data.image_key):
        try:
            return aead_open(key, data.image_nonce, blob)
        except CryptoFailure:
            continue
    raise InvalidMedia("group image does not decrypt with the v2 or v1 key")
