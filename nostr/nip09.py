"""NIP-09 deletion requests (kind 5): ``e`` tags for events, ``a`` tags for addresses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nostr.errors import DecodeError
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, hex_of
from nostr.kinds import Kind, is_addressable, is_replaceable


def coordinate(kind: int, pubkey: str, identifier: str = "") -> str:
    """``<kind>:<pubkey>:<d>``, the address of a replaceable or addressable event."""
    return f"{kind}:{pubkey}:{identifier}"


def coordinate_of(event: Event) -> str | None:
    """The address of ``event`` when it is replaceable or addressable, else ``None``."""
    if is_addressable(event.kind):
        return coordinate(event.kind, event.pubkey, event.first_tag_value("d") or "")
    if is_replaceable(event.kind):
        return coordinate(event.kind, event.pubkey)
    return None


def deletion_event(
    pubkey: PublicKey | str,
    *,
    created_at: int,
    event_ids: Iterable[str] = (),
    coordinates: Iterable[str] = (),
    kinds: Iterable[int] = (),
    reason: str = "",
) -> UnsignedEvent:
    """A deletion request; ``kinds`` adds the ``k`` tags NIP-09 recommends."""
    tags: list[tuple[str, ...]] = [("e", i) for i in event_ids]
    tags += [("a", a) for a in coordinates]
    tags += [("k", str(k)) for k in dict.fromkeys(kinds)]
    if not tags:
        raise DecodeError("a deletion request must name at least one event or address")
    author = hex_of(pubkey)
    return UnsignedEvent(author, created_at, Kind.DELETION, tuple(tags), reason)


@dataclass(frozen=True, slots=True)
class Deletion:
    """What a kind-5 event asks to delete."""

    author: str
    created_at: int
    event_ids: frozenset[str]
    coordinates: frozenset[str]
    reason: str

    def deletes(self, target: Event) -> bool:
        """True when ``target`` is covered: same author, and named by id or by address
        with a version not newer than the request."""
        if target.pubkey != self.author:
            return False
        if target.id in self.event_ids:
            return True
        address = coordinate_of(target)
        return (
            address is not None
            and address in self.coordinates
            and target.created_at <= self.created_at
        )


def parse_deletion(event: Event) -> Deletion:
    if event.kind != Kind.DELETION:
        raise DecodeError(f"kind {event.kind} is not a deletion request")
    return Deletion(
        author=event.pubkey,
        created_at=event.created_at,
        event_ids=frozenset(event.tag_values("e")),
        coordinates=frozenset(event.tag_values("a")),
        reason=event.content,
    )
