"""MIP-04 encrypted media: keys, encryption, ``imeta`` tags (marmot.md section 6)."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from marmot.errors import InvalidMedia
from marmot.media import (
    MediaReference,
    build_imeta_tag,
    canonical_mime,
    decrypt_media,
    encrypt_media,
    file_key,
    parse_imeta_tag,
)
from tests.helpers.nostr_factories import CountingRng

EXPORTER = bytes(range(32))
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg body" * 10


def test_file_key_is_expand_only_hkdf_over_the_documented_context() -> None:
    x = hashlib.sha256(JPEG).digest()
    info = b"mip04-v2\x00" + x + b"\x00image/jpeg\x00cat.jpg\x00key"
    expected = HKDFExpand(hashes.SHA256(), 32, info).derive(EXPORTER)
    assert file_key(EXPORTER, x, "image/jpeg", "cat.jpg") == expected


def test_encrypt_matches_an_independent_aead_and_decrypts() -> None:
    enc = encrypt_media(EXPORTER, JPEG, "IMAGE/JPEG", "cat.jpg", rng=CountingRng())
    x = hashlib.sha256(JPEG).digest()
    assert (enc.file_hash, enc.mime_type) == (x, "image/jpeg")
    aad = b"mip04-v2\x00" + x + b"\x00image/jpeg\x00cat.jpg"
    key = file_key(EXPORTER, x, "image/jpeg", "cat.jpg")
    assert ChaCha20Poly1305(key).decrypt(enc.nonce, enc.blob, aad) == JPEG
    assert enc.blob_hash == hashlib.sha256(enc.blob).digest()
    ref = enc.reference("https://blossom.example/abc")
    assert decrypt_media(EXPORTER, enc.blob, ref) == JPEG


def test_decrypt_rejects_a_wrong_key_tampering_and_a_wrong_hash() -> None:
    enc = encrypt_media(EXPORTER, JPEG, "image/jpeg", "cat.jpg", rng=CountingRng())
    ref = enc.reference("https://b/x")
    with pytest.raises(InvalidMedia, match="does not decrypt"):
        decrypt_media(b"\x00" * 32, enc.blob, ref)
    with pytest.raises(InvalidMedia, match="does not decrypt"):
        decrypt_media(EXPORTER, enc.blob[:-1] + bytes([enc.blob[-1] ^ 1]), ref)
    with pytest.raises(InvalidMedia, match="does not decrypt"):  # filename is in the AAD
        decrypt_media(
            EXPORTER,
            enc.blob,
            MediaReference("u", "image/jpeg", "dog.jpg", enc.file_hash, enc.nonce),
        )
    # A sender who lies about x: the AEAD opens (x is only AAD here) but the hash check fails.
    fake_x = hashlib.sha256(b"other").digest()
    key = file_key(EXPORTER, fake_x, "image/jpeg", "cat.jpg")
    aad = b"mip04-v2\x00" + fake_x + b"\x00image/jpeg\x00cat.jpg"
    blob = ChaCha20Poly1305(key).encrypt(b"\x01" * 12, JPEG, aad)
    lying = MediaReference("u", "image/jpeg", "cat.jpg", fake_x, b"\x01" * 12)
    with pytest.raises(InvalidMedia, match="hash"):
        decrypt_media(EXPORTER, blob, lying)


@pytest.mark.parametrize(
    ("data", "mime", "filename", "reason"),
    [
        (JPEG, "image/png", "a.png", "not image/png"),
        (b"plain", "image/gif", "a.gif", "not image/gif"),
        (b"x", "application/x-evil", "a", "not allowed"),
        (b"x", "nonsense", "a", "invalid MIME"),
        (b"x", "text/plain", "", "empty"),
        (b"x", "text/plain", "a/b", "separator"),
        (b"x", "text/plain", "a\\b", "separator"),
        (b"x", "text/plain", "a\nb", "control"),
        (b"x", "text/plain", "a\x85b", "control"),
        (b"x", "text/plain", "é" * 106, "210"),
    ],
)
def test_encrypt_refuses(data: bytes, mime: str, filename: str, reason: str) -> None:
    with pytest.raises(InvalidMedia, match=reason):
        encrypt_media(EXPORTER, data, mime, filename, rng=CountingRng())


def test_escape_hatch_and_limits() -> None:
    assert canonical_mime("application/octet-stream; x=y") == "application/octet-stream"
    enc = encrypt_media(EXPORTER, b"any bytes", "application/octet-stream", "f.bin")
    assert enc.mime_type == "application/octet-stream"
    assert canonical_mime(" Text/Plain ;charset=utf-8") == "text/plain"
    encrypt_media(EXPORTER, b"x", "text/plain", "é" * 105)  # 210 bytes is allowed


FULL = MediaReference(
    url="https://blossom.example/ab",
    mime_type="audio/ogg",
    filename="voice note.ogg",
    file_hash=b"\x11" * 32,
    nonce=b"\x22" * 12,
    dimensions=(640, 480),
    blurhash="LKO2?U%2Tw=w",
    thumbhash="1QcSHQRnh493V4dIh4eXh1h4kJUI",
    duration="12.345",
    waveform=(0, 50, 100),
)


def test_imeta_tag_layout_and_round_trip() -> None:
    tag = build_imeta_tag(FULL)
    assert tag == (
        "imeta",
        "url https://blossom.example/ab",
        "m audio/ogg",
        "filename voice note.ogg",
        "dim 640x480",
        "blurhash LKO2?U%2Tw=w",
        "thumbhash 1QcSHQRnh493V4dIh4eXh1h4kJUI",
        "x " + "11" * 32,
        "n " + "22" * 12,
        "v mip04-v2",
        "duration 12.345",  # White Noise writes the audio fields after v
        "waveform 0 50 100",
    )
    assert parse_imeta_tag(tag) == FULL
    minimal = MediaReference("u", "text/plain", "a.txt", b"\x01" * 32, b"\x02" * 12)
    assert parse_imeta_tag(build_imeta_tag(minimal)) == minimal


def _tag(**replace: str | None) -> list[str]:
    fields = {
        "url": "u",
        "m": "image/png",
        "filename": "a.png",
        "x": "11" * 32,
        "n": "22" * 12,
        "v": "mip04-v2",
    }
    fields.update(replace)  # type: ignore[arg-type]
    return ["imeta"] + [f"{k} {v}" for k, v in fields.items() if v is not None]


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        (_tag(url=None), "at least"),
        ([*_tag(), "unknown field"], None),
        (
            [
                "imeta",
                "url u",
                "m image/png",
                "filename a",
                "x " + "11" * 32,
                "n " + "22" * 12,
                "zz",
            ],
            "'v'",
        ),
        (["meta", *_tag()[1:]], "at least"),
        (_tag(m="image/svg+xml"), "not allowed"),
        (_tag(filename="a/b"), "separator"),
        (_tag(x="11" * 31), "32 bytes"),
        (_tag(x="zz" * 32), "not hex"),
        (_tag(n="22" * 13), "12 bytes"),
        (_tag(n="22" * 6 + " " + "22" * 6), "12 bytes"),
        (_tag(v="mip04-v1"), "unsupported"),
        # Rust lower-cases ASCII only: a Kelvin sign does not fold into "k".
        (_tag(m="video/x-matros\u212aa"), "not allowed"),
        # Every occurrence is checked, not only the one that counts (MDK).
        ([*_tag(), "x " + "zz" * 32, "x " + "33" * 32], "not hex"),
        ([*_tag(), "filename a/b", "filename b.png"], "separator"),
    ],
)
def test_parse_imeta_refuses(tag: list[str], reason: str | None) -> None:
    if reason is None:
        assert parse_imeta_tag(tag).url == "u"  # unknown fields are ignored
        return
    with pytest.raises(InvalidMedia, match=reason):
        parse_imeta_tag(tag)


def test_a_later_field_overrides_an_earlier_one_like_mdk() -> None:
    ref = parse_imeta_tag([*_tag(), "x " + "33" * 32, "m IMAGE/JPEG; q=1", "url w"])
    assert (ref.file_hash, ref.mime_type, ref.url) == (b"\x33" * 32, "image/jpeg", "w")


def test_malformed_optional_hints_are_dropped_like_mdk() -> None:
    ref = parse_imeta_tag([*_tag(), "dim 12", "duration abc", "waveform 1 200"])
    assert (ref.dimensions, ref.duration, ref.waveform) == (None, None, None)
    assert parse_imeta_tag([*_tag(), "duration 1.2345"]).duration is None  # ms precision
    assert parse_imeta_tag([*_tag(), "duration 7.25"]).duration == "7.25"
    assert parse_imeta_tag([*_tag(), "dim 1x2"]).dimensions == (1, 2)
