"""Nostr, pure: keys, events, NIP-19/44/59, filters, messages, relay lists, a sans-I/O
relay session. The only I/O lives in ``nostr.relay``."""

from __future__ import annotations

from nostr.errors import (
    DecodeError,
    DecryptionError,
    InvalidEvent,
    InvalidKey,
    InvalidSignature,
    NostrError,
    RelayRejected,
    RelayUnavailable,
    UsageError,
)
from nostr.event import Event, Tags, UnsignedEvent, compute_id, expiration_tag
from nostr.filters import Filter
from nostr.keys import PublicKey, Rng, SecretKey, system_rng
from nostr.kinds import Kind
from nostr.signer import KeySigner, Signer

__all__ = [
    "DecodeError",
    "DecryptionError",
    "InvalidEvent",
    "InvalidKey",
    "InvalidSignature",
    "NostrError",
    "RelayRejected",
    "RelayUnavailable",
    "UsageError",
    "Event",
    "Tags",
    "UnsignedEvent",
    "compute_id",
    "expiration_tag",
    "Filter",
    "PublicKey",
    "Rng",
    "SecretKey",
    "system_rng",
    "Kind",
    "KeySigner",
    "Signer",
]
