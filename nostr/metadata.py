"""Kind 0 profile metadata (NIP-01, NIP-24 fields) and kind 3 follow lists (NIP-02)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from nostr.errors import DecodeError
from nostr.event import Event, UnsignedEvent, compact_json
from nostr.keys import PublicKey, hex_of
from nostr.kinds import Kind

_FIELDS = ("name", "display_name", "about", "picture", "banner", "website", "nip05", "lud16")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Metadata:
    """Profile fields; unknown fields are kept in ``extra`` so a round trip loses nothing."""

    name: str | None = None
    display_name: str | None = None
    about: str | None = None
    picture: str | None = None
    banner: str | None = None
    website: str | None = None
    nip05: str | None = None
    lud16: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def to_content(self) -> str:
        data: dict[str, Any] = dict(self.extra)
        for key in _FIELDS:
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return compact_json(data)

    @classmethod
    def from_content(cls, content: str) -> Metadata:
        """Parse kind-0 content; fields of the wrong type are dropped, not fatal."""
        try:
            data = json.loads(content)
        except (ValueError, RecursionError) as exc:
            raise DecodeError("profile metadata is not JSON") from exc
        if type(data) is not dict:
            raise DecodeError("profile metadata must be a JSON object")
        known = {k: data.pop(k) for k in _FIELDS if k in data}
        return cls(**{k: v for k, v in known.items() if type(v) is str}, extra=data)


def metadata_event(
    pubkey: PublicKey | str, metadata: Metadata, *, created_at: int
) -> UnsignedEvent:
    author = hex_of(pubkey)
    return UnsignedEvent(author, created_at, Kind.METADATA, (), metadata.to_content())


def parse_metadata(event: Event | UnsignedEvent) -> Metadata:
    if event.kind != Kind.METADATA:
        raise DecodeError(f"kind {event.kind} is not profile metadata")
    return Metadata.from_content(event.content)


@dataclass(frozen=True, slots=True)
class Contact:
    """One ``["p", <pubkey>, <relay>, <petname>]`` entry of a follow list."""

    public_key: str
    relay: str | None = None
    petname: str | None = None

    def to_tag(self) -> tuple[str, ...]:
        if self.petname is not None:
            return ("p", self.public_key, self.relay or "", self.petname)
        if self.relay is not None:
            return ("p", self.public_key, self.relay)
        return ("p", self.public_key)


def follow_list_event(
    pubkey: PublicKey | str, contacts: Iterable[Contact], *, created_at: int, content: str = ""
) -> UnsignedEvent:
    author = hex_of(pubkey)
    tags = tuple(c.to_tag() for c in contacts)
    return UnsignedEvent(author, created_at, Kind.FOLLOW_LIST, tags, content)


def parse_follow_list(event: Event | UnsignedEvent) -> tuple[Contact, ...]:
    """The contacts of a kind-3 event; malformed and repeated keys are skipped."""
    if event.kind != Kind.FOLLOW_LIST:
        raise DecodeError(f"kind {event.kind} is not a follow list")
    found: dict[str, Contact] = {}
    for tag in event.tags:
        if len(tag) < 2 or tag[0] != "p" or not _HEX64.fullmatch(tag[1]):
            continue
        relay = tag[2] if len(tag) > 2 and tag[2] else None
        petname = tag[3] if len(tag) > 3 and tag[3] else None
        found.setdefault(tag[1], Contact(tag[1], relay, petname))
    return tuple(found.values())
