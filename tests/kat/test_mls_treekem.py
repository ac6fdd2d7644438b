"""treekem.json: UpdatePath processing and creation (RFC 9420 sections 7.4-7.6, 7.8, 7.9).

Per case: the private state of every listed leaf matches the tree; every UpdatePath is
parent-hash valid, decrypts for every other member to the given path secret and commit
secret, and merges to ``tree_hash_after``; a freshly generated UpdatePath from each sender
is processable by every other member, with the same commit secret.
"""

from __future__ import annotations

from typing import Any

import pytest

from mls.crypto import get_suite
from mls.messages import GroupContext, UpdatePath
from mls.tree import RatchetTree
from mls.tree_private import TreePrivateKeys
from mls.tree_validation import validate_tree, verify_parent_hashes
from mls.treekem import (
    create_update_path,
    decrypt_update_path,
    encrypt_path_secrets,
    merge_update_path,
)
from mls.types import LeafIndex, NodeIndex
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("treekem")
pytestmark = pytest.mark.vectors

h = bytes.fromhex
NOW = 1_700_000_000  # the vector leaves' lifetimes span 0..2^64-1


def _context(case: dict[str, Any], tree: RatchetTree) -> bytes:
    """The GroupContext of the path: the given fields and the tree hash after merging."""
    return GroupContext(
        1,
        case["cipher_suite"],
        h(case["group_id"]),
        case["epoch"],
        tree.tree_hash(),
        h(case["confirmed_transcript_hash"]),
    ).to_bytes()


def _private_states(
    case: dict[str, Any], tree: RatchetTree
) -> dict[int, tuple[TreePrivateKeys, bytes]]:
    states = {}
    for entry in case["leaves_private"]:
        keys = TreePrivateKeys(LeafIndex(entry["index"]), h(entry["encryption_priv"]))
        for ps in entry["path_secrets"]:
            keys = keys.with_path_secret(tree, NodeIndex(ps["node"]), h(ps["path_secret"]))
        keys.verify(tree)  # every private key matches a non-blank node's public key
        states[entry["index"]] = (keys, h(entry["signature_priv"]))
    return states


def _others(tree: RatchetTree, sender: LeafIndex) -> list[LeafIndex]:
    return [i for i, _ in tree.members() if i != sender]


@pytest.mark.parametrize("case", CASES, ids=case_ids("treekem", CASES))
def test_treekem(case: dict[str, Any]) -> None:
    suite = get_suite(case["cipher_suite"])
    group_id = h(case["group_id"])
    tree = RatchetTree.from_bytes(suite, h(case["ratchet_tree"]))
    validate_tree(tree, group_id=group_id, now=NOW)
    states = _private_states(case, tree)
    assert {i for i, _ in tree.members()} == set(states)

    for entry in case["update_paths"]:
        sender = LeafIndex(entry["sender"])
        update_path = UpdatePath.from_bytes(h(entry["update_path"]))
        merged = merge_update_path(tree, sender, update_path, group_id=group_id, now=NOW)
        assert merged.tree_hash().hex() == entry["tree_hash_after"]
        verify_parent_hashes(merged)  # the merged path is a parent-hash chain to the root
        context = _context(case, merged)
        expected = entry["path_secrets"]
        for j in range(tree.leaf_count):
            if j == sender or tree.leaf(LeafIndex(j)) is None:
                assert expected[j] is None
                continue
            received = decrypt_update_path(merged, states[j][0], sender, update_path, context)
            assert received.path_secret.hex() == expected[j], f"path secret of leaf {j}"
            assert received.commit_secret.hex() == entry["commit_secret"]
            received.private.verify(merged)

        prepared = create_update_path(
            tree, sender, group_id=group_id, signature_private_key=states[sender][1]
        )
        context = _context(case, prepared.tree)
        fresh = UpdatePath.from_bytes(encrypt_path_secrets(prepared, context).to_bytes())
        prepared.private.verify(prepared.tree)
        merged = merge_update_path(tree, sender, fresh, group_id=group_id, now=NOW)
        assert merged == prepared.tree
        verify_parent_hashes(merged)
        assert merged.tree_hash() == prepared.tree.tree_hash()
        for j in _others(tree, sender):
            received = decrypt_update_path(merged, states[j][0], sender, fresh, context)
            assert received.commit_secret == prepared.commit_secret
