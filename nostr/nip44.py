"""NIP-44 version 2: versioned, padded, authenticated encryption between two keys.

``conversation_key = HKDF-Extract(salt="nip44-v2", IKM=shared_x)``; per message
``HKDF-Expand(conversation_key, info=nonce, 76)`` gives the ChaCha20 key and nonce and the
HMAC key; ``payload = base64(0x02 || nonce || ciphertext || HMAC(nonce || ciphertext))``.
``encrypt_with_nonce`` is the deterministic seam the official vectors use.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from nostr.errors import DecryptionError, UsageError
from nostr.keys import PublicKey, Rng, SecretKey, system_rng

VERSION = 2
MIN_PLAINTEXT = 1
MAX_PLAINTEXT = 65535
_SALT = b"nip44-v2"
_MIN_PAYLOAD, _MAX_PAYLOAD = 132, 87472  # base64 characters
_MIN_DATA, _MAX_DATA = 99, 65603  # decoded bytes


def _hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        out += block
        counter += 1
    return out[:length]


def conversation_key(secret: SecretKey, public: PublicKey) -> bytes:
    """The symmetric key shared by ``secret``'s owner and ``public``'s owner (both ways)."""
    return hmac.digest(_SALT, secret.shared_x(public), "sha256")


@dataclass(frozen=True, slots=True)
class MessageKeys:
    """The three per-message keys derived from the conversation key and nonce."""

    chacha_key: bytes = field(repr=False)
    chacha_nonce: bytes = field(repr=False)
    hmac_key: bytes = field(repr=False)


def message_keys(conversation: bytes, nonce: bytes) -> MessageKeys:
    if len(conversation) != 32:
        raise UsageError("a NIP-44 conversation key is 32 bytes")
    if len(nonce) != 32:
        raise UsageError("a NIP-44 nonce is 32 bytes")
    keys = _hkdf_expand(conversation, nonce, 76)
    return MessageKeys(keys[:32], keys[32:44], keys[44:76])


def calc_padded_len(unpadded_len: int) -> int:
    """Padded plaintext size: 32 minimum, then chunks of max(32, next_power_of_two / 8)."""
    if unpadded_len <= 32:
        return 32
    next_power = 1 << (unpadded_len - 1).bit_length()
    chunk = 32 if next_power <= 256 else next_power // 8
    return chunk * ((unpadded_len - 1) // chunk + 1)


def _chacha20(key: bytes, nonce: bytes, data: bytes) -> bytes:
    # RFC 8439 ChaCha20 with a 32-bit block counter starting at 0 (counter || nonce).
    cipher = Cipher(algorithms.ChaCha20(key, b"\x00\x00\x00\x00" + nonce), mode=None)
    return cipher.encryptor().update(data)


def encrypt_with_nonce(plaintext: str, conversation: bytes, nonce: bytes) -> str:
    """Deterministic encryption with a caller-chosen nonce (vectors and tests only)."""
    data = plaintext.encode()
    if not MIN_PLAINTEXT <= len(data) <= MAX_PLAINTEXT:
        raise UsageError(f"NIP-44 plaintext must be 1 to 65535 bytes, got {len(data)}")
    keys = message_keys(conversation, nonce)
    padding = bytes(calc_padded_len(len(data)) - len(data))
    padded = len(data).to_bytes(2, "big") + data + padding
    ciphertext = _chacha20(keys.chacha_key, keys.chacha_nonce, padded)
    mac = hmac.digest(keys.hmac_key, nonce + ciphertext, "sha256")
    return base64.b64encode(bytes([VERSION]) + nonce + ciphertext + mac).decode()


def encrypt(plaintext: str, conversation: bytes, *, rng: Rng = system_rng) -> str:
    """Encrypt under a fresh random 32-byte nonce."""
    return encrypt_with_nonce(plaintext, conversation, rng(32))


def _decode_payload(payload: str) -> bytes:
    if not payload or payload[0] == "#":
        raise DecryptionError("unknown NIP-44 version (non-base64 encoding flag)")
    if not _MIN_PAYLOAD <= len(payload) <= _MAX_PAYLOAD:
        raise DecryptionError(f"invalid NIP-44 payload length {len(payload)}")
    try:
        raw = payload.encode("ascii")
        data = base64.b64decode(raw, validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise DecryptionError("NIP-44 payload is not base64") from exc
    if base64.b64encode(data) != raw:  # non-canonical trailing bits or padding
        raise DecryptionError("NIP-44 payload is not canonical base64")
    if not _MIN_DATA <= len(data) <= _MAX_DATA:
        raise DecryptionError(f"invalid NIP-44 data length {len(data)}")
    if data[0] != VERSION:
        raise DecryptionError(f"unknown NIP-44 version {data[0]}")
    return data


def _unpad(padded: bytes) -> str:
    unpadded_len = int.from_bytes(padded[:2], "big")
    if not MIN_PLAINTEXT <= unpadded_len <= MAX_PLAINTEXT or len(padded) != 2 + calc_padded_len(
        unpadded_len
    ):
        raise DecryptionError("invalid NIP-44 padding")
    try:
        return padded[2 : 2 + unpadded_len].decode()
    except UnicodeDecodeError as exc:
        raise DecryptionError("NIP-44 plaintext is not UTF-8") from exc


def decrypt(payload: str, conversation: bytes) -> str:
    """Check the MAC, then decrypt and unpad; raise ``DecryptionError`` on any fault."""
    data = _decode_payload(payload)
    nonce, ciphertext, mac = data[1:33], data[33:-32], data[-32:]
    keys = message_keys(conversation, nonce)
    expected = hmac.digest(keys.hmac_key, nonce + ciphertext, "sha256")
    if not hmac.compare_digest(expected, mac):
        raise DecryptionError("invalid NIP-44 MAC")
    return _unpad(_chacha20(keys.chacha_key, keys.chacha_nonce, ciphertext))
