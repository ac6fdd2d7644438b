"""MIP-03 rules as pure decisions: who may commit what (section 5.5), what to do with a
received proposal, which of two competing commits wins (section 5.7), and the
disappearing-message expiration (section 5.8).

Nothing here touches MLS state: callers describe a commit or proposal with plain values
(leaf indices and 32-byte identities) and get a decision or a typed error back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from marmot.errors import NotAdmin, PolicyViolation, UsageError
from mls.messages import Add, Proposal, Remove, SelfRemove, Update

Members = Mapping[int, bytes]
"""Leaf index -> credential identity (raw 32-byte Nostr key) of every member."""


def active_admins(admins: Sequence[bytes], members: Members) -> set[bytes]:
    """Admins that still hold at least one leaf."""
    present = set(members.values())
    return {a for a in admins if a in present}


# --- commits ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommitSummary:
    """What a commit does, as the admin policy needs to see it.

    ``proposals`` pairs each committed proposal with the leaf that proposed it (the
    committer for inline proposals). ``path_identity`` is the identity in the UpdatePath's
    new leaf, when the commit has a path.
    """

    committer: int
    proposals: tuple[tuple[int, Proposal], ...]
    has_path: bool
    path_identity: bytes | None = None


def check_identities_unchanged(summary: CommitSummary, members: Members) -> None:
    """No Update and no UpdatePath may change a member's identity (MDK
    ``IdentityChangeNotAllowed``)."""
    for sender, proposal in summary.proposals:
        if isinstance(proposal, Update):
            new = proposal.leaf_node.credential.identity
            if new != members.get(sender):
                raise PolicyViolation(f"leaf {sender} tried to change its identity")
    if summary.path_identity is not None and summary.path_identity != members.get(
        summary.committer
    ):
        raise PolicyViolation(f"committer {summary.committer} tried to change its identity")


def _is_self_update(summary: CommitSummary) -> bool:
    if not summary.has_path and not summary.proposals:
        return False
    return all(
        isinstance(p, Update) and sender == summary.committer for sender, p in summary.proposals
    )


def _is_self_remove_only(summary: CommitSummary) -> bool:
    return bool(summary.proposals) and all(isinstance(p, SelfRemove) for _, p in summary.proposals)


def check_commit_allowed(
    summary: CommitSummary,
    *,
    admins_before: Sequence[bytes],
    members_before: Members,
    admins_after: Sequence[bytes],
    members_after: Members,
) -> None:
    """MDK ``validate_commit_authorization`` plus the post-commit admin invariant.

    An admin may commit anything that leaves at least one admin in the group; anyone may
    commit a pure self-update or a SelfRemove-only commit. Raises :class:`PolicyViolation`.
    """
    identity = members_before.get(summary.committer)
    if identity is None:
        raise PolicyViolation(f"committer leaf {summary.committer} is not a member")
    check_identities_unchanged(summary, members_before)
    if identity not in admins_before:
        if _is_self_update(summary):
            return
        if not _is_self_remove_only(summary):
            raise PolicyViolation("a commit from a non-admin may only update itself or SelfRemove")
    if not active_admins(admins_after, members_after):
        raise PolicyViolation("the commit would leave the group without an admin")


# --- proposals ----------------------------------------------------------------------------


class ProposalAction(Enum):
    STORE = "store"
    """Keep it pending; an admin may commit it later."""
    AUTO_COMMIT = "auto_commit"
    """Commit it right away (and publish that commit)."""
    IGNORE = "ignore"


def proposal_action(
    proposal: Proposal,
    sender: int,
    *,
    receiver_is_admin: bool,
    admins: Sequence[bytes],
    members: Members,
) -> ProposalAction:
    """MDK ``process_proposal``: what a receiver does with a member's proposal."""
    if isinstance(proposal, SelfRemove):
        return _leave_action(sender, admins, members)
    if isinstance(proposal, Remove) and proposal.removed == sender:
        # A legacy leave: an admin commits the removal on the leaver's behalf, under the
        # same rules as SelfRemove; a non-admin keeps it for an admin.
        if receiver_is_admin:
            return _leave_action(sender, admins, members)
        return ProposalAction.STORE
    if isinstance(proposal, (Remove, Add)):
        return ProposalAction.STORE
    return ProposalAction.IGNORE  # Update, GroupContextExtensions, PSK, ReInit, others


def _leave_action(sender: int, admins: Sequence[bytes], members: Members) -> ProposalAction:
    """MDK ``validate_self_remove_allowed``: a leaf of an admin identity may not leave
    (self-demote first, even with other devices left), and an active admin must remain."""
    leaver = members.get(sender)
    if leaver is None or leaver in admins:
        return ProposalAction.IGNORE
    remaining = {leaf: i for leaf, i in members.items() if leaf != sender}
    if not active_admins(admins, remaining):
        return ProposalAction.IGNORE
    return ProposalAction.AUTO_COMMIT


# --- local guards -------------------------------------------------------------------------


def require_admin(admins: Sequence[bytes], identity: bytes, operation: str) -> None:
    if identity not in admins:
        raise NotAdmin(f"only an admin may {operation}")


def check_self_demote(admins: Sequence[bytes], members: Members, identity: bytes) -> None:
    """An admin may step down only while another active admin remains."""
    require_admin(admins, identity, "self-demote")
    if not active_admins([a for a in admins if a != identity], members):
        raise UsageError("cannot self-demote: no other active admin would remain")


def check_can_leave(admins: Sequence[bytes], identity: bytes) -> None:
    if identity in admins:
        raise UsageError("an admin must self-demote before leaving")


# --- commit races (section 5.7) -----------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class CommitOrder:
    """The MIP-03 order of competing commits: earliest ``created_at``, then the
    lexicographically smallest event id (lowercase hex)."""

    created_at: int
    event_id: str


class RaceDecision(Enum):
    KEEP = "keep"
    """The applied commit stays; the incoming one loses."""
    ROLLBACK = "rollback"
    """Restore the snapshot taken before the applied commit and apply the incoming one."""
    RELABEL = "relabel"
    """Same commit in a different wrapper: keep it, but remember the better order key."""


def winning_commit(candidates: Sequence[CommitOrder]) -> CommitOrder:
    """The commit every member applies among those for one epoch."""
    if not candidates:
        raise UsageError("no commit to choose from")
    return min(candidates)


def race_decision(
    applied: CommitOrder,
    applied_content_hash: bytes,
    incoming: CommitOrder,
    incoming_content_hash: bytes,
) -> RaceDecision:
    """What to do when a commit for an epoch we already left arrives."""
    if incoming_content_hash == applied_content_hash:
        return RaceDecision.RELABEL if incoming < applied else RaceDecision.KEEP
    return RaceDecision.ROLLBACK if incoming < applied else RaceDecision.KEEP


# --- disappearing messages ----------------------------------------------------------------


def expiration_for(
    created_at: int, disappearing_secs: int | None, requested: int | None = None
) -> int | None:
    """The NIP-40 expiration of a 445: ``created_at + d`` for a disappearing group (on
    every event, commits included), or the earlier of that and the caller's request."""
    group_expiry = None if disappearing_secs is None else created_at + disappearing_secs
    if group_expiry is None:
        return requested
    return group_expiry if requested is None else min(group_expiry, requested)


def requires_admin(summary: CommitSummary) -> bool:
    """Whether only an admin may make this commit (not a self-update or SelfRemove only)."""
    return not (_is_self_update(summary) or _is_self_remove_only(summary))
