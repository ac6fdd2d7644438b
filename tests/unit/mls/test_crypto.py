"""Behaviour of mls.crypto not pinned by the vectors: errors, rng seams, library oracles."""

from __future__ import annotations

import ast
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from mls import curves
from mls.ciphersuite import SUITE_PARAMS, CipherSuite
from mls.crypto import Suite, get_suite
from mls.errors import InvalidMessage, UnsupportedError, UsageError

ALL = [int(cs) for cs in CipherSuite]


def seeded(seed: bytes) -> Callable[[int], bytes]:
    """A deterministic rng: SHAKE-256 of the seed and a counter."""
    counter = [0]

    def rng(n: int) -> bytes:
        counter[0] += 1
        return hashlib.shake_256(seed + counter[0].to_bytes(4, "big")).digest(n)

    return rng


@pytest.fixture(params=ALL, ids=[f"s{cs}" for cs in ALL])
def suite(request: pytest.FixtureRequest) -> Suite:
    return get_suite(request.param)


@pytest.mark.parametrize("value", [0, 8, 0x0A0A, 0xFFFF])
def test_unsupported_suite(value: int) -> None:
    with pytest.raises(UnsupportedError):
        get_suite(value)


def test_suites_are_cached_and_sized(suite: Suite) -> None:
    assert get_suite(int(suite.cipher_suite)) is suite
    params = SUITE_PARAMS[suite.cipher_suite]
    assert len(suite.hash(b"")) == suite.nh == params.nh
    assert repr(suite).startswith("Suite(MLS_")


def test_hkdf_matches_the_library(suite: Suite) -> None:
    hash_alg = {32: hashes.SHA256(), 48: hashes.SHA384(), 64: hashes.SHA512()}[suite.nh]
    ikm, salt, info = os.urandom(40), os.urandom(suite.nh), b"context"
    for length in (1, suite.nh, suite.nh + 1, 3 * suite.nh + 5):
        expected = HKDF(hash_alg, length, salt, info).derive(ikm)
        assert suite.expand(suite.extract(salt, ikm), info, length) == expected
    prk = os.urandom(suite.nh)
    assert suite.expand(prk, info, 100) == HKDFExpand(hash_alg, 100, info).derive(prk)
    with pytest.raises(UsageError):
        suite.expand(prk, info, 255 * suite.nh + 1)


def test_label_helpers_reject_out_of_range(suite: Suite) -> None:
    with pytest.raises(UsageError):
        suite.expand_with_label(b"s" * suite.nh, "x", b"", 0x10000)
    with pytest.raises(UsageError):
        suite.derive_tree_secret(b"s" * suite.nh, "x", 1 << 32, 16)


def test_mac(suite: Suite) -> None:
    key = os.urandom(suite.nh)
    tag = suite.mac(key, b"data")
    suite.verify_mac(key, b"data", tag)
    with pytest.raises(InvalidMessage):
        suite.verify_mac(key, b"datb", tag)
    with pytest.raises(InvalidMessage):
        suite.verify_mac(key, b"data", tag[:-1])


def test_aead(suite: Suite) -> None:
    key, nonce = os.urandom(suite.nk), os.urandom(suite.nn)
    sealed = suite.aead_seal(key, nonce, b"aad", b"plaintext")
    assert len(sealed) == len(b"plaintext") + 16
    assert suite.aead_open(key, nonce, b"aad", sealed) == b"plaintext"
    for bad in (sealed[:-1] + bytes([sealed[-1] ^ 1]), sealed[:10], b""):
        with pytest.raises(InvalidMessage):
            suite.aead_open(key, nonce, b"aad", bad)
    with pytest.raises(InvalidMessage):
        suite.aead_open(key, nonce, b"aae", sealed)
    with pytest.raises(UsageError):
        suite.aead_seal(key + b"x", nonce, b"", b"")
    with pytest.raises(UsageError):
        suite.aead_open(key, nonce[:-1], b"", sealed)


def test_signature_keys_from_rng_and_errors(suite: Suite) -> None:
    priv, pub = suite.generate_signature_key_pair(seeded(b"sig"))
    assert (priv, pub) == suite.generate_signature_key_pair(seeded(b"sig"))
    assert suite.signature_public_key(priv) == pub
    signature = suite.sign_with_label(priv, "Label", b"content")
    suite.verify_with_label(pub, "Label", b"content", signature)
    raw = suite.sign(priv, b"message")
    suite.verify(pub, b"message", raw)
    _, other_pub = suite.generate_signature_key_pair(seeded(b"other"))
    bad_cases = [
        (other_pub, signature),  # someone else's key
        (pub, signature[:-1]),  # truncated
        (pub, b""),
        (pub, b"\x30\x06\x02\x01\x01\x02\x01\x01"),  # tiny DER / garbage EdDSA
        (pub[:-1], signature),  # malformed public key
        (b"\x05" + pub[1:], signature),
    ]
    for key, sig in bad_cases:
        with pytest.raises(InvalidMessage):
            suite.verify_with_label(key, "Label", b"content", sig)
    with pytest.raises(UsageError):
        suite.sign(priv + b"\x00", b"message")


@pytest.mark.parametrize("cs", [2, 5, 7])
def test_ecdsa_rejects_points_off_the_curve_and_bad_scalars(cs: int) -> None:
    suite = get_suite(cs)
    _, pub = suite.generate_signature_key_pair(seeded(b"ec"))
    off_curve = pub[:-1] + bytes([pub[-1] ^ 1])
    with pytest.raises(InvalidMessage):
        suite.verify(off_curve, b"m", b"\x30\x00")
    order = {2: curves.P256, 5: curves.P521, 7: curves.P384}[cs]
    for scalar in (0, order.order):
        with pytest.raises(UsageError):
            suite.sign(scalar.to_bytes(order.scalar_size, "big"), b"m")


@pytest.mark.parametrize("curve", [curves.P256, curves.P384, curves.P521], ids=lambda c: c.name)
def test_curve_orders(curve: curves.Curve) -> None:
    """(n - 1) * G == -G, and n itself is refused: the constants are the group orders."""
    g = ec.derive_private_key(1, curve.curve).public_key().public_numbers()
    minus_g = ec.derive_private_key(curve.order - 1, curve.curve).public_key().public_numbers()
    assert minus_g.x == g.x
    assert minus_g.y != g.y
    with pytest.raises(ValueError, match="Invalid EC key"):
        ec.derive_private_key(curve.order, curve.curve)


def test_rejection_sampling_skips_zero_and_out_of_range() -> None:
    curve = curves.P521
    too_big = b"\xff" * curve.scalar_size  # masked to 0x01ff.., still >= n
    masked = b"\xfe" + b"\x00" * 64 + b"\x07"  # 0xfe & 0x01 == 0: the bitmask is applied
    candidates = [bytes(curve.scalar_size), too_big, masked]
    assert curves.scalar_from_candidates(curve, lambda i: candidates[i]) == 7
    with pytest.raises(UsageError):
        curves.scalar_from_candidates(curve, lambda _: bytes(curve.scalar_size))


def test_hpke_round_trip_and_rng_seam(suite: Suite) -> None:
    priv, pub = suite.generate_hpke_key_pair(seeded(b"kp"))
    assert (priv, pub) == suite.generate_hpke_key_pair(seeded(b"kp"))
    assert suite.hpke_public_key(priv) == pub
    assert (len(priv), len(pub)) == (suite.nsk, suite.npk)
    assert suite.derive_key_pair(b"ikm") == suite.derive_key_pair(b"ikm")
    sealed = suite.hpke_seal(pub, b"info", b"aad", b"secret", seeded(b"eph"))
    assert sealed == suite.hpke_seal(pub, b"info", b"aad", b"secret", seeded(b"eph"))
    enc, ct = sealed
    assert len(enc) == suite.nenc
    assert suite.hpke_open(enc, priv, b"info", b"aad", ct) == b"secret"
    bad_opens = [
        (enc, priv, b"infx", b"aad", ct),
        (enc, priv, b"info", b"aax", ct),
        (enc, priv, b"info", b"aad", ct[:-1]),
        (enc[:-1], priv, b"info", b"aad", ct),
        (enc, suite.derive_key_pair(b"other")[0], b"info", b"aad", ct),
    ]
    for args in bad_opens:
        with pytest.raises(InvalidMessage):
            suite.hpke_open(*args)
    with pytest.raises(UsageError):
        suite.hpke_open(enc, priv[:-1], b"info", b"aad", ct)
    with pytest.raises(InvalidMessage):
        suite.hpke_seal(pub[:-1], b"info", b"", b"x")


@pytest.mark.parametrize("cs", [1, 3, 4, 6])
def test_montgomery_low_order_points_are_refused(cs: int) -> None:
    suite = get_suite(cs)
    priv, _ = suite.generate_hpke_key_pair()
    zero_point = bytes(suite.npk)
    with pytest.raises(InvalidMessage):
        suite.hpke_seal(zero_point, b"", b"", b"x")
    with pytest.raises(InvalidMessage):
        suite.hpke_open(zero_point, priv, b"", b"", bytes(32))


@pytest.mark.parametrize("cs", [2, 5, 7])
def test_nist_kems_refuse_bad_points(cs: int) -> None:
    suite = get_suite(cs)
    priv, pub = suite.generate_hpke_key_pair()
    compressed = bytes([2 + (pub[-1] & 1)]) + pub[1 : 1 + (suite.npk - 1) // 2]
    for bad in (pub[:-1] + bytes([pub[-1] ^ 1]), bytes(suite.npk), compressed):
        with pytest.raises(InvalidMessage):
            suite.hpke_seal(bad, b"", b"", b"x")
    with pytest.raises(InvalidMessage):
        suite.hpke_open(pub[:-1] + bytes([pub[-1] ^ 1]), priv, b"", b"", bytes(32))


_LIBRARY_HPKE = {
    1: (hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM, None),
    2: (hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM, ec.SECP256R1()),
    3: (hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305, None),
    5: (hpke.KEM.P521, hpke.KDF.HKDF_SHA512, hpke.AEAD.AES_256_GCM, ec.SECP521R1()),
    7: (hpke.KEM.P384, hpke.KDF.HKDF_SHA384, hpke.AEAD.AES_256_GCM, ec.SECP384R1()),
}


@pytest.mark.parametrize("cs", sorted(_LIBRARY_HPKE))
def test_hpke_interoperates_with_the_library(cs: int) -> None:
    """cryptography's own HPKE (no X448 there) is an independent oracle for ours."""
    kem, kdf, aead, curve = _LIBRARY_HPKE[cs]
    lib = hpke.Suite(kem, kdf, aead)
    suite = get_suite(cs)
    priv, pub = suite.generate_hpke_key_pair()
    lib_pub: x25519.X25519PublicKey | ec.EllipticCurvePublicKey
    lib_priv: x25519.X25519PrivateKey | ec.EllipticCurvePrivateKey
    if curve is None:
        lib_pub = x25519.X25519PublicKey.from_public_bytes(pub)
        lib_priv = x25519.X25519PrivateKey.from_private_bytes(priv)
    else:
        lib_pub = ec.EllipticCurvePublicKey.from_encoded_point(curve, pub)
        lib_priv = ec.derive_private_key(int.from_bytes(priv, "big"), curve)
    theirs = lib.encrypt(b"from the library", lib_pub, b"info")
    opened = suite.hpke_open(theirs[: suite.nenc], priv, b"info", b"", theirs[suite.nenc :])
    assert opened == b"from the library"
    enc, ct = suite.hpke_seal(pub, b"info", b"", b"from mls")
    assert lib.decrypt(enc + ct, lib_priv, b"info") == b"from mls"


def test_only_the_crypto_modules_import_cryptography() -> None:
    """The exception-translation boundary: nothing else in mls sees the library."""
    allowed = {"crypto.py", "hpke.py", "signature.py", "curves.py"}
    root = Path(__file__).resolve().parents[3] / "mls"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            relative = str(path.relative_to(root))
            if any(n.split(".")[0] == "cryptography" for n in names) and relative not in allowed:
                offenders.append(relative)
    assert offenders == []
