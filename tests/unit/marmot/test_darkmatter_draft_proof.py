"""The July draft's 0xf2f1 v1 account proof (the e43fd5e Dark Matter client's), our
KeyPackages and groups in that form, and telling the two proof forms apart."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest

from marmot.profile_b.components import ComponentId
from marmot.profile_b.draft_proof import (
    EXTENSION,
    create_draft_proof,
    draft_proof_digest,
    verify_draft_proof,
)
from marmot.profile_b.errors import InvalidComponent, InvalidIdentityProof, InvalidKeyPackage
from marmot.profile_b.group import (
    CONFIG,
    DRAFT_REQUIRED_COMPONENTS,
    GroupSettings,
    check_commit_b,
    create_group_b,
    group_view,
    invite_b,
)
from marmot.profile_b.key_package import (
    DRAFT_LEAF_APP_COMPONENTS,
    ProofForm,
    create_key_package_b,
    key_package_capabilities,
    validate_key_package_b,
)
from marmot.profile_b.key_package_event import key_package_event, parse_key_package_event_b
from marmot.profile_b.proofs import group_proof_form, leaf_proof_form, verify_leaf_proof
from mls.app_data import (
    app_data_dictionary,
    app_data_dictionary_extension,
    is_last_resort,
)
from mls.group import CommitProcessed, join_from_welcome, process, self_update
from mls.messages import ComponentID, ComponentsList, Extension, ExtensionType, LeafNode
from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey, verify_schnorr

pytestmark = pytest.mark.darkmatter

NOW = 1_788_718_800
ALICE, BOB, CAROL = (SecretKey(bytes([i]) * 32) for i in (1, 2, 3))
GID = b"\x07" * 32


def rng(seed: int = 1):  # type: ignore[no-untyped-def]
    return random.Random(seed).randbytes


def draft_leaf(secret: SecretKey = BOB, seed: int = 1) -> LeafNode:
    return create_key_package_b(
        secret, now=NOW, rng=rng(seed), form=ProofForm.DRAFT
    ).key_package.leaf_node


def _replace_proof(leaf: LeafNode, data: bytes) -> LeafNode:
    exts = tuple(
        Extension(EXTENSION, data) if e.extension_type == EXTENSION else e for e in leaf.extensions
    )
    return dataclasses.replace(leaf, extensions=exts)


def test_the_draft_proof_layout_and_signature() -> None:
    key = bytes(range(32))
    data = create_draft_proof(BOB, key, rng=rng())
    account = BOB.public_key().data
    assert data[:5] == b"\x01\x00\x01\x08\x07"  # version 1, suite 0x0001, ed25519 0x0807
    assert data[5:37] == account and data[37:39] == b"\x00\x20" and data[39:71] == key
    assert len(data) == 71 + 64
    verify_schnorr(account, data[71:], draft_proof_digest(account, key))


def test_a_draft_key_package_validates_in_its_form() -> None:
    bundle = create_key_package_b(BOB, now=NOW, rng=rng(), form=ProofForm.DRAFT)
    kp = bundle.key_package
    assert validate_key_package_b(kp, now=NOW) is ProofForm.DRAFT
    assert leaf_proof_form(kp.leaf_node) is ProofForm.DRAFT
    caps = key_package_capabilities(kp)
    assert {EXTENSION, 0xF2D1, ExtensionType.LAST_RESORT} <= caps.extensions
    assert caps.app_components == frozenset(DRAFT_LEAF_APP_COMPONENTS)
    assert is_last_resort(kp)
    assert [e.extension_type for e in kp.extensions] == [ExtensionType.LAST_RESORT]  # draft-08
    current = create_key_package_b(BOB, now=NOW, rng=rng()).key_package
    assert validate_key_package_b(current, now=NOW) is ProofForm.CURRENT


def test_a_forged_or_misbound_draft_proof_is_refused() -> None:
    leaf = draft_leaf()
    verify_draft_proof(leaf)
    (raw,) = [e.extension_data for e in leaf.extensions if e.extension_type == EXTENSION]
    flipped = raw[:-1] + bytes([raw[-1] ^ 1])
    other_key = create_draft_proof(BOB, bytes(32), rng=rng())
    other_account = create_draft_proof(CAROL, leaf.signature_key, rng=rng())
    version_2 = b"\x02" + raw[1:]
    for bad in (flipped, other_key, other_account, version_2, raw[:-1], raw + b"\x00"):
        with pytest.raises(InvalidIdentityProof):
            verify_draft_proof(_replace_proof(leaf, bad))
    unadvertised = dataclasses.replace(
        leaf,
        capabilities=dataclasses.replace(
            leaf.capabilities,
            extensions=tuple(e for e in leaf.capabilities.extensions if e != EXTENSION),
        ),
    )
    with pytest.raises(InvalidIdentityProof, match="advertise"):
        verify_draft_proof(unadvertised)


def test_a_leaf_is_exactly_one_form_and_the_group_decides_which() -> None:
    draft, current = (
        draft_leaf(),
        create_key_package_b(BOB, now=NOW, rng=rng()).key_package.leaf_node,
    )
    mixed = dataclasses.replace(current, extensions=(*current.extensions, *draft.extensions[1:]))
    with pytest.raises(InvalidIdentityProof, match="mixes"):
        leaf_proof_form(mixed)
    bare = dataclasses.replace(draft, extensions=draft.extensions[:1])
    with pytest.raises(InvalidIdentityProof, match="neither"):
        leaf_proof_form(bare)
    assert verify_leaf_proof(draft, ProofForm.DRAFT) is ProofForm.DRAFT
    with pytest.raises(InvalidIdentityProof, match="0xf2f1 proof in a 0x8009 group"):
        verify_leaf_proof(draft, ProofForm.CURRENT)
    with pytest.raises(InvalidIdentityProof):
        verify_leaf_proof(current, ProofForm.DRAFT)


def _draft_group():  # type: ignore[no-untyped-def]
    r = rng(2)
    bob_kp = create_key_package_b(BOB, now=NOW, rng=r, form=ProofForm.DRAFT)
    settings = GroupSettings("draft", "", (), GID, ("wss://a.example",))
    founding = create_group_b(ALICE, settings, [bob_kp.key_package], now=NOW, rng=r)
    assert founding.pending is not None and founding.pending.welcome is not None
    bob = join_from_welcome(founding.pending.welcome, bob_kp, config=CONFIG)
    return founding.pending.next_state, bob


def test_a_group_founded_for_draft_invitees_is_a_draft_group() -> None:
    alice, bob = _draft_group()
    assert group_proof_form(alice.extensions) is ProofForm.DRAFT
    view = group_view(bob)
    assert view.required == frozenset(DRAFT_REQUIRED_COMPONENTS)
    assert ComponentId.GROUP_LIFECYCLE not in view.required
    for member in bob.members():  # the creator's own leaf too
        assert verify_leaf_proof(member.leaf_node, ProofForm.DRAFT) is ProofForm.DRAFT
    # a path update keeps the leaf's proof, and the commit passes the draft group's rules
    pending = self_update(bob, rng=rng(3))
    result, _ = process(alice, pending.message, now=NOW)
    assert isinstance(result, CommitProcessed)
    check_commit_b(alice, result)


def test_a_draft_group_takes_only_draft_invitees() -> None:
    alice, bob = _draft_group()
    current = create_key_package_b(CAROL, now=NOW, rng=rng(4)).key_package
    with pytest.raises(InvalidKeyPackage, match="0xf2f1"):
        invite_b(alice, [current], now=NOW, rng=rng(5))
    pending = invite_b(
        alice,
        [create_key_package_b(CAROL, now=NOW, rng=rng(6), form=ProofForm.DRAFT).key_package],
        now=NOW,
        rng=rng(7),
    )
    result, _ = process(bob, pending.message, now=NOW)
    assert isinstance(result, CommitProcessed)
    check_commit_b(bob, result)


def test_mixed_invitees_cannot_found_one_group() -> None:
    kps = [
        create_key_package_b(BOB, now=NOW, rng=rng(8), form=ProofForm.DRAFT).key_package,
        create_key_package_b(CAROL, now=NOW, rng=rng(9)).key_package,
    ]
    settings = GroupSettings("mixed", "", (), GID, ("wss://a.example",))
    with pytest.raises(InvalidKeyPackage, match="different proof forms"):
        create_group_b(ALICE, settings, kps, now=NOW, rng=rng(10))


def test_a_group_requiring_both_or_no_proof_is_refused() -> None:
    alice, _ = _draft_group()
    no_required = [
        e for e in alice.extensions if e.extension_type != ExtensionType.REQUIRED_CAPABILITIES
    ]
    with pytest.raises(InvalidComponent, match="no proof"):
        group_proof_form(no_required)
    listed = ComponentsList.of((*DRAFT_REQUIRED_COMPONENTS, ComponentId.ACCOUNT_IDENTITY_PROOF))
    dictionary = app_data_dictionary(alice.extensions)
    assert dictionary is not None
    both = dictionary.with_changes({ComponentID.APP_COMPONENTS: listed.to_bytes()})
    exts = [
        app_data_dictionary_extension(both)
        if e.extension_type == ExtensionType.APP_DATA_DICTIONARY
        else e
        for e in alice.extensions
    ]
    with pytest.raises(InvalidComponent, match="both"):
        group_proof_form(exts)


def _dm_event() -> Event:
    path = Path(__file__).parents[2] / "data" / "darkmatter" / "dm-e43fd5e-key-package.json"
    return Event.from_json(json.dumps(json.loads(path.read_text())["event"]))


@pytest.mark.vectors
def test_the_dm_clients_key_package_reads_and_its_proof_verifies() -> None:
    event = _dm_event()
    parsed = parse_key_package_event_b(event, now=event.created_at)
    kp = parsed.key_package
    assert leaf_proof_form(kp.leaf_node) is ProofForm.DRAFT
    verify_draft_proof(kp.leaf_node)  # the Rust engine's signature, our digest
    assert is_last_resort(kp)
    assert ("mls_extensions", "0x0006", "0xf2f1", "0x000a") in event.tags  # its fixed list
    (raw,) = [e.extension_data for e in kp.leaf_node.extensions if e.extension_type == EXTENSION]
    with pytest.raises(InvalidIdentityProof):
        verify_draft_proof(_replace_proof(kp.leaf_node, raw[:-1] + bytes([raw[-1] ^ 1])))


@pytest.mark.vectors
def test_our_draft_key_package_advertises_what_the_dm_client_does() -> None:
    event = _dm_event()
    theirs = key_package_capabilities(
        parse_key_package_event_b(event, now=event.created_at).key_package
    )
    ours = key_package_capabilities(
        create_key_package_b(
            ALICE, now=event.created_at, rng=rng(), form=ProofForm.DRAFT
        ).key_package
    )
    assert ours == theirs


@pytest.mark.vectors
def test_a_group_for_the_dm_clients_key_package_is_a_draft_group() -> None:
    event = _dm_event()
    kp = parse_key_package_event_b(event, now=event.created_at).key_package
    settings = GroupSettings("with dm", "", (), GID, ("wss://a.example",))
    founding = create_group_b(ALICE, settings, [kp], now=event.created_at, rng=rng(11))
    assert founding.pending is not None
    assert group_proof_form(founding.pending.next_state.extensions) is ProofForm.DRAFT


def _with_extensions_tag(form: ProofForm, values: tuple[str, ...]) -> Event:
    bundle = create_key_package_b(ALICE, now=NOW, rng=rng(12), form=form)
    unsigned = key_package_event(bundle.key_package, ALICE.public_key(), created_at=NOW, rng=rng())
    tags = tuple(
        ("mls_extensions", *values) if t[0] == "mls_extensions" else t for t in unsigned.tags
    )
    changed = UnsignedEvent.create(unsigned.pubkey, NOW, unsigned.kind, unsigned.content, tags)
    return changed.sign(ALICE, rng=rng())


def test_a_draft_key_packages_extensions_tag_need_only_name_advertised_ids() -> None:
    fixed = ("0x0006", "0xf2f1", "0x000a")
    parse_key_package_event_b(_with_extensions_tag(ProofForm.DRAFT, fixed), now=NOW)
    for bad, why in (
        (("0x0006", "0x000a"), "lacks 0xf2f1"),
        ((*fixed, "0x1234"), "unadvertised"),
        ((*fixed, "0x0006"), "unadvertised"),  # a repeat
    ):
        with pytest.raises(InvalidKeyPackage, match=why):
            parse_key_package_event_b(_with_extensions_tag(ProofForm.DRAFT, bad), now=NOW)
    with pytest.raises(InvalidKeyPackage, match="does not match"):  # 0x8009: exact list
        parse_key_package_event_b(_with_extensions_tag(ProofForm.CURRENT, ()), now=NOW)
