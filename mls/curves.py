"""NIST prime curves shared by the ECDH KEMs and ECDSA: scalars and SEC1 points.

Private keys travel as fixed-length big-endian scalars (RFC 9180 SerializePrivateKey, and
the MLS vectors' ECDSA encoding); public keys as uncompressed SEC1 points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mls.errors import InvalidMessage, UsageError


# eq=False: hashed by identity, cheap as an lru_cache key; there are three instances.
@dataclass(frozen=True, slots=True, eq=False)
class Curve:
    name: str
    curve: ec.EllipticCurve
    order: int
    scalar_size: int  # Nsk: bytes of a serialized scalar
    point_size: int  # Npk: bytes of an uncompressed point
    top_mask: int  # RFC 9180 section 7.1.3 bitmask for the candidate's first byte


# Group orders n from SEC 2 / FIPS 186-4; tests check (n-1)*G == -G and that n is rejected.
P256 = Curve(
    "P-256",
    ec.SECP256R1(),
    int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16),
    32,
    65,
    0xFF,
)
P384 = Curve(
    "P-384",
    ec.SECP384R1(),
    int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    48,
    97,
    0xFF,
)
P521 = Curve(
    "P-521",
    ec.SECP521R1(),
    int(
        "01FF" + "FFFFFFFF" * 7 + "FFFFFFFA"
        "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
    66,
    133,
    0x01,
)


def scalar_from_candidates(curve: Curve, candidate: Callable[[int], bytes]) -> int:
    """RFC 9180 section 7.1.3 rejection sampling: the first candidate in [1, n)."""
    for counter in range(256):
        raw = bytearray(candidate(counter))
        raw[0] &= curve.top_mask
        scalar = int.from_bytes(raw, "big")
        if 0 < scalar < curve.order:
            return scalar
    # Probability about 2**-256 per call for these curves: a broken rng, not bad luck.
    raise UsageError(f"{curve.name}: no valid scalar in 256 candidates")


def private_key(curve: Curve, data: bytes) -> ec.EllipticCurvePrivateKey:
    """Load a serialized scalar; a malformed one is our own bug, hence ``UsageError``."""
    if len(data) != curve.scalar_size:
        raise UsageError(f"{curve.name} private key must be {curve.scalar_size} bytes")
    scalar = int.from_bytes(data, "big")
    if not 0 < scalar < curve.order:
        raise UsageError(f"{curve.name} private key out of range")
    return ec.derive_private_key(scalar, curve.curve)


def private_bytes(curve: Curve, key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_numbers().private_value.to_bytes(curve.scalar_size, "big")


def public_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@lru_cache(maxsize=1024)
def public_key(curve: Curve, data: bytes) -> ec.EllipticCurvePublicKey:
    """Load an uncompressed point (checked on the curve); peers send these, so a bad one
    is ``InvalidMessage``. Cached: point validation is the costly part of a verify."""
    if len(data) != curve.point_size or data[0] != 0x04:
        raise InvalidMessage(f"{curve.name} public key is not an uncompressed point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve.curve, data)
    except ValueError:
        raise InvalidMessage(f"{curve.name} public key is not on the curve") from None
