"""Relay lists: NIP-65 (kind 10002), inbox relays (kind 10050), key-package relays (10051).

Parsing is forgiving (a hostile list cannot break the reader): malformed URLs are skipped
and duplicates folded, keeping the author's order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nostr.errors import DecodeError, UsageError
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, hex_of
from nostr.kinds import Kind
from nostr.relay_url import normalize_relay_url


@dataclass(frozen=True, slots=True)
class RelayListEntry:
    """One ``["r", url, marker?]`` entry; no marker means both read and write."""

    url: str
    read: bool = True
    write: bool = True

    def __post_init__(self) -> None:
        if not (self.read or self.write):
            raise UsageError("a relay list entry must be read, write or both")


def relay_list_event(
    pubkey: PublicKey | str, entries: Iterable[RelayListEntry], *, created_at: int
) -> UnsignedEvent:
    """The NIP-65 kind-10002 event for ``entries``."""
    tags: list[tuple[str, ...]] = []
    for entry in entries:
        url = normalize_relay_url(entry.url)
        if entry.read and entry.write:
            tags.append(("r", url))
        else:
            tags.append(("r", url, "read" if entry.read else "write"))
    return UnsignedEvent(hex_of(pubkey), created_at, Kind.RELAY_LIST, tuple(tags), "")


def parse_relay_list(event: Event | UnsignedEvent) -> tuple[RelayListEntry, ...]:
    """The entries of a kind-10002 event (unknown markers are skipped)."""
    if event.kind != Kind.RELAY_LIST:
        raise DecodeError(f"kind {event.kind} is not a NIP-65 relay list")
    found: dict[str, RelayListEntry] = {}
    for tag in event.tags:
        if len(tag) < 2 or tag[0] != "r":
            continue
        marker = tag[2] if len(tag) > 2 else ""
        if marker not in ("", "read", "write"):
            continue
        try:
            url = normalize_relay_url(tag[1])
        except DecodeError:
            continue
        entry = RelayListEntry(url, read=marker != "write", write=marker != "read")
        found.setdefault(url, entry)
    return tuple(found.values())


def read_relays(entries: Iterable[RelayListEntry]) -> tuple[str, ...]:
    """Where the author reads (where to send them mentions)."""
    return tuple(e.url for e in entries if e.read)


def write_relays(entries: Iterable[RelayListEntry]) -> tuple[str, ...]:
    """Where the author writes (where to fetch their events)."""
    return tuple(e.url for e in entries if e.write)


def _relay_tag_event(
    kind: Kind, pubkey: PublicKey | str, urls: Iterable[str], created_at: int
) -> UnsignedEvent:
    unique = dict.fromkeys(normalize_relay_url(u) for u in urls)
    tags = tuple(("relay", url) for url in unique)
    return UnsignedEvent(hex_of(pubkey), created_at, kind, tags, "")


def inbox_relays_event(
    pubkey: PublicKey | str, urls: Iterable[str], *, created_at: int
) -> UnsignedEvent:
    """Kind 10050: where to deliver gift wraps (Marmot Welcomes) to this user."""
    return _relay_tag_event(Kind.INBOX_RELAYS, pubkey, urls, created_at)


def key_package_relays_event(
    pubkey: PublicKey | str, urls: Iterable[str], *, created_at: int
) -> UnsignedEvent:
    """Kind 10051: where this user publishes MLS KeyPackages."""
    return _relay_tag_event(Kind.KEY_PACKAGE_RELAYS, pubkey, urls, created_at)


def parse_relay_tags(event: Event | UnsignedEvent) -> tuple[str, ...]:
    """The ``relay`` tags of a kind-10050 or kind-10051 event."""
    if event.kind not in (Kind.INBOX_RELAYS, Kind.KEY_PACKAGE_RELAYS):
        raise DecodeError(f"kind {event.kind} is not a relay-tag list")
    found: dict[str, None] = {}
    for tag in event.tags:
        if len(tag) >= 2 and tag[0] == "relay":
            try:
                found.setdefault(normalize_relay_url(tag[1]))
            except DecodeError:
                continue
    return tuple(found)
