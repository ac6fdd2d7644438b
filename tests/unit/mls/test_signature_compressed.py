"""ECDSA signature keys as compressed SEC1 points (what ts-mls sends) verify like
uncompressed ones; malformed compressed points are a typed error."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mls.crypto import get_suite
from mls.errors import InvalidMessage


@pytest.mark.parametrize("cs", [2, 5, 7])
def test_compressed_signature_key_verifies(cs: int) -> None:
    suite = get_suite(cs)
    priv, pub = suite.generate_signature_key_pair()
    curve = {2: ec.SECP256R1(), 5: ec.SECP521R1(), 7: ec.SECP384R1()}[cs]
    point = ec.EllipticCurvePublicKey.from_encoded_point(curve, pub)
    compressed = point.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    assert len(compressed) == (len(pub) + 1) // 2
    signature = suite.sign_with_label(priv, "LeafNodeTBS", b"content")
    suite.verify_with_label(compressed, "LeafNodeTBS", b"content", signature)
    with pytest.raises(InvalidMessage):
        suite.verify_with_label(compressed, "LeafNodeTBS", b"other", signature)
    # Flipping the parity byte gives the other point with this x: a different key.
    flipped = bytes([compressed[0] ^ 1]) + compressed[1:]
    with pytest.raises(InvalidMessage):
        suite.verify_with_label(flipped, "LeafNodeTBS", b"content", signature)


def test_compressed_point_off_curve_is_rejected() -> None:
    suite = get_suite(2)
    _, pub = suite.generate_signature_key_pair()
    # x = p - 1 ... find an x with no y on P-256 by trying small values.
    for x in range(2, 100):
        bad = b"\x02" + x.to_bytes(32, "big")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bad)
        except ValueError:
            break
    else:  # pragma: no cover - some small x always lacks a square root
        pytest.fail("no off-curve x found")
    with pytest.raises(InvalidMessage):
        suite.verify_with_label(bad, "LeafNodeTBS", b"content", b"\x30\x00")
    assert len(pub) == 65
