"""BIP-340 x-only secp256k1 keys on coincurve (the only importer of the binding).

Schnorr sign/verify for events and the raw, unhashed ECDH x coordinate that NIP-44 needs.
Randomness is a parameter (``rng``); ``system_rng`` is the one default source.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from coincurve import PrivateKey as _PrivateKey
from coincurve import PublicKey as _FullPublicKey
from coincurve import PublicKeyXOnly as _XOnly

from nostr import bech32
from nostr.errors import DecodeError, InvalidKey, InvalidSignature

Rng = Callable[[int], bytes]
"""``rng(n)`` returns ``n`` random bytes; tests pass a deterministic one."""

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def system_rng(n: int) -> bytes:
    """The operating system's CSPRNG, the default ``rng`` of every randomised function."""
    return os.urandom(n)


def _hex32(text: str, what: str) -> bytes:
    if len(text) != 64:
        raise DecodeError(f"{what} must be 64 hex characters, got {len(text)}")
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise DecodeError(f"{what} is not hex") from exc


@lru_cache(maxsize=8192)
def _xonly(data: bytes) -> _XOnly:
    # Parsing a point costs about as much as a hash; authors repeat, so keep them.
    try:
        return _XOnly(data)
    except ValueError as exc:
        raise InvalidKey(f"public key {data.hex()} is not on secp256k1") from exc


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A 32-byte BIP-340 x-only public key (always a valid curve point)."""

    data: bytes

    def __post_init__(self) -> None:
        if len(self.data) != 32:
            raise InvalidKey(f"public key must be 32 bytes, got {len(self.data)}")
        _xonly(bytes(self.data))

    @classmethod
    def from_hex(cls, text: str) -> PublicKey:
        return cls(_hex32(text, "public key"))

    @classmethod
    def from_bech32(cls, text: str) -> PublicKey:
        """Parse an ``npub``."""
        return cls(bech32.decode_fixed("npub", text, 32))

    @property
    def hex(self) -> str:
        return self.data.hex()

    def to_bech32(self) -> str:
        """The ``npub`` form (NIP-19)."""
        return bech32.encode("npub", self.data)

    def verify(self, signature: bytes, message: bytes) -> None:
        """Check a BIP-340 signature over a 32-byte message; raise ``InvalidSignature``."""
        verify_schnorr(self.data, signature, message)


def hex_of(pubkey: PublicKey | str) -> str:
    """The hex form of a public key given either way (builders accept both)."""
    return pubkey.hex if isinstance(pubkey, PublicKey) else pubkey


def verify_schnorr(public_key: bytes, signature: bytes, message: bytes) -> None:
    """BIP-340 verify on raw bytes (the hot path of event verification)."""
    if len(signature) != 64 or len(message) != 32:
        raise InvalidSignature("signature must be 64 bytes over a 32-byte message")
    if not _xonly(public_key).verify(signature, message):
        raise InvalidSignature("signature does not verify")


@dataclass(frozen=True, slots=True)
class SecretKey:
    """A secp256k1 secret scalar in [1, n-1]. Never shown in ``repr``."""

    data: bytes = field(repr=False)
    _key: _PrivateKey = field(init=False, repr=False, compare=False)
    _public: PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.data) != 32:
            raise InvalidKey("secret key must be 32 bytes")
        if not 0 < int.from_bytes(self.data, "big") < CURVE_ORDER:
            raise InvalidKey("secret key out of range [1, n-1]")
        key = _PrivateKey(bytes(self.data))
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_public", PublicKey(key.public_key_xonly.format()))

    @classmethod
    def generate(cls, rng: Rng = system_rng) -> SecretKey:
        while True:  # a draw outside [1, n-1] has probability ~2^-128
            candidate = rng(32)
            if 0 < int.from_bytes(candidate, "big") < CURVE_ORDER:
                return cls(candidate)

    @classmethod
    def from_hex(cls, text: str) -> SecretKey:
        return cls(_hex32(text, "secret key"))

    @classmethod
    def from_bech32(cls, text: str) -> SecretKey:
        """Parse an ``nsec``."""
        return cls(bech32.decode_fixed("nsec", text, 32))

    def secret_hex(self) -> str:
        return self.data.hex()

    def to_bech32(self) -> str:
        """The ``nsec`` form (NIP-19)."""
        return bech32.encode("nsec", self.data)

    def public_key(self) -> PublicKey:
        return self._public

    def sign_schnorr(self, message: bytes, *, rng: Rng = system_rng) -> bytes:
        """BIP-340 signature over a 32-byte message with fresh auxiliary randomness."""
        if len(message) != 32:
            raise InvalidKey("a Schnorr signature covers exactly 32 bytes")
        signature: bytes = self._key.sign_schnorr(message, rng(32))
        return signature

    def shared_x(self, public: PublicKey) -> bytes:
        """Raw ECDH: the 32-byte x coordinate of ``secret * lift_x(public)``, not hashed."""
        point = _FullPublicKey(b"\x02" + public.data).multiply(self.data)
        shared: bytes = point.format(compressed=True)[1:]
        return shared
