"""The Marmot protocol (MIP-00 to MIP-05, Profile A = mdk-core 0.8), pure: built on
``mls`` and the pure part of ``nostr``; no I/O, no storage; time and randomness are
parameters."""

from __future__ import annotations

from marmot.errors import (
    InvalidGroupData,
    InvalidGroupEvent,
    InvalidKeyPackageEvent,
    InvalidMedia,
    InvalidPushMessage,
    InvalidRumor,
    InvalidWelcome,
    MarmotError,
    NotAdmin,
    PolicyViolation,
    UsageError,
)

__all__ = [
    "InvalidGroupData",
    "InvalidGroupEvent",
    "InvalidKeyPackageEvent",
    "InvalidMedia",
    "InvalidPushMessage",
    "InvalidRumor",
    "InvalidWelcome",
    "MarmotError",
    "NotAdmin",
    "PolicyViolation",
    "UsageError",
]
