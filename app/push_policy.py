"""MIP-05 decisions without I/O: whose tokens to use, which 447s we answer, and when.

Everything here is a pure function of cached rows, the group's leaf -> identity map and
``now`` (marmot.md section 7.2/7.3, White Noise behaviour):

* a cached token counts only while its leaf is still in the tree *with the same identity*
  (a removed leaf, or a leaf index reused by someone else, never gets pushes);
* triggers go to every such token except those of our own identity (none of our devices),
  de-duplicated, and only with a relay hint (where the server's inbox list is found);
* a 448 answers a 447 after a random 1-3 s unless another member answered first; one reply
  per (group, requesting leaf) per cooldown, and a cap on replies waiting at once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from marmot.errors import InvalidPushMessage
from marmot.push import LeafTokenTag, TokenTag
from nostr.errors import NostrError
from nostr.keys import PublicKey, Rng
from storage.rows import GroupPushToken, PushRegistration

log = logging.getLogger(__name__)

REPLY_DELAY = (1.0, 3.0)
"""Seconds before we answer a 447 (White Noise: uniform 1-3 s)."""
REPLY_COOLDOWN = 30
"""Seconds during which a second 447 from the same leaf of a group gets no new reply."""
MAX_PENDING_REPLIES = 10


def fingerprint(registration: PushRegistration) -> str:
    """Identifies what a registration shares, so an unchanged one is not shared again."""
    parts = (
        str(registration.platform),
        registration.device_token.hex(),
        registration.server_pubkey,
        registration.relay_hint or "",
    )
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def token_tag(row: GroupPushToken) -> TokenTag | None:
    """A cached row as a wire token (None if the row cannot be one: a bad peer's data)."""
    try:
        return TokenTag(row.token, PublicKey.from_hex(row.server_pubkey), row.relay_hint)
    except (InvalidPushMessage, NostrError):
        return None


def active_tokens(
    rows: Iterable[GroupPushToken], members: Mapping[int, str]
) -> list[tuple[GroupPushToken, TokenTag]]:
    """Rows whose leaf still holds the identity that shared them, as wire tokens."""
    out = []
    for row in rows:
        if members.get(row.leaf_index) != row.pubkey or not row.relay_hint:
            continue
        tag = token_tag(row)
        if tag is not None:
            out.append((row, tag))
    return out


def notification_tokens(
    rows: Iterable[GroupPushToken], members: Mapping[int, str], me: str
) -> list[TokenTag]:
    """The tokens one of our messages wakes: active, not ours, each token once."""
    seen: set[tuple[bytes, bytes]] = set()
    out = []
    for row, tag in active_tokens(rows, members):
        key = (tag.server_pubkey.data, tag.encrypted_token)
        if row.pubkey == me or key in seen:
            continue
        seen.add(key)
        out.append(tag)
    return out


def response_tokens(
    rows: Iterable[GroupPushToken], members: Mapping[int, str]
) -> list[LeafTokenTag]:
    """The group's token view for a 448: every active token with its leaf."""
    return [LeafTokenTag(tag, row.leaf_index) for row, tag in active_tokens(rows, members)]


def list_entries(
    entries: Iterable[LeafTokenTag], members: Mapping[int, str], own_leaf: int | None
) -> list[tuple[int, str, TokenTag]]:
    """The entries of a received 448 worth caching: leaves in the tree, never our own
    (what we share about ourselves we know first-hand)."""
    return [
        (entry.leaf_index, members[entry.leaf_index], entry.token)
        for entry in entries
        if entry.leaf_index in members and entry.leaf_index != own_leaf
    ]


def reply_delay(rng: Rng) -> float:
    low, high = REPLY_DELAY
    return low + (high - low) * int.from_bytes(rng(4), "big") / 0xFFFFFFFF


@dataclass(slots=True)
class ReplyPolicy:
    """Bookkeeping for 448 replies: which request is waiting, and the per-leaf cooldown."""

    cooldown: int = REPLY_COOLDOWN
    max_pending: int = MAX_PENDING_REPLIES
    pending: set[tuple[bytes, str]] = field(default_factory=set)
    _last: dict[tuple[bytes, int], int] = field(default_factory=dict)

    def want_reply(self, gid: bytes, request_id: str, leaf: int, now: int) -> bool:
        """Take a 447 from ``leaf``: True when a reply should be scheduled for it."""
        last = self._last.get((gid, leaf))
        if last is not None and now - last < self.cooldown:
            return False
        if len(self.pending) >= self.max_pending:
            log.debug("MIP-05: %d replies already waiting, not answering", len(self.pending))
            return False
        self._last[(gid, leaf)] = now
        self.pending.add((gid, request_id))
        if len(self._last) > 4096:  # forget expired cooldowns now and then
            self._last = {k: t for k, t in self._last.items() if now - t < self.cooldown}
        return True

    def answered(self, gid: bytes, request_id: str) -> bool:
        """A 448 for ``request_id`` arrived (or we sent it): True if ours was waiting."""
        if (gid, request_id) in self.pending:
            self.pending.discard((gid, request_id))
            return True
        return False
