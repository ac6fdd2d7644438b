"""Group invite links, the public half: the code, the component and the preview
(marmot spec, proposed not adopted: app-components/group-invite-links-v1.md and
transports/nostr-invite-links.md at 27c1f508; MDK master does not implement it).

::

    InviteCodeV1   = version u16 (1) || inbox_pubkey[32] || link_id[32] || bearer[32]
                     || preview_key[32] || request_relays<V>   (1..8 RelayURL = url<1..512>)
    code string    = Bech32m("marmot", InviteCodeV1)           (at most 7000 characters)
    InviteLinkV1   = link_id[32] || inbox_pubkey[32] || bearer_hash[32] || preview_hash[32]
                     || expires_at u64 || approval_mode u8    (137 bytes)
    component 0x800e = InviteLinkV1 links<V>                  (0..8, sorted by id, unique)
    InvitePreviewV1 = version u16 || inbox[32] || link_id[32] || bearer_hash[32]
                     || expires_at u64 || approval_mode u8 || name<1..256>
                     || description<0..4096> || image_type u8 || image<0..49152>
    preview_hash   = SHA-256(InvitePreviewV1)
    descriptor     = kind 30444 by the inbox key, tags [["d", hex(link_id)]],
                     content base64(nonce || ChaCha20-Poly1305(preview_key, nonce, preview,
                     aad = u16(1) || inbox || link_id))

Relay URLs are ``wss://``, already in normal form (never repaired), sorted by bytes and
unique. ``expires_at`` is 0 (none) or 1 .. 2^53 - 1; approval mode 0 manual, 1 automatic.
Refusals raise :class:`InvalidInviteLink`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from marmot.binary import BinaryError, Cursor, Out
from marmot.errors import MarmotError
from marmot.primitives import CryptoFailure, aead_open, aead_seal, b64decode, b64encode, sha256
from nostr import bech32
from nostr.errors import DecodeError, NostrError
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, Rng, SecretKey, system_rng
from nostr.relay_url import normalize_relay_url

__all__ = [
    "COMPONENT_ID",
    "InviteCode",
    "InviteLink",
    "InvitePreview",
    "InvalidInviteLink",
    "decode_links",
    "encode_links",
    "open_descriptor",
    "preview_descriptor",
]

COMPONENT_ID = 0x800E
KIND_DESCRIPTOR = 30444
HRP = "marmot"
MAX_CODE_CHARS = 7000
MAX_LINKS = 8
MAX_TIME = (1 << 53) - 1
ENTRY_LEN = 137
MAX_DESCRIPTOR_BYTES = 54_000
IMAGE_NONE, IMAGE_JPEG, IMAGE_PNG = 0, 1, 2


class InvalidInviteLink(MarmotError):
    """Invite-link bytes, codes, previews or records that break the v1 rules."""


def check_xonly(data: bytes, what: str) -> bytes:
    try:
        PublicKey(data)
    except NostrError:
        raise InvalidInviteLink(f"{what} is not an x-only secp256k1 key") from None
    return data


def _check_expiry(expires_at: int) -> None:
    if not 0 <= expires_at <= MAX_TIME:
        raise InvalidInviteLink("expires_at is 0 or 1..2^53-1")


def _check_mode(mode: int) -> None:
    if mode not in (0, 1):
        raise InvalidInviteLink("approval mode is 0 (manual) or 1 (automatic)")


def check_relays(relays: Sequence[str], low: int, what: str) -> None:
    if not low <= len(relays) <= MAX_LINKS:
        raise InvalidInviteLink(f"{what} lists {low}..{MAX_LINKS} relays")
    raw = [r.encode() for r in relays]
    if raw != sorted(set(raw)):
        raise InvalidInviteLink(f"{what} are sorted by bytes and unique")
    for relay in relays:
        if not 1 <= len(relay.encode()) <= 512 or not relay.startswith("wss://"):
            raise InvalidInviteLink(f"{what}: {relay!r} is not a wss:// URL of <= 512 bytes")
        try:
            normal = normalize_relay_url(relay)
        except DecodeError:
            raise InvalidInviteLink(f"{what}: {relay!r} is not a relay URL") from None
        if normal != relay:
            raise InvalidInviteLink(f"{what}: {relay!r} is not in normal form")


def write_relays(out: Out, relays: Sequence[str]) -> None:
    inner = Out()
    for relay in relays:
        inner.var_bytes(relay.encode())
    out.var_bytes(inner.getvalue())


def read_relays(c: Cursor) -> tuple[str, ...]:
    inner = Cursor(c.var_bytes(4096, "relay list"))
    relays = []
    while inner.remaining:
        try:
            relays.append(inner.var_bytes(512, "relay URL").decode())
        except UnicodeDecodeError:
            raise InvalidInviteLink("a relay URL is not UTF-8") from None
    return tuple(relays)


@dataclass(frozen=True, slots=True)
class InviteCode:
    inbox_pubkey: bytes
    link_id: bytes
    bearer: bytes = field(repr=False)
    preview_key: bytes = field(repr=False)
    request_relays: tuple[str, ...]

    def __post_init__(self) -> None:
        check_xonly(self.inbox_pubkey, "inbox key")
        if any(len(v) != 32 for v in (self.link_id, self.bearer, self.preview_key)):
            raise InvalidInviteLink("link id, bearer and preview key are 32 bytes")
        check_relays(self.request_relays, 1, "request relays")

    def encode(self) -> bytes:
        out = Out()
        out.u16(1)
        out.fixed(self.inbox_pubkey + self.link_id + self.bearer + self.preview_key)
        write_relays(out, self.request_relays)
        return out.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> InviteCode:
        c = Cursor(data)
        try:
            if c.u16() != 1:
                raise InvalidInviteLink("unknown invite code version")
            keys = [c.fixed(32) for _ in range(4)]
            code = cls(keys[0], keys[1], keys[2], keys[3], read_relays(c))
            c.finish()
        except BinaryError as exc:
            raise InvalidInviteLink(f"invite code: {exc}") from None
        if code.encode() != data:
            raise InvalidInviteLink("invite code is not canonical")
        return code

    def to_string(self) -> str:
        return bech32.encode(HRP, self.encode(), constant=bech32.BECH32M)

    @classmethod
    def from_string(cls, text: str) -> InviteCode:
        try:
            hrp, data = bech32.decode(text, max_length=MAX_CODE_CHARS, constant=bech32.BECH32M)
        except DecodeError as exc:
            raise InvalidInviteLink(f"invite code: {exc}") from None
        if hrp != HRP:
            raise InvalidInviteLink("an invite code starts with marmot1")
        return cls.decode(data)

    @property
    def bearer_hash(self) -> bytes:
        return sha256(self.bearer)


@dataclass(frozen=True, slots=True)
class InviteLink:
    """One entry of component 0x800e: an immutable invitation generation."""

    link_id: bytes
    inbox_pubkey: bytes
    bearer_hash: bytes
    preview_hash: bytes
    expires_at: int = 0
    approval_mode: int = 0

    def __post_init__(self) -> None:
        check_xonly(self.inbox_pubkey, "inbox key")
        if any(len(v) != 32 for v in (self.link_id, self.bearer_hash, self.preview_hash)):
            raise InvalidInviteLink("link id and hashes are 32 bytes")
        _check_expiry(self.expires_at)
        _check_mode(self.approval_mode)

    def encode(self) -> bytes:
        out = Out()
        out.fixed(self.link_id + self.inbox_pubkey + self.bearer_hash + self.preview_hash)
        out.u64(self.expires_at)
        out.u8(self.approval_mode)
        return out.getvalue()

    @classmethod
    def decode(cls, raw: bytes) -> InviteLink:
        return cls(
            raw[:32],
            raw[32:64],
            raw[64:96],
            raw[96:128],
            int.from_bytes(raw[128:136], "big"),
            raw[136],
        )


def encode_links(links: Sequence[InviteLink]) -> bytes:
    if len(links) > MAX_LINKS:
        raise InvalidInviteLink(f"at most {MAX_LINKS} invite links")
    ids = [link.link_id for link in links]
    if ids != sorted(set(ids)):
        raise InvalidInviteLink("invite links are sorted by id and unique")
    if len({link.inbox_pubkey for link in links}) != len(links):
        raise InvalidInviteLink("each invite link has its own inbox key")
    out = Out()
    out.var_bytes(b"".join(link.encode() for link in links))
    return out.getvalue()


def decode_links(data: bytes) -> tuple[InviteLink, ...]:
    c = Cursor(data)
    try:
        body = c.var_bytes(MAX_LINKS * ENTRY_LEN, "invite links")
        c.finish()
    except BinaryError as exc:
        raise InvalidInviteLink(f"invite links: {exc}") from None
    if len(body) % ENTRY_LEN:
        raise InvalidInviteLink("invite links are whole 137-byte entries")
    n = ENTRY_LEN
    links = tuple(InviteLink.decode(body[i : i + n]) for i in range(0, len(body), n))
    if encode_links(links) != data:
        raise InvalidInviteLink("invite links are not canonical")
    return links


@dataclass(frozen=True, slots=True)
class InvitePreview:
    inbox_pubkey: bytes
    link_id: bytes
    bearer_hash: bytes
    expires_at: int
    approval_mode: int
    name: str = field(repr=False)  # preview text is not for logs
    description: str = field(default="", repr=False)
    image_type: int = IMAGE_NONE
    image: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        check_xonly(self.inbox_pubkey, "inbox key")
        if len(self.link_id) != 32 or len(self.bearer_hash) != 32:
            raise InvalidInviteLink("link id and bearer hash are 32 bytes")
        _check_expiry(self.expires_at)
        _check_mode(self.approval_mode)
        if not 1 <= len(self.name.encode()) <= 256 or len(self.description.encode()) > 4096:
            raise InvalidInviteLink("preview name is 1..256 bytes, description <= 4096")
        if self.image_type not in (IMAGE_NONE, IMAGE_JPEG, IMAGE_PNG):
            raise InvalidInviteLink("preview image type is none, JPEG or PNG")
        if (self.image_type == IMAGE_NONE) != (not self.image) or len(self.image) > 49152:
            raise InvalidInviteLink("a preview image is present exactly when typed, <= 49152 bytes")

    def encode(self) -> bytes:
        out = Out()
        out.u16(1)
        out.fixed(self.inbox_pubkey + self.link_id + self.bearer_hash)
        out.u64(self.expires_at)
        out.u8(self.approval_mode)
        out.var_bytes(self.name.encode())
        out.var_bytes(self.description.encode())
        out.u8(self.image_type)
        out.var_bytes(self.image)
        return out.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> InvitePreview:
        c = Cursor(data)
        try:
            if c.u16() != 1:
                raise InvalidInviteLink("unknown preview version")
            inbox, link_id, bearer_hash = c.fixed(32), c.fixed(32), c.fixed(32)
            expires_at, mode = c.u64(), c.u8()
            name = c.var_bytes(256, "name").decode()
            description = c.var_bytes(4096, "description").decode()
            image_type, image = c.u8(), c.var_bytes(49152, "image")
            c.finish()
        except BinaryError as exc:
            raise InvalidInviteLink(f"preview: {exc}") from None
        except UnicodeDecodeError:
            raise InvalidInviteLink("preview text is not UTF-8") from None
        preview = cls(
            inbox, link_id, bearer_hash, expires_at, mode, name, description, image_type, image
        )
        if preview.encode() != data:
            raise InvalidInviteLink("preview is not canonical")
        return preview

    @property
    def preview_hash(self) -> bytes:
        return sha256(self.encode())

    def aad(self) -> bytes:
        return (1).to_bytes(2, "big") + self.inbox_pubkey + self.link_id


def preview_descriptor(
    inbox: SecretKey, code: InviteCode, preview: InvitePreview, *, now: int, rng: Rng = system_rng
) -> Event:
    """The signed kind-30444 descriptor for ``code`` (its inbox key signs it)."""
    _check_matches(code, preview)
    if inbox.public_key().data != code.inbox_pubkey:
        raise InvalidInviteLink("the descriptor is signed by the link's inbox key")
    nonce = rng(12)
    sealed = nonce + aead_seal(code.preview_key, nonce, preview.encode(), preview.aad())
    if len(sealed) > MAX_DESCRIPTOR_BYTES:
        raise InvalidInviteLink(f"a descriptor holds at most {MAX_DESCRIPTOR_BYTES} bytes")
    tags = [("d", code.link_id.hex())]
    unsigned = UnsignedEvent.create(
        inbox.public_key(), now, KIND_DESCRIPTOR, b64encode(sealed), tags
    )
    return unsigned.sign(inbox, rng=rng)


def _check_matches(code: InviteCode, preview: InvitePreview) -> None:
    if (preview.inbox_pubkey, preview.link_id) != (code.inbox_pubkey, code.link_id):
        raise InvalidInviteLink("the preview names another link")
    if preview.bearer_hash != code.bearer_hash:
        raise InvalidInviteLink("the preview's bearer hash is not the code's")


def open_descriptor(code: InviteCode, event: Event) -> InvitePreview:
    """Check a fetched descriptor (signature first) and decrypt its preview."""
    try:
        event.verify()
    except NostrError:
        raise InvalidInviteLink("descriptor signature does not verify") from None
    if event.kind != KIND_DESCRIPTOR or event.pubkey != code.inbox_pubkey.hex():
        raise InvalidInviteLink("a descriptor is kind 30444 by the link's inbox key")
    if [tuple(t) for t in event.tags] != [("d", code.link_id.hex())]:
        raise InvalidInviteLink("a descriptor's only tag is d = hex(link id)")
    try:
        sealed = b64decode(event.content)
    except ValueError:
        raise InvalidInviteLink("descriptor content is not base64") from None
    if not 12 + 16 <= len(sealed) <= MAX_DESCRIPTOR_BYTES:
        raise InvalidInviteLink("descriptor content has a bad size")
    aad = (1).to_bytes(2, "big") + code.inbox_pubkey + code.link_id
    try:
        plaintext = aead_open(code.preview_key, sealed[:12], sealed[12:], aad)
    except CryptoFailure:
        raise InvalidInviteLink(
            "descriptor does not decrypt under the code's preview key"
        ) from None
    preview = InvitePreview.decode(plaintext)
    _check_matches(code, preview)
    return preview
