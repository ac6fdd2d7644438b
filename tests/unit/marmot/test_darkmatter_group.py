"""Profile B groups: founding state, component updates, and the commit rules."""

from __future__ import annotations

import dataclasses
import random

import pytest

from marmot.errors import PolicyViolation, UsageError
from marmot.profile_b.components import AdminPolicy, ComponentId, GroupLifecycle, GroupProfile
from marmot.profile_b.convergence import Priority
from marmot.profile_b.errors import InvalidKeyPackage
from marmot.profile_b.group import (
    CONFIG,
    REQUIRED_COMPONENTS,
    GroupSettings,
    check_commit_b,
    commit_priority,
    create_group_b,
    group_view,
    invite_b,
    remove_b,
    update_components_b,
)
from marmot.profile_b.identity_proof import create_identity_proof
from marmot.profile_b.key_package import LEAF_APP_COMPONENTS, create_key_package_b
from mls.app_data import app_data_dictionary, app_data_dictionary_extension
from mls.commit import LeafChanges
from mls.crypto import get_suite
from mls.group import CommitProcessed, GroupState, commit, join_from_welcome, process, self_update
from mls.key_package import create_key_package
from mls.messages import (
    AppDataDictionary,
    AppDataUpdate,
    ComponentID,
    ComponentsList,
    Credential,
    ExtensionType,
    RequiredCapabilities,
    WireFormat,
)
from nostr.keys import SecretKey

pytestmark = pytest.mark.darkmatter

NOW = 1_788_718_800
ALICE, BOB, CAROL = (SecretKey(bytes([i]) * 32) for i in (1, 2, 3))
GID = b"\x07" * 32


def rng(seed: int = 1):  # type: ignore[no-untyped-def]
    return random.Random(seed).randbytes


def two_members(admins: tuple[bytes, ...] = ()) -> tuple[GroupState, GroupState]:
    r = rng()
    bob_kp = create_key_package_b(BOB, now=NOW, rng=r)
    settings = GroupSettings("team", "about", admins, GID, ("wss://b.example", "wss://a.example"))
    founding = create_group_b(ALICE, settings, [bob_kp.key_package], now=NOW, rng=r)
    assert founding.pending is not None and founding.pending.welcome is not None
    bob = join_from_welcome(founding.pending.welcome, bob_kp, config=CONFIG)
    return founding.pending.next_state, bob


def received(prior: GroupState, pending_message: object) -> CommitProcessed:
    result, _ = process(prior, pending_message, now=NOW)  # type: ignore[arg-type]
    assert isinstance(result, CommitProcessed)
    return result


def test_founding_state_carries_the_profile_b_components() -> None:
    alice, bob = two_members()
    view = group_view(bob)
    assert view.profile == GroupProfile("team", "about")
    assert view.admins == (ALICE.public_key().data,)
    assert view.routing is not None and view.routing.relays == (
        "wss://a.example",
        "wss://b.example",
    )
    assert view.lifecycle is GroupLifecycle.ACTIVE
    assert view.required == frozenset(REQUIRED_COMPONENTS)
    required = next(
        e for e in bob.extensions if e.extension_type == ExtensionType.REQUIRED_CAPABILITIES
    )
    caps = RequiredCapabilities.from_bytes(required.extension_data)
    assert caps.extension_types == (0x0006,) and caps.proposal_types == (0x0008, 0x000A)
    dictionary = app_data_dictionary(bob.extensions)
    assert dictionary is not None and ComponentId.ACCOUNT_IDENTITY_PROOF not in dictionary
    assert alice.epoch == bob.epoch == 1


def test_an_admin_renames_and_the_receiver_accepts_it() -> None:
    alice, bob = two_members()
    new = GroupProfile("renamed", "about").encode()
    pending = update_components_b(alice, {ComponentId.GROUP_PROFILE: new}, rng=rng(2))
    assert pending.message.wire_format == WireFormat.PUBLIC_MESSAGE
    summary = received(bob, pending.message)
    check_commit_b(bob, summary)
    assert commit_priority(summary) is Priority.PRIVILEGED


def test_a_non_admin_may_not_change_components_or_membership() -> None:
    alice, bob = two_members()
    with pytest.raises(PolicyViolation, match="only an admin"):
        update_components_b(bob, {ComponentId.GROUP_PROFILE: GroupProfile("x").encode()}, rng=rng())
    with pytest.raises(PolicyViolation):
        invite_b(
            bob, [create_key_package_b(CAROL, now=NOW, rng=rng()).key_package], now=NOW, rng=rng()
        )
    # forged past the local guard: the receiver refuses it
    forged = commit(
        bob,
        proposals=[AppDataUpdate.update(ComponentId.GROUP_PROFILE, GroupProfile("x").encode())],
        rng=rng(3),
    )
    with pytest.raises(PolicyViolation, match="non-admin"):
        check_commit_b(alice, received(alice, forged.message))


def test_a_self_update_is_ordinary_and_open_to_members() -> None:
    alice, bob = two_members()
    pending = self_update(bob, rng=rng(4))
    summary = received(alice, pending.message)
    assert commit_priority(summary) is Priority.ORDINARY
    check_commit_b(alice, summary)


def test_privatemessage_handshakes_are_refused() -> None:
    alice, bob = two_members()
    pending = update_components_b(
        alice, {ComponentId.GROUP_PROFILE: GroupProfile("p").encode()}, rng=rng(5)
    )
    private = commit(
        alice,
        proposals=[AppDataUpdate.update(ComponentId.GROUP_PROFILE, GroupProfile("p").encode())],
        wire_format=WireFormat.PRIVATE_MESSAGE,
        rng=rng(6),
    )
    assert pending.message.wire_format != private.message.wire_format
    with pytest.raises(PolicyViolation, match="PublicMessage"):
        check_commit_b(bob, received(bob, private.message))


def test_admin_depletion_and_a_dropped_required_component_are_refused() -> None:
    alice, bob = two_members()
    with pytest.raises(Exception, match="at least one admin"):
        update_components_b(alice, {ComponentId.ADMIN_POLICY: b"\x00"}, rng=rng())
    outsider = AdminPolicy.of([CAROL.public_key().data]).encode()
    pending = commit(
        alice, proposals=[AppDataUpdate.update(ComponentId.ADMIN_POLICY, outsider)], rng=rng(7)
    )
    with pytest.raises(PolicyViolation, match="no admin"):
        check_commit_b(bob, received(bob, pending.message))
    dropped = commit(
        alice, proposals=[AppDataUpdate.remove(ComponentId.GROUP_LIFECYCLE)], rng=rng(8)
    )
    summary = received(bob, dropped.message)
    check_commit_b(bob, summary)  # lifecycle is state, not a required list entry
    lists = commit(
        alice,
        proposals=[AppDataUpdate.update(0x0001, b"\x02\x80\x01")],  # app_components = [0x8001]
        rng=rng(9),
    )
    with pytest.raises(PolicyViolation, match="required app component"):
        check_commit_b(bob, received(bob, lists.message))


def test_invitees_need_a_valid_profile_b_key_package() -> None:
    alice, _ = two_members()
    plain = create_key_package(
        1, Credential.basic(CAROL.public_key().data), now=NOW, rng=rng()
    ).key_package
    with pytest.raises(InvalidKeyPackage):
        invite_b(alice, [plain], now=NOW, rng=rng())
    carol = create_key_package_b(CAROL, now=NOW, rng=rng(10)).key_package
    pending = invite_b(alice, [carol], now=NOW, rng=rng(11))
    assert pending.welcome is not None and len(pending.summary.adds) == 1


def test_removing_an_admin_drops_them_from_the_policy() -> None:
    alice, bob = two_members(admins=(BOB.public_key().data,))
    pending = remove_b(alice, [BOB.public_key().data], rng=rng(12))
    assert group_view(pending.next_state).admins == (ALICE.public_key().data,)
    with pytest.raises(UsageError):
        remove_b(alice, [ALICE.public_key().data], rng=rng())
    with pytest.raises(UsageError):
        remove_b(alice, [CAROL.public_key().data], rng=rng())
    del bob


def test_initial_admins_must_be_members() -> None:
    settings = GroupSettings("g", "", (CAROL.public_key().data,), GID, ("wss://a.example",))
    with pytest.raises(UsageError, match="member"):
        create_group_b(ALICE, settings, [], now=NOW, rng=rng())
    solo = create_group_b(ALICE, dataclasses.replace(settings, admins=()), [], now=NOW, rng=rng())
    assert solo.pending is None and solo.state.epoch == 0


def test_a_leaf_may_not_take_another_account_even_with_a_valid_proof() -> None:
    alice, bob = two_members()
    signature_priv, signature_pub = get_suite(1).generate_signature_key_pair(rng(13))
    proof = create_identity_proof(CAROL, signature_pub, NOW, rng=rng(14))
    dictionary = AppDataDictionary.of(
        {
            ComponentID.APP_COMPONENTS: ComponentsList.of(LEAF_APP_COMPONENTS).to_bytes(),
            ComponentId.ACCOUNT_IDENTITY_PROOF: proof,
        }
    )
    changes = LeafChanges(
        signature_priv=signature_priv,
        credential=Credential.basic(CAROL.public_key().data),
        extensions=(app_data_dictionary_extension(dictionary),),
    )
    pending = self_update(bob, leaf=changes, rng=rng(15))
    with pytest.raises(PolicyViolation, match="change its account"):
        check_commit_b(alice, received(alice, pending.message))


def test_an_admin_must_be_a_member() -> None:
    alice, bob = two_members()
    policy = AdminPolicy.of([ALICE.public_key().data, CAROL.public_key().data]).encode()
    pending = commit(
        alice, proposals=[AppDataUpdate.update(ComponentId.ADMIN_POLICY, policy)], rng=rng(16)
    )
    with pytest.raises(PolicyViolation, match="every admin must be a member"):
        check_commit_b(bob, received(bob, pending.message))
