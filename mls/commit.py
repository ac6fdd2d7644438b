"""Creating a commit (RFC 9420 section 12.4.1) without touching the current state.

::

    pending = commit(state, proposals=[Add(kp)], now=now)
    send(pending.message); then send(pending.welcome) if any
    state = pending.next_state       # only once the delivery service took the commit

The commit covers every valid proposal in the epoch's cache (by reference) plus the
ones given (by value), and carries an UpdatePath unless ``path=False`` and no proposal
requires one. ``leaf=LeafChanges(...)`` changes our leaf in that path: a self-update with
a fresh signature key, credential, capabilities or leaf extensions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mls.crypto import DEFAULT_RNG
from mls.epoch import (
    EpochStep,
    ExternalPsks,
    ResumptionPsks,
    advanced_state,
    next_epoch,
    proposal_rules,
    provisional_context,
    resolve_psks,
)
from mls.errors import UsageError
from mls.framing import sign_framed_content
from mls.group_events import CommitProcessed, PendingCommit
from mls.group_framing import protect
from mls.group_state import GroupState
from mls.messages import (
    Add,
    AuthenticatedContent,
    Capabilities,
    Commit,
    Credential,
    Extension,
    FramedContent,
    FramedContentAuthData,
    GroupContextExtensions,
    LeafNode,
    LeafNodeSource,
    MLSMessage,
    PreSharedKey,
    Proposal,
    ProposalOrRef,
    ReInit,
    Remove,
    SelfRemove,
    Sender,
    Update,
    WireFormat,
)
from mls.proposal_effects import ProposalEffects, apply_proposals
from mls.proposals import CachedProposal, ProposalRules, path_required
from mls.tree import RatchetTree
from mls.treekem import PreparedPath, create_update_path, encrypt_path_secrets
from mls.types import Rng
from mls.welcome import build_welcome, group_info_extensions, signed_group_info


@dataclass(frozen=True, slots=True)
class LeafChanges:
    """Changes to our own leaf carried by a commit's path (None: keep)."""

    signature_priv: bytes | None = field(default=None, repr=False)
    credential: Credential | None = None
    capabilities: Capabilities | None = None
    extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, slots=True)
class _Options:
    path: bool
    leaf: LeafChanges | None
    wire_format: WireFormat
    authenticated_data: bytes
    psks: ExternalPsks | None
    resumption_psks: ResumptionPsks | None
    ratchet_tree_extension: bool
    now: int | None
    rng: Rng


@dataclass(frozen=True, slots=True)
class _Built:
    """A commit message and the epoch it starts, before Welcome and GroupInfo."""

    message: MLSMessage
    step: EpochStep
    next_state: GroupState
    prepared: PreparedPath | None


def commit(
    state: GroupState,
    *,
    proposals: Sequence[Proposal] = (),
    include_pending: bool = True,
    path: bool = True,
    leaf: LeafChanges | None = None,
    wire_format: WireFormat | None = None,
    authenticated_data: bytes = b"",
    psks: ExternalPsks | None = None,
    resumption_psks: ResumptionPsks | None = None,
    ratchet_tree_extension: bool | None = None,
    now: int | None = None,
    rng: Rng = DEFAULT_RNG,
) -> PendingCommit:
    """Our next commit; ``state`` is not changed (see the module docstring)."""
    state.require_active()
    config = state.config
    options = _Options(
        path,
        leaf,
        wire_format or config.handshake_wire_format,
        authenticated_data,
        psks,
        resumption_psks,
        config.ratchet_tree_extension if ratchet_tree_extension is None else ratchet_tree_extension,
        now,
        rng,
    )
    rules = proposal_rules(state, now=now, psks=psks, resumption_psks=resumption_psks)
    covered = _gather(state, rules, proposals, include_pending)
    rules.check_list(covered, Sender.member(state.own_leaf))
    effects = apply_proposals(rules, covered)
    if not path and (path_required(covered) or leaf is not None):
        raise UsageError("these proposals or leaf changes need a commit with an UpdatePath")
    built = _build(state, covered, effects, options)
    return _finish(built, effects, covered, options)


def _build(
    state: GroupState,
    covered: Sequence[CachedProposal],
    effects: ProposalEffects,
    options: _Options,
) -> _Built:
    """Path, signature, key schedule and framing of the commit (section 12.4.1)."""
    suite, rng = state.suite, options.rng
    prepared = _prepare_path(state, effects.tree, options.leaf, rng) if options.path else None
    tree = effects.tree if prepared is None else prepared.tree
    provisional = provisional_context(state.context, tree, effects.extensions)
    update_path = None
    if prepared is not None:
        added = [a.leaf_index for a in effects.adds]
        update_path = encrypt_path_secrets(prepared, provisional.to_bytes(), exclude=added, rng=rng)
    body = Commit(tuple(_proposal_or_ref(p) for p in covered), update_path)
    me = Sender.member(state.own_leaf)
    framed = FramedContent(state.group_id, state.epoch, me, options.authenticated_data, body)
    wf = options.wire_format
    signature = sign_framed_content(suite, wf, framed, state.context_bytes, state.signature_priv)
    step = next_epoch(
        suite,
        provisional,
        state.interim_transcript_hash,
        framed,
        wire_format=wf,
        signature=signature,
        init_secret=state.secrets.init_secret,
        commit_secret=bytes(suite.nh) if prepared is None else prepared.commit_secret,
        psk_secret=resolve_psks(suite, effects.psks, state, options.psks, options.resumption_psks),
    )
    auth = FramedContentAuthData(signature, step.confirmation_tag)
    message, secret_tree = protect(state, AuthenticatedContent(wf, framed, auth), rng=rng)
    keys = state.keys.pruned(tree) if prepared is None else prepared.private
    signature_priv = state.signature_priv
    if options.leaf is not None and options.leaf.signature_priv is not None:
        signature_priv = options.leaf.signature_priv
    next_state = advanced_state(replace(state, secret_tree=secret_tree), step, tree, keys)
    next_state = replace(next_state, signature_priv=signature_priv, reinit=effects.reinit)
    return _Built(message, step, next_state, prepared)


def _finish(
    built: _Built,
    effects: ProposalEffects,
    covered: Sequence[CachedProposal],
    options: _Options,
) -> PendingCommit:
    """The Welcome for new members, the GroupInfo of the new epoch, and the summary."""
    state, prepared = built.next_state, built.prepared
    welcome = None
    if effects.adds:
        info = signed_group_info(
            state, group_info_extensions(state, tree=options.ratchet_tree_extension)
        )
        welcome = build_welcome(
            state.suite,
            built.step.secrets,
            info,
            effects.adds,
            effects.psks,
            path_secret_for=None if prepared is None else prepared.path_secret_for,
            rng=options.rng,
        )
    # No tree here: encoding it is O(N) per commit; mls.group.group_info adds it.
    group_info = signed_group_info(
        state, group_info_extensions(state, tree=False, external_pub=True)
    )
    own = state.tree.leaf(state.own_leaf)
    assert own is not None
    summary = CommitProcessed(
        epoch=state.epoch,
        sender=Sender.member(state.own_leaf),
        sender_leaf=state.own_leaf,
        credential=own.credential,
        proposals=tuple(covered),
        adds=effects.adds,
        removes=effects.removes,
        updates=effects.updates,
        extensions=effects.extensions if effects.extensions_changed else None,
        psks=effects.psks,
        reinit=effects.reinit,
        path_leaf=None if prepared is None else prepared.leaf_node,
        removed_self=False,
        wire_format=options.wire_format,
        authenticated_data=options.authenticated_data,
    )
    welcome_message = None if welcome is None else MLSMessage(welcome)
    return PendingCommit(built.message, welcome_message, group_info, state, summary)


def _gather(
    state: GroupState,
    rules: ProposalRules,
    proposals: Sequence[Proposal],
    include_pending: bool,
) -> list[CachedProposal]:
    """The new proposals, preceded by every cached one that fits with them (section
    12.2 lets a committer leave out proposals; we drop conflicting ones)."""
    sender = Sender.member(state.own_leaf)
    fresh = []
    for proposal in proposals:
        if isinstance(proposal, Update | SelfRemove):
            raise UsageError("Update and SelfRemove are sent with propose(), not committed")
        rules.check_proposal(proposal, sender)
        fresh.append(CachedProposal(proposal, sender))
    if not include_pending:
        return fresh
    fits = _Fits(state.own_leaf)
    for p in fresh:
        fits.admit(p)
    return [p for p in state.proposals if fits.admit(p)] + fresh


class _Fits:
    """Admits proposals while they stay compatible with the ones already admitted."""

    __slots__ = ("add_keys", "gce", "psks", "reinit", "targets")

    def __init__(self, me: int) -> None:
        self.targets: set[int] = {me}  # nothing may touch the committer's leaf
        self.add_keys: set[bytes] = set()
        self.psks: set[tuple[object, ...]] = set()
        self.gce = self.reinit = False

    def admit(self, p: CachedProposal) -> bool:
        prop = p.proposal
        if isinstance(prop, Remove | Update | SelfRemove):
            target = prop.removed if isinstance(prop, Remove) else p.sender.leaf_index
            return target is not None and _claim(self.targets, target)
        if isinstance(prop, Add):
            return _claim(self.add_keys, prop.key_package.leaf_node.signature_key)
        if isinstance(prop, PreSharedKey):
            psk = prop.psk
            return _claim(self.psks, (psk.psktype, psk.psk_id, psk.psk_group_id, psk.psk_epoch))
        if isinstance(prop, GroupContextExtensions):
            seen, self.gce = self.gce, True
            return not seen
        return not isinstance(prop, ReInit)  # a ReInit stands alone: commit it explicitly


def _claim(seen: set[Any], key: object) -> bool:
    if key in seen:
        return False
    seen.add(key)
    return True


def _proposal_or_ref(p: CachedProposal) -> ProposalOrRef:
    if p.ref is None:
        return ProposalOrRef.of_proposal(p.proposal)
    return ProposalOrRef.of_reference(p.ref)


def _prepare_path(
    state: GroupState, tree: RatchetTree, changes: LeafChanges | None, rng: Rng
) -> PreparedPath:
    current = tree.leaf(state.own_leaf)
    assert current is not None
    template = current
    signature_priv = state.signature_priv
    if changes is not None:
        if changes.signature_priv is not None:
            signature_priv = changes.signature_priv
        template = LeafNode(
            current.encryption_key,
            state.suite.signature_public_key(signature_priv),
            changes.credential or current.credential,
            changes.capabilities or current.capabilities,
            LeafNodeSource.COMMIT,
            current.extensions if changes.extensions is None else changes.extensions,
            b"",
            parent_hash=b"",
        )
    return create_update_path(
        tree,
        state.own_leaf,
        group_id=state.group_id,
        signature_private_key=signature_priv,
        leaf_template=template,
        rng=rng,
    )
