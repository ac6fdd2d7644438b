"""The one seam between the group services and the protocol layers (``mls`` + ``marmot``).

Every call the services make on a Marmot group goes through here: create, commit, protect,
open and process kind 445 events, join from a Welcome, and the (de)serialisation of the
state kept in storage. The functions are pure (time and randomness are parameters) and
never touch storage or relays; the services persist what they return.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from marmot.errors import InvalidGroupEvent, PolicyViolation
from marmot.group_data import NostrGroupData, group_context_extensions, new_mls_group_id
from marmot.group_event import (
    EXPORTER_CONTEXT,
    EXPORTER_LABEL,
    build_group_event,
    encode_rumor,
    parse_rumor,
    trial_decrypt,
)
from marmot.key_package_event import (
    CIPHER_SUITE,
    MarmotKeyPackage,
    create_marmot_key_package,
)
from marmot.policy import (
    CommitSummary,
    ProposalAction,
    check_commit_allowed,
    proposal_action,
)
from mls import group as mls_group
from mls import snapshot as mls_snapshot
from mls.errors import MlsError
from mls.group import (
    ApplicationMessage,
    CommitProcessed,
    GroupState,
    LeafChanges,
    PendingCommit,
    ProcessResult,
    ProposalReceived,
)
from mls.key_package import KeyPackageBundle
from mls.messages import (
    ContentType,
    Credential,
    GroupContextExtensions,
    MLSMessage,
    PrivateMessage,
    Proposal,
    PublicMessage,
    Remove,
    Welcome,
)
from nostr.event import Event, UnsignedEvent
from nostr.keys import PublicKey, Rng
from storage.rows import ExporterSecret, Member, MlsState

EVENT_KEY = "group-event"
"""Storage label of each epoch's kind 445 key, MLS-Exporter("marmot", "group-event", 32)."""
STATE_FORMAT = 1


# --- state in and out of storage ---------------------------------------------------------


def dump(state: GroupState) -> MlsState:
    return MlsState(STATE_FORMAT, mls_snapshot.dump_group(state))


def load(stored: MlsState) -> GroupState:
    return mls_snapshot.load_group(stored.data)


def group_data(state: GroupState) -> NostrGroupData:
    return NostrGroupData.from_extensions(state.extensions)


def members(state: GroupState) -> tuple[Member, ...]:
    return tuple(Member(int(m.leaf_index), m.credential.identity.hex()) for m in state.members())


def identities(state: GroupState) -> dict[int, bytes]:
    return {int(m.leaf_index): m.credential.identity for m in state.members()}


def event_key(state: GroupState) -> bytes:
    return state.export(EXPORTER_LABEL, EXPORTER_CONTEXT, 32)


def exporter_secrets(state: GroupState) -> tuple[ExporterSecret, ...]:
    """What storage keeps per epoch to open late 445s: this epoch's event key."""
    return (ExporterSecret(state.epoch, EVENT_KEY, event_key(state)),)


# --- building ------------------------------------------------------------------------------


def create_group(
    creator: PublicKey,
    data: NostrGroupData,
    invitees: Sequence[MarmotKeyPackage],
    *,
    now: int,
    rng: Rng,
) -> tuple[GroupState, MLSMessage | None]:
    """A new group with the invitees added by a commit merged locally (never published);
    returns the state and the Welcome for the invitees (None for a group of one)."""
    kps = [k.key_package for k in invitees]
    # Our own leaf advertises what Marmot needs (last_resort, 0xF2EE, SelfRemove).
    own = create_marmot_key_package(creator, now=now, rng=rng)
    state = mls_group.create_group(
        CIPHER_SUITE,
        Credential.basic(creator.data),
        key_package=own,
        group_id=new_mls_group_id(rng),
        extensions=group_context_extensions(data, kps),
        now=now,
        rng=rng,
    )
    if not kps:
        return state, None
    pending = mls_group.add_members(state, kps, now=now, rng=rng)
    return pending.next_state, pending.welcome


def add_members(
    state: GroupState, invitees: Sequence[MarmotKeyPackage], *, now: int, rng: Rng
) -> PendingCommit:
    return mls_group.add_members(state, [k.key_package for k in invitees], now=now, rng=rng)


def remove_members(
    state: GroupState, pubkeys: Iterable[str], *, now: int, rng: Rng
) -> PendingCommit:
    """Remove every leaf of ``pubkeys``; removed admins leave the admin list in the same
    commit (MDK ``remove_members``)."""
    targets = set(pubkeys)
    leaves = [leaf for leaf, ident in identities(state).items() if ident.hex() in targets]
    proposals: list[Proposal] = [Remove(leaf) for leaf in leaves]
    data = group_data(state)
    admins = tuple(a for a in data.admins if a.hex() not in targets)
    if admins != data.admins:
        changed = data.updated(admins=admins)
        proposals.append(GroupContextExtensions(_with_data(state, changed)))
    return mls_group.commit(state, proposals=proposals, now=now, rng=rng)


def remove_leaves(state: GroupState, leaves: Sequence[int], *, now: int, rng: Rng) -> PendingCommit:
    """Remove particular leaves (one lost device of a member keeps its other leaves)."""
    return mls_group.remove_members(state, list(leaves), rng=rng)


def update_data(state: GroupState, data: NostrGroupData, *, now: int, rng: Rng) -> PendingCommit:
    """A GroupContextExtensions commit carrying new group data (name, admins, relays ...)."""
    return mls_group.update_extensions(state, _with_data(state, data), rng=rng)


def _with_data(state: GroupState, data: NostrGroupData) -> tuple:  # type: ignore[type-arg]
    ext = data.to_extension()
    return tuple(ext if e.extension_type == ext.extension_type else e for e in state.extensions)


def self_update(state: GroupState, *, now: int, rng: Rng) -> PendingCommit:
    """A path-only commit with a fresh signature key and the same identity."""
    signature_priv, _ = state.suite.generate_signature_key_pair(rng)
    return mls_group.self_update(state, leaf=LeafChanges(signature_priv=signature_priv), rng=rng)


def self_remove(state: GroupState, *, rng: Rng) -> tuple[MLSMessage, GroupState]:
    """Our SelfRemove proposal (a PublicMessage): another member commits it."""
    return mls_group.propose_self_remove(state, rng=rng)


def commit_pending(state: GroupState, *, now: int, rng: Rng) -> PendingCommit:
    """Commit the proposals waiting in this epoch's cache (a member's SelfRemove)."""
    return mls_group.commit(state, now=now, rng=rng)


def protect(state: GroupState, rumor: UnsignedEvent, *, rng: Rng) -> tuple[MLSMessage, GroupState]:
    return mls_group.protect(state, encode_rumor(rumor), rng=rng)


def wrap(
    state: GroupState, message: MLSMessage, *, now: int, rng: Rng, expiration: int | None = None
) -> Event:
    """The kind 445 carrying ``message`` under this state's epoch key (for a commit: the
    pre-commit state, which every receiver still holds)."""
    data = group_data(state)
    return build_group_event(
        data.nostr_group_id,
        message.to_bytes(),
        event_key(state),
        now=now,
        expiration=expiration,
        rng=rng,
    )


# --- receiving -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    """A 445 whose outer layer opened: the MLS message, its epoch and content type."""

    epoch: int
    message: MLSMessage
    is_commit: bool


def open_event(event: Event, keys: Sequence[tuple[int, bytes]]) -> Opened:
    """Trial-decrypt a 445 with ``(epoch, key)`` pairs (newest first); `InvalidGroupEvent`
    when none opens it or the content is not an MLS group message."""
    decrypted = trial_decrypt(event, keys)
    try:
        message = MLSMessage.from_bytes(decrypted.mls_message)
    except MlsError as exc:
        raise InvalidGroupEvent(f"not an MLS message: {exc}", event_id=event.id) from None
    body = message.body
    if isinstance(body, PrivateMessage):
        is_commit = body.content_type == ContentType.COMMIT
        epoch = body.epoch
    elif isinstance(body, PublicMessage):
        is_commit = body.content.content_type == ContentType.COMMIT
        epoch = body.content.epoch
    else:
        raise InvalidGroupEvent("a 445 must carry a group message", event_id=event.id)
    return Opened(epoch, message, is_commit)


def process(
    state: GroupState, message: MLSMessage, *, now: int
) -> tuple[ProcessResult, GroupState]:
    """Process with MLS, then apply the MIP-03 admin policy to commits (the next state is
    refused on a violation: `PolicyViolation`)."""
    result, next_state = mls_group.process(state, message, now=now)
    if isinstance(result, CommitProcessed) and not result.removed_self:
        check_commit(state, result, next_state)
    return result, next_state


def check_commit(before: GroupState, result: CommitProcessed, after: GroupState) -> None:
    proposers = []
    for cached in result.proposals:
        leaf = cached.sender.leaf_index
        proposers.append(
            (int(leaf) if leaf is not None else int(result.sender_leaf), cached.proposal)
        )
    path_identity = result.path_leaf.credential.identity if result.path_leaf else None
    summary = CommitSummary(
        int(result.sender_leaf), tuple(proposers), result.path_leaf is not None, path_identity
    )
    check_commit_allowed(
        summary,
        admins_before=group_data(before).admins,
        members_before=identities(before),
        admins_after=group_data(after).admins,
        members_after=identities(after),
    )


def rumor_of(result: ApplicationMessage) -> UnsignedEvent:
    """The verified inner event of an application message (author = MLS sender)."""
    return parse_rumor(result.data, result.credential.identity)


def proposal_decision(
    state: GroupState, result: ProposalReceived, our_identity: bytes
) -> ProposalAction:
    if result.sender_leaf is None:
        return ProposalAction.IGNORE
    data = group_data(state)
    return proposal_action(
        result.proposal,
        int(result.sender_leaf),
        receiver_is_admin=our_identity in data.admins,
        admins=data.admins,
        members=identities(state),
    )


def join(welcome: Welcome, bundle: KeyPackageBundle) -> GroupState:
    return mls_group.join_from_welcome(welcome, bundle)


__all__ = [
    "ApplicationMessage",
    "CommitProcessed",
    "GroupState",
    "PendingCommit",
    "PolicyViolation",
    "ProposalAction",
    "ProposalReceived",
]
