"""MIP-03: kind 445 group events and the unsigned inner rumor (marmot.md section 5).

Envelope (MDK ``build_message_event``)::

    { "kind": 445, "pubkey": <fresh key per event>, "created_at": <now>,
      "tags": [["h", <hex nostr_group_id>], ["encoding", "base64"], ["expiration", <ts>]?],
      "content": base64(nonce[12] || ChaCha20-Poly1305(key, nonce, TLS(MLSMessage), aad="")) }

``key = MLS-Exporter("marmot", "group-event", 32)`` of the epoch the MLS message belongs
to (for a commit, the epoch before it). Receivers check the time window
``[now - 45 d, now + 5 min]``, exactly one ``h`` tag of 64 hex characters and the
signature, then try the keys of the current and the five previous epochs.

Application messages carry an unsigned Nostr event (the "rumor") as UTF-8 JSON: it must
have its ``id``, no ``sig``, and its ``pubkey`` must be the MLS sender's identity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from marmot.errors import InvalidGroupEvent, InvalidRumor, UsageError
from marmot.primitives import (
    NONCE_LEN,
    TAG_LEN,
    CryptoFailure,
    aead_open,
    aead_seal,
    b64decode,
    b64encode,
    is_lower_hex,
)
from nostr.errors import NostrError
from nostr.event import Event, UnsignedEvent, expiration_tag
from nostr.keys import Rng, SecretKey, system_rng
from nostr.kinds import Kind

EXPORTER_LABEL = "marmot"
EXPORTER_CONTEXT = b"group-event"
MAX_EVENT_AGE = 3_888_000  # 45 days
MAX_FUTURE_SKEW = 300
PAST_EPOCHS = 5
_MIN_PAYLOAD = NONCE_LEN + TAG_LEN


def encrypt_content_with_nonce(key: bytes, mls_message: bytes, nonce: bytes) -> str:
    """Deterministic outer encryption (tests); :func:`encrypt_content` draws the nonce."""
    if len(key) != 32 or len(nonce) != NONCE_LEN:
        raise UsageError("a group-event key is 32 bytes and a nonce 12")
    return b64encode(nonce + aead_seal(key, nonce, mls_message))


def encrypt_content(key: bytes, mls_message: bytes, *, rng: Rng = system_rng) -> str:
    return encrypt_content_with_nonce(key, mls_message, rng(NONCE_LEN))


def decode_content(event: Event) -> bytes:
    """The raw ``nonce || ciphertext`` of a 445; refuses non-base64 or too-short content."""
    try:
        payload = b64decode(event.content)
    except ValueError:
        raise InvalidGroupEvent("group event content is not base64", event_id=event.id) from None
    if len(payload) < _MIN_PAYLOAD:
        raise InvalidGroupEvent("group event content is too short", event_id=event.id)
    return payload


def open_content(key: bytes, payload: bytes) -> bytes | None:
    """The MLS message bytes, or ``None`` when ``key`` is not this event's key."""
    try:
        return aead_open(key, payload[:NONCE_LEN], payload[NONCE_LEN:])
    except CryptoFailure:
        return None


def build_group_event(
    nostr_group_id: bytes,
    mls_message: bytes,
    key: bytes,
    *,
    now: int,
    expiration: int | None = None,
    rng: Rng = system_rng,
) -> Event:
    """A signed kind 445 from a fresh one-time key (never the identity key)."""
    tags: list[tuple[str, ...]] = [("h", nostr_group_id.hex()), ("encoding", "base64")]
    if expiration is not None:
        tags.append(expiration_tag(expiration))
    signer = SecretKey.generate(rng)
    content = encrypt_content(key, mls_message, rng=rng)
    unsigned = UnsignedEvent.create(signer.public_key(), now, Kind.MLS_GROUP_MESSAGE, content, tags)
    return unsigned.sign(signer, rng=rng)


def check_group_event(
    event: Event,
    *,
    now: int,
    max_age: int = MAX_EVENT_AGE,
    max_future_skew: int = MAX_FUTURE_SKEW,
) -> bytes:
    """The envelope checks of MIP-03 section 5.4; returns the ``nostr_group_id``."""
    if event.kind != Kind.MLS_GROUP_MESSAGE:
        raise InvalidGroupEvent(f"kind {event.kind} is not a group event", event_id=event.id)
    if event.created_at < now - max_age:
        raise InvalidGroupEvent("group event is too old", event_id=event.id)
    if event.created_at > now + max_future_skew:
        raise InvalidGroupEvent("group event is from the future", event_id=event.id)
    h_tags = [t for t in event.tags if t and t[0] == "h"]
    if len(h_tags) != 1 or len(h_tags[0]) < 2 or not is_lower_hex(h_tags[0][1].lower(), 64):
        raise InvalidGroupEvent("a group event has exactly one h tag of 64 hex", event_id=event.id)
    # The ``encoding`` tag is not checked: MDK 0.8 uses it only to rule out its legacy
    # NIP-44 reading (<= mdk 0.6, closed since 2026-05-15) and trial-decrypts any 445
    # with ChaCha20-Poly1305; a legacy event simply finds no key.
    try:
        event.verify()
    except NostrError as exc:
        raise InvalidGroupEvent(f"bad group event: {exc}", event_id=event.id) from None
    return bytes.fromhex(h_tags[0][1])


@dataclass(frozen=True, slots=True)
class Decrypted:
    """The MLS message of a 445 and the epoch whose key opened it."""

    epoch: int
    mls_message: bytes


def trial_decrypt(event: Event, keys: Iterable[tuple[int, bytes]]) -> Decrypted:
    """Try ``(epoch, key)`` pairs, newest first as given; refuse when none opens it."""
    payload = decode_content(event)
    for epoch, key in keys:
        plaintext = open_content(key, payload)
        if plaintext is not None:
            return Decrypted(epoch, plaintext)
    raise InvalidGroupEvent("no epoch key of this group opens the event", event_id=event.id)


# --- the inner rumor (section 5.8) --------------------------------------------------------


def encode_rumor(rumor: UnsignedEvent) -> bytes:
    """The application-message plaintext: the rumor's JSON with its id."""
    return rumor.to_json().encode()


def parse_rumor(plaintext: bytes, sender_identity: bytes) -> UnsignedEvent:
    """Parse and check an inner rumor against the MLS sender's credential identity."""
    try:
        data = json.loads(plaintext)
    except (ValueError, RecursionError):
        raise InvalidRumor("application message is not JSON") from None
    if type(data) is not dict:
        raise InvalidRumor("application message is not a JSON object")
    if "id" not in data:
        raise InvalidRumor("rumor has no id")
    if "sig" in data:
        raise InvalidRumor("a rumor must not be signed", event_id=str(data["id"]))
    try:
        rumor = UnsignedEvent.from_dict(data)
    except NostrError as exc:
        raise InvalidRumor(f"invalid rumor: {exc}", event_id=str(data["id"])) from None
    if rumor.pubkey != sender_identity.hex():
        raise InvalidRumor("rumor author is not the MLS sender", event_id=rumor.id)
    check_rumor_kind(rumor)
    return rumor


def check_rumor_kind(rumor: UnsignedEvent) -> None:
    """Shape rules of the kinds White Noise sends: a reaction (7) and a deletion (5)
    reference at least one event with an ``e`` tag."""
    if rumor.kind in (Kind.DELETION, 7) and not rumor.tag_values("e"):
        raise InvalidRumor(f"a kind {rumor.kind} rumor needs an e tag", event_id=rumor.id)
