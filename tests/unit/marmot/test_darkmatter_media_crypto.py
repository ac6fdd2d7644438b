"""Profile B encrypted media files: key schedule, AEAD, and the binding to the ``imeta``
reference.

Vectors: ``mdk/encrypted-media/imeta-v1.json`` and ``imeta-v2.json`` (every golden case:
a file is sealed under the case's ``m`` and ``filename``, its hashes and nonce put into
the case's tag, the tag read back by our reader and the file opened). No file in
``shared/marmot-vectors`` pins key or ciphertext bytes; the one known answer MDK pins
(``crates/marmot-app/src/media/tests.rs`` at 33dab5ed, the v2 key and AAD for secret
7*32, hash 0x22*32, ``image/jpeg``, `` Photo.JPG ``) is checked here as a number.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
from typing import Any

import pytest

from marmot.errors import InvalidMedia
from marmot.primitives import aead_seal
from marmot.profile_b import media_crypto
from marmot.profile_b.media import Locator, parse_media_tag
from marmot.profile_b.media_crypto import (
    file_key,
    media_aad,
    media_secret,
    open_media,
    seal_media,
)
from tests.unit.marmot.test_darkmatter_group import two_members
from tests.vectors import load_json

pytestmark = pytest.mark.darkmatter

V1, V2 = "encrypted-media-v1", "encrypted-media-v2"
SECRET = bytes([7]) * 32
FILE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _rng(seed: int):  # type: ignore[no-untyped-def]
    counter = itertools.count(seed * 1000)
    return lambda n: hashlib.shake_256(next(counter).to_bytes(8, "big")).digest(n)


def test_mdk_known_answer_for_v2() -> None:
    digest = bytes([0x22]) * 32
    key = file_key(SECRET, V2, digest, "image/jpeg", " Photo.JPG ")
    assert key.hex() == "5fcb5672b9cb2b3ac7915fd9c97697877837f7fb1312034486f400f601cd16b5"
    aad = media_aad(V2, digest, "image/jpeg", " Photo.JPG ")
    assert aad.hex() == (
        "656e637279707465642d6d656469612d7632002222222222222222222222222222222222222222222222"
        "22222222222222222200696d6167652f6a706567002050686f746f2e4a504720"
    )
    assert file_key(SECRET, V1, digest, "image/jpeg", " Photo.JPG ") != key


def test_the_secret_is_the_groups_media_exporter() -> None:
    alice, bob = two_members()
    secret = media_secret(alice)
    assert secret == alice.export("marmot", b"encrypted-media", 32) == media_secret(bob)
    assert secret != alice.export("marmot", b"group-event", 32)
    assert media_secret(alice, alice.epoch) == secret
    sealed = seal_media(secret, V2, FILE, "image/png", "a.png", rng=_rng(1))
    ref = sealed.reference([Locator("blossom-v1", "https://b.example/" + sealed.ciphertext_sha256)])
    assert open_media(media_secret(bob), ref, sealed.ciphertext) == FILE


def _bound_tag(case: dict[str, Any], sealed: media_crypto.SealedMedia) -> list[str]:
    """The case's tag with our hashes and nonce (and, in URLs, our ciphertext hash)."""
    old = case["expected"]["ciphertext_sha256"]
    replace = {
        "ciphertext_sha256": sealed.ciphertext_sha256,
        "plaintext_sha256": sealed.plaintext_sha256,
        "nonce": sealed.nonce_hex,
    }
    out = []
    for field in case["tag"]:
        key = field.split(" ", 1)[0]
        if key in replace:
            out.append(f"{key} {replace[key]}")
        elif key == "locator":
            out.append(re.sub(old, sealed.ciphertext_sha256, field, flags=re.IGNORECASE))
        else:
            out.append(field)
    return out


def _golden() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for name in ("imeta-v1.json", "imeta-v2.json"):
        data = load_json(f"marmot-vectors/mdk/encrypted-media/{name}")
        cases += [(name, c) for c in data["cases"] if c["valid"]]
    return cases


@pytest.mark.vectors
@pytest.mark.parametrize(
    ("fixture", "case"), _golden(), ids=lambda x: x if isinstance(x, str) else x["name"]
)
def test_a_file_opens_under_each_golden_reference(fixture: str, case: dict[str, Any]) -> None:
    expected = case["expected"]
    version, m, name = expected["version"], expected["media_type"], expected["file_name"]
    sealed = seal_media(SECRET, version, FILE, m, name, rng=_rng(2))
    assert (sealed.media_type, sealed.file_name) == (m, name)  # fixture values are canonical
    ref = parse_media_tag(_bound_tag(case, sealed))
    assert (ref.media_type, ref.file_name, ref.locators[0].kind) == (m, name, "blossom-v1")
    assert open_media(SECRET, ref, sealed.ciphertext) == FILE
    other = bytes([8]) * 32
    with pytest.raises(InvalidMedia, match="decryption failed"):
        open_media(other, ref, sealed.ciphertext)
    renamed = parse_media_tag(
        [f if not f.startswith("filename ") else f + "x" for f in _bound_tag(case, sealed)]
    )
    with pytest.raises(InvalidMedia, match="decryption failed"):
        open_media(SECRET, renamed, sealed.ciphertext)


def test_the_key_binds_version_type_name_and_hash() -> None:
    sealed = seal_media(SECRET, V2, FILE, "image/png", "a.png", rng=_rng(3))
    ref = sealed.reference([Locator("blossom-v1", "https://b.example/x")])
    for changed in (
        dataclasses.replace(ref, media_type="image/gif"),
        dataclasses.replace(ref, file_name="b.png"),
        dataclasses.replace(ref, nonce_hex="00" * 12),
    ):
        with pytest.raises(InvalidMedia, match="decryption failed"):
            open_media(SECRET, changed, sealed.ciphertext)
    with pytest.raises(InvalidMedia, match="blob hash"):
        open_media(SECRET, ref, sealed.ciphertext + b"\x00")
    # A blob that decrypts but is not the named plaintext: keyed to another hash.
    wrong = hashlib.sha256(b"other").digest()
    nonce = bytes.fromhex(ref.nonce_hex)
    key = file_key(SECRET, V2, wrong, "image/png", "a.png")
    blob = aead_seal(key, nonce, FILE, media_aad(V2, wrong, "image/png", "a.png"))
    forged = dataclasses.replace(
        ref, plaintext_sha256=wrong.hex(), ciphertext_sha256=hashlib.sha256(blob).hexdigest()
    )
    with pytest.raises(InvalidMedia, match="plaintext hash"):
        open_media(SECRET, forged, blob)
    assert (
        open_media(
            SECRET,
            dataclasses.replace(ref, ciphertext_sha256=ref.ciphertext_sha256.upper()),
            sealed.ciphertext,
        )
        == FILE
    )


def test_v1_canonicalizes_a_legacy_media_type_before_use() -> None:
    sealed = seal_media(SECRET, V1, FILE, " Image/JPG ; q=1", "  pic.jpg ", rng=_rng(4))
    assert (sealed.media_type, sealed.file_name) == ("image/jpeg", "pic.jpg")
    url = "https://blossom.example/" + sealed.ciphertext_sha256
    ref = sealed.reference([Locator("blossom-v1", url)])
    legacy = dataclasses.replace(ref, media_type="IMAGE/JPG; charset=x")
    assert open_media(SECRET, legacy, sealed.ciphertext) == FILE
    assert seal_media(SECRET, V1, FILE, "a/b/c", "n", rng=_rng(5)).media_type == "a/b/c"
    # v1 names are trimmed as Rust trims: U+001C is not white space there.
    assert seal_media(SECRET, V1, FILE, "image/png", "\x1c", rng=_rng(5)).file_name == "\x1c"
    with pytest.raises(InvalidMedia, match="cannot be empty"):
        seal_media(SECRET, V1, FILE, "image/png", "\u3000\u2029")
    with pytest.raises(InvalidMedia):
        seal_media(SECRET, V2, FILE, "a/b/c", "n")


@pytest.mark.parametrize(
    ("version", "m", "name", "reason"),
    [
        (V1, "jpeg", "a", "MIME type"),
        (V1, " ; x", "a", "MIME type"),
        (V2, "image/", "a", "media type"),
        (V1, "image/png", " \t", "cannot be empty"),
        (V2, "image/png", "", "1..255"),
        (V2, "image/png", "a\0b", "1..255"),
        (V2, "image/png", "é" * 128, "1..255"),
        ("encrypted-media-v3", "image/png", "a", "unknown encrypted media version"),
    ],
)
def test_each_seal_refusal(version: str, m: str, name: str, reason: str) -> None:
    with pytest.raises(InvalidMedia, match=reason):
        seal_media(SECRET, version, FILE, m, name)


def test_size_bounds_and_empty_files(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidMedia, match="empty"):
        seal_media(SECRET, V2, b"", "image/png", "a")
    monkeypatch.setattr(media_crypto, "MAX_BLOB_BYTES", 64)
    assert len(seal_media(SECRET, V2, bytes(48), "image/png", "a").ciphertext) == 64
    with pytest.raises(InvalidMedia, match="exceeds"):
        seal_media(SECRET, V2, bytes(49), "image/png", "a")
    sealed = seal_media(SECRET, V2, bytes(48), "image/png", "a")
    ref = sealed.reference([Locator("blossom-v1", "https://b.example/x")])
    with pytest.raises(InvalidMedia, match="exceeds"):
        open_media(SECRET, ref, sealed.ciphertext + b"\x00")
    with pytest.raises(InvalidMedia, match="32 bytes"):
        file_key(bytes(31), V2, bytes(32), "image/png", "a")


def test_the_reference_is_checked_like_a_received_one() -> None:
    sealed = seal_media(SECRET, V1, FILE, "image/png", "a.png", rng=_rng(6))
    with pytest.raises(InvalidMedia, match="hash"):
        sealed.reference([Locator("blossom-v1", "https://blossom.example/no-hash-here")])
    with pytest.raises(InvalidMedia, match="unsafe"):
        sealed.reference([Locator("blossom-v1", "http://10.0.0.1/" + sealed.ciphertext_sha256)])
    ref = sealed.reference(
        [Locator("blossom-v1", "https://b.example/" + sealed.ciphertext_sha256)], dim="1x1"
    )
    assert ref.dim == "1x1" and repr(sealed).count(sealed.ciphertext.hex()[:16]) == 0
