"""Array-tree arithmetic (RFC 9420 section 4.1 and Appendix C).

Leaves sit at even node indices, a node's level is its number of trailing one bits, and
an RFC 9420 tree always has a power-of-two number of leaves, so every relation is a few
bit operations (no loops over the tree). The ancestor of node ``x`` at level ``k`` is
``x`` with its low ``k + 1`` bits replaced by ``k`` ones; siblings differ in bit ``k + 1``.

Functions take :class:`~mls.types.NodeIndex` / :class:`~mls.types.LeafIndex` and the leaf
count; asking for a relation that does not exist (a leaf's child, the root's parent) or a
node outside the tree raises :class:`~mls.errors.UsageError`.
"""

from __future__ import annotations

from typing import cast

from mls.errors import UsageError
from mls.types import LeafCount, LeafIndex, NodeIndex


def log2(x: int) -> int:
    """floor(log2(x)), with ``log2(0) == 0`` as in Appendix C."""
    return x.bit_length() - 1 if x else 0


def level(x: NodeIndex) -> int:
    """Number of trailing one bits: 0 for leaves."""
    return (x ^ (x + 1)).bit_length() - 1


def is_leaf(x: NodeIndex) -> bool:
    return not x & 1


def node_width(n: LeafCount) -> int:
    """Number of nodes of a tree with ``n`` leaves."""
    return 2 * (n - 1) + 1 if n else 0


def root(n: LeafCount) -> NodeIndex:
    if n <= 0 or n & (n - 1):
        raise UsageError(f"a tree has a power-of-two number of leaves, not {n}")
    return NodeIndex(n - 1)  # (1 << log2(2n - 1)) - 1 for a power of two


def leaf_to_node(leaf: LeafIndex) -> NodeIndex:
    return NodeIndex(2 * leaf)


def node_to_leaf(x: NodeIndex) -> LeafIndex:
    if x & 1:
        raise UsageError(f"node {x} is not a leaf")
    return LeafIndex(x >> 1)


def _check(x: int, n: LeafCount) -> None:
    if not 0 <= x < node_width(n):
        raise UsageError(f"node {x} is outside a tree of {n} leaves")


def left(x: NodeIndex) -> NodeIndex:
    k = level(x)
    if k == 0:
        raise UsageError(f"leaf {x} has no children")
    return NodeIndex(x ^ (1 << (k - 1)))


def right(x: NodeIndex) -> NodeIndex:
    k = level(x)
    if k == 0:
        raise UsageError(f"leaf {x} has no children")
    return NodeIndex(x ^ (3 << (k - 1)))


def parent(x: NodeIndex, n: LeafCount) -> NodeIndex:
    _check(x, n)
    if x == root(n):
        raise UsageError("the root has no parent")
    k = level(x) + 1
    return NodeIndex(((x >> (k + 1)) << (k + 1)) | ((1 << k) - 1))


def sibling(x: NodeIndex, n: LeafCount) -> NodeIndex:
    _check(x, n)
    if x == root(n):
        raise UsageError("the root has no sibling")
    return NodeIndex(x ^ (1 << (level(x) + 1)))


def direct_path(x: NodeIndex, n: LeafCount) -> list[NodeIndex]:
    """Ancestors of ``x`` from its parent up to and including the root."""
    _check(x, n)
    top = log2(n) + 1  # the root's level is log2(n)
    return cast(
        "list[NodeIndex]",
        [((x >> (k + 1)) << (k + 1)) | ((1 << k) - 1) for k in range(level(x) + 1, top)],
    )


def copath(x: NodeIndex, n: LeafCount) -> list[NodeIndex]:
    """Siblings of ``x`` and of each ancestor below the root, bottom up."""
    _check(x, n)
    top = log2(n)
    out = []
    for k in range(level(x), top):  # x itself, then each ancestor below the root
        ancestor = ((x >> (k + 1)) << (k + 1)) | ((1 << k) - 1)
        out.append(ancestor ^ (1 << (k + 1)))
    return cast("list[NodeIndex]", out)


def common_ancestor(x: NodeIndex, y: NodeIndex) -> NodeIndex:
    """The lowest node whose subtree holds both ``x`` and ``y`` (Appendix C, direct form)."""
    lx, ly = level(x) + 1, level(y) + 1
    if lx <= ly and x >> ly == y >> ly:
        return y
    if ly <= lx and x >> lx == y >> lx:
        return x
    k = (x ^ y).bit_length()  # the first level at which the two prefixes agree
    return NodeIndex(((x >> k) << k) | ((1 << (k - 1)) - 1))
