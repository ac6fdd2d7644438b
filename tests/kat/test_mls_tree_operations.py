"""tree-operations.json: applying Add, Update and Remove to a tree, with truncation, and the
tree hashes before and after (RFC 9420 sections 7.7, 7.8, 12.1.1-12.1.3, 12.3)."""

from __future__ import annotations

from typing import Any

import pytest

from mls.crypto import get_suite
from mls.messages import Add, Remove, Update, proposal_from_bytes
from mls.tree import RatchetTree
from mls.types import LeafIndex
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("tree-operations")
pytestmark = pytest.mark.vectors


@pytest.mark.parametrize("case", CASES, ids=case_ids("tree-operations", CASES))
def test_tree_operation(case: dict[str, Any]) -> None:
    suite = get_suite(case["cipher_suite"])
    before = RatchetTree.from_bytes(suite, bytes.fromhex(case["tree_before"]))
    assert before.tree_hash().hex() == case["tree_hash_before"]

    proposal = proposal_from_bytes(bytes.fromhex(case["proposal"]))
    sender = LeafIndex(case["proposal_sender"])
    if isinstance(proposal, Add):
        after, added = before.apply(adds=[proposal.key_package.leaf_node])
        assert after.leaf(added[0]) == proposal.key_package.leaf_node
    elif isinstance(proposal, Update):
        after = before.update_leaf(sender, proposal.leaf_node)
    else:
        assert isinstance(proposal, Remove)
        after = before.remove_leaf(LeafIndex(proposal.removed))

    assert after.to_bytes().hex() == case["tree_after"]
    # The derived tree reuses the hashes memoized on ``before``; a fresh decode must agree.
    assert after.tree_hash().hex() == case["tree_hash_after"]
    fresh = RatchetTree.from_bytes(suite, bytes.fromhex(case["tree_after"]))
    assert fresh == after
    assert fresh.tree_hash() == after.tree_hash()
    # The original value is untouched.
    assert before.to_bytes().hex() == case["tree_before"]
    assert before.tree_hash().hex() == case["tree_hash_before"]
