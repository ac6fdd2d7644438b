"""The 0x8009 per-leaf account identity proof (kind 450, BIP-340) and our KeyPackages."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from marmot.profile_b.components import ComponentId
from marmot.profile_b.errors import InvalidIdentityProof, InvalidKeyPackage
from marmot.profile_b.identity_proof import (
    CONTENT,
    PROOF_LEN,
    create_identity_proof,
    decode_identity_proof,
    identity_proof_event,
    verify_leaf_identity_proof,
)
from marmot.profile_b.key_package import (
    LEAF_APP_COMPONENTS,
    create_key_package_b,
    decode_key_package_message,
    encode_key_package_message,
    key_package_capabilities,
    profile_b_capabilities,
    validate_key_package_b,
)
from mls.app_data import app_data_dictionary, app_data_dictionary_extension, is_last_resort
from mls.key_package import create_key_package
from mls.messages import (
    AppDataDictionary,
    ComponentID,
    ComponentsList,
    Credential,
    Extension,
    LeafNode,
)
from nostr.keys import SecretKey
from tests.helpers.mls_members import seeded_rng
from tests.vectors import load_json

pytestmark = pytest.mark.darkmatter

NOW = 1_788_718_800


def _rust_leaf() -> LeafNode:
    v: dict[str, Any] = load_json("marmot-vectors/marmot-ts/key-package-lifetime-rust.json")
    return decode_key_package_message(bytes.fromhex(v["lifetime"]["key_package_tls_hex"])).leaf_node


def _with_dictionary(leaf: LeafNode, changes: dict[int, bytes | None]) -> LeafNode:
    dictionary = app_data_dictionary(leaf.extensions)
    assert dictionary is not None
    new = dictionary.with_changes(changes)
    return dataclasses.replace(leaf, extensions=(app_data_dictionary_extension(new),))


@pytest.mark.vectors
def test_the_rust_engines_proof_verifies_under_our_kind_450_event() -> None:
    leaf = _rust_leaf()
    proof = verify_leaf_identity_proof(leaf)
    assert proof.account == leaf.credential.identity
    assert proof.created_at == NOW  # minted at the fixture's validation time


def test_a_flipped_proof_signature_is_refused() -> None:
    leaf = _rust_leaf()
    raw = app_data_dictionary(leaf.extensions).get(ComponentId.ACCOUNT_IDENTITY_PROOF)  # type: ignore[union-attr]
    assert raw is not None and len(raw) == PROOF_LEN
    bad = raw[:-1] + bytes([raw[-1] ^ 1])
    with pytest.raises(InvalidIdentityProof, match="does not verify"):
        verify_leaf_identity_proof(
            _with_dictionary(leaf, {ComponentId.ACCOUNT_IDENTITY_PROOF: bad})
        )


def test_a_proof_for_another_signature_key_is_refused() -> None:
    leaf = _rust_leaf()
    other = dataclasses.replace(leaf, signature_key=bytes(32))
    with pytest.raises(InvalidIdentityProof, match="does not verify"):
        verify_leaf_identity_proof(other)


def test_a_changed_proof_time_is_refused() -> None:
    leaf = _rust_leaf()
    raw = app_data_dictionary(leaf.extensions).get(ComponentId.ACCOUNT_IDENTITY_PROOF)  # type: ignore[union-attr]
    assert raw is not None
    moved = raw[:32] + (NOW + 1).to_bytes(8, "big") + raw[40:]
    with pytest.raises(InvalidIdentityProof, match="does not verify"):
        verify_leaf_identity_proof(
            _with_dictionary(leaf, {ComponentId.ACCOUNT_IDENTITY_PROOF: moved})
        )
    zero = raw[:32] + bytes(8) + raw[40:]
    with pytest.raises(InvalidIdentityProof, match="created_at"):
        verify_leaf_identity_proof(
            _with_dictionary(leaf, {ComponentId.ACCOUNT_IDENTITY_PROOF: zero})
        )


def test_proof_of_another_account_is_refused() -> None:
    leaf = _rust_leaf()
    secret = SecretKey(bytes([7]) * 32)
    theirs = create_identity_proof(secret, leaf.signature_key, NOW, rng=seeded_rng(1))
    with pytest.raises(InvalidIdentityProof, match="not the credential"):
        verify_leaf_identity_proof(
            _with_dictionary(leaf, {ComponentId.ACCOUNT_IDENTITY_PROOF: theirs})
        )


def test_missing_unadvertised_short_or_legacy_mixed_proofs_are_refused() -> None:
    leaf = _rust_leaf()
    with pytest.raises(InvalidIdentityProof, match="no 0x8009"):
        verify_leaf_identity_proof(
            _with_dictionary(leaf, {ComponentId.ACCOUNT_IDENTITY_PROOF: None})
        )
    unlisted = ComponentsList.of([1, 0x8001]).to_bytes()
    with pytest.raises(InvalidIdentityProof, match="advertise"):
        verify_leaf_identity_proof(_with_dictionary(leaf, {ComponentID.APP_COMPONENTS: unlisted}))
    with pytest.raises(InvalidIdentityProof, match="exactly 104"):
        verify_leaf_identity_proof(
            _with_dictionary(leaf, {ComponentId.ACCOUNT_IDENTITY_PROOF: b"x"})
        )
    mixed = dataclasses.replace(leaf, extensions=(*leaf.extensions, Extension(0xF2F1, b"")))
    with pytest.raises(InvalidIdentityProof, match="legacy"):
        verify_leaf_identity_proof(mixed)


def test_proof_event_shape() -> None:
    account = SecretKey(bytes([9]) * 32).public_key()
    event = identity_proof_event(account, b"\xab" * 32, 1234)
    assert event.kind == 450 and event.content == CONTENT and event.created_at == 1234
    assert [list(t) for t in event.tags] == [
        ["d", "marmot.account-identity-proof.v2"],
        ["component", "0x8009"],
        ["ciphersuite", "0x0001"],
        ["signature_scheme", "0x0807"],
        ["mls_signature_key", "ab" * 32],
    ]
    with pytest.raises(InvalidIdentityProof):
        identity_proof_event(account, b"", 1 << 53)


def test_our_key_package_validates_and_reads_like_the_rust_one() -> None:
    secret = SecretKey(bytes([5]) * 32)
    bundle = create_key_package_b(secret, now=NOW, rng=seeded_rng(2))
    raw = encode_key_package_message(bundle.key_package)
    kp = decode_key_package_message(raw)
    validate_key_package_b(kp, now=NOW)
    proof = decode_identity_proof(
        app_data_dictionary(kp.leaf_node.extensions).get(ComponentId.ACCOUNT_IDENTITY_PROOF)  # type: ignore[arg-type,union-attr]
    )
    assert proof.account == secret.public_key().data and proof.created_at == NOW
    assert is_last_resort(kp)
    rust = key_package_capabilities(decode_key_package_message(_rust_raw()))
    ours = key_package_capabilities(kp)
    assert ours.extensions == rust.extensions
    # The bare engine's set plus what marmot-app (White Noise) registers on top of it.
    assert ours.app_components == rust.app_components | {
        0x8002,
        0x8004,
        0x8005,
        0x8006,
        0x8007,
        0x8008,
        0x800B,
    }
    assert ours.proposals == rust.proposals | {0x000A}  # marmot-app's required self-remove
    assert sorted(ours.app_components) == sorted(LEAF_APP_COMPONENTS)
    assert kp.extensions == decode_key_package_message(_rust_raw()).extensions


def test_a_properly_signed_key_package_without_a_proof_is_refused() -> None:
    secret = SecretKey(bytes([5]) * 32)
    listing = AppDataDictionary.of({ComponentID.APP_COMPONENTS: ComponentsList.of([1]).to_bytes()})
    kp = create_key_package(
        0x0001,
        Credential.basic(secret.public_key().data),
        now=NOW,
        capabilities=profile_b_capabilities(),
        leaf_extensions=(app_data_dictionary_extension(listing),),
        rng=seeded_rng(3),
    ).key_package
    with pytest.raises(InvalidKeyPackage, match="account identity proof"):
        validate_key_package_b(kp, now=NOW)


def _rust_raw() -> bytes:
    v: dict[str, Any] = load_json("marmot-vectors/marmot-ts/key-package-lifetime-rust.json")
    return bytes.fromhex(v["lifetime"]["key_package_tls_hex"])
