"""marmot-push-v1 notification triggers: the kind-446 rumor, gift-wrapped to the server.

The rumor's ``content`` is standard base64 of one or more concatenated 1084-byte
encrypted tokens, its only tag ``["v", "marmot-push-v1"]`` (no ``encoding``, no routing
tag that would tell the server which group woke), its ``pubkey`` a fresh key that also
signs the seal; the wrap has another fresh key (NIP-59 makes it). A sender puts at most
32 tokens in one trigger (MDK's chunk), grouped per server, and publishes to the relay
hints of that server's records, else to the server account's inbox relays.

A server refuses a rumor of another kind, a missing, other or extra tag, content that is
not canonical base64, empty, or not whole tokens; each token is then opened on its own
(``push_token.decrypt_token``) and a bad one is skipped. It deduplicates by
:func:`dedup_key`, the SHA-256 of the decoded content (a replayer can re-wrap freely, so
the wrap's id is no key).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from marmot.errors import InvalidPushMessage, UsageError
from marmot.primitives import b64decode, b64encode, sha256
from marmot.profile_b.push import ENCRYPTED_TOKEN_LEN
from marmot.profile_b.push_gossip import VERSION, SignedEntry
from marmot.profile_b.text import rust_trim
from nostr.errors import NostrError
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, Rng, SecretKey, system_rng
from nostr.nip59 import gift_wrap, unwrap

__all__ = [
    "KIND_TRIGGER",
    "MAX_TOKENS",
    "build_trigger",
    "dedup_key",
    "open_trigger",
    "parse_trigger_rumor",
    "records_by_server",
    "wakes_recipients",
    "trigger_chunks",
    "trigger_relays",
    "trigger_rumor",
]

KIND_TRIGGER = 446
MAX_TOKENS = 32
_WAKING_KINDS = frozenset({9})  # chat, incl. replies and media (MDK's agent stream end too)


def wakes_recipients(payload_kind: int) -> bool:
    """Whether sending this app payload triggers a push: MDK wakes for chat messages only,
    not for reactions, edits, deletions, system rows or push gossip."""
    return payload_kind in _WAKING_KINDS


def trigger_rumor(
    pubkey: PublicKey | str, created_at: int, tokens: Sequence[bytes]
) -> UnsignedEvent:
    if not 1 <= len(tokens) <= MAX_TOKENS:
        raise UsageError(f"a trigger carries 1 to {MAX_TOKENS} tokens")
    if any(len(t) != ENCRYPTED_TOKEN_LEN for t in tokens):
        raise UsageError(f"an encrypted token is {ENCRYPTED_TOKEN_LEN} bytes")
    content = b64encode(b"".join(tokens))
    return UnsignedEvent.create(pubkey, created_at, KIND_TRIGGER, content, [("v", VERSION)])


def parse_trigger_rumor(rumor: UnsignedEvent) -> tuple[bytes, ...]:
    """The encrypted tokens of a 446 rumor; raises :class:`InvalidPushMessage`."""
    if rumor.kind != KIND_TRIGGER:
        raise InvalidPushMessage(f"kind {rumor.kind} is not a notification trigger")
    if not any(tuple(t) == ("v", VERSION) for t in rumor.tags):
        raise InvalidPushMessage(f"a trigger needs the tag ['v', {VERSION!r}]")
    if len(rumor.tags) != 1:
        raise InvalidPushMessage("a trigger carries no tag but its version")
    try:
        content = b64decode(rumor.content)
    except ValueError:
        raise InvalidPushMessage("trigger content is not base64") from None
    n = ENCRYPTED_TOKEN_LEN
    if not content or len(content) % n:
        raise InvalidPushMessage(f"trigger content is not whole {n}-byte tokens")
    return tuple(content[i : i + n] for i in range(0, len(content), n))


def dedup_key(tokens: Sequence[bytes]) -> bytes:
    return sha256(b"".join(tokens))


def build_trigger(
    server: PublicKey, tokens: Sequence[bytes], *, now: int, rng: Rng = system_rng
) -> Event:
    """One gift-wrapped 446: the rumor's key signs the seal, the wrap has its own."""
    ephemeral = SecretKey.generate(rng)
    rumor = trigger_rumor(ephemeral.public_key(), now, tokens)
    return gift_wrap(rumor, ephemeral, server, now=now, rng=rng)


def open_trigger(wrap: Event, server_secret: SecretKey) -> tuple[bytes, ...]:
    try:
        gift = unwrap(wrap, server_secret)
    except NostrError as exc:
        raise InvalidPushMessage(f"trigger gift wrap does not open: {exc}") from None
    return parse_trigger_rumor(gift.rumor)


def records_by_server(
    records: Iterable[SignedEntry], own_account: str
) -> dict[str, list[SignedEntry]]:
    """The records to wake, per server: not our own account's, and one per (member,
    platform, server), the first seen (a member's other leaves wake the same device
    family, as MDK does)."""
    seen: set[tuple[str, str, str]] = set()
    out: dict[str, list[SignedEntry]] = {}
    for record in records:
        p = record.proof
        if p.member.hex == own_account or p.removal:
            continue
        key = (p.member.hex, p.platform, p.server_pubkey)
        if key not in seen:
            seen.add(key)
            out.setdefault(p.server_pubkey, []).append(record)
    return out


def trigger_chunks(tokens: Sequence[bytes]) -> list[tuple[bytes, ...]]:
    return [tuple(tokens[i : i + MAX_TOKENS]) for i in range(0, len(tokens), MAX_TOKENS)]


def trigger_relays(hints: Iterable[str], inbox_relays: Iterable[str]) -> tuple[str, ...]:
    """The records' relay hints, else the server's inbox relays: trimmed, blanks left
    out, first occurrence kept."""
    chosen = _dedup(hints)
    return chosen if chosen else _dedup(inbox_relays)


def _dedup(relays: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(rust_trim(r) for r in relays if rust_trim(r)))
