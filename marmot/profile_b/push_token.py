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

from marmot import push
from marmot.errors import InvalidPushMessage
from marmot.primitives import sha256 as _sha256
from marmot.push import ENCRYPTED_TOKEN_LEN, Platform, PushToken, TokenKeys
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


KEYS = TokenKeys(SALT, INFO)


def encrypt_token_with(
    server: PublicKey, token: PushToken, ephemeral: SecretKey, nonce: bytes, padding: bytes
) -> bytes:
    """Deterministic form: the caller chooses the ephemeral key, nonce and padding."""
    return push.encrypt_token_with(server, token, ephemeral, nonce, padding, keys=KEYS)


def encrypt_token(server: PublicKey, token: PushToken, *, rng: Rng = system_rng) -> bytes:
    """Encrypt ``token`` to the notification server under a fresh ephemeral key."""
    return push.encrypt_token(server, token, rng=rng, keys=KEYS)


def decrypt_token(server_secret: SecretKey, encrypted: bytes) -> PushToken:
    """The server side: open one 1084-byte token; raises :class:`InvalidPushMessage`."""
    return push.decrypt_token(server_secret, encrypted, keys=KEYS)
