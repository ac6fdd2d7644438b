"""Applying a received commit (RFC 9420 section 12.4.2), from a member or an external
joiner. Called by :func:`mls.process.process` once the framing checks passed.

Order of the checks: proposals resolved (references must be in the epoch's cache), the
list rules of section 12.2, each inline proposal, the path requirement, the UpdatePath
(leaf, parent hashes, keys), the key schedule, and last the confirmation tag, which
authenticates the whole new epoch. Nothing is kept unless every check passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from mls.epoch import (
    ExternalPsks,
    ResumptionPsks,
    advanced_state,
    next_epoch,
    provisional_context,
    resolve_psks,
)
from mls.errors import InvalidMessage, MissingProposal, UsageError
from mls.extensions import required_capabilities
from mls.external_init import receive_external_init
from mls.group_events import CommitProcessed
from mls.group_state import GroupState
from mls.messages import (
    AuthenticatedContent,
    Commit,
    GroupContextExtensions,
    Sender,
    SenderType,
    Update,
)
from mls.proposal_effects import ProposalEffects, apply_proposals
from mls.proposals import CachedProposal, ProposalRules, path_required
from mls.transcript import verify_confirmation_tag
from mls.tree import RatchetTree
from mls.tree_private import TreePrivateKeys
from mls.tree_validation import CredentialValidator
from mls.treekem import decrypt_update_path, merge_update_path
from mls.types import LeafIndex


@dataclass(frozen=True, slots=True)
class _Staged:
    """A commit's proposals applied and its path merged: the public part, checked."""

    commit: Commit
    covered: tuple[CachedProposal, ...]
    effects: ProposalEffects
    tree: RatchetTree
    committer: LeafIndex


def process_commit(
    state: GroupState,
    content: AuthenticatedContent,
    rules: ProposalRules,
    *,
    psks: ExternalPsks | None,
    resumption_psks: ResumptionPsks | None,
    validate_credential: CredentialValidator | None,
) -> tuple[CommitProcessed, GroupState]:
    staged = _stage(state, content, rules, validate_credential)
    external = content.content.sender.sender_type == SenderType.NEW_MEMBER_COMMIT
    summary = _summary(state, content, staged, external=external)
    if any(r.leaf_index == state.own_leaf for r in staged.effects.removes):
        return replace(summary, removed_self=True), replace(state, active=False)
    effects, tree = staged.effects, staged.tree
    keys = _own_update_key(state, staged.covered)
    provisional = provisional_context(state.context, tree, effects.extensions)
    if staged.commit.path is not None:
        added = [a.leaf_index for a in effects.adds]
        received = decrypt_update_path(
            tree, keys, staged.committer, staged.commit.path, provisional.to_bytes(), exclude=added
        )
        commit_secret, keys = received.commit_secret, received.private
    else:
        commit_secret, keys = bytes(state.suite.nh), keys.pruned(tree)
    init_secret = state.secrets.init_secret
    if effects.external_init is not None:
        init_secret = receive_external_init(state, effects.external_init)
    step = next_epoch(
        state.suite,
        provisional,
        state.interim_transcript_hash,
        content.content,
        wire_format=content.wire_format,
        signature=content.auth.signature,
        init_secret=init_secret,
        commit_secret=commit_secret,
        psk_secret=resolve_psks(state.suite, effects.psks, state, psks, resumption_psks),
    )
    tag = content.auth.confirmation_tag
    assert tag is not None
    confirmed = step.context.confirmed_transcript_hash
    verify_confirmation_tag(state.suite, step.secrets.confirmation_key, confirmed, tag)
    next_state = advanced_state(state, step, tree, keys)
    return summary, replace(next_state, reinit=effects.reinit)


def _stage(
    state: GroupState,
    content: AuthenticatedContent,
    rules: ProposalRules,
    validate_credential: CredentialValidator | None,
) -> _Staged:
    """Proposal resolution and checks, their effects, and the merged UpdatePath."""
    framed = content.content
    commit = framed.content
    assert isinstance(commit, Commit)
    sender = framed.sender
    external = sender.sender_type == SenderType.NEW_MEMBER_COMMIT
    covered = _resolve(state, commit, sender)
    joiner = commit.path.leaf_node if commit.path is not None else None
    rules.check_list(covered, sender, joiner_leaf=joiner)
    _check_inline(rules, covered, sender)
    effects = apply_proposals(rules, covered)
    if commit.path is None and (external or path_required(covered)):
        raise InvalidMessage("this commit needs an UpdatePath")
    tree, committer = effects.tree, LeafIndex(sender.leaf_index or 0)
    if external:
        tree, committer = tree.reserve_leaf()
    if commit.path is not None:
        tree = merge_update_path(
            tree,
            committer,
            commit.path,
            group_id=state.group_id,
            required_capabilities=required_capabilities(effects.extensions),
            validate_credential=validate_credential,
        )
    return _Staged(commit, tuple(covered), effects, tree, committer)


def _resolve(state: GroupState, commit: Commit, sender: Sender) -> list[CachedProposal]:
    """The commit's proposals in order: references from the cache, inline ones as
    proposals of the committer."""
    cache = {p.ref: p for p in state.proposals}
    out = []
    for item in commit.proposals:
        if item.reference is not None:
            cached = cache.get(item.reference)
            if cached is None:
                raise MissingProposal("the commit references a proposal we do not have")
            out.append(cached)
        else:
            assert item.proposal is not None
            out.append(CachedProposal(item.proposal, sender))
    return out


def _check_inline(rules: ProposalRules, covered: Sequence[CachedProposal], sender: Sender) -> None:
    """Section 12.1 for the inline proposals; Adds meet the capabilities the commit
    itself requires when it also changes the group context extensions."""
    gce = next(
        (p.proposal for p in covered if isinstance(p.proposal, GroupContextExtensions)), None
    )
    for p in covered:
        if p.ref is not None:
            continue  # checked on receipt
        if gce is None:
            rules.check_proposal(p.proposal, sender)
        else:
            rules.check_proposal(p.proposal, sender, required_capabilities(gce.extensions))


def _own_update_key(state: GroupState, covered: Sequence[CachedProposal]) -> TreePrivateKeys:
    """Our keys, with the leaf key of our own Update if the commit applies it."""
    pending = dict(state.pending_updates)
    for p in covered:
        if isinstance(p.proposal, Update) and p.sender.leaf_index == state.own_leaf:
            private = pending.get(p.ref or b"")
            if private is None:
                raise UsageError("the private key of our committed Update is gone")
            return state.keys.with_leaf_key(private)
    return state.keys


def _summary(
    state: GroupState, content: AuthenticatedContent, staged: _Staged, *, external: bool
) -> CommitProcessed:
    framed = content.content
    path = staged.commit.path
    path_leaf = None if path is None else path.leaf_node
    if external:
        assert path_leaf is not None
        credential = path_leaf.credential
    else:
        leaf = state.tree.leaf(staged.committer)
        assert leaf is not None
        credential = leaf.credential
    effects = staged.effects
    return CommitProcessed(
        epoch=state.epoch + 1,
        sender=framed.sender,
        sender_leaf=staged.committer,
        credential=credential,
        proposals=staged.covered,
        adds=effects.adds,
        removes=effects.removes,
        updates=effects.updates,
        extensions=effects.extensions if effects.extensions_changed else None,
        psks=effects.psks,
        reinit=effects.reinit,
        path_leaf=path_leaf,
        removed_self=False,
        wire_format=content.wire_format,
        authenticated_data=framed.authenticated_data,
    )
