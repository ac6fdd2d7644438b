"""The deterministic convergence rule of Profile B (spec protocol-core/convergence.md,
MDK 0.9 ``cgka-engine`` convergence): which of several candidate branches is canonical.

Pure: every input is authenticated MLS-derived data (epochs, the tip commit's committer
and priority, SHA-256 of its MLS bytes, the distinct senders of app messages that
decrypted on the branch). Transport order, timestamps and event ids never enter.

Eligible branches (``current_tip - fork_epoch <= max_rewind_commits``) are compared by:

1. higher effective depth = depth + (1 if witness quorum met else 0)
2. witness quorum met beats not met
3. higher raw depth (implied by 1 and 2; kept so the trace names it as the spec does)
4. higher app witness score = sum over epochs of min(distinct senders, 2)
5. privileged tip before ordinary
6. lower tip committer (account key bytes)
7. lower tip digest

Witness quorum: at least 2 distinct senders in at least 1 branch epoch. The same rule
orders same-epoch commit races (:func:`commit_ordering_key`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

__all__ = [
    "POLICY_V1",
    "AppWitness",
    "BranchCandidate",
    "BranchScore",
    "ConvergencePolicy",
    "Priority",
    "Selection",
    "commit_digest",
    "commit_ordering_key",
    "select_branch",
]


class Priority(IntEnum):
    """Lower wins: an admin-authorized commit is not beaten by a member's self-update."""

    PRIVILEGED = 0
    ORDINARY = 1


@dataclass(frozen=True, slots=True)
class ConvergencePolicy:
    max_rewind_commits: int = 5
    witness_quorum_senders_per_epoch: int = 2
    witness_quorum_epochs: int = 1
    max_witness_override_depth: int = 1

    def __post_init__(self) -> None:
        if self.max_witness_override_depth > self.max_rewind_commits:
            raise ValueError("max_witness_override_depth must not exceed max_rewind_commits")


POLICY_V1 = ConvergencePolicy()
"""Convergence policy version 1: protocol constants, never group-tunable."""


@dataclass(frozen=True, slots=True)
class AppWitness:
    """An app message that decrypted on the branch at ``epoch``, from account ``sender``."""

    epoch: int
    sender: bytes


@dataclass(frozen=True, slots=True)
class BranchCandidate:
    branch_id: str
    fork_epoch: int
    tip_epoch: int
    tip_priority: Priority
    tip_committer: bytes
    tip_digest: bytes
    witnesses: tuple[AppWitness, ...] = ()

    def __post_init__(self) -> None:
        # fixed widths keep the byte comparisons of rules 6 and 7 plain lexicographic
        if len(self.tip_committer) != 32 or len(self.tip_digest) != 32:
            raise ValueError("tip committer and tip digest are 32 bytes each")
        if self.tip_epoch < self.fork_epoch:
            raise ValueError("a branch tip cannot precede its fork")

    def branch_witnesses(self) -> dict[int, frozenset[bytes]]:
        """Distinct senders per branch epoch (fork_epoch, tip_epoch]; others do not count."""
        by_epoch: dict[int, set[bytes]] = {}
        for w in self.witnesses:
            if self.fork_epoch < w.epoch <= self.tip_epoch:
                by_epoch.setdefault(w.epoch, set()).add(w.sender)
        return {e: frozenset(s) for e, s in by_epoch.items()}


@dataclass(frozen=True, slots=True)
class BranchScore:
    raw_depth: int
    effective_depth: int
    witness_quorum_met: bool
    app_witness_score: int
    tip_priority: Priority
    tip_committer: bytes
    tip_digest: bytes

    def key(self) -> tuple[int, bool, int, int, int, tuple[int, ...], tuple[int, ...]]:
        """Larger is better: a sort key in the order of the rules."""
        return (
            self.effective_depth,
            self.witness_quorum_met,
            self.raw_depth,
            self.app_witness_score,
            -self.tip_priority,
            tuple(-b for b in self.tip_committer),
            tuple(-b for b in self.tip_digest),
        )


RULES = (
    "effective_commit_depth",
    "witness_quorum_met",
    "raw_commit_depth",
    "app_witness_score",
    "tip_priority",
    "tip_committer",
    "tip_digest",
)


def score(branch: BranchCandidate, policy: ConvergencePolicy = POLICY_V1) -> BranchScore:
    per_epoch = branch.branch_witnesses()
    quorum = (
        policy.witness_quorum_senders_per_epoch > 0
        and policy.witness_quorum_epochs > 0
        and sum(len(s) >= policy.witness_quorum_senders_per_epoch for s in per_epoch.values())
        >= policy.witness_quorum_epochs
    )
    raw = max(0, branch.tip_epoch - branch.fork_epoch)
    witness_score = sum(
        min(len(s), policy.witness_quorum_senders_per_epoch) for s in per_epoch.values()
    )
    return BranchScore(
        raw,
        raw + (policy.max_witness_override_depth if quorum else 0),
        quorum,
        witness_score,
        branch.tip_priority,
        branch.tip_committer,
        branch.tip_digest,
    )


def _deciding_rule(winner: BranchScore, other: BranchScore) -> str | None:
    for name, a, b in zip(RULES, winner.key(), other.key(), strict=True):
        if a != b:
            return name
    return None


@dataclass(frozen=True, slots=True)
class Selection:
    """The outcome of one convergence pass (what MDK's trace reports)."""

    selected: BranchCandidate | None
    scores: dict[str, BranchScore] = field(repr=False)
    ineligible: tuple[str, ...]
    decisive_rule: str | None  # against the best other eligible branch; None if alone

    @property
    def selected_score(self) -> BranchScore | None:
        return None if self.selected is None else self.scores[self.selected.branch_id]


def select_branch(
    current_tip_epoch: int,
    candidates: Sequence[BranchCandidate],
    policy: ConvergencePolicy = POLICY_V1,
) -> Selection:
    """The canonical branch among ``candidates`` (order of the input does not matter)."""
    scores = {c.branch_id: score(c, policy) for c in candidates}
    eligible = [
        c for c in candidates if current_tip_epoch - c.fork_epoch <= policy.max_rewind_commits
    ]
    ineligible = tuple(sorted(c.branch_id for c in candidates if c not in eligible))
    ranked = sorted(eligible, key=lambda c: scores[c.branch_id].key(), reverse=True)
    if not ranked:
        return Selection(None, scores, ineligible, None)
    rule = None
    if len(ranked) > 1:
        rule = _deciding_rule(scores[ranked[0].branch_id], scores[ranked[1].branch_id])
    return Selection(ranked[0], scores, ineligible, rule)


def commit_digest(mls_message_bytes: bytes) -> bytes:
    return hashlib.sha256(mls_message_bytes).digest()


def commit_ordering_key(
    source_epoch: int, priority: Priority, committer: bytes, mls_message_bytes: bytes
) -> tuple[int, int, bytes, bytes]:
    """Same-epoch races: the lower key wins."""
    return (source_epoch, int(priority), committer, commit_digest(mls_message_bytes))
