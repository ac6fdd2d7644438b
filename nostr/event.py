"""NIP-01 events: canonical serialisation, id, signing, verification; NIP-40 expiration.

The id is SHA-256 over ``[0,pubkey,created_at,kind,tags,content]`` serialised exactly as
rust-nostr's serde_json does: no whitespace, ``"`` and ``\\`` escaped, ``\\n \\r \\t \\b \\f``
short escapes, other C0 controls as lowercase ``\\u00xx``, ``/`` and non-ASCII left as is.
``json.dumps(..., separators=(",", ":"), ensure_ascii=False)`` produces exactly that.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from nostr.errors import DecodeError, InvalidEvent, InvalidKey, InvalidSignature
from nostr.keys import PublicKey, Rng, SecretKey, hex_of, system_rng, verify_schnorr

Tags = tuple[tuple[str, ...], ...]

MAX_KIND = 0xFFFF
MAX_TIMESTAMP = 2**64 - 1
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")


def compact_json(value: object) -> str:
    """JSON exactly as serde_json writes it: no spaces, UTF-8 kept, minimal escapes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _id_digest(pubkey: str, created_at: int, kind: int, tags: Tags, content: str) -> bytes:
    serial = compact_json([0, pubkey, created_at, kind, tags, content])
    try:
        data = serial.encode()
    except UnicodeEncodeError as exc:  # a lone surrogate from a "\ud800" escape
        raise InvalidEvent("event text is not valid Unicode") from exc
    return hashlib.sha256(data).digest()


def compute_id(pubkey: str, created_at: int, kind: int, tags: Tags, content: str) -> str:
    """The NIP-01 event id (lowercase hex) of the given fields."""
    return _id_digest(pubkey, created_at, kind, tags, content).hex()


def _check_fields(pubkey: str, created_at: int, kind: int, tags: Tags, content: str) -> None:
    if type(pubkey) is not str or not _HEX64.fullmatch(pubkey):
        raise DecodeError("pubkey must be 64 lowercase hex characters")
    if type(created_at) is not int or not 0 <= created_at <= MAX_TIMESTAMP:
        raise DecodeError("created_at must be an unsigned integer")
    if type(kind) is not int or not 0 <= kind <= MAX_KIND:  # a Kind member is cast first
        raise DecodeError("kind must be an integer in [0, 65535]")
    if type(content) is not str:
        raise DecodeError("content must be a string")
    if type(tags) is not tuple or not all(
        type(tag) is tuple and all(type(v) is str for v in tag) for tag in tags
    ):
        raise DecodeError("tags must be a tuple of tuples of strings")


def tags_from_json(raw: object) -> Tags:
    """Convert JSON ``[[str, ...], ...]`` to ``Tags``; raise ``DecodeError`` otherwise."""
    if type(raw) is not list:
        raise DecodeError("tags must be an array")
    out = []
    for tag in raw:
        if type(tag) is not list or not all(type(v) is str for v in tag):
            raise DecodeError("every tag must be an array of strings")
        out.append(tuple(tag))
    return tuple(out)


def make_tags(tags: Iterable[Iterable[str]]) -> Tags:
    """Normalise any iterable of string iterables to ``Tags`` (rejects bare strings)."""
    out = []
    for tag in tags:
        if isinstance(tag, str):
            raise DecodeError("a tag must be a sequence of strings, not a string")
        out.append(tuple(tag))
    return tuple(out)


class _TagAccess:
    """Tag lookups shared by signed and unsigned events."""

    __slots__ = ()
    tags: Tags

    def tag_values(self, name: str) -> list[str]:
        """The second element of every tag named ``name``."""
        return [t[1] for t in self.tags if len(t) > 1 and t[0] == name]

    def first_tag_value(self, name: str) -> str | None:
        for t in self.tags:
            if len(t) > 1 and t[0] == name:
                return t[1]
        return None

    @property
    def expiration(self) -> int | None:
        """NIP-40: the ``expiration`` timestamp, or ``None`` when absent or malformed."""
        value = self.first_tag_value("expiration")
        return int(value) if value is not None and value.isascii() and value.isdigit() else None

    def is_expired_at(self, now: int) -> bool:
        """NIP-40: true once ``now`` has reached the expiration timestamp."""
        expiration = self.expiration
        return expiration is not None and now >= expiration


def expiration_tag(timestamp: int) -> tuple[str, str]:
    """NIP-40 ``["expiration", <unix seconds>]``."""
    return ("expiration", str(timestamp))


def _require(data: dict[str, Any], key: str) -> Any:
    try:
        return data[key]
    except KeyError:
        raise DecodeError(f"event has no {key!r}") from None


def _load_object(text: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DecodeError("event is not valid JSON") from exc
    if type(data) is not dict:
        raise DecodeError("event must be a JSON object")
    return data


def _fields(event: UnsignedEvent | Event) -> dict[str, Any]:
    """The JSON object of an event without ``sig``, in rust-nostr's field order."""
    return {
        "id": event.id,
        "pubkey": event.pubkey,
        "created_at": event.created_at,
        "kind": event.kind,
        "tags": event.tags,
        "content": event.content,
    }


@dataclass(frozen=True, slots=True)
class UnsignedEvent(_TagAccess):
    """An event without a signature (a NIP-59 "rumor"); its ``id`` is always computed."""

    pubkey: str
    created_at: int
    kind: int
    tags: Tags
    content: str
    id: str = field(init=False)

    def __post_init__(self) -> None:
        if type(self.kind) is not int and isinstance(self.kind, IntEnum):
            object.__setattr__(self, "kind", int(self.kind))
        _check_fields(self.pubkey, self.created_at, self.kind, self.tags, self.content)
        event_id = compute_id(self.pubkey, self.created_at, self.kind, self.tags, self.content)
        object.__setattr__(self, "id", event_id)

    @classmethod
    def create(
        cls,
        pubkey: PublicKey | str,
        created_at: int,
        kind: int,
        content: str = "",
        tags: Iterable[Iterable[str]] = (),
    ) -> UnsignedEvent:
        author = hex_of(pubkey)
        return cls(author, created_at, kind, make_tags(tags), content)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnsignedEvent:
        """Parse a rumor; a present ``id`` must match the content (``InvalidEvent``)."""
        event = cls(
            _require(data, "pubkey"),
            _require(data, "created_at"),
            _require(data, "kind"),
            tags_from_json(_require(data, "tags")),
            _require(data, "content"),
        )
        claimed = data.get("id")
        if claimed is not None and claimed != event.id:
            raise InvalidEvent("rumor id does not match its content", event_id=str(claimed))
        return event

    @classmethod
    def from_json(cls, text: str | bytes) -> UnsignedEvent:
        return cls.from_dict(_load_object(text))

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)

    def to_json(self) -> str:
        """rust-nostr field order: id, pubkey, created_at, kind, tags, content."""
        return compact_json(self.to_dict())

    def sign(self, secret: SecretKey, *, rng: Rng = system_rng) -> Event:
        if secret.public_key().hex != self.pubkey:
            raise InvalidKey("the secret key does not belong to the event's pubkey")
        sig = secret.sign_schnorr(bytes.fromhex(self.id), rng=rng)
        return Event(
            self.id, self.pubkey, self.created_at, self.kind, self.tags, self.content, sig.hex()
        )


@dataclass(frozen=True, slots=True)
class Event(_TagAccess):
    """A signed NIP-01 event. Construction checks shape only; ``verify()`` checks trust."""

    id: str
    pubkey: str
    created_at: int
    kind: int
    tags: Tags
    content: str
    sig: str

    def __post_init__(self) -> None:
        if type(self.kind) is not int and isinstance(self.kind, IntEnum):
            object.__setattr__(self, "kind", int(self.kind))
        _check_fields(self.pubkey, self.created_at, self.kind, self.tags, self.content)
        if type(self.id) is not str or not _HEX64.fullmatch(self.id):
            raise DecodeError("id must be 64 lowercase hex characters")
        if type(self.sig) is not str or not _HEX128.fullmatch(self.sig):
            raise DecodeError("sig must be 128 lowercase hex characters")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """Parse the JSON object form. Does not verify: call ``verify()`` before trusting."""
        return cls(
            _require(data, "id"),
            _require(data, "pubkey"),
            _require(data, "created_at"),
            _require(data, "kind"),
            tags_from_json(_require(data, "tags")),
            _require(data, "content"),
            _require(data, "sig"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Event:
        return cls.from_dict(_load_object(text))

    def check_id(self) -> bytes:
        """Check that the id commits to the content; return the 32-byte id."""
        digest = _id_digest(self.pubkey, self.created_at, self.kind, self.tags, self.content)
        if digest.hex() != self.id:
            raise InvalidEvent("event id does not match its content", event_id=self.id)
        return digest

    def verify(self) -> None:
        """Check the id against the content and the BIP-340 signature; raise on failure."""
        digest = self.check_id()
        try:
            verify_schnorr(bytes.fromhex(self.pubkey), bytes.fromhex(self.sig), digest)
        except (InvalidSignature, InvalidKey) as exc:
            raise InvalidSignature(f"bad signature: {exc}", event_id=self.id) from exc

    def to_dict(self) -> dict[str, Any]:
        fields = _fields(self)
        fields["sig"] = self.sig
        return fields

    def to_json(self) -> str:
        """rust-nostr field order: id, pubkey, created_at, kind, tags, content, sig."""
        return compact_json(self.to_dict())

    def unsigned(self) -> UnsignedEvent:
        return UnsignedEvent(self.pubkey, self.created_at, self.kind, self.tags, self.content)

    @property
    def author(self) -> PublicKey:
        return PublicKey.from_hex(self.pubkey)
