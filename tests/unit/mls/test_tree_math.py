"""Tree math edge cases and agreement with the RFC 9420 Appendix C reference loops."""

from __future__ import annotations

import pytest

from mls import tree_math as tm
from mls.errors import UsageError
from mls.types import LeafCount, LeafIndex, NodeIndex

N8 = LeafCount(8)


def reference_direct_path(x: NodeIndex, n: LeafCount) -> list[NodeIndex]:
    """Appendix C's loop: parent after parent up to the root."""
    path = []
    while x != tm.root(n):
        x = tm.parent(x, n)
        path.append(x)
    return path


@pytest.mark.parametrize("n", [1, 2, 4, 8, 32])
def test_paths_match_the_reference_loops(n: int) -> None:
    count = LeafCount(n)
    for x in map(NodeIndex, range(tm.node_width(count))):
        path = tm.direct_path(x, count)
        assert path == reference_direct_path(x, count)
        below_root = [x, *path][:-1]
        assert tm.copath(x, count) == [tm.sibling(y, count) for y in below_root]


def test_small_trees() -> None:
    assert tm.node_width(LeafCount(0)) == 0
    assert tm.root(LeafCount(1)) == 0
    assert tm.direct_path(NodeIndex(0), LeafCount(1)) == []
    assert tm.copath(NodeIndex(0), LeafCount(1)) == []
    assert tm.direct_path(NodeIndex(4), N8) == [5, 3, 7]
    assert tm.copath(NodeIndex(4), N8) == [6, 1, 11]
    assert tm.common_ancestor(NodeIndex(4), NodeIndex(10)) == 7
    assert tm.common_ancestor(NodeIndex(0), NodeIndex(1)) == 1
    assert tm.common_ancestor(NodeIndex(6), NodeIndex(6)) == 6


def test_leaf_node_conversion() -> None:
    assert tm.leaf_to_node(LeafIndex(3)) == 6
    assert tm.node_to_leaf(NodeIndex(6)) == 3
    assert tm.is_leaf(NodeIndex(6))
    assert not tm.is_leaf(NodeIndex(7))
    with pytest.raises(UsageError):
        tm.node_to_leaf(NodeIndex(7))


def test_relations_that_do_not_exist_raise() -> None:
    with pytest.raises(UsageError):
        tm.left(NodeIndex(2))
    with pytest.raises(UsageError):
        tm.right(NodeIndex(0))
    with pytest.raises(UsageError):
        tm.parent(NodeIndex(7), N8)
    with pytest.raises(UsageError):
        tm.sibling(NodeIndex(7), N8)
    for outside in (NodeIndex(15), NodeIndex(-1)):
        for relation in (tm.parent, tm.sibling, tm.direct_path, tm.copath):
            with pytest.raises(UsageError):
                relation(outside, N8)


@pytest.mark.parametrize("n", [0, 3, 6, 12])
def test_trees_have_power_of_two_leaves(n: int) -> None:
    with pytest.raises(UsageError):
        tm.root(LeafCount(n))
