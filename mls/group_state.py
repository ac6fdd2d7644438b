"""The immutable state of one member in one group (RFC 9420 sections 8, 9, 12).

A :class:`GroupState` is a value: every operation in :mod:`mls.group` returns a new one
and leaves its input untouched, so a caller can keep the old state to fall back to
(architecture "stage, then merge"). The only mutable parts inside are the secret trees,
whose ratchets move as messages are read or written; they are copied before any change
(copy on write), so states that share one are never disturbed.

Besides the current epoch a state keeps up to ``max_past_epochs`` :class:`PastEpoch`
values: enough to read late application messages and to export secrets of those epochs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from mls.crypto import Suite
from mls.errors import UsageError
from mls.key_schedule import EpochSecrets, mls_exporter
from mls.messages import Credential, Extension, GroupContext, LeafNode, ReInit, WireFormat
from mls.proposals import CachedProposal
from mls.secret_tree import (
    DEFAULT_MAXIMUM_FORWARD_DISTANCE,
    DEFAULT_OUT_OF_ORDER_TOLERANCE,
    SecretTree,
)
from mls.tree import RatchetTree
from mls.tree_private import TreePrivateKeys
from mls.types import LeafCount, LeafIndex


@dataclass(frozen=True, slots=True)
class GroupConfig:
    """Local policy of a group; Marmot's (MDK's) values are the defaults."""

    out_of_order_tolerance: int = DEFAULT_OUT_OF_ORDER_TOLERANCE
    maximum_forward_distance: int = DEFAULT_MAXIMUM_FORWARD_DISTANCE
    max_past_epochs: int = 5
    padding: int = 0
    """Zero bytes appended to every PrivateMessage plaintext."""
    ratchet_tree_extension: bool = True
    """Put the ratchet tree in every Welcome's GroupInfo."""
    handshake_wire_format: WireFormat = WireFormat.PRIVATE_MESSAGE
    """How our proposals and commits go out; both formats are always accepted (MIXED)."""
    clock_skew: int = 300

    def __post_init__(self) -> None:
        if self.max_past_epochs < 0 or self.padding < 0 or self.clock_skew < 0:
            raise UsageError("group config values must not be negative")
        if self.handshake_wire_format not in (
            WireFormat.PUBLIC_MESSAGE,
            WireFormat.PRIVATE_MESSAGE,
        ):
            raise UsageError("handshakes go out as PublicMessage or PrivateMessage")

    def new_secret_tree(self, suite: Suite, encryption_secret: bytes, n_leaves: int) -> SecretTree:
        return SecretTree(
            suite,
            encryption_secret,
            n_leaves,
            out_of_order_tolerance=self.out_of_order_tolerance,
            maximum_forward_distance=self.maximum_forward_distance,
        )


class LeafSource(Protocol):
    """Read access to the leaves of an epoch: a RatchetTree, or a restored past view."""

    @property
    def leaf_count(self) -> LeafCount: ...

    def leaf(self, i: LeafIndex) -> LeafNode | None: ...


@dataclass(frozen=True, slots=True)
class PastEpoch:
    """What an earlier epoch keeps: reading its application messages and exporting."""

    epoch: int
    group_context: bytes
    leaves: LeafSource
    secret_tree: SecretTree = field(repr=False)
    sender_data_secret: bytes = field(repr=False)
    exporter_secret: bytes = field(repr=False)
    resumption_psk: bytes = field(repr=False)
    epoch_authenticator: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Member:
    """One member as the application sees it."""

    leaf_index: LeafIndex
    credential: Credential
    signature_key: bytes
    leaf_node: LeafNode = field(repr=False)


@dataclass(frozen=True, slots=True, eq=False)
class GroupState:
    """One member's view of a group at one epoch; see the module docstring.

    Build with :func:`mls.group.create_group`, :func:`mls.group.join_from_welcome`,
    :func:`mls.group.join_by_external_commit` or :func:`mls.snapshot.load_group`.
    """

    suite: Suite
    context: GroupContext
    context_bytes: bytes = field(repr=False)
    tree: RatchetTree = field(repr=False)
    interim_transcript_hash: bytes = field(repr=False)
    confirmation_tag: bytes = field(repr=False)
    secrets: EpochSecrets = field(repr=False)
    secret_tree: SecretTree = field(repr=False)
    keys: TreePrivateKeys = field(repr=False)
    signature_priv: bytes = field(repr=False)
    config: GroupConfig = field(default_factory=GroupConfig, repr=False)
    proposals: tuple[CachedProposal, ...] = field(default=(), repr=False)
    pending_updates: tuple[tuple[bytes, bytes], ...] = field(default=(), repr=False)
    """(ProposalRef, new leaf private key) of our own Update proposals of this epoch."""
    past_epochs: tuple[PastEpoch, ...] = field(default=(), repr=False)
    """Newest first."""
    active: bool = True
    """False once a commit removed us: only past epochs remain usable."""
    reinit: ReInit | None = field(default=None, repr=False)
    """Set once a ReInit was committed: the group takes no more messages."""

    @classmethod
    def start(
        cls,
        suite: Suite,
        context: GroupContext,
        tree: RatchetTree,
        *,
        interim_transcript_hash: bytes,
        confirmation_tag: bytes,
        secrets: EpochSecrets,
        keys: TreePrivateKeys,
        signature_priv: bytes,
        config: GroupConfig,
    ) -> GroupState:
        """A state entering ``context``'s epoch with nothing retained from before
        (a new group, or a member that just joined)."""
        return cls(
            suite=suite,
            context=context,
            context_bytes=context.to_bytes(),
            tree=tree,
            interim_transcript_hash=interim_transcript_hash,
            confirmation_tag=confirmation_tag,
            secrets=secrets,
            secret_tree=config.new_secret_tree(suite, secrets.encryption_secret, tree.leaf_count),
            keys=keys,
            signature_priv=signature_priv,
            config=config,
        )

    def __repr__(self) -> str:
        return (
            f"GroupState(group_id={self.group_id.hex()}, epoch={self.epoch}, "
            f"members={self.tree.member_count}, own_leaf={self.own_leaf}, active={self.active})"
        )

    # -- identity of the group and epoch --
    @property
    def group_id(self) -> bytes:
        return self.context.group_id

    @property
    def epoch(self) -> int:
        return self.context.epoch

    @property
    def cipher_suite(self) -> int:
        return self.context.cipher_suite

    @property
    def extensions(self) -> tuple[Extension, ...]:
        """The GroupContext extensions, unknown ones included byte for byte."""
        return self.context.extensions

    @property
    def tree_hash(self) -> bytes:
        return self.context.tree_hash

    @property
    def epoch_authenticator(self) -> bytes:
        return self.secrets.epoch_authenticator

    @property
    def own_leaf(self) -> LeafIndex:
        return self.keys.leaf_index

    @property
    def signature_public_key(self) -> bytes:
        return self.suite.signature_public_key(self.signature_priv)

    # -- members --
    def members(self) -> Iterator[Member]:
        for i, leaf in self.tree.members():
            yield Member(i, leaf.credential, leaf.signature_key, leaf)

    def member(self, leaf_index: int) -> Member | None:
        if not 0 <= leaf_index < self.tree.leaf_count:
            return None
        leaf = self.tree.leaf(LeafIndex(leaf_index))
        if leaf is None:
            return None
        return Member(LeafIndex(leaf_index), leaf.credential, leaf.signature_key, leaf)

    # -- secrets for the application --
    def export(self, label: str, context: bytes, length: int) -> bytes:
        """MLS-Exporter of the current epoch (section 8.5)."""
        return mls_exporter(self.suite, self.secrets.exporter_secret, label, context, length)

    def export_at(self, epoch: int, label: str, context: bytes, length: int) -> bytes:
        """MLS-Exporter of the current epoch or of a retained past one."""
        if epoch == self.epoch:
            return self.export(label, context, length)
        past = self.past_epoch(epoch)
        if past is None:
            raise UsageError(f"epoch {epoch} is not retained")
        return mls_exporter(self.suite, past.exporter_secret, label, context, length)

    def retained_epochs(self) -> tuple[int, ...]:
        """The current epoch, then every retained past epoch, newest first."""
        return (self.epoch, *(p.epoch for p in self.past_epochs))

    def past_epoch(self, epoch: int) -> PastEpoch | None:
        return next((p for p in self.past_epochs if p.epoch == epoch), None)

    def resumption_psk(self, epoch: int) -> bytes | None:
        """The resumption PSK of this or a retained epoch of this group."""
        if epoch == self.epoch:
            return self.secrets.resumption_psk
        past = self.past_epoch(epoch)
        return None if past is None else past.resumption_psk

    # -- derived states (used by mls.group internals) --
    def as_past_epoch(self) -> PastEpoch:
        s = self.secrets
        return PastEpoch(
            self.epoch,
            self.context_bytes,
            self.tree,
            self.secret_tree,
            s.sender_data_secret,
            s.exporter_secret,
            s.resumption_psk,
            s.epoch_authenticator,
        )

    def require_active(self) -> None:
        if not self.active:
            raise UsageError("we are no longer a member of this group")
        if self.reinit is not None:
            raise UsageError("the group was reinitialized; use the new group")
