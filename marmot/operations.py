"""What a member sends: commits, proposals and application messages as kind 445 events.

Every function takes a :class:`~marmot.group.MarmotGroup` and returns the event to
publish with the group value to adopt *after* a relay accepted it (MIP-02 section 4.3:
publish the commit, wait for an ``OK``, adopt, then send the Welcomes). On a failed
publish keep the old value. The event is encrypted with the key of the epoch it was
built in, and carries the group's disappearing-message expiration, if any.

::

    out = add_members(group, [parsed_kp, ...], now=now)     # OutgoingCommit
    out = remove_members(group, [pubkey, ...], now=now)      # every leaf of each
    out = remove_leaves(group, [leaf, ...], now=now)         # particular devices
    out = update_group_data(group, now=now, name="New name", relays=(...))
    out = self_update(group, now=now); out = self_demote(group, now=now)
    out = leave_group(group, now=now)                       # OutgoingProposal
    out = commit_pending_self_removes(group, now=now)      # anyone may
    out = create_message(group, rumor, now=now)            # OutgoingMessage
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from marmot.errors import UsageError
from marmot.fork_choice import Priority, commit_identity, pack
from marmot.group import MarmotGroup, check_new_leaves, extensions_with
from marmot.group_event import build_group_event, encode_rumor
from marmot.key_package_event import MarmotKeyPackage, marmot_capabilities
from marmot.policy import (
    CommitOrder,
    CommitSummary,
    check_can_leave,
    check_commit_allowed,
    check_self_demote,
    expiration_for,
    require_admin,
    requires_admin,
)
from marmot.welcome import WelcomeRumor, welcome_rumors
from mls import group as mls_group
from mls.errors import MlsError
from mls.group import CommitProcessed, GroupState, LeafChanges, PendingCommit
from mls.messages import Add, GroupContextExtensions, MLSMessage, Remove, SelfRemove
from nostr.event import Event, UnsignedEvent
from nostr.keys import Rng, system_rng


@dataclass(frozen=True, slots=True)
class OutgoingCommit:
    """Publish ``event``; once a relay accepted it adopt ``group``, then wrap and send
    ``welcomes``."""

    event: Event
    group: MarmotGroup
    welcomes: tuple[WelcomeRumor, ...]
    summary: CommitProcessed = field(repr=False)

    @property
    def order(self) -> CommitOrder:
        """Where this commit stands in a race for its epoch (MIP-03 section 5.7)."""
        return CommitOrder(self.event.created_at, self.event.id)

    @property
    def content_hash(self) -> bytes:
        """The race digest (:func:`marmot.fork_choice.pack`): priority and MLS identity."""
        admin = requires_admin(summarize(self.summary))
        priority = Priority.PRIVILEGED if admin else Priority.ORDINARY
        return pack(priority, commit_identity(self.group.state.context.confirmed_transcript_hash))


@dataclass(frozen=True, slots=True)
class OutgoingProposal:
    """Publish ``event`` and keep ``group`` (our proposal is in its cache)."""

    event: Event
    group: MarmotGroup


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """Publish ``event``; keep ``group`` whether or not it was accepted (its sending
    ratchet moved on)."""

    event: Event
    group: MarmotGroup
    rumor: UnsignedEvent


@contextmanager
def _mls(what: str) -> Iterator[None]:
    """MLS refusing our own request is a usage error at this layer."""
    try:
        yield
    except MlsError as exc:
        raise UsageError(f"cannot {what}: {exc}") from None


def _committable(group: MarmotGroup) -> GroupState:
    """Our state with the pending proposals our commit may carry: never a member's Add,
    whose joiner we could not send a Welcome (a 444 names the KeyPackage event, which an
    Add proposal does not carry), so its leaf would stay empty for good."""
    state = group.state
    if not any(isinstance(p.proposal, Add) for p in state.proposals):
        return state
    return replace(
        state, proposals=tuple(p for p in state.proposals if not isinstance(p.proposal, Add))
    )


def _require_active(group: MarmotGroup) -> None:
    if not group.active:
        raise UsageError("we are no longer a member of this group")


def _event(
    group: MarmotGroup, message: MLSMessage, now: int, expiration: int | None, rng: Rng
) -> Event:
    # Built with the current epoch's key, before anything is merged: for a commit that is
    # the epoch every receiver still holds.
    return build_group_event(
        group.nostr_group_id,
        message.to_bytes(),
        group.group_event_key(),
        now=now,
        expiration=expiration_for(now, group.data.disappearing_message_secs, expiration),
        rng=rng,
    )


def summarize(summary: CommitProcessed) -> CommitSummary:
    """The admin-policy view of an MLS commit record."""
    committer = int(summary.sender_leaf)
    proposals = tuple(
        (committer if p.sender.leaf_index is None else int(p.sender.leaf_index), p.proposal)
        for p in summary.proposals
    )
    path = summary.path_leaf
    return CommitSummary(
        committer, proposals, path is not None, None if path is None else path.credential.identity
    )


def _finish(
    group: MarmotGroup,
    pending: PendingCommit,
    now: int,
    rng: Rng,
    invitees: Sequence[MarmotKeyPackage] = (),
) -> OutgoingCommit:
    nxt = MarmotGroup.of(pending.next_state)
    check_commit_allowed(
        summarize(pending.summary),
        admins_before=group.data.admins,
        members_before=group.members(),
        admins_after=nxt.data.admins,
        members_after=nxt.members(),
    )
    event = _event(group, pending.message, now, None, rng)
    welcomes = welcome_rumors(group.identity, pending.welcome, invitees, nxt.data.relays, now)
    return OutgoingCommit(event, nxt, welcomes, pending.summary)


def add_members(
    group: MarmotGroup, key_packages: Sequence[MarmotKeyPackage], *, now: int, rng: Rng = system_rng
) -> OutgoingCommit:
    """Admins only: a commit adding one leaf per (already validated) KeyPackage event.

    A KeyPackage of an identity that is already a member (our own other device, or
    another device of a member) adds one more leaf of that identity. A KeyPackage whose
    leaf is already in the group, or one given twice, raises :class:`AlreadyInGroup`.
    """
    _require_active(group)
    require_admin(group.data.admins, group.identity, "add members")
    if not key_packages:
        raise UsageError("no KeyPackage to add")
    check_new_leaves(group, key_packages)
    with _mls("add these KeyPackages"):
        pending = mls_group.add_members(
            _committable(group), [kp.key_package for kp in key_packages], now=now, rng=rng
        )
    return _finish(group, pending, now, rng, key_packages)


def remove_members(
    group: MarmotGroup, pubkeys: Sequence[bytes], *, now: int, rng: Rng = system_rng
) -> OutgoingCommit:
    """Admins only: remove every leaf (device) of each member; removed admins leave the
    admin list in the same commit. Our own identity is refused: leave the group, or
    remove our other devices with :func:`remove_leaves`."""
    require_admin(group.data.admins, group.identity, "remove members")
    if group.identity in pubkeys:
        raise UsageError(
            "remove_members cannot remove ourselves; leave the group, or remove our "
            "other devices with remove_leaves"
        )
    leaves = []
    for pubkey in dict.fromkeys(pubkeys):
        found = group.leaves_of(pubkey)
        if not found:
            raise UsageError(f"{pubkey.hex()} is not a member")
        leaves += found
    return remove_leaves(group, leaves, now=now, rng=rng)


def remove_leaves(
    group: MarmotGroup, leaves: Sequence[int], *, now: int, rng: Rng = system_rng
) -> OutgoingCommit:
    """Admins only: a commit removing particular leaves (e.g. a lost device of ours or
    of a member who keeps the others); identities left without a leaf stop being
    admins. Our own leaf cannot be removed this way: leave the group instead."""
    _require_active(group)
    require_admin(group.data.admins, group.identity, "remove members")
    leaves = list(dict.fromkeys(leaves))
    if not leaves:
        raise UsageError("no leaf to remove")
    if group.own_leaf in leaves:
        raise UsageError("a commit cannot remove our own leaf; leave the group instead")
    if missing := [leaf for leaf in leaves if group.identity_of(leaf) is None]:
        raise UsageError(f"no member at leaf {missing[0]}")
    proposals: list[Remove | GroupContextExtensions] = [Remove(leaf) for leaf in leaves]
    remaining = {i for leaf, i in group.members().items() if leaf not in leaves}
    gone = {group.identity_of(leaf) for leaf in leaves} - remaining
    admins = tuple(a for a in group.data.admins if a not in gone)
    if admins != group.data.admins:
        data = group.data.updated(admins=admins)
        proposals.append(GroupContextExtensions(extensions_with(group.state.extensions, data)))
    with _mls("remove these members"):
        pending = mls_group.commit(group.state, proposals=proposals, include_pending=False, rng=rng)
    return _finish(group, pending, now, rng)


def update_group_data(
    group: MarmotGroup, *, now: int, rng: Rng = system_rng, **changes: object
) -> OutgoingCommit:
    """Admins only: a GroupContextExtensions commit with new 0xF2EE data (name,
    description, admins, relays, image fields, nostr_group_id, disappearing timer).

    Proposed admins who are not members are dropped (MDK 0.8); none may remain empty.
    """
    _require_active(group)
    require_admin(group.data.admins, group.identity, "update the group data")
    if "admins" in changes:
        proposed = changes["admins"]
        if not isinstance(proposed, tuple | list):
            raise UsageError("admins must be a sequence of 32-byte keys")
        present = set(group.members().values())
        admins = tuple(a for a in proposed if a in present)
        if not admins:
            raise UsageError("the group would have no admin")
        changes["admins"] = admins
    data = group.data.updated(**changes)
    extensions = extensions_with(group.state.extensions, data)
    with _mls("update the group data"):
        pending = mls_group.update_extensions(_committable(group), extensions, rng=rng)
    return _finish(group, pending, now, rng)


def self_demote(group: MarmotGroup, *, now: int, rng: Rng = system_rng) -> OutgoingCommit:
    """An admin steps down (another active admin must remain)."""
    _require_active(group)
    check_self_demote(group.data.admins, group.members(), group.identity)
    admins = tuple(a for a in group.data.admins if a != group.identity)
    data = group.data.updated(admins=admins)
    extensions = extensions_with(group.state.extensions, data)
    with _mls("self-demote"):
        pending = mls_group.update_extensions(_committable(group), extensions, rng=rng)
    return _finish(group, pending, now, rng)


def self_update(group: MarmotGroup, *, now: int, rng: Rng = system_rng) -> OutgoingCommit:
    """Anyone: a path-only commit with a fresh signature key, same identity, current
    Marmot capabilities. Do it after joining and periodically."""
    _require_active(group)
    signature_priv, _ = group.state.suite.generate_signature_key_pair(rng)
    changes = LeafChanges(signature_priv=signature_priv, capabilities=marmot_capabilities())
    with _mls("self-update"):
        pending = mls_group.commit(group.state, include_pending=False, leaf=changes, rng=rng)
    return _finish(group, pending, now, rng)


def leave_group(group: MarmotGroup, *, now: int, rng: Rng = system_rng) -> OutgoingProposal:
    """Ask to leave: a SelfRemove PublicMessage proposal (or a legacy Remove(self) when
    the group does not require SelfRemove). Another member commits it; admins must
    self-demote first. Only this device's leaf leaves: our other devices stay (and an
    admin identity may not leave this way even from one of several devices; another of
    its devices removes this one with :func:`remove_leaves` instead)."""
    _require_active(group)
    check_can_leave(group.data.admins, group.identity)
    with _mls("leave"):
        if group.self_remove_enabled:
            message, state = mls_group.propose_self_remove(group.state, rng=rng)
        else:
            message, state = mls_group.propose(group.state, Remove(group.own_leaf), rng=rng)
    return OutgoingProposal(_event(group, message, now, None, rng), group.with_state(state))


def commit_pending_self_removes(
    group: MarmotGroup, *, now: int, rng: Rng = system_rng
) -> OutgoingCommit:
    """Anyone: commit the SelfRemove proposals waiting in this epoch (and nothing else)."""
    _require_active(group)
    leaving = tuple(p for p in group.state.proposals if isinstance(p.proposal, SelfRemove))
    if not leaving:
        raise UsageError("no SelfRemove proposal is pending")
    with _mls("commit the pending SelfRemoves"):
        pending = mls_group.commit(replace(group.state, proposals=leaving), rng=rng)
    return _finish(group, pending, now, rng)


def create_message(
    group: MarmotGroup,
    rumor: UnsignedEvent,
    *,
    now: int,
    expiration: int | None = None,
    rng: Rng = system_rng,
) -> OutgoingMessage:
    """An application message carrying ``rumor`` (ours, unsigned, with its id)."""
    _require_active(group)
    if rumor.pubkey != group.identity.hex():
        raise UsageError("the rumor's pubkey must be our own identity")
    with _mls("send"):
        message, state = mls_group.protect(group.state, encode_rumor(rumor), rng=rng)
    event = _event(group, message, now, expiration, rng)
    return OutgoingMessage(event, group.with_state(state), rumor)
