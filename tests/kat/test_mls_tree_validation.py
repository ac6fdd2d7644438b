"""tree-validation.json: resolutions, tree hashes, parent hashes and leaf signatures of 14
trees per suite (RFC 9420 sections 4.1, 7.3, 7.8, 7.9, 12.4.3.3). One item per case."""

from __future__ import annotations

from typing import Any

import pytest

from mls.crypto import get_suite
from mls.tree import RatchetTree
from mls.tree_validation import validate_tree, verify_parent_hashes
from mls.types import NodeIndex
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("tree-validation")
pytestmark = pytest.mark.vectors

# The vector trees were generated on 2023-02-20 with one-year KeyPackage lifetimes; the
# lifetime check runs at a moment inside that year rather than being skipped.
NOW = 1_690_000_000


@pytest.mark.parametrize("case", CASES, ids=case_ids("tree-validation", CASES))
def test_tree_validation(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["tree"])
    tree = RatchetTree.from_bytes(get_suite(case["cipher_suite"]), data)
    assert tree.to_bytes() == data
    assert tree.width == len(case["resolutions"]) == len(case["tree_hashes"])

    for x, (resolution, tree_hash) in enumerate(
        zip(case["resolutions"], case["tree_hashes"], strict=True)
    ):
        assert tree.resolution(NodeIndex(x)) == resolution, f"resolution of node {x}"
        assert tree.resolution_size(NodeIndex(x)) == len(resolution)
        assert tree.node_hash(NodeIndex(x)).hex() == tree_hash, f"tree hash of node {x}"

    verify_parent_hashes(tree)
    # As a joiner: tree hash, unmerged leaves, parent hashes, every leaf signature with
    # group_id as context, lifetimes, credential types.
    root_hash = bytes.fromhex(case["tree_hashes"][tree.root])
    validate_tree(tree, group_id=bytes.fromhex(case["group_id"]), tree_hash=root_hash, now=NOW)
