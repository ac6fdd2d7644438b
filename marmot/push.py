"""MIP-05 push notifications, the mdk-core 0.8 ``mip05-v1`` format (marmot.md section 7).

Encrypted token (1084 bytes)::

    plaintext = platform[1] || token_len[2] || device_token || random padding   // 1024 B
    shared_x  = ECDH(eph_sk, server_pk)
    key       = HKDF-Expand(HKDF-Extract("mip05-v1", shared_x), "mip05-token-encryption", 32)
    token     = eph_pk[32] || nonce[12] || ChaCha20-Poly1305(key, nonce, plaintext, aad="")

Token gossip travels as MLS application messages (unsigned rumors): kind 447 (request:
``token`` tags of exactly 4 elements, nothing else), 448 (list: ``token`` tags of exactly 5
elements with unique leaf indices, plus exactly one ``e`` tag) and 449 (removal: no tags);
content is always empty. A kind 446 trigger carries up to 25 tokens, base64-concatenated,
with tags ``v``=``mip05-v1`` and ``encoding``=``base64``, gift-wrapped to the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from marmot.errors import InvalidPushMessage, UsageError
from marmot.primitives import (
    CryptoFailure,
    aead_open,
    aead_seal,
    b64decode,
    b64encode,
    hkdf_expand,
    hkdf_extract,
)
from nostr.errors import DecodeError, InvalidKey, NostrError
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, Rng, SecretKey, system_rng
from nostr.nip59 import gift_wrap, unwrap
from nostr.relay_url import normalize_relay_url

TOKEN_PLAINTEXT_LEN = 1024
ENCRYPTED_TOKEN_LEN = 1084
MAX_DEVICE_TOKEN_LEN = TOKEN_PLAINTEXT_LEN - 3
MAX_TOKENS_PER_TRIGGER = 25
TOKENS_PER_64K_WRAP = 19
"""MDK chunks by 25, but a 25-token gift wrap is about 77 KB and relays that cap events at
64 KiB (strfry's default, rust-nostr's LocalRelay) refuse it; 19 is the most that fits."""
VERSION = "mip05-v1"
SALT = b"mip05-v1"
INFO = b"mip05-token-encryption"
KIND_TRIGGER, KIND_REQUEST, KIND_LIST, KIND_REMOVAL = 446, 447, 448, 449


class Platform(IntEnum):
    APNS = 0x01
    FCM = 0x02


@dataclass(frozen=True, slots=True)
class PushToken:
    """A device token in the clear: only its owner and the notification server see it."""

    platform: Platform
    device_token: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not 1 <= len(self.device_token) <= MAX_DEVICE_TOKEN_LEN:
            raise InvalidPushMessage(f"device token must be 1 to {MAX_DEVICE_TOKEN_LEN} bytes")

    @classmethod
    def from_registration(cls, platform: Platform, token: str) -> PushToken:
        """White Noise's convention: APNs tokens are hex, FCM tokens are UTF-8 text."""
        if platform == Platform.APNS:
            try:
                return cls(platform, bytes.fromhex(token))
            except ValueError:
                raise InvalidPushMessage("an APNs token must be hex") from None
        return cls(platform, token.encode())


@dataclass(frozen=True, slots=True)
class TokenKeys:
    """The HKDF labels of a token encryption: the layout is shared by MIP-05 and Profile B's
    marmot-push-v1, the key schedule's salt and info are not."""

    salt: bytes
    info: bytes

    def key(self, secret: SecretKey, public: PublicKey) -> bytes:
        return hkdf_expand(hkdf_extract(self.salt, secret.shared_x(public)), self.info, 32)


MIP05_KEYS = TokenKeys(SALT, INFO)


def encrypt_token_with(
    server: PublicKey,
    token: PushToken,
    ephemeral: SecretKey,
    nonce: bytes,
    padding: bytes,
    *,
    keys: TokenKeys = MIP05_KEYS,
) -> bytes:
    """Deterministic encryption with caller-chosen ephemeral key, nonce and padding."""
    if len(nonce) != 12 or len(padding) != MAX_DEVICE_TOKEN_LEN - len(token.device_token):
        raise UsageError("wrong nonce or padding length for a push token")
    plaintext = (
        bytes((token.platform,))
        + len(token.device_token).to_bytes(2, "big")
        + token.device_token
        + padding
    )
    sealed = aead_seal(keys.key(ephemeral, server), nonce, plaintext)
    return ephemeral.public_key().data + nonce + sealed


def encrypt_token(
    server: PublicKey, token: PushToken, *, rng: Rng = system_rng, keys: TokenKeys = MIP05_KEYS
) -> bytes:
    """Encrypt ``token`` to the notification server under a fresh ephemeral key."""
    ephemeral = SecretKey.generate(rng)
    nonce = rng(12)
    padding = rng(MAX_DEVICE_TOKEN_LEN - len(token.device_token))
    return encrypt_token_with(server, token, ephemeral, nonce, padding, keys=keys)


def decrypt_token(
    server_secret: SecretKey, encrypted: bytes, *, keys: TokenKeys = MIP05_KEYS
) -> PushToken:
    """The server side: open a 1084-byte token; raises :class:`InvalidPushMessage`."""
    if len(encrypted) != ENCRYPTED_TOKEN_LEN:
        raise InvalidPushMessage(f"an encrypted token is {ENCRYPTED_TOKEN_LEN} bytes")
    try:
        ephemeral = PublicKey(encrypted[:32])
    except InvalidKey:
        raise InvalidPushMessage("token ephemeral key is not on secp256k1") from None
    try:
        plaintext = aead_open(keys.key(server_secret, ephemeral), encrypted[32:44], encrypted[44:])
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


# --- token gossip rumors (kinds 447, 448, 449) ------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenTag:
    """``["token", base64(token), server_pubkey_hex, relay_hint]``."""

    encrypted_token: bytes = field(repr=False)
    server_pubkey: PublicKey
    relay_hint: str

    def __post_init__(self) -> None:
        if len(self.encrypted_token) != ENCRYPTED_TOKEN_LEN:
            raise InvalidPushMessage(f"an encrypted token is {ENCRYPTED_TOKEN_LEN} bytes")
        try:
            object.__setattr__(self, "relay_hint", normalize_relay_url(self.relay_hint))
        except DecodeError:
            raise InvalidPushMessage(f"invalid relay hint {self.relay_hint!r}") from None

    def values(self) -> tuple[str, str, str, str]:
        return ("token", b64encode(self.encrypted_token), self.server_pubkey.hex, self.relay_hint)


@dataclass(frozen=True, slots=True)
class LeafTokenTag:
    """A token with the MLS leaf that owns it (kind 448)."""

    token: TokenTag
    leaf_index: int

    def __post_init__(self) -> None:
        if not 0 <= self.leaf_index < 2**32:
            raise InvalidPushMessage("a leaf index is a u32")


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """Kind 447: "here is my token (for my leaf), send me yours"."""

    tokens: tuple[TokenTag, ...]


@dataclass(frozen=True, slots=True)
class TokenList:
    """Kind 448: the tokens of the group's leaves, answering one 447."""

    request_id: str
    tokens: tuple[LeafTokenTag, ...]


@dataclass(frozen=True, slots=True)
class TokenRemoval:
    """Kind 449: forget the token of the sender's leaf."""


TokenMessage = TokenRequest | TokenList | TokenRemoval


def _check_unique_leaves(tokens: Sequence[LeafTokenTag]) -> None:
    if len({t.leaf_index for t in tokens}) != len(tokens):
        raise InvalidPushMessage("a token list names a leaf index twice")


def build_token_request(
    pubkey: PublicKey | str, created_at: int, tokens: Sequence[TokenTag]
) -> UnsignedEvent:
    if not tokens:
        raise InvalidPushMessage("a token request needs at least one token")
    return UnsignedEvent.create(pubkey, created_at, KIND_REQUEST, "", (t.values() for t in tokens))


def build_token_list(
    pubkey: PublicKey | str, created_at: int, request_id: str, tokens: Sequence[LeafTokenTag]
) -> UnsignedEvent:
    if not tokens:
        raise InvalidPushMessage("a token list needs at least one token")
    _check_unique_leaves(tokens)
    tags: list[tuple[str, ...]] = [(*t.token.values(), str(t.leaf_index)) for t in tokens]
    tags.append(("e", _event_id(request_id)))
    return UnsignedEvent.create(pubkey, created_at, KIND_LIST, "", tags)


def build_token_removal(pubkey: PublicKey | str, created_at: int) -> UnsignedEvent:
    return UnsignedEvent.create(pubkey, created_at, KIND_REMOVAL)


def _event_id(value: str) -> str:
    if len(value) != 64:
        raise InvalidPushMessage("an event reference is 64 hex characters")
    try:
        return bytes.fromhex(value).hex()
    except ValueError:
        raise InvalidPushMessage("an event reference is 64 hex characters") from None


def _parse_token_tag(tag: Sequence[str]) -> TokenTag:
    try:
        encrypted = b64decode(tag[1])
    except ValueError:
        raise InvalidPushMessage("token is not base64") from None
    try:
        server = PublicKey.from_hex(tag[2])
    except NostrError:
        raise InvalidPushMessage("invalid notification server public key") from None
    return TokenTag(encrypted, server, tag[3])


def _parse_leaf(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) >= 2**32:
        raise InvalidPushMessage(f"invalid leaf index {value!r}")
    return int(value)


def _parse_request(rumor: UnsignedEvent) -> TokenRequest:
    tokens = []
    for tag in rumor.tags:
        if not tag or tag[0] != "token":
            raise InvalidPushMessage("a token request carries only token tags")
        if len(tag) != 4:
            raise InvalidPushMessage("a token request tag has exactly 4 elements")
        tokens.append(_parse_token_tag(tag))
    if not tokens:
        raise InvalidPushMessage("a token request needs at least one token")
    return TokenRequest(tuple(tokens))


def _parse_list(rumor: UnsignedEvent) -> TokenList:
    tokens, request_ids = [], []
    for tag in rumor.tags:
        if tag and tag[0] == "token":
            if len(tag) != 5:
                raise InvalidPushMessage("a token list tag has exactly 5 elements")
            tokens.append(LeafTokenTag(_parse_token_tag(tag), _parse_leaf(tag[4])))
        elif tag and tag[0] == "e":
            if len(tag) < 2:
                raise InvalidPushMessage("an e tag needs an event id")
            request_ids.append(_event_id(tag[1]))
        else:
            raise InvalidPushMessage("a token list carries only token tags and one e tag")
    if not tokens:
        raise InvalidPushMessage("a token list needs at least one token")
    if len(request_ids) != 1:
        raise InvalidPushMessage("a token list references exactly one request")
    _check_unique_leaves(tokens)
    return TokenList(request_ids[0], tuple(tokens))


def parse_token_message(rumor: UnsignedEvent) -> TokenMessage:
    """Parse a kind 447/448/449 rumor with every MIP-05 rule."""
    if rumor.kind not in (KIND_REQUEST, KIND_LIST, KIND_REMOVAL):
        raise InvalidPushMessage(f"kind {rumor.kind} is not a MIP-05 token message")
    if rumor.content:
        raise InvalidPushMessage("MIP-05 token messages have empty content")
    if rumor.kind == KIND_REQUEST:
        return _parse_request(rumor)
    if rumor.kind == KIND_LIST:
        return _parse_list(rumor)
    if rumor.tags:
        raise InvalidPushMessage("a token removal carries no tags")
    return TokenRemoval()


# --- notification triggers (kind 446 in NIP-59) ------------------------------------------


def build_notification_request(
    pubkey: PublicKey | str, created_at: int, tokens: Sequence[bytes]
) -> UnsignedEvent:
    """The kind 446 rumor for one chunk of at most 25 encrypted tokens."""
    if not tokens:
        raise InvalidPushMessage("a notification request needs at least one token")
    if len(tokens) > MAX_TOKENS_PER_TRIGGER:
        raise UsageError(f"at most {MAX_TOKENS_PER_TRIGGER} tokens per notification request")
    if any(len(t) != ENCRYPTED_TOKEN_LEN for t in tokens):
        raise InvalidPushMessage(f"an encrypted token is {ENCRYPTED_TOKEN_LEN} bytes")
    tags = (("v", VERSION), ("encoding", "base64"))
    return UnsignedEvent.create(pubkey, created_at, KIND_TRIGGER, b64encode(b"".join(tokens)), tags)


def _check_trigger_tags(rumor: UnsignedEvent, require_encoding: bool) -> None:
    seen: set[str] = set()
    for tag in rumor.tags:
        name = tag[0] if tag else ""
        expected = {"v": VERSION, "encoding": "base64"}.get(name)
        if expected is None:
            raise InvalidPushMessage(f"unexpected tag {name!r} in a notification request")
        if name in seen:
            raise InvalidPushMessage(f"duplicate {name!r} tag in a notification request")
        if len(tag) != 2 or tag[1] != expected:
            raise InvalidPushMessage(f"the {name!r} tag must be exactly [{name!r}, {expected!r}]")
        seen.add(name)
    if "v" not in seen:
        raise InvalidPushMessage("a notification request has no version tag")
    if require_encoding and "encoding" not in seen:
        raise InvalidPushMessage("a notification request has no encoding tag")


def parse_notification_request(
    rumor: UnsignedEvent, *, require_encoding: bool = True
) -> tuple[bytes, ...]:
    """The encrypted tokens of a kind 446 rumor.

    MDK requires the ``encoding`` tag; the transponder server treats it as optional, so a
    server may pass ``require_encoding=False``.
    """
    if rumor.kind != KIND_TRIGGER:
        raise InvalidPushMessage(f"kind {rumor.kind} is not a notification request")
    _check_trigger_tags(rumor, require_encoding)
    try:
        content = b64decode(rumor.content)
    except ValueError:
        raise InvalidPushMessage("notification request content is not base64") from None
    if not content:
        raise InvalidPushMessage("a notification request needs at least one token")
    if len(content) % ENCRYPTED_TOKEN_LEN:
        raise InvalidPushMessage("notification request content is not whole tokens")
    n = ENCRYPTED_TOKEN_LEN
    return tuple(content[i : i + n] for i in range(0, len(content), n))


@dataclass(frozen=True, slots=True)
class NotificationBatch:
    """The gift wraps for one notification server and the relay hints seen for it."""

    server_pubkey: PublicKey
    relay_hints: tuple[str, ...]
    events: tuple[Event, ...]


def build_notification_batches(
    tokens: Iterable[TokenTag],
    *,
    now: int,
    rng: Rng = system_rng,
    max_tokens: int = MAX_TOKENS_PER_TRIGGER,
) -> list[NotificationBatch]:
    """Group tokens by server, chunk by ``max_tokens`` (at most 25), and gift-wrap one 446
    per chunk.

    Each chunk's rumor and seal use one fresh key, its wrap another (NIP-59 does that).
    A token listed twice for one server is refused.
    """
    if not 1 <= max_tokens <= MAX_TOKENS_PER_TRIGGER:
        raise UsageError(f"chunks hold 1 to {MAX_TOKENS_PER_TRIGGER} tokens")
    by_server: dict[bytes, list[TokenTag]] = {}
    for token in tokens:
        by_server.setdefault(token.server_pubkey.data, []).append(token)
    if not by_server:
        raise InvalidPushMessage("a notification needs at least one token")
    batches = []
    for server_tokens in by_server.values():
        server = server_tokens[0].server_pubkey
        if len({t.encrypted_token for t in server_tokens}) != len(server_tokens):
            raise InvalidPushMessage("the same encrypted token appears twice for one server")
        events = []
        for i in range(0, len(server_tokens), max_tokens):
            chunk = [t.encrypted_token for t in server_tokens[i : i + max_tokens]]
            ephemeral = SecretKey.generate(rng)
            rumor = build_notification_request(ephemeral.public_key(), now, chunk)
            events.append(gift_wrap(rumor, ephemeral, server, now=now, rng=rng))
        hints = tuple(dict.fromkeys(t.relay_hint for t in server_tokens))
        batches.append(NotificationBatch(server, hints, tuple(events)))
    return batches


def open_notification(wrap: Event, server_secret: SecretKey) -> tuple[bytes, ...]:
    """The server side: unwrap a 1059, check the seal and rumor, return the 446's tokens.

    The tokens still need :func:`decrypt_token` each (a bad one is skipped, not fatal).
    """
    try:
        gift = unwrap(wrap, server_secret)
    except NostrError as exc:
        raise InvalidPushMessage(f"notification gift wrap does not open: {exc}") from None
    return parse_notification_request(gift.rumor, require_encoding=False)
