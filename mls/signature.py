"""The signature schemes of the MLS suites: Ed25519, Ed448 and ECDSA (DER signatures).

Keys are bytes in the encodings RFC 9420 and its vectors use: EdDSA private keys are the
raw seed, ECDSA private keys big-endian scalars, ECDSA public keys uncompressed points
(compressed ones are accepted for verifying, as ts-mls sends them).
ECDSA signs deterministically (RFC 6979), so signing needs no randomness.

Ed25519 runs on libsodium (PyNaCl), the rest on OpenSSL (``cryptography``): libsodium
verifies an Ed25519 signature in about half the time OpenSSL 3.0 takes (55 against 110 us
here), and a group of N members verifies about 2N of them to add or join. Both produce the
same (deterministic, RFC 8032) signatures; libsodium also rejects small-order keys and
non-canonical points, which no honest signer produces.
"""

from __future__ import annotations

from functools import lru_cache

import nacl.bindings as sodium
import nacl.exceptions
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519

from mls import curves
from mls.ciphersuite import SignatureScheme
from mls.errors import InvalidMessage, UsageError
from mls.types import Rng

_EdPriv = ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
_EdPub = ed25519.Ed25519PublicKey | ed448.Ed448PublicKey


class Signer:
    """Sign, verify and generate keys for one :class:`SignatureScheme`."""

    __slots__ = ("scheme",)

    def __init__(self, scheme: SignatureScheme) -> None:
        self.scheme = scheme

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        raise NotImplementedError

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> None:
        """Return on success; raise ``InvalidMessage`` on a bad key or signature."""
        raise NotImplementedError

    def public_key(self, private_key: bytes) -> bytes:
        raise NotImplementedError

    def generate(self, rng: Rng) -> tuple[bytes, bytes]:
        """A fresh (private, public) pair from ``rng``."""
        raise NotImplementedError


class EdDsa(Signer):
    __slots__ = ("_priv", "_pub", "key_size")

    def __init__(self, scheme: SignatureScheme) -> None:
        super().__init__(scheme)
        small = scheme == SignatureScheme.ED25519
        self.key_size = 32 if small else 57
        self._priv: type[_EdPriv] = ed25519.Ed25519PrivateKey if small else ed448.Ed448PrivateKey
        self._pub: type[_EdPub] = ed25519.Ed25519PublicKey if small else ed448.Ed448PublicKey

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        return _ed_private(self._priv, private_key, self.key_size).sign(message)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> None:
        key = _ed_public(self._pub, public_key, self.key_size)
        try:
            key.verify(signature, message)
        except InvalidSignature:
            raise InvalidMessage(f"{self.scheme.name} signature does not verify") from None

    def public_key(self, private_key: bytes) -> bytes:
        return _ed_private(self._priv, private_key, self.key_size).public_key().public_bytes_raw()

    def generate(self, rng: Rng) -> tuple[bytes, bytes]:
        seed = rng(self.key_size)
        return seed, self.public_key(seed)


class Ed25519(Signer):
    """Ed25519 on libsodium; keys are the 32-byte seed and the 32-byte point."""

    __slots__ = ()

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        return sodium.crypto_sign(message, _sodium_secret(private_key))[:64]

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> None:
        if len(public_key) != 32:
            raise InvalidMessage("Ed25519 public key must be 32 bytes")
        # crypto_sign_open takes signature || message: the length check keeps them apart.
        if len(signature) != 64:
            raise InvalidMessage("ED25519 signature does not verify")
        try:
            sodium.crypto_sign_open(signature + message, public_key)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
            raise InvalidMessage("ED25519 signature does not verify") from None

    def public_key(self, private_key: bytes) -> bytes:
        return _sodium_secret(private_key)[32:]

    def generate(self, rng: Rng) -> tuple[bytes, bytes]:
        seed = rng(32)
        return seed, self.public_key(seed)


@lru_cache(maxsize=16)
def _sodium_secret(seed: bytes) -> bytes:
    """libsodium's 64-byte secret key (seed || public key) for an Ed25519 seed."""
    if len(seed) != 32:
        raise UsageError("EdDSA private key must be 32 bytes")
    return bytes(sodium.crypto_sign_seed_keypair(seed)[1])


# Small cache: a member signs many messages with one key; loading a key derives its public
# half (about as slow as the signature itself). Public keys: every sender is verified often.
@lru_cache(maxsize=16)
def _ed_private(cls: type[_EdPriv], data: bytes, size: int) -> _EdPriv:
    if len(data) != size:
        raise UsageError(f"EdDSA private key must be {size} bytes")
    return cls.from_private_bytes(data)


@lru_cache(maxsize=1024)
def _ed_public(cls: type[_EdPub], data: bytes, size: int) -> _EdPub:
    if len(data) != size:
        raise InvalidMessage(f"EdDSA public key must be {size} bytes")
    try:
        return cls.from_public_bytes(data)
    except ValueError:
        raise InvalidMessage("EdDSA public key is not a valid point") from None


_ECDSA = {
    SignatureScheme.ECDSA_SECP256R1_SHA256: (curves.P256, hashes.SHA256()),
    SignatureScheme.ECDSA_SECP384R1_SHA384: (curves.P384, hashes.SHA384()),
    SignatureScheme.ECDSA_SECP521R1_SHA512: (curves.P521, hashes.SHA512()),
}


class Ecdsa(Signer):
    __slots__ = ("_sign_alg", "_verify_alg", "curve")

    def __init__(self, scheme: SignatureScheme) -> None:
        super().__init__(scheme)
        self.curve, hash_alg = _ECDSA[scheme]
        self._sign_alg = ec.ECDSA(hash_alg, deterministic_signing=True)
        self._verify_alg = ec.ECDSA(hash_alg)

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        return _ec_private(self.curve, private_key).sign(message, self._sign_alg)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> None:
        key = _ec_public(self.curve, public_key)
        try:
            key.verify(signature, message, self._verify_alg)
        except InvalidSignature:  # also raised for malformed DER
            raise InvalidMessage(f"{self.scheme.name} signature does not verify") from None

    def public_key(self, private_key: bytes) -> bytes:
        return curves.public_bytes(_ec_private(self.curve, private_key).public_key())

    def generate(self, rng: Rng) -> tuple[bytes, bytes]:
        size = self.curve.scalar_size
        scalar = curves.scalar_from_candidates(self.curve, lambda _: rng(size))
        private_key = scalar.to_bytes(size, "big")
        return private_key, self.public_key(private_key)


@lru_cache(maxsize=16)
def _ec_private(curve: curves.Curve, data: bytes) -> ec.EllipticCurvePrivateKey:
    # Field-Element-to-Octet-String is fixed width, but some encoders (one official P-521
    # vector among them) drop leading zero bytes: restore them.
    if 0 < len(data) < curve.scalar_size:
        data = data.rjust(curve.scalar_size, b"\0")
    return curves.private_key(curve, data)


@lru_cache(maxsize=1024)
def _ec_public(curve: curves.Curve, data: bytes) -> ec.EllipticCurvePublicKey:
    # Section 5.1.1 asks for uncompressed points, but ts-mls (and so its users) sends
    # compressed SEC1 points as signature keys; verifying with them is just as safe.
    if len(data) == (curve.point_size + 1) // 2 and data[:1] in (b"\x02", b"\x03"):
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(curve.curve, data)
        except ValueError:
            raise InvalidMessage(f"{curve.name} public key is not on the curve") from None
    return curves.public_key(curve, data)


def make_signer(scheme: SignatureScheme) -> Signer:
    if scheme == SignatureScheme.ED25519:
        return Ed25519(scheme)
    return Ecdsa(scheme) if scheme in _ECDSA else EdDsa(scheme)
