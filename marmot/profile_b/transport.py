"""Profile B's Nostr binding for group traffic: kind 445 and the kind 444 welcome rumor.

445 (spec transports/nostr.md, MDK transport-nostr-peeler)::

    tags     exactly ["h", <lowercase hex nostr_group_id>] and, for an application message
             of a group with retention on, ["expiration", <inner created_at + retention>]
    pubkey   a fresh key per event;  content = base64(nonce[12] || ChaCha20-Poly1305(...))

The outer encryption (exporter "marmot"/"group-event", empty AAD) is Profile A's and is
shared from :mod:`marmot.group_event`. What differs: no ``encoding`` tag (forbidden), any
tag but ``h`` and one ``expiration`` refuses the event before decryption, commits and
proposals never carry ``expiration``, and no age window (timestamps are transport evidence
that must not choose state; an application message's outer ``created_at`` is its inner one).

444 rumor: ``content`` = base64(MLSMessage(Welcome)); exactly one ``e`` (64-hex id of the
KeyPackage event used) and exactly one ``relays`` tag with 1..16 relay URLs of at most 512
bytes; nothing else is required and ``encoding`` is not written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from marmot.errors import InvalidGroupEvent
from marmot.group_event import decode_content, encrypt_content
from marmot.primitives import b64decode, b64encode, is_lower_hex
from marmot.profile_b.errors import InvalidTransportEvent
from marmot.profile_b.urls import UrlError, check_relay_url
from mls.codec import decode_all
from mls.errors import DecodeError
from mls.messages import MLSMessage, Welcome
from nostr.errors import NostrError
from nostr.event import Event, UnsignedEvent, expiration_tag
from nostr.keys import PublicKey, Rng, SecretKey, system_rng
from nostr.kinds import Kind

MAX_WELCOME_RELAYS = 16
MAX_RELAY_URL = 512

__all__ = [
    "ParsedWelcomeRumor",
    "app_message_expiration",
    "build_group_event_b",
    "check_group_event_b",
    "parse_welcome_rumor_b",
    "welcome_rumor_b",
]


def app_message_expiration(inner_created_at: int, retention_secs: int) -> int | None:
    """The NIP-40 expiry of an application message; None when retention is off or the
    sum would not be a representable timestamp (MDK then omits the tag)."""
    if retention_secs == 0:
        return None
    expiry = inner_created_at + retention_secs
    return expiry if expiry < 1 << 63 else None


def build_group_event_b(
    nostr_group_id: bytes,
    mls_message: bytes,
    key: bytes,
    *,
    created_at: int,
    expiration: int | None = None,
    rng: Rng = system_rng,
) -> Event:
    """A signed 445 from a fresh key. Pass ``expiration`` only for application messages."""
    tags: list[tuple[str, ...]] = [("h", nostr_group_id.hex())]
    if expiration is not None:
        tags.append(expiration_tag(expiration))
    signer = SecretKey.generate(rng)
    content = encrypt_content(key, mls_message, rng=rng)
    unsigned = UnsignedEvent.create(
        signer.public_key(), created_at, Kind.MLS_GROUP_MESSAGE, content, tags
    )
    return unsigned.sign(signer, rng=rng)


def check_group_event_b(event: Event) -> tuple[bytes, bytes]:
    """The checks before peeling; returns ``(nostr_group_id, nonce || ciphertext)``."""
    if event.kind != Kind.MLS_GROUP_MESSAGE:
        raise InvalidTransportEvent(f"kind {event.kind} is not 445", event_id=event.id)
    names = [t[0] if t else "" for t in event.tags]
    if names.count("h") != 1 or names.count("expiration") > 1:
        raise InvalidTransportEvent(
            "a 445 has one h tag and at most one expiration", event_id=event.id
        )
    extra = set(names) - {"h", "expiration"}
    if extra:
        raise InvalidTransportEvent(f"a 445 may not carry {sorted(extra)}", event_id=event.id)
    h_tag = next(t for t in event.tags if t and t[0] == "h")
    if len(h_tag) != 2 or not is_lower_hex(h_tag[1], 64):
        raise InvalidTransportEvent("the h tag is not 64 lowercase hex", event_id=event.id)
    try:
        event.verify()
    except NostrError as exc:
        raise InvalidTransportEvent(f"bad 445: {exc}", event_id=event.id) from None
    try:
        payload = decode_content(event)
    except InvalidGroupEvent as exc:
        raise InvalidTransportEvent(exc.reason, event_id=event.id) from None
    return bytes.fromhex(h_tag[1]), payload


def _check_relays(relays: Sequence[str]) -> None:
    if not 1 <= len(relays) <= MAX_WELCOME_RELAYS:
        raise InvalidTransportEvent(f"a welcome lists 1..{MAX_WELCOME_RELAYS} relays")
    for relay in relays:
        if len(relay.encode()) > MAX_RELAY_URL:
            raise InvalidTransportEvent(f"a relay URL is longer than {MAX_RELAY_URL} bytes")
        try:
            check_relay_url(relay)
        except UrlError as exc:
            raise InvalidTransportEvent(f"welcome relay {relay!r}: {exc}") from None


def welcome_rumor_b(
    inviter: PublicKey,
    welcome: Welcome,
    key_package_event_id: str,
    relays: Sequence[str],
    *,
    created_at: int,
) -> UnsignedEvent:
    """The 444 rumor for one invitee (gift-wrap it with :func:`nostr.nip59.gift_wrap`)."""
    if not is_lower_hex(key_package_event_id, 64):
        raise InvalidTransportEvent("the KeyPackage event id is 64 lowercase hex")
    _check_relays(relays)
    content = b64encode(MLSMessage(welcome).to_bytes())
    tags = (("e", key_package_event_id), ("relays", *relays))
    return UnsignedEvent.create(inviter, created_at, Kind.MLS_WELCOME, content, tags)


@dataclass(frozen=True, slots=True)
class ParsedWelcomeRumor:
    inviter: str
    key_package_event_id: str
    relays: tuple[str, ...]
    welcome: Welcome = field(repr=False)


def _single_tag(rumor: UnsignedEvent, name: str) -> tuple[str, ...]:
    found = [t for t in rumor.tags if t and t[0] == name]
    if len(found) != 1:
        raise InvalidTransportEvent(
            f"a welcome rumor has exactly one {name} tag", event_id=rumor.id
        )
    return tuple(found[0][1:])


def parse_welcome_rumor_b(rumor: UnsignedEvent) -> ParsedWelcomeRumor:
    if rumor.kind != Kind.MLS_WELCOME:
        raise InvalidTransportEvent(f"kind {rumor.kind} is not 444", event_id=rumor.id)
    e_values = _single_tag(rumor, "e")
    if len(e_values) < 1 or len(e_values[0]) != 64 or not is_lower_hex(e_values[0].lower(), 64):
        raise InvalidTransportEvent("the e tag is not a 32-byte hex event id", event_id=rumor.id)
    relays = _single_tag(rumor, "relays")
    try:
        _check_relays(relays)
    except InvalidTransportEvent as exc:
        raise InvalidTransportEvent(exc.reason, event_id=rumor.id) from None
    try:
        raw = b64decode(rumor.content)
        message = decode_all(raw, MLSMessage.decode)
    except (ValueError, DecodeError):
        raise InvalidTransportEvent(
            "content is not a base64 MLSMessage", event_id=rumor.id
        ) from None
    if not isinstance(message.body, Welcome):
        raise InvalidTransportEvent("the MLSMessage is not a Welcome", event_id=rumor.id)
    return ParsedWelcomeRumor(rumor.pubkey, e_values[0].lower(), relays, message.body)
