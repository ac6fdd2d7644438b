"""secret-tree.json: sender-data keys and per-leaf ratchets (RFC 9420 sections 6.3.2, 9)."""

from __future__ import annotations

from typing import Any

import pytest

from mls.crypto import get_suite
from mls.secret_tree import RatchetType, SecretTree, sender_data_key_nonce
from mls.types import LeafIndex
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("secret-tree")
pytestmark = pytest.mark.vectors

h = bytes.fromhex


@pytest.mark.parametrize("case", CASES, ids=case_ids("secret-tree", CASES))
def test_secret_tree(case: dict[str, Any]) -> None:
    suite = get_suite(case["cipher_suite"])

    sd = case["sender_data"]
    key, nonce = sender_data_key_nonce(suite, h(sd["sender_data_secret"]), h(sd["ciphertext"]))
    assert (key.hex(), nonce.hex()) == (sd["key"], sd["nonce"])

    leaves = case["leaves"]
    tree = SecretTree(suite, h(case["encryption_secret"]), len(leaves))
    for i, entries in enumerate(leaves):
        for entry in entries:
            generation = entry["generation"]
            hs = tree.key_for(LeafIndex(i), RatchetType.HANDSHAKE, generation)
            app = tree.key_for(LeafIndex(i), RatchetType.APPLICATION, generation)
            assert hs.generation == app.generation == generation
            assert (hs.key.hex(), hs.nonce.hex()) == (
                entry["handshake_key"],
                entry["handshake_nonce"],
            )
            assert (app.key.hex(), app.nonce.hex()) == (
                entry["application_key"],
                entry["application_nonce"],
            )


@pytest.mark.parametrize("case", CASES, ids=case_ids("secret-tree", CASES))
def test_secret_tree_sender_side(case: dict[str, Any]) -> None:
    """The sending ratchet (next_key) walks the same generations, in reverse leaf order so
    the lazy tree derives its paths in a different order."""
    suite = get_suite(case["cipher_suite"])
    leaves = case["leaves"]
    tree = SecretTree(suite, h(case["encryption_secret"]), len(leaves))
    for i in reversed(range(len(leaves))):
        wanted = {e["generation"]: e for e in leaves[i]}
        for generation in range(max(wanted) + 1):
            key = tree.next_key(LeafIndex(i), RatchetType.APPLICATION)
            assert key.generation == generation
            if generation in wanted:
                assert key.key.hex() == wanted[generation]["application_key"]
                assert key.nonce.hex() == wanted[generation]["application_nonce"]
