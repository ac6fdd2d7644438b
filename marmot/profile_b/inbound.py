"""Receiving into a Profile B group: 445 events and 444 welcomes to typed outcomes.

One member's group is a :class:`~marmot.profile_b.branches.BranchTree`. A 445 is checked
(:func:`~marmot.profile_b.transport.check_group_event_b`), then opened with the outer key
of each retained state, newest first: the state whose key opens it is the one the MLS
message belongs to, on whatever branch (spec transports/nostr.md, "Outer decryption and
epoch selection"). Then:

* a PrivateMessage is an application message (handshakes are PublicMessages in Profile
  B): its payload is checked (:func:`~marmot.profile_b.payloads.decode_app_event`) and
  recorded at its state as a witness for that branch;
* a PublicMessage commit is processed against exactly that state and checked with the
  Profile B rules (:func:`~marmot.profile_b.group.check_commit_b`); a valid one becomes a
  child state (canonical when it extends the tip);
* a SelfRemove proposal of a non-admin is cached in its state for a member to commit
  (:func:`departure_commit`); other proposals are not used by Profile B clients.

Nothing is applied by transport order: :meth:`BranchTree.converge` decides afterwards,
and must run again after any new input, an app message included: a witness on a
competing branch can change which branch wins (rule 4 of the convergence order).

::

    outcome = receive_group_event(tree, event, now=now)   # AppReceived | CommitAdded | ...
    joined = join_b(rumor, bundle)                        # GroupState, every leaf proof checked
    pending = departure_commit(tree.canonical.state, rng=rng)   # None when nothing waits
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from marmot.errors import MarmotError
from marmot.group_event import open_content
from marmot.profile_b.branches import BranchNode, BranchTree, CommitMeta
from marmot.profile_b.convergence import commit_digest
from marmot.profile_b.group import CONFIG, check_commit_b, commit_priority, group_view
from marmot.profile_b.payloads import decode_app_event
from marmot.profile_b.proofs import group_proof_form, verify_leaf_proof
from marmot.profile_b.transport import ParsedWelcomeRumor, check_group_event_b
from mls.codec import decode_all
from mls.errors import MissingProposal, MlsError
from mls.group import (
    ApplicationMessage,
    CommitProcessed,
    GroupState,
    PendingCommit,
    ProposalReceived,
    commit,
    join_from_welcome,
    process,
)
from mls.key_package import KeyPackageBundle
from mls.messages import MLSMessage, PrivateMessage, PublicMessage, SelfRemove
from mls.types import Rng
from nostr.event import Event, UnsignedEvent

EXPORTER_LABEL = "marmot"
EXPORTER_CONTEXT = b"group-event"

__all__ = [
    "AppReceived",
    "CommitAdded",
    "Dropped",
    "NotYet",
    "Outcome",
    "ProposalKept",
    "departure_commit",
    "group_event_key",
    "join_b",
    "receive_group_event",
]


def group_event_key(state: GroupState) -> bytes:
    """The 445 outer key of a state's epoch."""
    return state.export(EXPORTER_LABEL, EXPORTER_CONTEXT, 32)


@dataclass(frozen=True, slots=True)
class AppReceived:
    """An app payload of ``sender`` that opened at ``node``; ``canonical`` says whether
    that state is on the canonical branch (show it now) or only on a competing one."""

    node: BranchNode[UnsignedEvent]
    sender: bytes
    payload: UnsignedEvent = field(repr=False)
    canonical: bool


@dataclass(frozen=True, slots=True)
class CommitAdded:
    """A valid commit, now the state ``node``; ``adopted``: it extended the canonical tip."""

    node: BranchNode[UnsignedEvent]
    summary: CommitProcessed = field(repr=False)
    adopted: bool


@dataclass(frozen=True, slots=True)
class ProposalKept:
    """A SelfRemove waiting in its epoch for a member to commit it."""

    node: BranchNode[UnsignedEvent]
    sender: bytes


@dataclass(frozen=True, slots=True)
class Dropped:
    """Refused or a duplicate; ``reason`` says which."""

    reason: str


@dataclass(frozen=True, slots=True)
class NotYet:
    """No retained state opens it (a later epoch, or a group we have not joined yet), or a
    commit names a proposal we have not seen: keep it and try again after the next change."""


Outcome: TypeAlias = AppReceived | CommitAdded | ProposalKept | Dropped | NotYet


def receive_group_event(tree: BranchTree[UnsignedEvent], event: Event, *, now: int) -> Outcome:
    try:
        _, payload = check_group_event_b(event)
    except MarmotError as exc:
        return Dropped(exc.reason)
    found = tree.node_for(lambda state: open_content(group_event_key(state), payload))
    if found is None:
        return NotYet()
    node, plain = found
    try:
        message = decode_all(plain, MLSMessage.decode)
    except MlsError as exc:
        return Dropped(f"not an MLSMessage: {exc}")
    if isinstance(message.body, PrivateMessage):
        return _application(tree, node, message, now)
    if isinstance(message.body, PublicMessage):
        return _handshake(tree, node, message, now)
    return Dropped("a 445 carries a PublicMessage or a PrivateMessage")


def _application(
    tree: BranchTree[UnsignedEvent], node: BranchNode[UnsignedEvent], message: MLSMessage, now: int
) -> Outcome:
    try:
        result, state = process(node.state, message, now=now)
    except MlsError as exc:
        return Dropped(f"MLS: {exc}")  # e.g. a second copy: its key is already used
    if not isinstance(result, ApplicationMessage):
        return Dropped("a handshake in a PrivateMessage (Profile B sends them public)")
    node.state = state  # the secret tree moved on
    sender = result.credential.identity
    try:
        rumor = decode_app_event(result.data, sender)
    except MarmotError as exc:
        return Dropped(exc.reason)
    return AppReceived(node, sender, rumor, tree.record(node, sender, rumor))


def _handshake(
    tree: BranchTree[UnsignedEvent],
    parent: BranchNode[UnsignedEvent],
    message: MLSMessage,
    now: int,
) -> Outcome:
    digest = commit_digest(message.to_bytes())
    if tree.has_commit(parent, digest):
        return Dropped("duplicate commit")
    try:
        result, state = process(parent.state, message, now=now)
    except MissingProposal:
        return NotYet()  # its proposal may still be on the way: arrival order is no rule
    except MlsError as exc:
        return Dropped(f"MLS: {exc}")
    if isinstance(result, ProposalReceived):
        return _proposal(parent, result, state)
    if not isinstance(result, CommitProcessed):
        return Dropped("not a commit or proposal")
    return _commit(tree, parent, result, state, digest)


def _commit(
    tree: BranchTree[UnsignedEvent],
    parent: BranchNode[UnsignedEvent],
    result: CommitProcessed,
    state: GroupState,
    digest: bytes,
) -> Outcome:
    try:
        check_commit_b(parent.state, result)
    except MarmotError as exc:
        return Dropped(exc.reason)
    meta = CommitMeta(result.credential.identity, commit_priority(result), digest)
    child = tree.add_commit(parent, state, meta)
    return CommitAdded(child, result, tree.canonical is child)


def _proposal(
    parent: BranchNode[UnsignedEvent], result: ProposalReceived, state: GroupState
) -> Outcome:
    """Profile B clients send SelfRemove only; an admin's is ignored (MDK: an admin hands
    over first, or the group could be left without one)."""
    if not isinstance(result.proposal, SelfRemove) or result.credential is None:
        return Dropped("only SelfRemove proposals are taken")
    sender = result.credential.identity
    if sender in group_view(parent.state).admins:
        return Dropped("an admin's SelfRemove")
    parent.state = state
    return ProposalKept(parent, sender)


def departure_commit(state: GroupState, *, rng: Rng) -> PendingCommit | None:
    """A commit of the SelfRemoves of others waiting at ``state`` (the leaver cannot
    commit its own removal; any member may); None when none waits."""
    own = state.own_leaf
    waiting = [
        p
        for p in state.proposals
        if isinstance(p.proposal, SelfRemove) and p.sender.leaf_index != own
    ]
    if not waiting or not state.active:
        return None
    return commit(state, rng=rng)


def join_b(rumor: ParsedWelcomeRumor, bundle: KeyPackageBundle) -> GroupState:
    """Join from a checked 444: the group must carry valid Profile B state and every leaf
    a valid proof of the group's form. Raises ``MlsError`` or ``MarmotError``."""
    state = join_from_welcome(MLSMessage(rumor.welcome), bundle, config=CONFIG)
    group_view(state)
    form = group_proof_form(state.extensions)
    for member in state.members():
        verify_leaf_proof(member.leaf_node, form)
    return state
