"""marmot-push-v1 token encryption (Profile B; spec features/push-notifications.md, MDK 0.9
``marmot-app`` notifications).

The layout is MIP-05's, with its own key schedule::

    plaintext = platform[1] || token_len[2] || device_token || random padding   // 1024 B
    shared_x  = x(ECDH(ephemeral_sk, lift_x(server_pk)))                       // not hashed
    key       = HKDF-Expand(HKDF-Extract("marmot-push-token-v1", shared_x),
                            "marmot-push-token-encryption", 32)
    token     = ephemeral_xonly[32] || nonce[12] || ChaCha20-Poly1305(key, nonce, plaintext, "")

1084 bytes in all. The fingerprint names a token in gossip without revealing it:
``"sha256:" + first 24 hex of SHA-256(platform_byte || device_token)``. The device token
itself is the same thing in both profiles, so :class:`marmot.push.PushToken` is reused.
"""

from __future__ import annotations

import re

from marmot.errors import InvalidPushMessage, UsageError
from marmot.primitives import CryptoFailure, aead_open, aead_seal, hkdf_expand, hkdf_extract
from marmot.primitives import sha256 as _sha256
from marmot.push import MAX_DEVICE_TOKEN_LEN, Platform, PushToken
from nostr.errors import InvalidKey
from nostr.keys import PublicKey, Rng, SecretKey, system_rng

__all__ = [
    "ENCRYPTED_TOKEN_LEN",
    "PLATFORM_NAMES",
    "Platform",
    "PushToken",
    "decrypt_token",
    "encrypt_token",
    "encrypt_token_with",
    "parse_provider_token",
    "platform_from_name",
    "token_fingerprint",
]

SALT = b"marmot-push-token-v1"
INFO = b"marmot-push-token-encryption"
TOKEN_PLAINTEXT_LEN = 1024
ENCRYPTED_TOKEN_LEN = 1084
PLATFORM_NAMES = {Platform.APNS: "apns", Platform.FCM: "fcm"}
_APNS_HEX = re.compile(r"(?:[0-9a-f]{2})+")


def platform_from_name(name: str) -> Platform:
    """Lowercase only, as MDK reads it: a case-folding reader would key records apart."""
    for platform, text in PLATFORM_NAMES.items():
        if name == text:
            return platform
    raise InvalidPushMessage(f"unknown push platform {name!r}")


def parse_provider_token(platform: Platform, raw: str) -> PushToken:
    """A registration string as the platform hands it over: APNs lowercase hex, FCM text.

    Stricter than Profile A's reader (uppercase APNs hex is refused), as MDK is."""
    if platform == Platform.APNS:
        if not _APNS_HEX.fullmatch(raw):
            raise InvalidPushMessage("an APNs token must be lowercase hex")
        return PushToken(platform, bytes.fromhex(raw))
    return PushToken(platform, raw.encode())


def token_fingerprint(token: PushToken) -> str:
    digest = _sha256(bytes((token.platform,)) + token.device_token)
    return "sha256:" + digest.hex()[:24]


def _key(secret: SecretKey, public: PublicKey) -> bytes:
    return hkdf_expand(hkdf_extract(SALT, secret.shared_x(public)), INFO, 32)


def encrypt_token_with(
    server: PublicKey, token: PushToken, ephemeral: SecretKey, nonce: bytes, padding: bytes
) -> bytes:
    """Deterministic form: the caller chooses the ephemeral key, nonce and padding."""
    if len(nonce) != 12 or len(padding) != MAX_DEVICE_TOKEN_LEN - len(token.device_token):
        raise UsageError("wrong nonce or padding length for a marmot-push-v1 token")
    plaintext = (
        bytes((token.platform,))
        + len(token.device_token).to_bytes(2, "big")
        + token.device_token
        + padding
    )
    return (
        ephemeral.public_key().data + nonce + aead_seal(_key(ephemeral, server), nonce, plaintext)
    )


def encrypt_token(server: PublicKey, token: PushToken, *, rng: Rng = system_rng) -> bytes:
    """Encrypt ``token`` to the notification server under a fresh ephemeral key."""
    ephemeral = SecretKey.generate(rng)
    nonce = rng(12)
    padding = rng(MAX_DEVICE_TOKEN_LEN - len(token.device_token))
    return encrypt_token_with(server, token, ephemeral, nonce, padding)


def decrypt_token(server_secret: SecretKey, encrypted: bytes) -> PushToken:
    """The server side: open one 1084-byte token; raises :class:`InvalidPushMessage`."""
    if len(encrypted) != ENCRYPTED_TOKEN_LEN:
        raise InvalidPushMessage(f"an encrypted token is {ENCRYPTED_TOKEN_LEN} bytes")
    try:
        ephemeral = PublicKey(encrypted[:32])
    except InvalidKey:
        raise InvalidPushMessage("token ephemeral key is not on secp256k1") from None
    try:
        plaintext = aead_open(_key(server_secret, ephemeral), encrypted[32:44], encrypted[44:])
    except CryptoFailure:
        raise InvalidPushMessage("token does not decrypt for this server") from None
    try:
        platform = Platform(plaintext[0])
    except ValueError:
        raise InvalidPushMessage(f"unknown push platform byte {plaintext[0]}") from None
    length = int.from_bytes(plaintext[1:3], "big")
    if not 1 <= length <= MAX_DEVICE_TOKEN_LEN:
        raise InvalidPushMessage(f"invalid device token length {length}")
    return PushToken(platform, plaintext[3 : 3 + length])
