"""The Marmot group as one immutable value, and how a group starts: creation and joining.

:class:`MarmotGroup` wraps an ``mls`` :class:`~mls.group.GroupState` together with its
decoded ``marmot_group_data``; every operation returns a new value and leaves the old
one usable, so the application can keep earlier states for commit races (MIP-03
section 5.7) and persist whichever it adopts (:meth:`MarmotGroup.to_bytes`).

::

    created = create_group(alice, GroupConfig(name=..., admins=[...], relays=[...]),
                           invitees=[parsed_key_package, ...], now=now)
    created.group                    # epoch 1 (creation commit merged locally, never sent)
    created.welcomes                 # one WelcomeRumor per invitee: wrap and send
    pending = join_group(invite, key_package_bundle)   # from a parsed Welcome rumor
    group = pending.group            # accept; to decline, drop it

Outgoing operations live in :mod:`marmot.operations`, incoming events in
:mod:`marmot.inbound`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from marmot.errors import AlreadyInGroup, InvalidGroupData, InvalidWelcome, UsageError
from marmot.group_data import (
    EXTENSION_TYPE,
    NostrGroupData,
    group_context_extensions,
    new_mls_group_id,
    validate_group_members,
)
from marmot.group_event import EXPORTER_CONTEXT as GROUP_EVENT_CONTEXT
from marmot.group_event import EXPORTER_LABEL
from marmot.key_package_event import CIPHER_SUITE, MarmotKeyPackage, marmot_capabilities
from marmot.media import EXPORTER_CONTEXT as MEDIA_CONTEXT
from marmot.welcome import WelcomeInvite, welcome_rumors
from marmot.welcome import WelcomeRumor as WelcomeRumor  # noqa: PLC0414 (re-exported)
from mls.errors import InvalidMessage, MlsError
from mls.extensions import required_capabilities as find_required_capabilities
from mls.group import GroupState, add_members, join_from_welcome
from mls.group import create_group as mls_create_group
from mls.group_state import LeafSource
from mls.key_package import KeyPackageBundle
from mls.messages import (
    Credential,
    CredentialType,
    Extension,
    KeyPackage,
    LeafNode,
    LeafNodeSource,
    ProposalType,
    RequiredCapabilities,
)
from mls.snapshot import dump_group, load_group
from mls.types import LeafIndex
from nostr.keys import PublicKey, Rng, system_rng
from nostr.relay_url import normalize_relay_url

SNAPSHOT_VERSION = 1
KEY_PACKAGE = LeafNodeSource.KEY_PACKAGE


def validate_marmot_credential(credential: Credential, signature_key: bytes) -> None:
    """Every leaf is a BasicCredential holding a raw 32-byte Nostr key (MIP-00)."""
    if credential.credential_type != CredentialType.BASIC or len(credential.identity) != 32:
        raise InvalidMessage("a Marmot credential is a BasicCredential of 32 bytes")


@dataclass(frozen=True, slots=True)
class MarmotGroup:
    """One member's view of a Marmot group at one epoch (see the module docstring)."""

    state: GroupState = field(repr=False)
    data: NostrGroupData

    @classmethod
    def of(cls, state: GroupState) -> MarmotGroup:
        """Wrap an MLS state; its GroupContext must carry valid ``marmot_group_data``."""
        return cls(state, NostrGroupData.from_extensions(state.extensions))

    # -- identity ----------------------------------------------------------------------
    @property
    def mls_group_id(self) -> bytes:
        return self.state.group_id

    @property
    def nostr_group_id(self) -> bytes:
        return self.data.nostr_group_id

    @property
    def epoch(self) -> int:
        return self.state.epoch

    @property
    def active(self) -> bool:
        return self.state.active

    @property
    def own_leaf(self) -> int:
        return self.state.own_leaf

    @property
    def identity(self) -> bytes:
        """Our raw 32-byte Nostr public key, as our leaf's credential holds it."""
        member = self.state.member(self.state.own_leaf)
        assert member is not None
        return member.credential.identity

    @property
    def is_admin(self) -> bool:
        return self.identity in self.data.admins

    # -- members -----------------------------------------------------------------------
    def members(self) -> dict[int, bytes]:
        """Leaf index -> identity of every member."""
        return {int(m.leaf_index): m.credential.identity for m in self.state.members()}

    def leaves_of(self, identity: bytes) -> list[int]:
        """Every leaf held by ``identity`` (one per device)."""
        return [leaf for leaf, ident in self.members().items() if ident == identity]

    @property
    def other_device_leaves(self) -> list[int]:
        """The leaves of our identity other than ours: our other devices."""
        return [leaf for leaf in self.leaves_of(self.identity) if leaf != self.own_leaf]

    def leaf_of_key_package(self, key_package: MarmotKeyPackage) -> int | None:
        """The leaf that came from this KeyPackage, while that leaf still carries its
        keys (a member's self-update replaces them), else ``None``."""
        new = key_package.key_package.leaf_node
        signature_key, encryption_key = new.signature_key, new.encryption_key
        for member in self.state.members():
            leaf = member.leaf_node
            if leaf.signature_key == signature_key or leaf.encryption_key == encryption_key:
                return int(member.leaf_index)
        return None

    def identity_of(self, leaf: int) -> bytes | None:
        member = self.state.member(leaf)
        return None if member is None else member.credential.identity

    def leaf_kept_since(self, leaf: int, epoch: int) -> bool:
        """Whether the device at ``leaf`` in ``epoch`` (a retained one) still holds it:
        the leaf was never emptied and never refilled from a new KeyPackage since.

        A removed member or device keeps the secrets of the epochs it saw; its late
        messages in them must not count, even when another device of the same identity
        took its leaf index. Its own updates keep a leaf; only an Add sets a leaf's
        source back to ``key_package``.
        """
        state = self.state
        past = [p for p in reversed(state.past_epochs) if p.epoch >= epoch]
        if epoch != state.epoch and (not past or past[0].epoch != epoch):
            return False  # not retained
        views: list[LeafSource] = [p.leaves for p in past]
        views.append(state.tree)
        before = _leaf_at(views[0], leaf)
        for view in views[1:]:
            node = _leaf_at(view, leaf)
            if node is None or (node != before and node.leaf_node_source == KEY_PACKAGE):
                return False
            before = node
        return before is not None

    @property
    def required_capabilities(self) -> RequiredCapabilities | None:
        return find_required_capabilities(self.state.extensions)

    @property
    def self_remove_enabled(self) -> bool:
        """Whether members leave with SelfRemove (else with a legacy Remove(self))."""
        required = self.required_capabilities
        return required is not None and ProposalType.SELF_REMOVE in required.proposal_types

    # -- keys --------------------------------------------------------------------------
    def group_event_key(self, epoch: int | None = None) -> bytes:
        """``MLS-Exporter("marmot", "group-event", 32)`` of this or a retained epoch."""
        at = self.epoch if epoch is None else epoch
        return self.state.export_at(at, EXPORTER_LABEL, GROUP_EVENT_CONTEXT, 32)

    def group_event_keys(self) -> Iterator[tuple[int, bytes]]:
        """``(epoch, key)`` for the current and retained past epochs, newest first.

        Lazy: trial decryption usually stops at the first (current) key.
        """
        return ((e, self.group_event_key(e)) for e in self.state.retained_epochs())

    def media_exporter(self, epoch: int | None = None) -> bytes:
        """``MLS-Exporter("marmot", "encrypted-media", 32)``: the MIP-04 key material.

        Keep it per epoch for as long as that epoch's media should stay readable.
        """
        at = self.epoch if epoch is None else epoch
        return self.state.export_at(at, EXPORTER_LABEL, MEDIA_CONTEXT, 32)

    # -- persistence -------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """A versioned blob of the whole state, private keys included: store encrypted."""
        return bytes((SNAPSHOT_VERSION,)) + dump_group(self.state)

    @classmethod
    def from_bytes(cls, blob: bytes) -> MarmotGroup:
        if not blob or blob[0] != SNAPSHOT_VERSION:
            raise UsageError("unknown Marmot group snapshot version")
        try:
            return cls.of(load_group(blob[1:]))
        except MlsError as exc:
            raise UsageError(f"corrupt group snapshot: {exc}") from None

    def with_state(self, state: GroupState) -> MarmotGroup:
        """This group at another MLS state; the group data is decoded again only when the
        GroupContext extensions changed (not for every message sent)."""
        if state.extensions == self.state.extensions:
            return MarmotGroup(state, self.data)
        return MarmotGroup.of(state)


def _leaf_at(view: LeafSource, leaf: int) -> LeafNode | None:
    return view.leaf(LeafIndex(leaf)) if 0 <= leaf < view.leaf_count else None


def extensions_with(extensions: Iterable[Extension], data: NostrGroupData) -> tuple[Extension, ...]:
    """``extensions`` with the 0xF2EE entry replaced by ``data`` (order kept)."""
    out = []
    found = False
    for ext in extensions:
        if ext.extension_type == EXTENSION_TYPE:
            out.append(data.to_extension())
            found = True
        else:
            out.append(ext)
    if not found:
        raise InvalidGroupData("the group has no marmot_group_data extension")
    return tuple(out)


# --- creation -----------------------------------------------------------------------------


def check_new_leaves(group: MarmotGroup | None, key_packages: Sequence[MarmotKeyPackage]) -> None:
    """Each KeyPackage adds a new leaf: none is given twice (by reference or signature
    key) and none is already a leaf of ``group``. Raises :class:`AlreadyInGroup`."""
    refs: set[bytes] = set()
    signature_keys: set[bytes] = set()
    for kp in key_packages:
        signature_key = kp.key_package.leaf_node.signature_key
        if kp.ref in refs or signature_key in signature_keys:
            raise AlreadyInGroup(f"KeyPackage {kp.event_id} is given twice", event_id=kp.event_id)
        refs.add(kp.ref)
        signature_keys.add(signature_key)
        held = None if group is None else group.leaf_of_key_package(kp)
        if held is not None:
            raise AlreadyInGroup(
                f"KeyPackage {kp.event_id} is already leaf {held} of this group",
                event_id=kp.event_id,
            )


@dataclass(frozen=True, slots=True)
class GroupConfig:
    """What the creator chooses (MDK ``NostrGroupConfigData``)."""

    name: str
    relays: tuple[str, ...]
    admins: tuple[bytes, ...] = ()
    """Raw 32-byte keys; the creator is added. Other admins must be invitees."""
    description: str = ""
    disappearing_message_secs: int | None = None


@dataclass(frozen=True, slots=True)
class GroupCreated:
    group: MarmotGroup
    welcomes: tuple[WelcomeRumor, ...]


def create_group(
    creator: PublicKey,
    config: GroupConfig,
    invitees: Sequence[MarmotKeyPackage] = (),
    *,
    now: int,
    rng: Rng = system_rng,
) -> GroupCreated:
    """A new group (MIP-01 section 3.1); the add commit is merged here, never published.

    ``invitees`` may include KeyPackages of the creator's other devices: each joins as a
    leaf of the creator's identity and so shares its admin rights. Never pass this
    device's own KeyPackage (it is not in the group: the creator's leaf is new).
    """
    me = creator.data
    admins = tuple(dict.fromkeys((me, *config.admins)))
    validate_group_members(me, admins, [kp.author.data for kp in invitees])
    check_new_leaves(None, invitees)
    if not config.relays:
        raise UsageError("a group needs at least one relay")
    key_packages = [kp.key_package for kp in invitees]
    state = _first_epoch(me, config, admins, key_packages, now=now, rng=rng)
    if not invitees:
        return GroupCreated(MarmotGroup.of(state), ())
    try:
        pending = add_members(state, key_packages, now=now, rng=rng)
    except MlsError as exc:
        raise UsageError(f"cannot add these KeyPackages: {exc}") from None
    # The Welcome lists the relays in the creator's order (data.relays is sorted).
    relays = list(dict.fromkeys(normalize_relay_url(url) for url in config.relays))
    welcomes = welcome_rumors(me, pending.welcome, invitees, relays, now)
    return GroupCreated(MarmotGroup.of(pending.next_state), welcomes)


def _first_epoch(
    creator: bytes,
    config: GroupConfig,
    admins: tuple[bytes, ...],
    invitees: Sequence[KeyPackage],
    *,
    now: int,
    rng: Rng,
) -> GroupState:
    data = NostrGroupData.create(
        name=config.name,
        description=config.description,
        admins=admins,
        relays=config.relays,
        disappearing_message_secs=config.disappearing_message_secs,
        rng=rng,
    )
    return mls_create_group(
        CIPHER_SUITE,
        Credential.basic(creator),
        now=now,
        group_id=new_mls_group_id(rng),
        extensions=group_context_extensions(data, invitees),
        capabilities=marmot_capabilities(),
        rng=rng,
    )


# --- joining ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingJoin:
    """A group we were invited to: show ``data`` to the user; ``group`` is ours on accept."""

    group: MarmotGroup
    invite: WelcomeInvite

    @property
    def data(self) -> NostrGroupData:
        return self.group.data


def join_group(invite: WelcomeInvite, key_package: KeyPackageBundle) -> PendingJoin:
    """Process a parsed Welcome with the KeyPackage it was sent to (MIP-02 section 4.4)."""
    try:
        state = join_from_welcome(
            invite.welcome, key_package, validate_credential=validate_marmot_credential
        )
        group = MarmotGroup.of(state)
    except (MlsError, InvalidGroupData) as exc:
        raise InvalidWelcome(f"cannot join: {exc}", event_id=invite.rumor.id) from None
    return PendingJoin(group, invite)
