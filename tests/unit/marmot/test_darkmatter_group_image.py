"""The Profile B group picture (component 0x8002): seal, the component round trip, open.

No vector in ``shared/marmot-vectors`` covers the 0x8002 image crypto; the AEAD is
checked against an independent ``cryptography`` computation with MDK's AAD layout, and
each refusal happens once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from marmot.errors import InvalidMedia
from marmot.profile_b.components import GroupBlossomImage
from marmot.profile_b.group_image import MAX_IMAGE_BYTES, open_group_image, seal_group_image
from nostr.keys import SecretKey

pytestmark = pytest.mark.darkmatter

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0" + bytes(40)


def _rng(seed: int):  # type: ignore[no-untyped-def]
    counter = itertools.count(seed * 1000)
    return lambda n: hashlib.shake_256(next(counter).to_bytes(8, "big")).digest(n)


def test_seal_matches_the_layout_and_round_trips() -> None:
    sealed = seal_group_image(JPEG, " Image/JPG ", rng=_rng(1))
    c = sealed.component
    assert c.media_type == "image/jpeg" and c.image_hash == hashlib.sha256(sealed.blob).digest()
    aad = b"marmot-group-image-v1\x00image/jpeg"
    assert sealed.blob == ChaCha20Poly1305(c.image_key).encrypt(c.image_nonce, JPEG, aad)
    SecretKey(c.image_upload_key)  # a usable Nostr secret for Blossom uploads
    assert GroupBlossomImage.decode(c.encode()) == c
    assert open_group_image(c, sealed.blob) == JPEG
    assert repr(c.image_key) not in repr(sealed) and repr(sealed.blob) not in repr(sealed)
    again = seal_group_image(JPEG, "image/jpeg", rng=_rng(2))
    assert again.component.image_key != c.image_key and again.blob != sealed.blob


def test_each_seal_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    for image, media_type, reason in (
        (b"", "image/png", "empty"),
        (PNG, "image/svg+xml", "not supported"),
        (PNG, "text/plain", "not supported"),
        (PNG, "image/jpeg", "does not match its bytes"),
        (b"GIF89a...", "image/png", "does not match its bytes"),
        (PNG, "png", "media type"),
    ):
        with pytest.raises(InvalidMedia, match=reason):
            seal_group_image(image, media_type)
    assert MAX_IMAGE_BYTES == 10 * 1024 * 1024
    monkeypatch.setattr("marmot.profile_b.group_image.MAX_IMAGE_BYTES", len(PNG) - 1)
    with pytest.raises(InvalidMedia, match="exceeds"):
        seal_group_image(PNG, "image/png")


def test_each_open_refusal() -> None:
    sealed = seal_group_image(PNG, "image/png", rng=_rng(3))
    c = sealed.component
    with pytest.raises(InvalidMedia, match="hash does not match"):
        open_group_image(c, sealed.blob + b"\x00")
    for changed in (
        dataclasses.replace(c, image_key=bytes(32)),
        dataclasses.replace(c, image_nonce=bytes(12)),
        dataclasses.replace(c, media_type="image/gif"),  # the type is in the AAD
    ):
        with pytest.raises(InvalidMedia, match="decryption failed"):
            open_group_image(changed, sealed.blob)
    with pytest.raises(InvalidMedia, match="no image"):
        open_group_image(GroupBlossomImage(), sealed.blob)
