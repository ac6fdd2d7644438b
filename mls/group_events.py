"""What processing a message yields (RFC 9420 section 12), as frozen values.

:func:`mls.group.process` returns one of :class:`ApplicationMessage`,
:class:`ProposalReceived` or :class:`CommitProcessed` with the next state;
:func:`mls.group.commit` returns a :class:`PendingCommit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from mls.group_state import GroupState
from mls.messages import (
    Credential,
    Extension,
    GroupInfo,
    LeafNode,
    MLSMessage,
    PreSharedKeyID,
    Proposal,
    ReInit,
    Sender,
    SenderType,
    WireFormat,
)
from mls.proposal_effects import AddedMember, RemovedMember, UpdatedMember
from mls.proposals import CachedProposal
from mls.types import LeafIndex


@dataclass(frozen=True, slots=True)
class ApplicationMessage:
    """Application data from a member, in the current or a retained past epoch."""

    epoch: int
    sender: LeafIndex
    credential: Credential
    data: bytes = field(repr=False)
    authenticated_data: bytes = b""


@dataclass(frozen=True, slots=True)
class ProposalReceived:
    """A valid proposal, now in the epoch's proposal cache under ``ref``."""

    epoch: int
    ref: bytes
    proposal: Proposal
    sender: Sender
    sender_leaf: LeafIndex | None
    credential: Credential | None
    wire_format: WireFormat
    authenticated_data: bytes = b""


@dataclass(frozen=True, slots=True)
class CommitProcessed:
    """A commit applied: who committed, what changed, and the new epoch.

    ``sender_leaf`` is the committer's leaf (for an external commit: the leaf the joiner
    took). ``extensions`` is the new GroupContext extension list when the commit changed
    it, else None. ``removed_self`` says the commit removed us; the state returned with
    it is then the old one, marked inactive.
    """

    epoch: int
    sender: Sender
    sender_leaf: LeafIndex
    credential: Credential
    proposals: tuple[CachedProposal, ...]
    adds: tuple[AddedMember, ...]
    removes: tuple[RemovedMember, ...]
    updates: tuple[UpdatedMember, ...]
    extensions: tuple[Extension, ...] | None
    psks: tuple[PreSharedKeyID, ...]
    reinit: ReInit | None
    path_leaf: LeafNode | None
    removed_self: bool
    wire_format: WireFormat
    authenticated_data: bytes = b""

    @property
    def external(self) -> bool:
        """Whether a new member joined with this commit (section 12.4.3.2)."""
        return self.sender.sender_type == SenderType.NEW_MEMBER_COMMIT


ProcessResult: TypeAlias = ApplicationMessage | ProposalReceived | CommitProcessed


@dataclass(frozen=True, slots=True)
class PendingCommit:
    """Our commit, not yet merged: send ``message`` (then ``welcome``), and adopt
    ``next_state`` once the delivery service accepted it; on failure keep the old state.

    ``group_info`` describes the new epoch (signed, with ``external_pub``, without the
    ratchet tree, whose encoding costs O(N) per commit; :func:`mls.group.group_info`
    adds it); ``summary`` is the same record a receiver gets from processing it.
    """

    message: MLSMessage
    welcome: MLSMessage | None
    group_info: GroupInfo
    next_state: GroupState
    summary: CommitProcessed
