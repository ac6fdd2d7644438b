"""A Profile B KeyPackage whose proof a (possibly remote) signer makes
(`marmot.profile_b.signed_key_package`)."""

from __future__ import annotations

import pytest

from marmot.profile_b.errors import InvalidKeyPackage
from marmot.profile_b.identity_proof import KIND, verify_leaf_identity_proof
from marmot.profile_b.key_package import (
    create_key_package_b,
    key_package_capabilities,
    validate_key_package_b,
)
from marmot.profile_b.signed_key_package import begin_key_package_b, finish_key_package_b
from tests.helpers.nostr_factories import NOW, CountingRng, secret

pytestmark = pytest.mark.darkmatter

ALICE = secret("alice")


def test_two_steps_make_the_key_package_the_secret_key_would() -> None:
    draft = begin_key_package_b(ALICE.public_key(), now=NOW, rng=CountingRng("draft"))
    assert draft.proof_event.kind == KIND and draft.proof_event.pubkey == ALICE.public_key().hex
    signed = draft.proof_event.sign(ALICE, rng=CountingRng("sig"))
    bundle = finish_key_package_b(draft, signed.sig, rng=CountingRng("kp"))
    validate_key_package_b(bundle.key_package, now=NOW)
    leaf = bundle.key_package.leaf_node
    assert leaf.signature_key == draft.signature_pub
    assert bundle.private.signature_priv == draft.signature_priv
    assert verify_leaf_identity_proof(leaf).created_at == NOW
    direct = create_key_package_b(ALICE, now=NOW, rng=CountingRng("direct"))
    assert key_package_capabilities(bundle.key_package) == key_package_capabilities(
        direct.key_package
    )
    assert bundle.key_package.extensions == direct.key_package.extensions  # last resort
    assert "signature_priv" not in repr(draft)


def test_a_signature_that_is_not_the_accounts_proof_is_refused() -> None:
    draft = begin_key_package_b(ALICE.public_key(), now=NOW, rng=CountingRng("draft"))
    other = begin_key_package_b(ALICE.public_key(), now=NOW, rng=CountingRng("other"))
    wrong_event = other.proof_event.sign(ALICE, rng=CountingRng("sig"))  # another leaf key
    with pytest.raises(InvalidKeyPackage, match="proof signature does not verify"):
        finish_key_package_b(draft, wrong_event.sig, rng=CountingRng("kp"))
    wrong_key = draft.proof_event
    bob_sig = secret("bob").sign_schnorr(bytes.fromhex(wrong_key.id), rng=CountingRng("b"))
    with pytest.raises(InvalidKeyPackage, match="proof signature does not verify"):
        finish_key_package_b(draft, bob_sig.hex(), rng=CountingRng("kp"))
    for garbage in ("zz" * 64, "00" * 63):
        with pytest.raises(InvalidKeyPackage, match="account identity proof"):
            finish_key_package_b(draft, garbage, rng=CountingRng("kp"))
