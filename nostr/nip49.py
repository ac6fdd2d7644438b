"""NIP-49: a secret key encrypted under a passphrase (``ncryptsec1…``).

``key = scrypt(NFKC(passphrase), salt, N = 2^log_n, r = 8, p = 1, 32 bytes)``;
``ncryptsec = bech32(0x02 || log_n || salt(16) || nonce(24) || ksb || XChaCha20-Poly1305(
key, nonce, secret, aad = ksb))``, 91 bytes before bech32. The key security byte says whether
the key was ever handled unencrypted. Randomness (salt and nonce) is a parameter.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from nostr import bech32
from nostr.errors import DecodeError, DecryptionError, InvalidKey, UsageError
from nostr.keys import Rng, SecretKey, system_rng

HRP = "ncryptsec"
VERSION = 0x02
DEFAULT_LOG_N = 16
"""64 MiB of memory and about a tenth of a second: the spec's lightest row."""
MAX_LOG_N = 22
"""Refuse to spend more than 4 GiB on a pasted string (a hostile one could ask for 2^255)."""
_LENGTH = 91
_MASK = 0xFFFFFFFF


class KeySecurity(IntEnum):
    """The associated-data byte: what is known about the key's past handling."""

    INSECURE = 0x00
    SECURE = 0x01
    UNKNOWN = 0x02


class WrongPassphrase(DecryptionError):
    """The ncryptsec is well formed but the passphrase does not open it."""


@dataclass(frozen=True, slots=True)
class Decrypted:
    secret: SecretKey
    key_security: KeySecurity
    log_n: int


def hchacha20(key: bytes, nonce16: bytes) -> bytes:
    """The XChaCha20 subkey (draft-irtf-cfrg-xchacha section 2.2).

    HChaCha20 is the ChaCha20 block function without the final addition, keeping words 0-3
    and 12-15. ``cryptography`` gives the block with the addition, over the same state
    (``nonce16`` fills the counter and nonce words), so subtracting the known input words
    (the constants and ``nonce16``) undoes it.
    """
    if len(key) != 32 or len(nonce16) != 16:
        raise UsageError("HChaCha20 takes a 32-byte key and a 16-byte nonce")
    block = Cipher(algorithms.ChaCha20(key, nonce16), mode=None).encryptor().update(bytes(64))
    words = [int.from_bytes(block[i : i + 4], "little") for i in range(0, 64, 4)]
    inputs = [int.from_bytes(b"expand 32-byte k"[i : i + 4], "little") for i in range(0, 16, 4)]
    inputs += [int.from_bytes(nonce16[i : i + 4], "little") for i in range(0, 16, 4)]
    picked = [*words[0:4], *words[12:16]]
    return b"".join(
        ((w - x) & _MASK).to_bytes(4, "little") for w, x in zip(picked, inputs, strict=True)
    )


def _xchacha(key: bytes, nonce24: bytes) -> tuple[ChaCha20Poly1305, bytes]:
    return ChaCha20Poly1305(hchacha20(key, nonce24[:16])), bytes(4) + nonce24[16:]


def _symmetric_key(passphrase: str, salt: bytes, log_n: int) -> bytes:
    normalized = unicodedata.normalize("NFKC", passphrase).encode()
    return Scrypt(salt=salt, length=32, n=1 << log_n, r=8, p=1).derive(normalized)


def encrypt(
    secret: SecretKey,
    passphrase: str,
    *,
    log_n: int = DEFAULT_LOG_N,
    key_security: KeySecurity = KeySecurity.UNKNOWN,
    rng: Rng = system_rng,
) -> str:
    """The ``ncryptsec1…`` of ``secret`` under ``passphrase`` (fresh salt and nonce)."""
    if not 1 <= log_n <= MAX_LOG_N:
        raise UsageError(f"log_n must be 1 to {MAX_LOG_N}, got {log_n}")
    salt, nonce = rng(16), rng(24)
    aad = bytes([key_security])
    aead, short_nonce = _xchacha(_symmetric_key(passphrase, salt, log_n), nonce)
    body = aead.encrypt(short_nonce, secret.data, aad)
    return bech32.encode(HRP, bytes([VERSION, log_n]) + salt + nonce + aad + body)


def _parse(text: str) -> tuple[int, bytes, bytes, int, bytes]:
    hrp, data = bech32.decode(text.strip())
    if hrp != HRP:
        raise DecodeError(f"expected an {HRP}, got {hrp}")
    if len(data) != _LENGTH:
        raise DecodeError(f"an {HRP} carries {_LENGTH} bytes, got {len(data)}")
    if data[0] != VERSION:
        raise DecodeError(f"unknown {HRP} version {data[0]}")
    log_n, salt, nonce, ksb, body = data[1], data[2:18], data[18:42], data[42], data[43:]
    if not 1 <= log_n <= MAX_LOG_N:
        raise DecodeError(f"{HRP} asks for log_n {log_n}, above the {MAX_LOG_N} we accept")
    if ksb not in {k.value for k in KeySecurity}:
        raise DecodeError(f"unknown key security byte {ksb}")
    return log_n, salt, nonce, ksb, body


def decrypt(text: str, passphrase: str) -> Decrypted:
    """Open an ``ncryptsec``: ``DecodeError`` if malformed, ``WrongPassphrase`` if the
    passphrase (or a flipped bit) fails the Poly1305 tag, ``InvalidKey`` if what it holds
    is not a secp256k1 secret."""
    log_n, salt, nonce, ksb, body = _parse(text)
    aead, short_nonce = _xchacha(_symmetric_key(passphrase, salt, log_n), nonce)
    try:
        raw = aead.decrypt(short_nonce, body, bytes([ksb]))
    except InvalidTag:
        raise WrongPassphrase("wrong passphrase for this ncryptsec") from None
    try:
        secret = SecretKey(raw)
    except InvalidKey:
        raise InvalidKey("the ncryptsec does not hold a valid secret key") from None
    return Decrypted(secret, KeySecurity(ksb), log_n)


def looks_like(text: str) -> bool:
    """Whether pasted text is meant as an ncryptsec (for routing input, not validation)."""
    return text.strip().lower().startswith(HRP + "1")
