"""MIP-01 group image encryption (marmot.md section 3.4)."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from marmot.errors import InvalidMedia
from marmot.group_data import NostrGroupData
from marmot.group_image import (
    decrypt_group_image,
    image_encryption_key,
    prepare_group_image,
    upload_secret_key,
)
from tests.helpers.nostr_factories import CountingRng

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
GROUP = NostrGroupData(b"\x07" * 32, "g")


def _hkdf(ikm: bytes, info: bytes) -> bytes:
    # cryptography's HKDF with salt=None is the "zero salt" extract of RFC 5869.
    return HKDF(hashes.SHA256(), 32, None, info).derive(ikm)


def test_keys_match_an_independent_hkdf() -> None:
    seed = bytes(range(32))
    assert image_encryption_key(seed) == _hkdf(seed, b"mip01-image-encryption-v2")
    v2 = upload_secret_key(seed, 2)
    assert v2.data == _hkdf(seed, b"mip01-blossom-upload-v2")
    assert upload_secret_key(seed, 1).data == _hkdf(seed, b"mip01-blossom-upload-v1")


def test_prepare_then_decrypt() -> None:
    prepared = prepare_group_image(PNG, " Image/PNG ; q=1", rng=CountingRng())
    assert prepared.mime_type == "image/png"
    assert prepared.image_hash == hashlib.sha256(prepared.encrypted_blob).digest()
    data = prepared.apply_to(GROUP)
    assert data.image_key == prepared.image_seed
    assert data.image_upload_key == prepared.upload_seed
    assert prepared.upload_key.data == _hkdf(prepared.upload_seed, b"mip01-blossom-upload-v2")
    assert decrypt_group_image(prepared.encrypted_blob, data) == PNG
    # The blob is the plain ChaCha20-Poly1305 of the image under the derived key.
    key = image_encryption_key(prepared.image_seed)
    assert ChaCha20Poly1305(key).decrypt(prepared.image_nonce, prepared.encrypted_blob, b"") == PNG


def test_v1_images_decrypt_with_the_key_itself() -> None:
    key, nonce = b"\x05" * 32, b"\x06" * 12
    blob = ChaCha20Poly1305(key).encrypt(nonce, PNG, b"")
    data = GROUP.updated(
        image_hash=hashlib.sha256(blob).digest(), image_key=key, image_nonce=nonce, version=1
    )
    assert decrypt_group_image(blob, data) == PNG


def test_rejections() -> None:
    prepared = prepare_group_image(PNG, "image/png", rng=CountingRng())
    data = prepared.apply_to(GROUP)
    with pytest.raises(InvalidMedia, match="image_hash"):
        decrypt_group_image(prepared.encrypted_blob + b"x", data)
    wrong_key = data.updated(image_key=b"\x00" * 32)
    with pytest.raises(InvalidMedia, match="does not decrypt"):
        decrypt_group_image(prepared.encrypted_blob, wrong_key)
    with pytest.raises(InvalidMedia, match="no image"):
        decrypt_group_image(prepared.encrypted_blob, GROUP)
    with pytest.raises(InvalidMedia, match="not an allowed"):
        prepare_group_image(PNG, "application/octet-stream")
