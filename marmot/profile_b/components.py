"""Profile B app components: the group state in the GroupContext ``app_data_dictionary``.

Each component is a frozen dataclass with ``encode() -> bytes`` and ``decode(bytes)``;
``decode`` is canonical (spec foundation/canonical-encoding.md): it refuses any bytes that
are not exactly what ``encode`` would write for the decoded value, and never repairs.
Every component Marmot defines is updated by full replacement (an AppDataUpdate carries
the new state), so one codec serves state and update. Bounds and rules follow MDK 0.9
(``cgka-traits`` app_components), which wins where the July draft differs.

::

    GroupProfile(name, description)                         0x8001
    GroupBlossomImage(hash, key, nonce, upload_key, type)   0x8002  (all empty = no image)
    AdminPolicy(admins)                                     0x8003  sorted, unique, >= 1
    NostrRouting(nostr_group_id, relays)                    0x8004  1..16 relays, sorted
    MessageRetention(disappearing_message_secs)             0x8005  u64, 0 = off
    GroupAvatarUrl(url, dim, thumbhash)                     0x8007
    EncryptedMediaPolicy(version, locator_kinds, endpoints) 0x8008 (v1) / 0x800b (v2)
    GroupLifecycle.ACTIVE / DISBANDED                       0x800c  one byte
    decode_component(component_id, data)                    any of the above
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Self, TypeAlias, TypeVar

from marmot.binary import BinaryError, Cursor, Out
from marmot.profile_b.errors import InvalidComponent
from marmot.profile_b.urls import (
    UrlError,
    check_relay_url,
    host_of,
    is_ip_literal,
    is_loopback_host,
    is_public_ip,
    normalize_http_url,
)


class ComponentId(IntEnum):
    """Marmot's private-use app component ids (MDK 0.9 registry)."""

    GROUP_PROFILE = 0x8001
    GROUP_BLOSSOM_IMAGE = 0x8002
    ADMIN_POLICY = 0x8003
    NOSTR_ROUTING = 0x8004
    MESSAGE_RETENTION = 0x8005
    AGENT_TEXT_STREAM_QUIC = 0x8006
    GROUP_AVATAR_URL = 0x8007
    ENCRYPTED_MEDIA_V1 = 0x8008
    ACCOUNT_IDENTITY_PROOF = 0x8009  # LeafNode only, never GroupContext state
    ENCRYPTED_MEDIA_V2 = 0x800B
    GROUP_LIFECYCLE = 0x800C


DEFAULT_GROUP_COMPONENTS = frozenset(
    {ComponentId.GROUP_PROFILE, ComponentId.ADMIN_POLICY, ComponentId.GROUP_LIFECYCLE}
)
"""What MDK puts in a new group's required app_components (plus 0x8009 for leaves)."""

PROFILE_NAME_MAX = 256
PROFILE_DESCRIPTION_MAX = 4096
ROUTING_MAX_RELAYS = 16
RELAY_URL_MAX = 512
AVATAR_URL_MAX = 2048
AVATAR_HINT_MAX = 256
MEDIA_TYPE_MAX = 128
LOCATOR_KIND_MAX = 64
MEDIA_MAX_LOCATOR_KINDS = 16
MEDIA_MAX_ENDPOINTS = 16
ENDPOINT_URL_MAX = 2048
_LOCATOR_KINDS_VECTOR_MAX = MEDIA_MAX_LOCATOR_KINDS * (LOCATOR_KIND_MAX + 2)
_ENDPOINTS_VECTOR_MAX = MEDIA_MAX_ENDPOINTS * ((LOCATOR_KIND_MAX + 2) + (ENDPOINT_URL_MAX + 2) + 2)
_RELAY_VECTOR_MAX = ROUTING_MAX_RELAYS * (RELAY_URL_MAX + 2)

T = TypeVar("T")

__all__ = [
    "DEFAULT_GROUP_COMPONENTS",
    "AdminPolicy",
    "BlobEndpoint",
    "Component",
    "ComponentId",
    "EncryptedMediaPolicy",
    "GroupAvatarUrl",
    "GroupBlossomImage",
    "GroupLifecycle",
    "GroupProfile",
    "MessageRetention",
    "NostrRouting",
    "canonical_media_type",
    "decode_component",
]


def _decoding(what: str, pull: Callable[[Cursor], T], data: bytes) -> T:
    """Run ``pull`` over all of ``data``; codec faults become ``InvalidComponent``."""
    cursor = Cursor(data)
    try:
        value = pull(cursor)
        cursor.finish(what)
    except BinaryError as exc:
        raise InvalidComponent(f"{what}: {exc}", code="malformed") from None
    return value


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidComponent(f"{what} is not UTF-8", code="not_utf8") from None


def _canonical(component: Component, data: bytes) -> None:
    """The decoder's last rule: re-encoding gives the same bytes."""
    if component.encode() != data:
        raise InvalidComponent("component bytes are not canonical", code="non_canonical")


# --- 0x8001 group profile -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupProfile:
    name: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if len(self.name.encode()) > PROFILE_NAME_MAX:
            raise InvalidComponent(f"group name is longer than {PROFILE_NAME_MAX} bytes")
        if len(self.description.encode()) > PROFILE_DESCRIPTION_MAX:
            raise InvalidComponent(
                f"group description is longer than {PROFILE_DESCRIPTION_MAX} bytes"
            )

    def encode(self) -> bytes:
        w = Out()
        w.var_bytes(self.name.encode())
        w.var_bytes(self.description.encode())
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Self:
        def pull(c: Cursor) -> tuple[bytes, bytes]:
            return (
                c.var_bytes(PROFILE_NAME_MAX, "group name"),
                c.var_bytes(PROFILE_DESCRIPTION_MAX, "group description"),
            )

        name, description = _decoding("group profile", pull, data)
        return cls(_text(name, "group name"), _text(description, "group description"))


# --- 0x8002 group image (Blossom) ------------------------------------------------------

_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def canonical_media_type(value: str) -> str:
    """A media type as MDK stores it: parameters and surrounding space dropped, lower case,
    ``image/jpg`` spelled ``image/jpeg``."""
    essence = value.split(";", 1)[0].strip(" \t\n\r\x0c")
    if essence.count("/") != 1:
        raise InvalidComponent("media type must contain exactly one slash")
    kind, subtype = essence.split("/")
    if not kind or not subtype:
        raise InvalidComponent("media type and subtype must be non-empty")
    if len(kind) > 64 or len(subtype) > 64 or len(essence) > MEDIA_TYPE_MAX:
        raise InvalidComponent("media type is too long")
    if not all(ord(ch) < 128 and ord(ch) in _TOKEN for ch in kind + subtype):
        raise InvalidComponent("media type contains an invalid token byte")
    canonical = essence.lower()
    return "image/jpeg" if canonical == "image/jpg" else canonical


@dataclass(frozen=True, slots=True)
class GroupBlossomImage:
    """The encrypted group picture on Blossom; all fields empty means "no image"."""

    image_hash: bytes = b""
    image_key: bytes = field(default=b"", repr=False)
    image_nonce: bytes = field(default=b"", repr=False)
    image_upload_key: bytes = field(default=b"", repr=False)
    media_type: str = ""

    @property
    def present(self) -> bool:
        return any(
            (self.image_hash, self.image_key, self.image_nonce, self.image_upload_key)
        ) or bool(self.media_type)

    def __post_init__(self) -> None:
        if not self.present:
            return
        sizes = (len(self.image_hash), len(self.image_key), len(self.image_nonce))
        if sizes != (32, 32, 12) or len(self.image_upload_key) != 32 or not self.media_type:
            raise InvalidComponent("group image has a partial state", code="partial_state")
        canonical_media_type(self.media_type)

    def encode(self) -> bytes:
        w = Out()
        for part in (self.image_hash, self.image_key, self.image_nonce, self.image_upload_key):
            w.var_bytes(part)
        w.var_bytes(canonical_media_type(self.media_type).encode() if self.present else b"")
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Self:
        def pull(c: Cursor) -> tuple[bytes, ...]:
            return (
                c.var_bytes(32, "image hash"),
                c.var_bytes(32, "image key"),
                c.var_bytes(12, "image nonce"),
                c.var_bytes(32, "image upload key"),
                c.var_bytes(MEDIA_TYPE_MAX, "image media type"),
            )

        h, k, n, u, mt = _decoding("group image", pull, data)
        image = cls(h, k, n, u, _text(mt, "image media type"))
        _canonical(image, data)
        return image


# --- 0x8003 admin policy -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminPolicy:
    """The raw 32-byte x-only keys of the group's admins, sorted and unique."""

    admins: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.admins:
            raise InvalidComponent("admin policy must name at least one admin", code="no_admin")
        if any(len(a) != 32 for a in self.admins):
            raise InvalidComponent("an admin key is not 32 bytes")
        if list(self.admins) != sorted(set(self.admins)):
            raise InvalidComponent("admin keys must be sorted and unique", code="unsorted")

    @classmethod
    def of(cls, admins: tuple[bytes, ...] | list[bytes] | frozenset[bytes]) -> AdminPolicy:
        return cls(tuple(sorted(set(admins))))

    def encode(self) -> bytes:
        w = Out()
        w.var_bytes(b"".join(self.admins))
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Self:
        raw = _decoding("admin policy", lambda c: c.var_bytes(1 << 62, "admins"), data)
        if len(raw) % 32:
            raise InvalidComponent("admin policy is not a list of 32-byte keys")
        return cls(tuple(raw[i : i + 32] for i in range(0, len(raw), 32)))


# --- 0x8004 Nostr routing ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NostrRouting:
    """Where the group's 445s go: the ``h`` tag value and the relays, byte-sorted."""

    nostr_group_id: bytes
    relays: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.nostr_group_id) != 32:
            raise InvalidComponent("nostr_group_id must be 32 bytes")
        if not 1 <= len(self.relays) <= ROUTING_MAX_RELAYS:
            raise InvalidComponent(
                f"routing needs 1..{ROUTING_MAX_RELAYS} relays", code="relay_count"
            )
        encoded = [r.encode() for r in self.relays]
        if len(set(encoded)) != len(encoded):
            raise InvalidComponent("a relay is listed twice", code="duplicate_relay")
        if encoded != sorted(encoded):
            raise InvalidComponent("relays must be sorted by their bytes", code="unsorted_relays")
        for relay, raw in zip(self.relays, encoded, strict=True):
            if not raw or len(raw) > RELAY_URL_MAX:
                raise InvalidComponent(f"relay URL must be 1..{RELAY_URL_MAX} bytes")
            try:
                check_relay_url(relay)
            except UrlError as exc:
                raise InvalidComponent(f"relay {relay!r}: {exc}", code="invalid_relay") from None

    @classmethod
    def of(cls, nostr_group_id: bytes, relays: list[str] | tuple[str, ...]) -> NostrRouting:
        """Sorted and deduplicated, as a producer must write it."""
        return cls(nostr_group_id, tuple(sorted(set(relays), key=str.encode)))

    def encode(self) -> bytes:
        inner = Out()
        for relay in self.relays:
            inner.var_bytes(relay.encode())
        w = Out()
        w.fixed(self.nostr_group_id)
        w.var_bytes(inner.getvalue())
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Self:
        def pull(c: Cursor) -> tuple[bytes, list[bytes]]:
            group_id = c.fixed(32, "nostr_group_id")
            vector = Cursor(c.var_bytes(_RELAY_VECTOR_MAX, "relay vector"))
            relays: list[bytes] = []
            while vector.remaining:
                if len(relays) == ROUTING_MAX_RELAYS:
                    raise BinaryError(f"more than {ROUTING_MAX_RELAYS} relays")
                relays.append(vector.var_bytes(RELAY_URL_MAX, "relay URL"))
            return group_id, relays

        group_id, relays = _decoding("Nostr routing", pull, data)
        return cls(group_id, tuple(_text(r, "relay URL") for r in relays))


# --- 0x8005 message retention ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageRetention:
    """Disappearing messages: seconds after the sender's ``created_at``; 0 = off."""

    disappearing_message_secs: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.disappearing_message_secs < 1 << 64:
            raise InvalidComponent("retention is not a u64")

    def encode(self) -> bytes:
        return self.disappearing_message_secs.to_bytes(8, "big")

    @classmethod
    def decode(cls, data: bytes) -> Self:
        if len(data) != 8:
            raise InvalidComponent(f"message retention must be 8 bytes, got {len(data)}")
        return cls(int.from_bytes(data, "big"))


# --- 0x8007 avatar URL -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupAvatarUrl:
    """A public https avatar; ``dim`` and ``thumbhash`` are opaque hints. Empty url = none."""

    url: str = ""
    dim: bytes = b""
    thumbhash: bytes = b""

    def __post_init__(self) -> None:
        if not self.url and (self.dim or self.thumbhash):
            raise InvalidComponent("an absent avatar carries no hints")
        if len(self.dim) > AVATAR_HINT_MAX or len(self.thumbhash) > AVATAR_HINT_MAX:
            raise InvalidComponent(f"avatar hints are at most {AVATAR_HINT_MAX} bytes")
        if self.url:
            if len(self.url.encode()) > AVATAR_URL_MAX:
                raise InvalidComponent(f"avatar URL is longer than {AVATAR_URL_MAX} bytes")
            try:
                normal = normalize_http_url(self.url, ("https",))
            except UrlError as exc:
                raise InvalidComponent(f"avatar URL: {exc}") from None
            if normal != self.url:
                raise InvalidComponent("avatar URL is not normalized", code="non_canonical")

    @classmethod
    def of(cls, url: str, dim: bytes = b"", thumbhash: bytes = b"") -> GroupAvatarUrl:
        try:
            normal = normalize_http_url(url, ("https",)) if url else ""
        except UrlError as exc:
            raise InvalidComponent(f"avatar URL: {exc}") from None
        return cls(normal, dim, thumbhash)

    def encode(self) -> bytes:
        w = Out()
        w.var_bytes(self.url.encode())
        w.var_bytes(self.dim)
        w.var_bytes(self.thumbhash)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Self:
        def pull(c: Cursor) -> tuple[bytes, bytes, bytes]:
            return (
                c.var_bytes(AVATAR_URL_MAX, "avatar URL"),
                c.var_bytes(AVATAR_HINT_MAX, "avatar dim"),
                c.var_bytes(AVATAR_HINT_MAX, "avatar thumbhash"),
            )

        url, dim, thumbhash = _decoding("group avatar", pull, data)
        return cls(_text(url, "avatar URL"), dim, thumbhash)


# --- 0x8008 / 0x800b encrypted media policy ------------------------------------------------

MEDIA_FORMATS = {1: "encrypted-media-v1", 2: "encrypted-media-v2"}
BLOSSOM_LOCATOR = "blossom-v1"


def _check_locator_kind(kind: str) -> None:
    if not 1 <= len(kind) <= LOCATOR_KIND_MAX:
        raise InvalidComponent(f"locator kind must be 1..{LOCATOR_KIND_MAX} bytes")
    if not all(ch.isascii() and (ch.islower() or ch.isdigit() or ch == "-") for ch in kind):
        raise InvalidComponent("locator kind may hold only a-z, 0-9 and '-'")


def _check_endpoint_url(url: str, version: int) -> None:
    """v1: https (not to localhost or a non-public IP), or http to loopback; v2: http or
    https, no query. Either way already normalized."""
    if len(url.encode()) > ENDPOINT_URL_MAX:
        raise InvalidComponent(f"endpoint URL is longer than {ENDPOINT_URL_MAX} bytes")
    try:
        if version == 2:
            normal = normalize_http_url(url, ("http", "https"), query=False)
        else:
            normal = normalize_http_url(url, ("http", "https"))
            host = host_of(normal)
            if normal.startswith("http:") and not is_loopback_host(host):
                raise UrlError("http endpoints are allowed only on loopback")
            private_ip = is_ip_literal(host) and not is_public_ip(host)
            if normal.startswith("https:") and (is_loopback_host(host) or private_ip):
                raise UrlError("https endpoint must not point at localhost or a private address")
    except UrlError as exc:
        raise InvalidComponent(f"endpoint URL: {exc}") from None
    if normal != url:
        raise InvalidComponent("endpoint URL is not normalized", code="non_canonical")


@dataclass(frozen=True, slots=True)
class BlobEndpoint:
    locator_kind: str
    base_url: str


@dataclass(frozen=True, slots=True)
class EncryptedMediaPolicy:
    """Which locator kinds a group's encrypted media may use and its default blob stores."""

    version: int  # 1 -> component 0x8008, 2 -> 0x800b
    allowed_locator_kinds: tuple[str, ...]
    default_blob_endpoints: tuple[BlobEndpoint, ...]

    def __post_init__(self) -> None:
        if self.version not in MEDIA_FORMATS:
            raise InvalidComponent(f"unknown encrypted media version {self.version}")
        kinds = self.allowed_locator_kinds
        if not 1 <= len(kinds) <= MEDIA_MAX_LOCATOR_KINDS:
            raise InvalidComponent(f"policy needs 1..{MEDIA_MAX_LOCATOR_KINDS} locator kinds")
        if len(set(kinds)) != len(kinds):
            raise InvalidComponent("a locator kind is listed twice")
        for kind in kinds:
            _check_locator_kind(kind)
        ends = self.default_blob_endpoints
        if not 1 <= len(ends) <= MEDIA_MAX_ENDPOINTS:
            raise InvalidComponent(f"policy needs 1..{MEDIA_MAX_ENDPOINTS} blob endpoints")
        if len(set(ends)) != len(ends):
            raise InvalidComponent("a blob endpoint is listed twice")
        for end in ends:
            _check_locator_kind(end.locator_kind)
            if end.locator_kind not in kinds:
                raise InvalidComponent("an endpoint's locator kind is not allowed")
            _check_endpoint_url(end.base_url, self.version)

    @property
    def component_id(self) -> ComponentId:
        return (
            ComponentId.ENCRYPTED_MEDIA_V1 if self.version == 1 else ComponentId.ENCRYPTED_MEDIA_V2
        )

    @property
    def media_format(self) -> str:
        return MEDIA_FORMATS[self.version]

    @classmethod
    def blossom(cls, version: int, base_urls: list[str]) -> EncryptedMediaPolicy:
        schemes = ("http", "https")
        try:
            urls = dict.fromkeys(normalize_http_url(u, schemes, query=False) for u in base_urls)
        except UrlError as exc:
            raise InvalidComponent(f"endpoint URL: {exc}") from None
        ends = tuple(BlobEndpoint(BLOSSOM_LOCATOR, u) for u in urls)
        return cls(version, (BLOSSOM_LOCATOR,), ends)

    def encode(self) -> bytes:
        kinds = Out()
        for kind in self.allowed_locator_kinds:
            kinds.var_bytes(kind.encode())
        ends = Out()
        for end in self.default_blob_endpoints:
            ends.var_bytes(end.locator_kind.encode())
            ends.var_bytes(end.base_url.encode())
        w = Out()
        w.var_bytes(self.media_format.encode())
        w.var_bytes(kinds.getvalue())
        w.var_bytes(ends.getvalue())
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> EncryptedMediaPolicy:
        def pull(c: Cursor) -> tuple[bytes, list[bytes], list[tuple[bytes, bytes]]]:
            fmt = c.var_bytes(64, "media format")
            kinds_c = Cursor(c.var_bytes(_LOCATOR_KINDS_VECTOR_MAX, "locator kinds"))
            ends_c = Cursor(c.var_bytes(_ENDPOINTS_VECTOR_MAX, "blob endpoints"))
            kinds = []
            while kinds_c.remaining:
                kinds.append(kinds_c.var_bytes(LOCATOR_KIND_MAX, "locator kind"))
            ends = []
            while ends_c.remaining:
                kind = ends_c.var_bytes(LOCATOR_KIND_MAX, "endpoint locator kind")
                ends.append((kind, ends_c.var_bytes(ENDPOINT_URL_MAX, "endpoint URL")))
            return fmt, kinds, ends

        fmt, kinds, ends = _decoding("encrypted media policy", pull, data)
        versions = {v for v, name in MEDIA_FORMATS.items() if name.encode() == fmt}
        if not versions:
            raise InvalidComponent(f"unknown media format {fmt!r}")
        return cls(
            versions.pop(),
            tuple(_text(k, "locator kind") for k in kinds),
            tuple(BlobEndpoint(_text(k, "locator kind"), _text(u, "URL")) for k, u in ends),
        )


# --- 0x800c lifecycle ---------------------------------------------------------------------


class GroupLifecycle(IntEnum):
    """Whether the group still runs; a disbanded group accepts no more traffic."""

    ACTIVE = 0
    DISBANDED = 1

    def encode(self) -> bytes:
        return bytes((self.value,))

    @classmethod
    def decode(cls, data: bytes) -> GroupLifecycle:
        if len(data) != 1:
            raise InvalidComponent("group lifecycle is exactly one byte")
        try:
            return cls(data[0])
        except ValueError:
            raise InvalidComponent(f"unknown group lifecycle state {data[0]}") from None


Component: TypeAlias = (
    GroupProfile
    | GroupBlossomImage
    | AdminPolicy
    | NostrRouting
    | MessageRetention
    | GroupAvatarUrl
    | EncryptedMediaPolicy
    | GroupLifecycle
)

_DECODERS: dict[int, Callable[[bytes], Component]] = {
    ComponentId.GROUP_PROFILE: GroupProfile.decode,
    ComponentId.GROUP_BLOSSOM_IMAGE: GroupBlossomImage.decode,
    ComponentId.ADMIN_POLICY: AdminPolicy.decode,
    ComponentId.NOSTR_ROUTING: NostrRouting.decode,
    ComponentId.MESSAGE_RETENTION: MessageRetention.decode,
    ComponentId.GROUP_AVATAR_URL: GroupAvatarUrl.decode,
    ComponentId.ENCRYPTED_MEDIA_V1: EncryptedMediaPolicy.decode,
    ComponentId.ENCRYPTED_MEDIA_V2: EncryptedMediaPolicy.decode,
    ComponentId.GROUP_LIFECYCLE: GroupLifecycle.decode,
}


def decode_component(component_id: int, data: bytes) -> Component:
    """The state of a known component; ``InvalidComponent`` for bad bytes or an id we do
    not implement (unknown components are preserved as bytes by the caller, not parsed)."""
    decoder = _DECODERS.get(component_id)
    if decoder is None:
        raise InvalidComponent(f"component {component_id:#06x} has no codec here")
    value = decoder(data)
    if isinstance(value, EncryptedMediaPolicy) and value.component_id != component_id:
        raise InvalidComponent("media policy format does not match its component id")
    return value
