"""The MLS group engine (RFC 9420): one API over immutable group states.

Every function takes a :class:`GroupState` and returns new values; the state passed in
is never changed, so a failed or abandoned operation simply keeps the old state. Time
(``now``, Unix seconds) and randomness (``rng(n) -> bytes``) are parameters. Every
error is an :class:`~mls.errors.MlsError`: ``InvalidMessage`` (the peer's fault),
``DecodeError``, ``UnsupportedError`` or ``UsageError`` (ours).

Create, invite, join::

    bundle = create_key_package(cs, Credential.basic(identity), now=now)  # mls.key_package
    state = create_group(cs, Credential.basic(identity), now=now, extensions=[...])
    pending = add_members(state, [key_package, ...], now=now)   # PendingCommit
    #   send pending.message, then pending.welcome; adopt pending.next_state once sent
    joined = join_from_welcome(welcome, bundle)                 # ratchet_tree=... if needed

Change the group (each returns a PendingCommit; the current state stays as it was)::

    commit(state, proposals=[...], path=True, leaf=LeafChanges(...), wire_format=...)
    remove_members(state, [leaf_index, ...]); self_update(state, leaf=LeafChanges(...))
    update_extensions(state, [Extension(...)])                  # GroupContextExtensions

Propose (returns ``(message, state)``; the proposal waits in our cache)::

    propose(state, proposal); propose_add(state, kp); propose_update(state)
    propose_self_remove(state)                                  # PublicMessage, to leave
    external_proposal(cs, group_id, epoch, proposal, signature_priv=..., sender_index=i)

Messages::

    message, state = protect(state, b"hello")                  # PrivateMessage
    result, state = process(state, message, now=now, psks={...})
    # result: ApplicationMessage | ProposalReceived | CommitProcessed

Information::

    state.epoch, state.group_id, state.own_leaf, state.members(), state.extensions
    state.export(label, context, length); state.export_at(epoch, label, context, length)
    state.epoch_authenticator, state.tree_hash, state.retained_epochs()
    group_info(state) -> MLSMessage(GroupInfo)                  # with external_pub
    message, state = join_by_external_commit(group_info, credential)

Policy (:class:`GroupConfig`, given to ``create_group`` and the joins): handshake wire
format (default PrivateMessage; both are always accepted), ratchet tree in Welcomes,
past epochs kept (5), out-of-order tolerance (100) and forward distance (1000) of the
ratchets, padding. ``validate_credential(credential, signature_key)`` on ``process`` and
the joins is the application's Authentication Service: raise to refuse a credential.
External PSKs are passed as ``psks={psk_id: psk}``; our own resumption PSKs are found
in the retained epochs.

Persist with :func:`mls.snapshot.dump_group` / :func:`mls.snapshot.load_group`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from mls.commit import LeafChanges, commit
from mls.crypto import DEFAULT_RNG
from mls.external_init import group_info, join_by_external_commit
from mls.framing import authenticate
from mls.group_events import (
    ApplicationMessage,
    CommitProcessed,
    PendingCommit,
    ProcessResult,
    ProposalReceived,
)
from mls.group_framing import protect as _protect
from mls.group_state import GroupConfig, GroupState, Member, PastEpoch
from mls.messages import (
    Add,
    Extension,
    FramedContent,
    GroupContextExtensions,
    KeyPackage,
    MLSMessage,
    Remove,
    Sender,
    WireFormat,
)
from mls.process import process
from mls.propose import (
    create_group,
    external_proposal,
    propose,
    propose_add,
    propose_self_remove,
    propose_update,
)
from mls.types import Rng
from mls.welcome import join_from_welcome

__all__ = [
    "ApplicationMessage",
    "CommitProcessed",
    "GroupConfig",
    "GroupState",
    "LeafChanges",
    "Member",
    "PastEpoch",
    "PendingCommit",
    "ProcessResult",
    "ProposalReceived",
    "add_members",
    "commit",
    "create_group",
    "external_proposal",
    "group_info",
    "join_by_external_commit",
    "join_from_welcome",
    "process",
    "propose",
    "propose_add",
    "propose_self_remove",
    "propose_update",
    "protect",
    "remove_members",
    "self_update",
    "update_extensions",
]


def protect(
    state: GroupState,
    data: bytes,
    *,
    authenticated_data: bytes = b"",
    rng: Rng = DEFAULT_RNG,
) -> tuple[MLSMessage, GroupState]:
    """Encrypt application data as a PrivateMessage of the current epoch."""
    state.require_active()
    framed = FramedContent(
        state.group_id, state.epoch, Sender.member(state.own_leaf), authenticated_data, data
    )
    signed = authenticate(
        state.suite,
        WireFormat.PRIVATE_MESSAGE,
        framed,
        state.context_bytes,
        state.signature_priv,
    )
    message, secret_tree = _protect(state, signed, rng=rng)
    return message, replace(state, secret_tree=secret_tree)


def add_members(
    state: GroupState,
    key_packages: Sequence[KeyPackage],
    *,
    now: int | None = None,
    path: bool = True,
    wire_format: WireFormat | None = None,
    rng: Rng = DEFAULT_RNG,
) -> PendingCommit:
    """A commit adding one member per KeyPackage (plus any pending proposals)."""
    adds = [Add(kp) for kp in key_packages]
    return commit(state, proposals=adds, path=path, wire_format=wire_format, now=now, rng=rng)


def remove_members(
    state: GroupState,
    leaves: Sequence[int],
    *,
    wire_format: WireFormat | None = None,
    rng: Rng = DEFAULT_RNG,
) -> PendingCommit:
    """A commit removing the members at ``leaves``."""
    removes = [Remove(i) for i in leaves]
    return commit(state, proposals=removes, wire_format=wire_format, rng=rng)


def self_update(
    state: GroupState,
    *,
    leaf: LeafChanges | None = None,
    wire_format: WireFormat | None = None,
    rng: Rng = DEFAULT_RNG,
) -> PendingCommit:
    """A commit with a fresh path for us (optionally a new signature key or leaf)."""
    return commit(state, leaf=leaf, wire_format=wire_format, rng=rng)


def update_extensions(
    state: GroupState,
    extensions: Sequence[Extension],
    *,
    wire_format: WireFormat | None = None,
    rng: Rng = DEFAULT_RNG,
) -> PendingCommit:
    """A commit replacing the GroupContext extensions (every member must support them)."""
    gce = GroupContextExtensions(tuple(extensions))
    return commit(state, proposals=[gce], wire_format=wire_format, rng=rng)
