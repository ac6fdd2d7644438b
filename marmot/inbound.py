"""What a member receives: a kind 445 event in, a typed outcome out (MIP-03).

::

    outcome = process_event(group, event, now=now)
    match outcome:
        case ApplicationReceived(group=g, rumor=r, sender=pk): ...   # kind 9, 7, 5, 44x ...
        case ProposalHandled(group=g, auto_commit=c): ...            # publish c if set
        case CommitApplied(group=g, removed=..., evicted=...): ...
        case StaleCommit(epoch=e, order=o): ...                      # see policy.race_decision
        case StaleProposal(epoch=e): ...                             # see process_past_proposal
        case CommitWaiting(): ...                                    # retry after a proposal
        case Rejected(error=err, group=g): ...                       # keep g if not None

The checks run in MDK's order: envelope (kind, time window, ``h``, signature), trial
decryption with the current and five previous epochs' keys, the MLS message, then the
Marmot rules: inner rumor (id, no signature, author = MLS sender), proposal handling, the
admin policy for commits, and no past-epoch message from a member or device removed
since. A refused commit leaves the group as it was. Our own echoes come back as
``Rejected``: recognise them by event id first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeAlias

from marmot.errors import InvalidGroupData, InvalidGroupEvent, MarmotError
from marmot.fork_choice import Priority, commit_identity, pack
from marmot.group import MarmotGroup, validate_marmot_credential
from marmot.group_data import NostrGroupData
from marmot.group_event import MAX_EVENT_AGE, check_group_event, parse_rumor, trial_decrypt
from marmot.operations import (
    OutgoingCommit,
    commit_pending_self_removes,
    remove_leaves,
    summarize,
)
from marmot.policy import (
    CommitOrder,
    ProposalAction,
    check_commit_allowed,
    proposal_action,
    requires_admin,
)
from mls import group as mls_group
from mls.errors import MissingProposal, MlsError
from mls.group import ApplicationMessage, CommitProcessed, ProposalReceived
from mls.messages import (
    ContentType,
    MLSMessage,
    PrivateMessage,
    Proposal,
    PublicMessage,
    Remove,
    SelfRemove,
)
from nostr.event import Event, UnsignedEvent
from nostr.keys import Rng, system_rng


@dataclass(frozen=True, slots=True)
class ApplicationReceived:
    """A verified inner rumor and who sent it."""

    group: MarmotGroup
    rumor: UnsignedEvent
    sender: bytes
    """The sender's identity (raw 32-byte Nostr key), equal to ``rumor.pubkey``."""
    sender_leaf: int
    epoch: int

    @property
    def from_own_device(self) -> bool:
        """Sent by another device of our own identity (our own leaf's messages never
        come back readable)."""
        return self.sender == self.group.identity


@dataclass(frozen=True, slots=True)
class ProposalHandled:
    """A member's proposal: kept pending, ignored, or committed at once by us
    (``auto_commit``: publish it like any own commit)."""

    group: MarmotGroup
    proposal: Proposal
    sender: bytes
    sender_leaf: int
    action: ProposalAction
    auto_commit: OutgoingCommit | None


@dataclass(frozen=True, slots=True)
class CommitApplied:
    """A commit that passed the admin policy; ``group`` is the new epoch (or, when
    ``evicted``, the old one marked inactive)."""

    group: MarmotGroup
    epoch: int
    committer: bytes
    committer_leaf: int
    added: tuple[bytes, ...]
    """The identity of each added leaf (one per device, so an identity may repeat)."""
    removed: tuple[bytes, ...]
    """The identity of each removed leaf; it may keep other leaves (devices)."""
    added_leaves: tuple[int, ...]
    removed_leaves: tuple[int, ...]
    """The leaf indices of ``added`` and ``removed``, in the same order."""
    group_data_changed: bool
    evicted: bool
    order: CommitOrder
    content_hash: bytes
    """The race digest (:func:`marmot.fork_choice.pack`): priority and MLS identity."""


@dataclass(frozen=True, slots=True)
class StaleCommit:
    """A commit for an epoch we already left, NOT validated yet: nothing about it is
    trusted but its epoch. Validate it with :func:`process_past_commit` on the state kept
    from that epoch, then compare with :func:`marmot.fork_choice.decide`.
    """

    epoch: int


@dataclass(frozen=True, slots=True)
class StaleProposal:
    """A proposal for an epoch we already left (its sender had not seen the last commit
    yet), NOT validated: an admin may still act on a leave request in it, after
    :func:`process_past_proposal` validated it on the state kept from that epoch."""

    epoch: int


@dataclass(frozen=True, slots=True)
class CommitWaiting:
    """A commit of our epoch that covers a proposal we have not received: relays may
    deliver it first (same ``created_at``, a smaller id). Nothing changed; process the
    event again once the next proposal arrives."""

    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The event was refused for ``error.reason``. ``group`` is not None when processing
    still moved our MLS state (an application message whose rumor was bad): keep it."""

    error: MarmotError
    group: MarmotGroup | None = None


Outcome: TypeAlias = (
    ApplicationReceived
    | ProposalHandled
    | CommitApplied
    | StaleCommit
    | StaleProposal
    | CommitWaiting
    | Rejected
)


AUTO_COMMIT_AHEAD = 60
"""How far ahead of ``now`` an auto-commit may be dated to follow its proposal."""


def process_event(
    group: MarmotGroup,
    event: Event,
    *,
    now: int,
    max_age: int = MAX_EVENT_AGE,
    rng: Rng = system_rng,
) -> Outcome:
    """Process one kind 445 event of this group; never raises for bad input."""
    try:
        return _process(group, event, now, max_age, rng)
    except MarmotError as exc:
        if exc.event_id is None:
            exc.event_id = event.id
        return Rejected(exc)


def _decrypt(group: MarmotGroup, event: Event, now: int, max_age: int) -> tuple[int, MLSMessage]:
    if check_group_event(event, now=now, max_age=max_age) != group.nostr_group_id:
        raise InvalidGroupEvent("the event belongs to another group")
    found = trial_decrypt(event, group.group_event_keys())
    try:
        message = MLSMessage.from_bytes(found.mls_message)
    except MlsError as exc:
        raise InvalidGroupEvent(f"not an MLS message: {exc}") from None
    body = message.body
    if isinstance(body, PrivateMessage):
        epoch = body.epoch
    elif isinstance(body, PublicMessage):
        epoch = body.content.epoch
    else:
        raise InvalidGroupEvent(f"a {message.wire_format.name} is not a group message")
    if epoch != found.epoch:
        raise InvalidGroupEvent("the MLS message's epoch is not the key's epoch")
    return epoch, message


def _content_type(message: MLSMessage) -> ContentType:
    body = message.body
    if isinstance(body, PrivateMessage):
        return body.content_type
    assert isinstance(body, PublicMessage)
    return body.content.content_type


def _process(group: MarmotGroup, event: Event, now: int, max_age: int, rng: Rng) -> Outcome:
    epoch, message = _decrypt(group, event, now, max_age)
    kind = _content_type(message)
    if epoch < group.epoch and kind != ContentType.APPLICATION:
        return StaleCommit(epoch) if kind == ContentType.COMMIT else StaleProposal(epoch)
    try:
        result, state = mls_group.process(
            group.state, message, now=now, validate_credential=validate_marmot_credential
        )
    except MissingProposal as exc:
        return CommitWaiting(str(exc))
    except MlsError as exc:
        raise InvalidGroupEvent(f"MLS refused the message: {exc}") from None
    if isinstance(result, ApplicationMessage):
        return _application(replace(group, state=state), result)
    if isinstance(result, ProposalReceived):
        # The commit of a leave is dated after the leave request, so members who order a
        # fetched batch by (created_at, id), as MDK clients do, see the proposal first.
        commit_at = max(now, min(event.created_at + 1, now + AUTO_COMMIT_AHEAD))
        return _proposal(group, replace(group, state=state), result, commit_at, rng)
    return _commit(group, state, result, event)


def _application(group: MarmotGroup, result: ApplicationMessage) -> Outcome:
    identity = result.credential.identity
    sender = int(result.sender)
    if result.epoch != group.epoch and not group.leaf_kept_since(sender, result.epoch):
        # A removed member or device keeps the secrets of the epochs it saw and could
        # keep writing "late" messages in them.
        error = InvalidGroupEvent(f"leaf {sender} was removed since epoch {result.epoch}")
        return Rejected(error, group)
    try:
        rumor = parse_rumor(result.data, identity)
    except MarmotError as exc:
        return Rejected(exc, group)  # the MLS ratchet moved on: keep the new state
    return ApplicationReceived(group, rumor, identity, sender, result.epoch)


def _proposal(
    before: MarmotGroup, group: MarmotGroup, result: ProposalReceived, now: int, rng: Rng
) -> Outcome:
    if result.sender_leaf is None or result.credential is None:
        raise InvalidGroupEvent("proposals from non-members are not supported")
    leaf = int(result.sender_leaf)
    action = proposal_action(
        result.proposal,
        leaf,
        receiver_is_admin=before.is_admin,
        admins=before.data.admins,
        members=before.members(),
    )
    auto = None
    if action is ProposalAction.IGNORE:
        kept = tuple(p for p in group.state.proposals if p.ref != result.ref)
        group = replace(group, state=replace(group.state, proposals=kept))
    elif action is ProposalAction.AUTO_COMMIT:
        auto = _auto_commit(group, result.proposal, leaf, now, rng)
    return ProposalHandled(group, result.proposal, result.credential.identity, leaf, action, auto)


def _auto_commit(
    group: MarmotGroup, proposal: Proposal, leaf: int, now: int, rng: Rng
) -> OutgoingCommit | None:
    try:
        if isinstance(proposal, SelfRemove):
            return commit_pending_self_removes(group, now=now, rng=rng)
        assert isinstance(proposal, Remove)  # a legacy leave, committed by an admin
        return remove_leaves(group, [leaf], now=now, rng=rng)
    except (MarmotError, MlsError):
        return None  # someone else may commit it; the proposal stays pending


def _members_after(before: dict[int, bytes], result: CommitProcessed) -> dict[int, bytes]:
    after = dict(before)
    for removed in result.removes:
        after.pop(int(removed.leaf_index), None)
    for added in result.adds:
        after[int(added.leaf_index)] = added.key_package.leaf_node.credential.identity
    return after


def _commit(
    before: MarmotGroup, state: mls_group.GroupState, result: CommitProcessed, event: Event
) -> Outcome:
    if result.external:
        raise InvalidGroupEvent("external commits are not supported")
    data_after = before.data
    if result.extensions is not None:
        try:
            data_after = NostrGroupData.from_extensions(result.extensions)
        except InvalidGroupData as exc:
            raise InvalidGroupEvent(f"commit carries bad group data: {exc.reason}") from None
    members_before = before.members()
    check_commit_allowed(
        summarize(result),
        admins_before=before.data.admins,
        members_before=members_before,
        admins_after=data_after.admins,
        members_after=_members_after(members_before, result),
    )
    summary = summarize(result)
    # When evicted, ``state`` is the old epoch marked inactive; the data is the new one.
    group = MarmotGroup(state, data_after)
    priority = Priority.PRIVILEGED if requires_admin(summary) else Priority.ORDINARY
    return CommitApplied(
        group=group,
        epoch=result.epoch,
        committer=result.credential.identity,
        committer_leaf=int(result.sender_leaf),
        added=tuple(a.key_package.leaf_node.credential.identity for a in result.adds),
        removed=tuple(r.leaf_node.credential.identity for r in result.removes),
        added_leaves=tuple(int(a.leaf_index) for a in result.adds),
        removed_leaves=tuple(int(r.leaf_index) for r in result.removes),
        group_data_changed=result.extensions is not None,
        evicted=result.removed_self,
        order=CommitOrder(event.created_at, event.id),
        content_hash=pack(priority, commit_identity(state.context.confirmed_transcript_hash)),
    )


def process_past_commit(
    past: MarmotGroup, event: Event, *, now: int, max_age: int = MAX_EVENT_AGE
) -> CommitApplied:
    """Validate a commit for an epoch we left as if it arrived in time: on ``past``, a copy
    of that epoch's kept state (framing, membership, signature, membership and confirmation
    tags, proposals, the admin rules). Raises :class:`InvalidGroupEvent` otherwise."""
    outcome = process_event(past, event, now=now, max_age=max_age)
    if isinstance(outcome, CommitApplied) and outcome.epoch == past.epoch + 1:
        return outcome
    if isinstance(outcome, Rejected):
        raise InvalidGroupEvent(f"not a valid commit of epoch {past.epoch}: {outcome.error.reason}")
    raise InvalidGroupEvent(f"not a valid commit of epoch {past.epoch}")


def process_past_proposal(
    past: MarmotGroup, event: Event, *, now: int, max_age: int = MAX_EVENT_AGE
) -> ProposalHandled:
    """Validate a proposal for an epoch we left as if it arrived in time, on ``past`` (a
    copy of that epoch's kept state); `InvalidGroupEvent` when it is not a valid one."""
    outcome = process_event(past, event, now=now, max_age=max_age)
    if isinstance(outcome, ProposalHandled) and outcome.group.epoch == past.epoch:
        return outcome
    if isinstance(outcome, Rejected):
        raise InvalidGroupEvent(
            f"not a valid proposal of epoch {past.epoch}: {outcome.error.reason}"
        )
    raise InvalidGroupEvent(f"not a valid proposal of epoch {past.epoch}")
