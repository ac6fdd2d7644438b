"""The Profile B group picture behind component 0x8002 (MDK 0.9 ``marmot-app``
``media/group_image.rs``), not Profile A's MIP-01 image.

Unlike message media the key travels in the (MLS-protected) component itself::

    image_key, image_nonce  fresh random 32 / 12 bytes
    blob         = ChaCha20-Poly1305(image_key, image_nonce, image,
                                     aad = "marmot-group-image-v1" || 0 || media_type)
    image_hash   = SHA-256(blob)        (the Blossom address; the fetched blob must match)
    upload key   = a fresh Nostr secret key (any member can later manage the blob)

Sealing takes 1 byte .. 10 MiB of PNG, JPEG, GIF or WebP whose magic bytes are the
declared (canonical) type. MDK also bounds the decoded size (4096 px a side, 16 777 216
pixels); that needs an image decoder and is the caller's, as stripping metadata is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marmot.errors import InvalidMedia
from marmot.media import sniff_image
from marmot.primitives import CryptoFailure, aead_open, aead_seal, sha256
from marmot.profile_b.components import GroupBlossomImage, canonical_media_type
from marmot.profile_b.errors import InvalidComponent
from nostr.keys import Rng, SecretKey, system_rng

__all__ = ["MAX_IMAGE_BYTES", "SealedGroupImage", "open_group_image", "seal_group_image"]

VERSION = b"marmot-group-image-v1"
MAX_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def _aad(media_type: str) -> bytes:
    return VERSION + b"\x00" + media_type.encode()


def _canonical(media_type: str) -> str:
    try:
        return canonical_media_type(media_type)
    except InvalidComponent as exc:
        raise InvalidMedia(f"group image media type: {exc.reason}") from None


@dataclass(frozen=True, slots=True)
class SealedGroupImage:
    component: GroupBlossomImage  # the 0x8002 state to commit
    blob: bytes = field(repr=False)  # upload this, addressed by component.image_hash


def seal_group_image(image: bytes, media_type: str, *, rng: Rng = system_rng) -> SealedGroupImage:
    if not image:
        raise InvalidMedia("group image cannot be empty")
    if len(image) > MAX_IMAGE_BYTES:
        raise InvalidMedia(f"group image exceeds {MAX_IMAGE_BYTES} bytes")
    canonical = _canonical(media_type)
    if canonical not in IMAGE_TYPES:
        raise InvalidMedia("group image media type is not supported")
    if sniff_image(image) != canonical:
        raise InvalidMedia("group image media type does not match its bytes")
    key, nonce = rng(32), rng(12)
    blob = aead_seal(key, nonce, image, _aad(canonical))
    upload = SecretKey.generate(rng)
    component = GroupBlossomImage(sha256(blob), key, nonce, upload.data, canonical)
    return SealedGroupImage(component, blob)


def open_group_image(component: GroupBlossomImage, blob: bytes) -> bytes:
    """Check the fetched blob against the component's hash and decrypt it."""
    if not component.present:
        raise InvalidMedia("the group has no image")
    if sha256(blob) != component.image_hash:
        raise InvalidMedia("group image blob hash does not match component")
    aad = _aad(_canonical(component.media_type))
    try:
        return aead_open(component.image_key, component.image_nonce, blob, aad)
    except CryptoFailure:
        raise InvalidMedia("group image decryption failed") from None
