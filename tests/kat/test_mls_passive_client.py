"""passive-client-*.json: join from a Welcome, then follow every epoch's proposals and
commit, checking the epoch authenticator each time (RFC 9420 sections 12, 6, 7, 8).

One pytest item per case: welcome (56), handling-commit (91) and random (1 case of 200
epochs), every cipher suite.
"""

from __future__ import annotations

from typing import Any

import pytest

from mls.crypto import get_suite
from mls.group import CommitProcessed, GroupState, ProposalReceived, join_from_welcome, process
from mls.key_package import KeyPackageBundle, KeyPackagePrivate, validate_key_package
from mls.messages import KeyPackage, MLSMessage
from mls.refs import key_package_ref
from tests.vectors import case_ids, mls_vectors

pytestmark = pytest.mark.vectors

WELCOME = mls_vectors("passive-client-welcome")
HANDLING_COMMIT = mls_vectors("passive-client-handling-commit")
RANDOM = mls_vectors("passive-client-random")

h = bytes.fromhex


def _bundle(case: dict[str, Any]) -> KeyPackageBundle:
    """Our KeyPackage and its private keys, checked to belong together."""
    suite = get_suite(case["cipher_suite"])
    kp = MLSMessage.from_bytes(h(case["key_package"])).body
    assert isinstance(kp, KeyPackage)
    validate_key_package(kp, now=None, cipher_suite=case["cipher_suite"])
    # Some P-521 vectors write an HPKE scalar in 65 bytes (leading zero dropped); it is the
    # same big-endian integer, so restore SerializePrivateKey's fixed width.
    init_priv, encryption_priv = (
        h(case[k]).rjust(suite.nsk, b"\0") for k in ("init_priv", "encryption_priv")
    )
    private = KeyPackagePrivate(init_priv, encryption_priv, h(case["signature_priv"]))
    assert suite.hpke_public_key(private.init_priv) == kp.init_key
    assert suite.hpke_public_key(private.encryption_priv) == kp.leaf_node.encryption_key
    assert suite.signature_public_key(private.signature_priv) == kp.leaf_node.signature_key
    return KeyPackageBundle(kp, private, key_package_ref(suite, kp))


def _run(case: dict[str, Any]) -> GroupState:
    psks = {h(p["psk_id"]): h(p["psk"]) for p in case["external_psks"]}
    tree = None if case["ratchet_tree"] is None else h(case["ratchet_tree"])
    state = join_from_welcome(
        MLSMessage.from_bytes(h(case["welcome"])), _bundle(case), ratchet_tree=tree, psks=psks
    )
    assert state.epoch_authenticator.hex() == case["initial_epoch_authenticator"]
    for number, epoch in enumerate(case["epochs"]):
        for raw in epoch["proposals"]:
            received, state = process(state, h(raw), psks=psks)
            assert isinstance(received, ProposalReceived)
        result, state = process(state, h(epoch["commit"]), psks=psks)
        assert isinstance(result, CommitProcessed)
        assert result.epoch == state.epoch
        assert state.epoch_authenticator.hex() == epoch["epoch_authenticator"], number
    return state


@pytest.mark.parametrize("case", WELCOME, ids=case_ids("passive-client-welcome", WELCOME))
def test_passive_client_welcome(case: dict[str, Any]) -> None:
    _run(case)


@pytest.mark.parametrize(
    "case", HANDLING_COMMIT, ids=case_ids("passive-client-handling-commit", HANDLING_COMMIT)
)
def test_passive_client_handling_commit(case: dict[str, Any]) -> None:
    state = _run(case)
    assert state.epoch >= len(case["epochs"])


@pytest.mark.parametrize("case", RANDOM, ids=case_ids("passive-client-random", RANDOM))
def test_passive_client_random(case: dict[str, Any]) -> None:
    assert len(case["epochs"]) == 200
    _run(case)
