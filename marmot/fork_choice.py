"""Which of two competing commits for one epoch every member keeps (Burrow's fork-choice
rule; see docs/fork-choice.md).

A candidate is a commit that already passed every check as a commit of its epoch, on a
copy of that epoch's state (:func:`marmot.inbound.process_past_commit`). Its race key is

1. ``priority``: a commit that needs an admin (membership, group data) beats one any
   member may make (a self-update, a SelfRemove), whatever its timestamp, so a member
   cannot undo an admin's removal or rename by back-dating a self-update;
2. then the MIP-03 order: earliest ``created_at``, then smallest event id.

A rollback discards every commit applied since the fork point, so the incoming commit
must beat the strongest of them (:func:`decide`).

Its identity is the MLS-level commit (the new epoch's confirmed transcript hash, which
covers the authenticated content and its signature), never the outer ciphertext: the
same commit in another wrapper is the same commit and only its order key may improve.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from marmot.group import MarmotGroup
from marmot.policy import CommitOrder, RaceDecision
from marmot.primitives import sha256


class Priority(IntEnum):
    PRIVILEGED = 0
    """Only an admin may commit it."""
    ORDINARY = 1
    """Any member may commit it (self-update, SelfRemove only)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    priority: Priority
    order: CommitOrder
    identity: bytes
    """SHA-256 of the MLS commit's confirmed transcript hash."""


def commit_identity(confirmed_transcript_hash: bytes) -> bytes:
    return sha256(confirmed_transcript_hash)


def pack(priority: Priority, identity: bytes) -> bytes:
    """The stored digest: one priority byte, then the 32-byte identity."""
    return bytes((priority,)) + identity


def unpack(order: CommitOrder, digest: bytes) -> Candidate:
    """A stored race key; a 32-byte digest of an older release (the outer ciphertext's
    hash) counts as ordinary, the old rule."""
    if len(digest) == 33:
        return Candidate(Priority(digest[0]), order, digest[1:])
    return Candidate(Priority.ORDINARY, order, digest)


def digest_between(before: MarmotGroup, after: MarmotGroup) -> bytes:
    """The race digest of a commit from the states around it: ordinary when it changed
    no member and no group data (a self-update), privileged otherwise."""
    same = before.members() == after.members() and before.data == after.data
    priority = Priority.ORDINARY if same else Priority.PRIVILEGED
    return pack(priority, commit_identity(after.state.context.confirmed_transcript_hash))


def race_key(candidate: Candidate) -> tuple[int, CommitOrder]:
    return (candidate.priority, candidate.order)


def decide(discarded: Sequence[Candidate], incoming: Candidate) -> RaceDecision:
    """What to do with a validated commit for an epoch we left.

    ``discarded``: the commits we applied from that epoch on, oldest first (the first is
    the one ``incoming`` competes with). A rollback would throw all of them away, so the
    incoming commit must beat the strongest: an ordinary commit never discards a branch
    that holds an admin's commit (a removal, a rename) made after the fork point.
    """
    applied = discarded[0]
    if incoming.identity == applied.identity:
        return RaceDecision.RELABEL if incoming.order < applied.order else RaceDecision.KEEP
    branch = (min(c.priority for c in discarded), applied.order)
    if race_key(incoming) < branch:
        return RaceDecision.ROLLBACK
    return RaceDecision.KEEP
