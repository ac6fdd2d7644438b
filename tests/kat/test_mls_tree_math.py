"""tree-math.json: array-tree relations of every node (RFC 9420 section 4.1, Appendix C)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mls import tree_math
from mls.errors import UsageError
from mls.types import LeafCount, NodeIndex
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("tree-math")
pytestmark = pytest.mark.vectors


def _or_none(relation: Callable[[NodeIndex], NodeIndex], x: NodeIndex) -> int | None:
    """The vectors write ``null`` where the relation does not exist; we raise there."""
    try:
        return relation(x)
    except UsageError:
        return None


@pytest.mark.parametrize("case", CASES, ids=case_ids("tree-math", CASES))
def test_tree_math(case: dict[str, Any]) -> None:
    n = LeafCount(case["n_leaves"])
    assert tree_math.node_width(n) == case["n_nodes"]
    assert tree_math.root(n) == case["root"]
    nodes = [NodeIndex(x) for x in range(case["n_nodes"])]
    assert [_or_none(tree_math.left, x) for x in nodes] == case["left"]
    assert [_or_none(tree_math.right, x) for x in nodes] == case["right"]
    assert [_or_none(lambda x: tree_math.parent(x, n), x) for x in nodes] == case["parent"]
    assert [_or_none(lambda x: tree_math.sibling(x, n), x) for x in nodes] == case["sibling"]
