"""What a checked proposal list does to the group (RFC 9420 section 12.3).

::

    effects = apply_proposals(rules, proposals)   # ProposalEffects: new tree, extensions,
                                                 # adds, removes, updates, PSKs, ...

Order of section 12.3: the GroupContextExtensions (then the AppDataUpdates of the
extensions draft, on the dictionary it leaves), then Updates, then removals (the
extensions draft puts SelfRemove before Remove; the resulting tree is the same), then
Adds in list order. PSK ids keep their list order, which the PSK secret depends on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mls.app_data import apply_app_data_updates
from mls.errors import InvalidMessage
from mls.messages import (
    Add,
    AppDataUpdate,
    Extension,
    ExternalInit,
    GroupContextExtensions,
    KeyPackage,
    LeafNode,
    PreSharedKey,
    PreSharedKeyID,
    ReInit,
    Remove,
    SelfRemove,
    Update,
)
from mls.proposals import CachedProposal, ProposalRules, target_leaf
from mls.tree import RatchetTree
from mls.types import LeafIndex


@dataclass(frozen=True, slots=True)
class AddedMember:
    leaf_index: LeafIndex
    key_package: KeyPackage


@dataclass(frozen=True, slots=True)
class RemovedMember:
    """A leaf removed by a Remove (``self_remove`` False) or a SelfRemove proposal."""

    leaf_index: LeafIndex
    leaf_node: LeafNode
    self_remove: bool = False


@dataclass(frozen=True, slots=True)
class UpdatedMember:
    leaf_index: LeafIndex
    old: LeafNode
    new: LeafNode


@dataclass(frozen=True, slots=True)
class ProposalEffects:
    """What a proposal list does (section 12.3), before any UpdatePath is merged."""

    tree: RatchetTree
    extensions: tuple[Extension, ...]
    extensions_changed: bool
    adds: tuple[AddedMember, ...]
    removes: tuple[RemovedMember, ...]
    updates: tuple[UpdatedMember, ...]
    psks: tuple[PreSharedKeyID, ...]
    external_init: ExternalInit | None
    reinit: ReInit | None


@dataclass(slots=True)
class _Collected:
    extensions: tuple[Extension, ...]
    changed: bool = False
    external_init: ExternalInit | None = None
    reinit: ReInit | None = None


def apply_proposals(rules: ProposalRules, proposals: Sequence[CachedProposal]) -> ProposalEffects:
    """Apply a list that passed :meth:`ProposalRules.check_list` to ``rules.tree``."""
    tree = rules.tree
    found = _Collected(rules.context.extensions)
    updates: list[UpdatedMember] = []
    removes: list[RemovedMember] = []
    adds: list[KeyPackage] = []
    psks: list[PreSharedKeyID] = []
    app_data: list[AppDataUpdate] = []
    for p in proposals:
        prop = p.proposal
        if isinstance(prop, Update | Remove | SelfRemove):
            i = LeafIndex(target_leaf(p) or 0)
            if isinstance(prop, Update):
                updates.append(UpdatedMember(i, _leaf(tree, i), prop.leaf_node))
            else:
                removes.append(RemovedMember(i, _leaf(tree, i), isinstance(prop, SelfRemove)))
        elif isinstance(prop, Add):
            adds.append(prop.key_package)
        elif isinstance(prop, PreSharedKey):
            psks.append(prop.psk)
        elif isinstance(prop, AppDataUpdate):
            app_data.append(prop)
        else:
            _collect(found, prop)
    if app_data:  # after the GroupContextExtensions (the extensions draft, section 4.7)
        found.extensions = apply_app_data_updates(found.extensions, app_data)
        found.changed = True
    removes.sort(key=lambda r: not r.self_remove)
    new_tree, added = tree.apply(
        updates=[(u.leaf_index, u.new) for u in updates],
        removes=[r.leaf_index for r in removes],
        adds=[kp.leaf_node for kp in adds],
    )
    if found.changed:  # the new extensions must suit every member, added or updated too
        rules.check_extensions(found.extensions, new_tree)
    return ProposalEffects(
        new_tree,
        found.extensions,
        found.changed,
        tuple(AddedMember(i, kp) for i, kp in zip(added, adds, strict=True)),
        tuple(removes),
        tuple(updates),
        tuple(psks),
        found.external_init,
        found.reinit,
    )


def _collect(found: _Collected, prop: object) -> None:
    if isinstance(prop, GroupContextExtensions):
        found.extensions, found.changed = tuple(prop.extensions), True
    elif isinstance(prop, ExternalInit):
        found.external_init = prop
    elif isinstance(prop, ReInit):
        found.reinit = prop


def _leaf(tree: RatchetTree, i: LeafIndex) -> LeafNode:
    leaf = tree.leaf(i) if 0 <= i < tree.leaf_count else None
    if leaf is None:
        raise InvalidMessage(f"leaf {i} is not a member")
    return leaf
