"""Proposals (RFC 9420 section 12.1): validity of each, of a commit's list (12.2), and
their effect on the group (12.3).

API::

    CachedProposal(proposal, sender, ref)             # a proposal and who sent it
    ProposalRules(suite, tree, context, now, psk_known, ...)
    rules.check_proposal(proposal, sender)            # section 12.1, one proposal
    rules.check_list(proposals, committer, joiner_leaf=None)   # section 12.2
    apply_proposals(rules, proposals) -> ProposalEffects   # mls.proposal_effects (12.3)
    path_required(proposals) -> bool

Proposals received on their own are checked once, on receipt, and kept in the epoch's
proposal cache; a commit's by-value proposals are checked when the commit is. List rules
always run. SelfRemove (MLS extensions draft, 0x000A) removes its own sender, is only
ever committed by reference, and is never the committer's own.
Every rejection raises :class:`~mls.errors.InvalidMessage` (or ``UnsupportedError`` for a
proposal type we do not implement).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mls.app_data import check_app_data_updates
from mls.crypto import Suite
from mls.errors import InvalidMessage, UnsupportedError
from mls.extensions import check_extension_list, required_capabilities
from mls.key_package import DEFAULT_CLOCK_SKEW, validate_key_package
from mls.messages import (
    DEFAULT_EXTENSION_TYPES,
    DEFAULT_PROPOSAL_TYPES,
    Add,
    Extension,
    ExternalInit,
    GroupContext,
    GroupContextExtensions,
    KeyPackage,
    LeafNode,
    LeafNodeSource,
    PreSharedKey,
    PreSharedKeyID,
    Proposal,
    ProposalType,
    PSKType,
    ReInit,
    Remove,
    RequiredCapabilities,
    ResumptionPSKUsage,
    SelfRemove,
    Sender,
    SenderType,
    UnknownProposal,
    Update,
)
from mls.tree import RatchetTree
from mls.tree_validation import CredentialValidator, validate_leaf_node
from mls.types import LeafIndex

# Section 12.4: a commit covering only these may omit the path (SelfRemove needs one).
# OpenMLS (draft-08 and the draft-10 fork) lets an AppDataUpdate go without one too.
_PATH_OPTIONAL = frozenset(
    (ProposalType.ADD, ProposalType.PSK, ProposalType.REINIT, ProposalType.APP_DATA_UPDATE)
)

# Section 12.1.8 and the extensions draft: what each non-member sender may propose.
_SENDER_MAY_PROPOSE: dict[SenderType, frozenset[int]] = {
    SenderType.EXTERNAL: frozenset(
        (
            ProposalType.ADD,
            ProposalType.REMOVE,
            ProposalType.PSK,
            ProposalType.REINIT,
            ProposalType.GROUP_CONTEXT_EXTENSIONS,
        )
    ),
    SenderType.NEW_MEMBER_PROPOSAL: frozenset((ProposalType.ADD,)),
    SenderType.NEW_MEMBER_COMMIT: frozenset(
        (ProposalType.EXTERNAL_INIT, ProposalType.REMOVE, ProposalType.PSK)
    ),
}

PskKnown = Callable[[PreSharedKeyID], bool]


class _Current:
    """Sentinel type: "the group's current required capabilities"."""


_CURRENT = _Current()


@dataclass(frozen=True, slots=True)
class CachedProposal:
    """A proposal with its sender; ``ref`` is its ProposalRef when it was sent on its
    own (and so may be committed by reference), None for a commit's inline proposals."""

    proposal: Proposal
    sender: Sender
    ref: bytes | None = None


def path_required(proposals: Sequence[CachedProposal]) -> bool:
    """Section 12.4: an empty commit, or one with any "path required" type, needs a path."""
    return not proposals or any(p.proposal.proposal_type not in _PATH_OPTIONAL for p in proposals)


def _psk_key(psk: PreSharedKeyID) -> tuple[object, ...]:
    """A PSK's identity without its nonce: two proposals for the same key collide."""
    return (psk.psktype, psk.psk_id, psk.usage, psk.psk_group_id, psk.psk_epoch)


class ProposalRules:
    """Proposal checks and effects against one epoch's tree and GroupContext."""

    __slots__ = (
        "_validate_credential",
        "clock_skew",
        "context",
        "now",
        "psk_known",
        "suite",
        "tree",
    )

    def __init__(
        self,
        suite: Suite,
        tree: RatchetTree,
        context: GroupContext,
        *,
        now: int | None,
        psk_known: PskKnown,
        clock_skew: int = DEFAULT_CLOCK_SKEW,
        validate_credential: CredentialValidator | None = None,
    ) -> None:
        self.suite, self.tree, self.context = suite, tree, context
        self.now, self.psk_known, self.clock_skew = now, psk_known, clock_skew
        self._validate_credential = validate_credential

    # -- section 12.1: one proposal --
    def check_proposal(
        self,
        proposal: Proposal,
        sender: Sender,
        required: RequiredCapabilities | _Current | None = _CURRENT,
    ) -> None:
        """Everything that makes ``proposal`` from ``sender`` valid on its own. An Add is
        checked against ``required`` capabilities: by default the group's, in a commit
        that also changes them the new ones."""
        kind = proposal.proposal_type
        allowed = _SENDER_MAY_PROPOSE.get(sender.sender_type)
        if allowed is not None and kind not in allowed:
            raise InvalidMessage(f"a {sender.sender_type.name} sender may not propose {kind:#06x}")
        if isinstance(proposal, Add):
            if isinstance(required, _Current):
                required = required_capabilities(self.context.extensions)
            self.check_add(proposal.key_package, required)
        elif isinstance(proposal, Update):
            self._check_update(proposal.leaf_node, self._member_leaf(sender))
        elif isinstance(proposal, Remove):
            self._check_member(LeafIndex(proposal.removed), "Remove")
        elif isinstance(proposal, SelfRemove):
            self._member_leaf(sender)
        elif isinstance(proposal, PreSharedKey):
            self._check_psk(proposal.psk)
        elif isinstance(proposal, ReInit):
            if proposal.version < self.context.version:
                raise InvalidMessage("ReInit may not lower the protocol version")
        elif isinstance(proposal, GroupContextExtensions):
            self.check_extensions(proposal.extensions, self.tree)
        elif isinstance(proposal, UnknownProposal):
            raise UnsupportedError(f"proposal type {kind:#06x} is not supported")
        elif isinstance(proposal, ExternalInit) and sender.sender_type == SenderType.MEMBER:
            raise InvalidMessage("ExternalInit is only proposed by an external committer")

    def check_add(self, key_package: KeyPackage, required: RequiredCapabilities | None) -> None:
        """Section 12.1.1: a valid KeyPackage of our suite whose leaf may join."""
        validate_key_package(
            key_package,
            now=self.now,
            cipher_suite=self.context.cipher_suite,
            clock_skew=self.clock_skew,
            check_leaf=False,  # validate_leaf_node below checks the leaf
        )
        if key_package.version != self.context.version:
            raise InvalidMessage("KeyPackage version differs from the group's")
        validate_leaf_node(
            self.tree,
            key_package.leaf_node,
            source=LeafNodeSource.KEY_PACKAGE,
            group_id=self.context.group_id,
            required_capabilities=required,
            validate_credential=self._validate_credential,
        )

    def _check_update(self, leaf: LeafNode, leaf_index: LeafIndex) -> None:
        validate_leaf_node(
            self.tree,
            leaf,
            source=LeafNodeSource.UPDATE,
            group_id=self.context.group_id,
            leaf_index=leaf_index,
            required_capabilities=required_capabilities(self.context.extensions),
            validate_credential=self._validate_credential,
        )

    def _member_leaf(self, sender: Sender) -> LeafIndex:
        if sender.sender_type != SenderType.MEMBER or sender.leaf_index is None:
            raise InvalidMessage("only a member may send this proposal")
        leaf = LeafIndex(sender.leaf_index)
        self._check_member(leaf, "sender")
        return leaf

    def _check_member(self, leaf: LeafIndex, what: str) -> None:
        if not 0 <= leaf < self.tree.leaf_count or self.tree.leaf(leaf) is None:
            raise InvalidMessage(f"{what} leaf {leaf} is not a member")

    def _check_psk(self, psk: PreSharedKeyID) -> None:
        if len(psk.psk_nonce) != self.suite.nh:
            raise InvalidMessage("psk_nonce must be Nh bytes long")
        if psk.psktype == PSKType.RESUMPTION and psk.usage != ResumptionPSKUsage.APPLICATION:
            raise InvalidMessage(
                "a PreSharedKey proposal may only use an application resumption PSK"
            )
        if not self.psk_known(psk):
            raise InvalidMessage("the proposed PSK is not known")

    def check_extensions(self, extensions: Sequence[Extension], tree: RatchetTree) -> None:
        """Section 12.1.7: every member must support every extension and requirement
        (the tree counts the members listing each type: no walk over the members)."""
        check_extension_list(extensions)
        everyone = tree.member_count
        wanted = {e.extension_type for e in extensions} - DEFAULT_EXTENSION_TYPES
        if any(tree.extension_support(t) != everyone for t in wanted):
            raise InvalidMessage("a member does not support the group context extensions")
        required = required_capabilities(extensions)
        if required is None:
            return
        counts = [
            *map(tree.extension_support, set(required.extension_types) - DEFAULT_EXTENSION_TYPES),
            *map(tree.proposal_support, set(required.proposal_types) - DEFAULT_PROPOSAL_TYPES),
            *map(tree.credential_support, required.credential_types),
        ]
        if any(count != everyone for count in counts):
            raise InvalidMessage("a member lacks the required capabilities")

    # -- section 12.2: the list of a commit --
    def check_list(
        self,
        proposals: Sequence[CachedProposal],
        committer: Sender,
        *,
        joiner_leaf: LeafNode | None = None,
    ) -> None:
        """The list rules for a member's commit, or for an external commit
        (``committer`` of type new_member_commit, whose path leaf is ``joiner_leaf``)."""
        if committer.sender_type == SenderType.NEW_MEMBER_COMMIT:
            self._check_external_list(proposals, joiner_leaf)
        elif committer.sender_type == SenderType.MEMBER and committer.leaf_index is not None:
            self._check_member_list(proposals, LeafIndex(committer.leaf_index))
        else:
            raise InvalidMessage(f"a {committer.sender_type.name} sender may not commit")
        self._check_common(proposals)
        self._check_proposal_support(proposals)

    def _check_member_list(self, proposals: Sequence[CachedProposal], committer: LeafIndex) -> None:
        for p in proposals:
            prop = p.proposal
            if isinstance(prop, ExternalInit):
                raise InvalidMessage("ExternalInit is only allowed in an external commit")
            if isinstance(prop, Update | SelfRemove) and p.sender.leaf_index == committer:
                raise InvalidMessage("a committer may not commit its own Update or SelfRemove")
            if isinstance(prop, Remove) and prop.removed == committer:
                raise InvalidMessage("a commit may not remove its committer")
            if isinstance(prop, SelfRemove | Update) and p.ref is None:
                raise InvalidMessage(
                    "Update and SelfRemove proposals are only committed by reference"
                )
        if any(isinstance(p.proposal, ReInit) for p in proposals) and len(proposals) > 1:
            raise InvalidMessage("a ReInit must be the only proposal of its commit")

    def _check_external_list(
        self, proposals: Sequence[CachedProposal], joiner_leaf: LeafNode | None
    ) -> None:
        inits = [p for p in proposals if isinstance(p.proposal, ExternalInit)]
        if len(inits) != 1:
            raise InvalidMessage("an external commit carries exactly one ExternalInit")
        removes = [p.proposal for p in proposals if isinstance(p.proposal, Remove)]
        if len(removes) > 1:
            raise InvalidMessage("an external commit removes at most one leaf")
        for p in proposals:
            if isinstance(p.proposal, SelfRemove) and p.ref is not None:
                continue  # pending SelfRemoves, by reference (MLS extensions draft)
            if (
                not isinstance(p.proposal, ExternalInit | Remove | PreSharedKey)
                or p.ref is not None
            ):
                raise InvalidMessage("an external commit may only carry ExternalInit, Remove, PSK")
        if removes:
            # A resync: the joiner may only replace a leaf of its own (same credential).
            old = (
                self.tree.leaf(LeafIndex(removes[0].removed))
                if removes[0].removed < self.tree.leaf_count
                else None
            )
            if old is None or joiner_leaf is None or old.credential != joiner_leaf.credential:
                raise InvalidMessage("an external commit may only remove the joiner's old leaf")

    def _check_common(self, proposals: Sequence[CachedProposal]) -> None:
        """Rules shared by both kinds of commit: one change per leaf, distinct Adds and
        PSKs, at most one GroupContextExtensions."""
        touched: set[int] = set()
        add_keys: set[bytes] = set()
        psks: set[tuple[object, ...]] = set()
        gce = 0
        for p in proposals:
            prop = p.proposal
            target = target_leaf(p)
            if target is not None:
                if target in touched:
                    raise InvalidMessage(f"two proposals change leaf {target}")
                touched.add(target)
            elif isinstance(prop, Add):
                key = prop.key_package.leaf_node.signature_key
                if key in add_keys:
                    raise InvalidMessage("two Add proposals for the same client")
                add_keys.add(key)
            elif isinstance(prop, PreSharedKey):
                if _psk_key(prop.psk) in psks:
                    raise InvalidMessage("the same PSK is proposed twice")
                psks.add(_psk_key(prop.psk))
            elif isinstance(prop, GroupContextExtensions):
                gce += 1
        if gce > 1:
            raise InvalidMessage("more than one GroupContextExtensions proposal")
        check_app_data_updates([p.proposal for p in proposals], self.context.extensions)

    def _check_proposal_support(self, proposals: Sequence[CachedProposal]) -> None:
        """Non-default proposal types must be supported by every member that stays:
        the members listing a type, less those leaving, are all who stay."""
        types = {p.proposal.proposal_type for p in proposals} - DEFAULT_PROPOSAL_TYPES
        if not types:
            return
        tree = self.tree
        targets = {target_leaf(p) for p in proposals if isinstance(p.proposal, Remove | SelfRemove)}
        leaving = [
            leaf
            for i in targets
            if i is not None and 0 <= i < tree.leaf_count and (leaf := tree.leaf(LeafIndex(i)))
        ]
        staying = tree.member_count - len(leaving)
        for t in types:
            listed = sum(1 for leaf in leaving if t in leaf.capabilities.proposals)
            if tree.proposal_support(t) - listed != staying:
                raise InvalidMessage(f"a member does not support proposal type {t:#06x}")


def target_leaf(p: CachedProposal) -> int | None:
    """The leaf an Update, Remove or SelfRemove changes."""
    prop = p.proposal
    if isinstance(prop, Remove):
        return prop.removed
    if isinstance(prop, Update | SelfRemove):
        return p.sender.leaf_index
    return None
