"""Small encodings and symmetric primitives every MIP uses (marmot.md sections 1.2, 1.3).

base64 is RFC 4648 with padding and a canonical decode (Rust ``base64::STANDARD``);
ChaCha20-Poly1305 is the RFC 8439 AEAD; HKDF is RFC 5869 over SHA-256 in its three call
patterns (expand-only, zero-salt extract + expand, named-salt extract + expand).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

_HEX = re.compile(r"[0-9a-f]*")

KEY_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16


class CryptoFailure(Exception):
    """An AEAD tag did not verify; callers turn it into their typed ``MarmotError``."""


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict standard base64: alphabet, padding and unused bits all canonical.

    Raises ``ValueError`` (callers map it to their typed error).
    """
    if type(text) is not str or not text.isascii():
        raise ValueError("base64 text must be ASCII")
    raw = text.encode("ascii")
    try:
        data = base64.b64decode(raw, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None
    if base64.b64encode(data) != raw:
        raise ValueError("non-canonical base64")
    return data


def is_lower_hex(text: str, length: int) -> bool:
    """``text`` is exactly ``length`` lowercase hex characters."""
    return type(text) is str and len(text) == length and _HEX.fullmatch(text) is not None


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    # An empty salt is the same HMAC key as HashLen zero bytes (RFC 5869 section 2.2).
    return hmac.digest(salt, ikm, "sha256")


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out = bytearray()
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes((counter,)), "sha256")
        out += block
        counter += 1
    return bytes(out[:length])


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def aead_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """ChaCha20-Poly1305: ``ciphertext || tag``."""
    return ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)


def aead_open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes = b"") -> bytes:
    """Inverse of :func:`aead_seal`; raises :class:`CryptoFailure` on a bad tag."""
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise CryptoFailure("authentication tag does not verify") from None
