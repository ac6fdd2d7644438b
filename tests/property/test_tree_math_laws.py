"""Laws of the array tree (RFC 9420 section 4), for trees up to 2**20 leaves."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mls import tree_math as tm
from mls.types import LeafCount, LeafIndex, NodeIndex


@st.composite
def tree_and_node(draw: st.DrawFn) -> tuple[LeafCount, NodeIndex]:
    n = LeafCount(1 << draw(st.integers(0, 20)))
    return n, NodeIndex(draw(st.integers(0, tm.node_width(n) - 1)))


@given(tree_and_node())
def test_children_and_parent_agree(tn: tuple[LeafCount, NodeIndex]) -> None:
    n, x = tn
    assert tm.is_leaf(x) == (tm.level(x) == 0)
    if not tm.is_leaf(x):
        left, right = tm.left(x), tm.right(x)
        assert left < x < right
        assert tm.level(left) == tm.level(right) == tm.level(x) - 1
        assert tm.parent(left, n) == tm.parent(right, n) == x
        assert tm.sibling(left, n) == right
        assert tm.sibling(right, n) == left


@given(tree_and_node())
def test_sibling_is_an_involution_below_the_root(tn: tuple[LeafCount, NodeIndex]) -> None:
    n, x = tn
    if x != tm.root(n):
        s = tm.sibling(x, n)
        assert s != x
        assert tm.sibling(s, n) == x
        assert tm.parent(s, n) == tm.parent(x, n)
        assert tm.level(s) == tm.level(x)


@given(tree_and_node())
def test_direct_path_and_copath(tn: tuple[LeafCount, NodeIndex]) -> None:
    n, x = tn
    path = tm.direct_path(x, n)
    copath = tm.copath(x, n)
    assert len(path) == len(copath) == tm.log2(n) - tm.level(x)
    if path:
        assert path[-1] == tm.root(n)
        assert path[0] == tm.parent(x, n)
    for child, ancestor in zip([x, *path], path, strict=False):
        assert tm.parent(child, n) == ancestor
    assert copath == [tm.sibling(y, n) for y in [x, *path][:-1]]


@given(tree_and_node(), st.data())
def test_common_ancestor_is_the_lowest_shared_node(
    tn: tuple[LeafCount, NodeIndex], data: st.DataObject
) -> None:
    n, x = tn
    y = NodeIndex(data.draw(st.integers(0, tm.node_width(n) - 1)))
    ancestor = tm.common_ancestor(x, y)
    x_line, y_line = [x, *tm.direct_path(x, n)], [y, *tm.direct_path(y, n)]
    assert ancestor in x_line
    assert ancestor in y_line
    assert ancestor == next(a for a in x_line if a in y_line)
    assert tm.common_ancestor(y, x) == ancestor


@given(st.integers(0, (1 << 30) - 1))
def test_leaf_node_round_trip(leaf: int) -> None:
    node = tm.leaf_to_node(LeafIndex(leaf))
    assert tm.is_leaf(node)
    assert tm.node_to_leaf(node) == leaf
