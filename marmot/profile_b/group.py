"""Profile B groups over our MLS engine: founding, component state, the commit rules.

A Profile B group's GroupContext carries ``required_capabilities`` (extension 0x0006,
proposals 0x0008 and 0x000a, as marmot-app's required "self-remove" feature makes it)
and an ``app_data_dictionary`` whose ``app_components`` entry lists the components every
member must support, with the state of group profile 0x8001, admin policy 0x8003,
lifecycle 0x800c and the Nostr routing 0x8004 (optional, not required).
Every leaf carries its 0x8009 account proof. A group founded for invitees whose
KeyPackages carry the July draft's 0xf2f1 proof (the e43fd5e Dark Matter client) is a
``ProofForm.DRAFT`` group instead: ``required_capabilities`` adds 0xf2f1, app_components
lists what that client requires (profile, admins, routing), no lifecycle, and every leaf
(ours included) carries 0xf2f1 (``proofs.py``). Handshakes are PublicMessages: one wire
format, so a commit's bytes (and its convergence digest) are the same for everyone.

::

    founding = create_group_b(secret, settings, [kp, ...], now=now, rng=rng)
    view = group_view(state)                      # profile, admins, routing, lifecycle
    pending = update_components_b(state, {0x8001: GroupProfile(...).encode()}, rng=rng)
    pending = invite_b(state, [kp], now=now, rng=rng); remove_b(state, [account], rng=rng)
    check_commit_b(prior_state, summary)          # admin rule + proofs of new leaves
    commit_priority(summary)                      # for convergence

Authorization (MDK ``validate_commit_authorization``): a commit that adds, removes
others, or changes components is privileged and needs a committer who is an admin in the
prior epoch; a path-only self-update or a SelfRemove-only commit is ordinary and open to
every member. After any commit every admin is a member, and there is at least one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from marmot.errors import PolicyViolation, UsageError
from marmot.profile_b.components import (
    AdminPolicy,
    ComponentId,
    EncryptedMediaPolicy,
    GroupLifecycle,
    GroupProfile,
    MessageRetention,
    NostrRouting,
    decode_component,
)
from marmot.profile_b.convergence import Priority
from marmot.profile_b.draft_proof import EXTENSION as DRAFT_PROOF_EXTENSION
from marmot.profile_b.errors import InvalidComponent, InvalidIdentityProof, InvalidKeyPackage
from marmot.profile_b.key_package import (
    CIPHER_SUITE,
    create_key_package_b,
    key_package_capabilities,
    validate_key_package_b,
)
from marmot.profile_b.proofs import (
    ProofForm,
    group_proof_form,
    leaf_proof_form,
    verify_leaf_proof,
)
from mls.app_data import app_data_dictionary, app_data_dictionary_extension
from mls.group import (
    CommitProcessed,
    GroupConfig,
    GroupState,
    PendingCommit,
    add_members,
    commit,
    create_group,
)
from mls.key_package import KeyPackageBundle
from mls.messages import (
    AppDataDictionary,
    AppDataUpdate,
    ComponentID,
    ComponentsList,
    Credential,
    Extension,
    ExtensionType,
    KeyPackage,
    ProposalType,
    Remove,
    RequiredCapabilities,
    SelfRemove,
    Update,
    WireFormat,
)
from mls.types import Rng
from nostr.keys import PublicKey, SecretKey

REQUIRED_COMPONENTS = (
    ComponentID.APP_COMPONENTS,
    ComponentId.GROUP_PROFILE,
    ComponentId.ADMIN_POLICY,
    ComponentId.ACCOUNT_IDENTITY_PROOF,
    ComponentId.GROUP_LIFECYCLE,
)
DRAFT_REQUIRED_COMPONENTS = (
    ComponentId.GROUP_PROFILE,
    ComponentId.ADMIN_POLICY,
    ComponentId.NOSTR_ROUTING,
)
CONFIG = GroupConfig(handshake_wire_format=WireFormat.PUBLIC_MESSAGE)

__all__ = [
    "CONFIG",
    "DRAFT_REQUIRED_COMPONENTS",
    "REQUIRED_COMPONENTS",
    "ProofForm",
    "required_components",
    "Founding",
    "GroupSettings",
    "GroupView",
    "account_of_leaf",
    "member_accounts",
    "own_account",
    "view_of_extensions",
    "check_commit_b",
    "commit_priority",
    "create_group_b",
    "found_group_b",
    "group_view",
    "invitees_proof_form",
    "invite_b",
    "remove_b",
    "update_components_b",
]


@dataclass(frozen=True, slots=True)
class GroupSettings:
    name: str
    description: str
    admins: tuple[bytes, ...]  # besides the creator, who is always one
    nostr_group_id: bytes
    relays: tuple[str, ...]
    media: EncryptedMediaPolicy | None = None  # 0x8008 / 0x800b, as MDK's new groups carry


@dataclass(frozen=True, slots=True)
class Founding:
    """Epoch 0 (creator alone) and the founding add commit (None without invitees):
    publish its welcome, then adopt ``pending.next_state``; on failure keep ``state``."""

    state: GroupState
    pending: PendingCommit | None


def required_components(form: ProofForm) -> tuple[int, ...]:
    return DRAFT_REQUIRED_COMPONENTS if form is ProofForm.DRAFT else REQUIRED_COMPONENTS


def _initial_extensions(
    settings: GroupSettings, creator: bytes, form: ProofForm
) -> tuple[Extension, ...]:
    admins = AdminPolicy.of((creator, *settings.admins))
    state: dict[int, bytes] = {
        ComponentID.APP_COMPONENTS: ComponentsList.of(required_components(form)).to_bytes(),
        ComponentId.GROUP_PROFILE: GroupProfile(settings.name, settings.description).encode(),
        ComponentId.ADMIN_POLICY: admins.encode(),
        ComponentId.NOSTR_ROUTING: NostrRouting.of(
            settings.nostr_group_id, settings.relays
        ).encode(),
    }
    if settings.media is not None:
        state[settings.media.component_id] = settings.media.encode()
    extension_types: tuple[int, ...] = (ExtensionType.APP_DATA_DICTIONARY,)
    if form is ProofForm.DRAFT:
        extension_types += (DRAFT_PROOF_EXTENSION,)
    else:  # the e43fd5e client knows no lifecycle component
        state[ComponentId.GROUP_LIFECYCLE] = GroupLifecycle.ACTIVE.encode()
    required = RequiredCapabilities(
        extension_types=extension_types,
        proposal_types=(ProposalType.APP_DATA_UPDATE, ProposalType.SELF_REMOVE),
    )
    return (
        Extension(ExtensionType.REQUIRED_CAPABILITIES, required.to_bytes()),
        app_data_dictionary_extension(AppDataDictionary.of(state)),
    )


def _check_invitees(key_packages: Sequence[KeyPackage], now: int, form: ProofForm) -> None:
    for kp in key_packages:
        if validate_key_package_b(kp, now=now) is not form:
            raise InvalidKeyPackage(f"the invitee's KeyPackage has no {form.value} proof")
        missing = set(required_components(form)) - key_package_capabilities(kp).app_components
        if missing:
            raise InvalidKeyPackage(f"invitee lacks app components {sorted(missing)}")


def invitees_proof_form(key_packages: Sequence[KeyPackage], *, now: int) -> ProofForm:
    """The one proof form all invitees' KeyPackages carry (MDK master's 0x8009 without
    invitees); InvalidKeyPackage when they differ: such a group cannot hold them all."""
    forms = {validate_key_package_b(kp, now=now) for kp in key_packages}
    if len(forms) > 1:
        raise InvalidKeyPackage("the invitees' KeyPackages carry different proof forms")
    return forms.pop() if forms else ProofForm.CURRENT


def create_group_b(
    creator: SecretKey,
    settings: GroupSettings,
    invitees: Sequence[KeyPackage],
    *,
    now: int,
    rng: Rng,
    group_id: bytes | None = None,
    form: ProofForm | None = None,
) -> Founding:
    """``form`` None: the invitees' (``invitees_proof_form``)."""
    form = invitees_proof_form(invitees, now=now) if form is None else form
    _check_invitees(invitees, now, form)
    bundle = create_key_package_b(creator, now=now, rng=rng, form=form)
    return found_group_b(
        creator.public_key(), bundle, settings, invitees, now=now, rng=rng, group_id=group_id
    )


def found_group_b(
    account: PublicKey,
    bundle: KeyPackageBundle,
    settings: GroupSettings,
    invitees: Sequence[KeyPackage],
    *,
    now: int,
    rng: Rng,
    group_id: bytes | None = None,
) -> Founding:
    """A group founded on our own leaf ``bundle``, whose account proof the caller had made
    (by a remote signer, say: `marmot.profile_b.signed_key_package`); its form is the
    group's."""
    form = leaf_proof_form(bundle.key_package.leaf_node)
    _check_invitees(invitees, now, form)
    if bundle.key_package.leaf_node.credential.identity != account.data:
        raise UsageError("our leaf must carry this account's credential")
    members = {account.data} | {kp.leaf_node.credential.identity for kp in invitees}
    if not set(settings.admins) <= members:
        raise UsageError("every initial admin must be a member of the new group")
    state = create_group(
        CIPHER_SUITE,
        Credential.basic(account.data),
        now=now,
        key_package=bundle,
        group_id=group_id,
        extensions=_initial_extensions(settings, account.data, form),
        config=CONFIG,
        rng=rng,
    )
    pending = add_members(state, invitees, now=now, rng=rng) if invitees else None
    return Founding(state, pending)


# --- reading the state --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupView:
    profile: GroupProfile
    admins: tuple[bytes, ...]
    routing: NostrRouting | None
    lifecycle: GroupLifecycle
    retention: MessageRetention
    required: frozenset[int]


def _components(extensions: Sequence[Extension]) -> dict[int, bytes]:
    dictionary = app_data_dictionary(extensions)
    if dictionary is None:
        raise InvalidComponent("the group has no app_data_dictionary")
    return dictionary.as_dict()


def view_of_extensions(extensions: Sequence[Extension]) -> GroupView:
    state = _components(extensions)
    for needed in (ComponentId.GROUP_PROFILE, ComponentId.ADMIN_POLICY, ComponentID.APP_COMPONENTS):
        if needed not in state:
            raise InvalidComponent(f"the group lacks component {needed:#06x}")
    if ComponentId.ACCOUNT_IDENTITY_PROOF in state:
        raise InvalidComponent("0x8009 is leaf-only state")
    for cid, data in state.items():
        if cid >= 0x8000 and cid != ComponentId.AGENT_TEXT_STREAM_QUIC:
            decode_component(cid, data)  # every known component must be valid state
    profile = GroupProfile.decode(state[ComponentId.GROUP_PROFILE])
    admins = AdminPolicy.decode(state[ComponentId.ADMIN_POLICY]).admins
    routing_raw = state.get(ComponentId.NOSTR_ROUTING)
    lifecycle_raw = state.get(ComponentId.GROUP_LIFECYCLE)
    retention_raw = state.get(ComponentId.MESSAGE_RETENTION)
    required = ComponentsList.from_bytes(state[ComponentID.APP_COMPONENTS]).component_ids
    return GroupView(
        profile,
        admins,
        None if routing_raw is None else NostrRouting.decode(routing_raw),
        GroupLifecycle.ACTIVE if lifecycle_raw is None else GroupLifecycle.decode(lifecycle_raw),
        MessageRetention() if retention_raw is None else MessageRetention.decode(retention_raw),
        frozenset(required),
    )


def group_view(state: GroupState) -> GroupView:
    return view_of_extensions(state.extensions)


def member_accounts(state: GroupState) -> frozenset[bytes]:
    return frozenset(m.credential.identity for m in state.members())


def account_of_leaf(state: GroupState, leaf_index: int) -> bytes:
    member = state.member(leaf_index)
    if member is None:
        raise UsageError(f"no member at leaf {leaf_index}")
    return member.credential.identity


# --- our commits ----------------------------------------------------------------------------


def own_account(state: GroupState) -> bytes:
    return account_of_leaf(state, state.own_leaf)


def _require_admin(state: GroupState) -> None:
    if own_account(state) not in group_view(state).admins:
        raise PolicyViolation("only an admin may make this change")


def update_components_b(
    state: GroupState, changes: Mapping[int, bytes | None], *, rng: Rng
) -> PendingCommit:
    """A commit of AppDataUpdates (None removes a component), admin-only."""
    _require_admin(state)
    proposals = [
        AppDataUpdate.remove(cid) if data is None else AppDataUpdate.update(cid, data)
        for cid, data in sorted(changes.items())
    ]
    for cid, data in changes.items():
        if data is not None and cid >= 0x8000:
            decode_component(cid, data)
    return commit(state, proposals=proposals, rng=rng)


def invite_b(
    state: GroupState, key_packages: Sequence[KeyPackage], *, now: int, rng: Rng
) -> PendingCommit:
    _require_admin(state)
    _check_invitees(key_packages, now, group_proof_form(state.extensions))
    return add_members(state, key_packages, now=now, rng=rng)


def remove_b(state: GroupState, accounts: Sequence[bytes], *, rng: Rng) -> PendingCommit:
    """Remove every leaf of ``accounts``; admins among them leave the admin policy too."""
    _require_admin(state)
    gone = set(accounts)
    if own_account(state) in gone:
        raise UsageError("a member cannot remove itself; it leaves instead")
    leaves = [m.leaf_index for m in state.members() if m.credential.identity in gone]
    if not leaves:
        raise UsageError("none of these accounts is a member")
    proposals: list[Remove | AppDataUpdate] = [Remove(i) for i in leaves]
    admins = group_view(state).admins
    if gone & set(admins):
        kept = AdminPolicy.of([a for a in admins if a not in gone])
        proposals.append(AppDataUpdate.update(ComponentId.ADMIN_POLICY, kept.encode()))
    return commit(state, proposals=proposals, rng=rng)


# --- the rules for every commit -------------------------------------------------------------


def commit_priority(summary: CommitProcessed) -> Priority:
    """Ordinary: only Updates/SelfRemoves (or none: a path-only self-update)."""
    kinds = {type(p.proposal) for p in summary.proposals}
    return Priority.ORDINARY if kinds <= {Update, SelfRemove} else Priority.PRIVILEGED


def check_commit_b(prior: GroupState, summary: CommitProcessed) -> None:
    """Refuse a commit the Profile B rules forbid (its MLS validity is already checked)."""
    if summary.wire_format != WireFormat.PUBLIC_MESSAGE:
        raise PolicyViolation("Profile B handshakes are PublicMessages")
    before = prior.member(summary.sender_leaf)
    if before is None:
        raise PolicyViolation("the committer is not a member")
    committer = before.credential.identity  # as authenticated in the prior epoch
    view = group_view(prior)
    if commit_priority(summary) is Priority.PRIVILEGED and committer not in view.admins:
        raise PolicyViolation("a non-admin's commit may only update or remove itself")
    form = group_proof_form(prior.extensions)
    _check_new_leaves(prior, summary, form)
    extensions = summary.extensions if summary.extensions is not None else prior.extensions
    try:
        after = view_of_extensions(extensions)
    except InvalidComponent as exc:
        raise PolicyViolation(f"the commit leaves invalid group state: {exc.reason}") from None
    if not after.required >= set(required_components(form)):
        raise PolicyViolation("the commit drops a required app component")
    try:
        if group_proof_form(extensions) is not form:
            raise PolicyViolation("the commit changes the group's proof form")
    except InvalidComponent as exc:
        raise PolicyViolation(f"the commit leaves invalid group state: {exc.reason}") from None
    removed = {r.leaf_node.credential.identity for r in summary.removes}
    joined = {a.key_package.leaf_node.credential.identity for a in summary.adds}
    members_after = (member_accounts(prior) - removed) | joined
    if not set(after.admins) & members_after:
        raise PolicyViolation("the commit leaves no admin in the group")
    if not set(after.admins) <= members_after:
        # MDK's admin-leaf coupling: an admin key with no member leaf could turn into an
        # admin the moment a matching leaf appears, with no commit anyone saw grant it
        raise PolicyViolation("every admin must be a member")


def _check_new_leaves(prior: GroupState, summary: CommitProcessed, form: ProofForm) -> None:
    """Every new or changed leaf proves its account in the group's form, and a leaf never
    changes its account (MDK: IdentityChangeNotAllowed), through the path or an Update."""
    try:
        for added in summary.adds:
            verify_leaf_proof(added.key_package.leaf_node, form)
        if summary.path_leaf is not None:
            verify_leaf_proof(summary.path_leaf, form)
        for updated in summary.updates:
            verify_leaf_proof(updated.new, form)
    except InvalidIdentityProof as exc:
        raise PolicyViolation(f"a new leaf's account proof: {exc.reason}") from None
    before = prior.member(summary.sender_leaf)
    path = summary.path_leaf
    if before is not None and path is not None and path.credential != before.credential:
        raise PolicyViolation("a leaf may not change its account")
    for updated in summary.updates:
        if updated.new.credential != updated.old.credential:
            raise PolicyViolation("a leaf may not change its account")
