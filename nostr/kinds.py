"""The event kinds Burrow reads or writes, and the NIP-01 kind ranges."""

from __future__ import annotations

from enum import IntEnum


class Kind(IntEnum):
    METADATA = 0  # NIP-01 profile
    FOLLOW_LIST = 3  # NIP-02
    DELETION = 5  # NIP-09
    SEAL = 13  # NIP-59
    CHAT_MESSAGE = 9  # Marmot inner application message
    MLS_KEY_PACKAGE_LEGACY = 443  # Marmot MIP-00 (legacy, regular)
    MLS_WELCOME = 444  # Marmot MIP-02 rumor
    MLS_GROUP_MESSAGE = 445  # Marmot MIP-03
    MARMOT_PUSH_TRIGGER = 446  # Marmot MIP-05 rumor
    GIFT_WRAP = 1059  # NIP-59
    RELAY_LIST = 10002  # NIP-65
    INBOX_RELAYS = 10050  # NIP-17
    KEY_PACKAGE_RELAYS = 10051  # Marmot MIP-00
    BLOSSOM_SERVERS = 10063  # Blossom BUD-03 user server list
    CLIENT_AUTH = 22242  # NIP-42
    BLOSSOM_AUTH = 24242  # Blossom BUD-01 authorization
    MLS_KEY_PACKAGE = 30443  # Marmot MIP-00 (addressable)


def is_replaceable(kind: int) -> bool:
    """NIP-01: only the newest event per (author, kind) is kept."""
    return kind in (0, 3) or 10000 <= kind < 20000


def is_ephemeral(kind: int) -> bool:
    """NIP-01: relays forward but do not store these."""
    return 20000 <= kind < 30000


def is_addressable(kind: int) -> bool:
    """NIP-01: the newest event per (author, kind, ``d`` tag) is kept."""
    return 30000 <= kind < 40000


def is_regular(kind: int) -> bool:
    return not (is_replaceable(kind) or is_ephemeral(kind) or is_addressable(kind))
