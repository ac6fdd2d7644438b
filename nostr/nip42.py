"""NIP-42 client authentication: the kind-22242 event a client signs for a relay."""

from __future__ import annotations

from nostr.errors import DecodeError, InvalidEvent
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, hex_of
from nostr.kinds import Kind
from nostr.relay_url import normalize_relay_url

MAX_AUTH_SKEW = 600
"""A relay accepts an AUTH event dated within this many seconds of its clock."""


def auth_event(
    pubkey: PublicKey | str, relay_url: str, challenge: str, *, created_at: int
) -> UnsignedEvent:
    """The unsigned ``AUTH`` event answering ``challenge`` from ``relay_url``."""
    tags = (("relay", relay_url), ("challenge", challenge))
    author = hex_of(pubkey)
    return UnsignedEvent(author, created_at, Kind.CLIENT_AUTH, tags, "")


def _same_relay(claimed: str | None, relay_url: str) -> bool:
    if claimed is None:
        return False
    try:
        # "wss://host" and "wss://host/" name the same relay.
        return normalize_relay_url(claimed).rstrip("/") == normalize_relay_url(relay_url).rstrip(
            "/"
        )
    except DecodeError:
        return False


def check_auth_event(
    event: Event, *, relay_url: str, challenge: str, now: int, max_skew: int = MAX_AUTH_SKEW
) -> None:
    """Relay side: verify an AUTH event for this relay and challenge; raise ``InvalidEvent``."""
    if event.kind != Kind.CLIENT_AUTH:
        raise InvalidEvent(f"kind {event.kind} is not an AUTH event", event.id)
    event.verify()
    if event.first_tag_value("challenge") != challenge:
        raise InvalidEvent("AUTH event answers another challenge", event.id)
    if not _same_relay(event.first_tag_value("relay"), relay_url):
        raise InvalidEvent("AUTH event names another relay", event.id)
    if abs(event.created_at - now) > max_skew:
        raise InvalidEvent("AUTH event is too old or too new", event.id)
