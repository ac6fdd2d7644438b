"""The mutable working copy behind every :class:`~mls.tree.RatchetTree` derivation.

A draft takes ``O(1)`` copies of the node array and the two memo arrays (persistent
arrays, see :mod:`mls.tree_array`: a write copies only the few small lists on its path)
and of the key index (a small overlay, see :mod:`mls.tree_index`), applies the RFC 9420
tree operations in place, and is frozen into a new tree. Changing a node clears the
memoized hashes and resolution sizes of that node and its ancestors only, so deriving a
tree costs ``O(log N)`` per changed node, whatever the size of the group.
"""

from __future__ import annotations

from dataclasses import replace

from mls.errors import InvalidMessage, UsageError
from mls.messages import LeafNode, Node, ParentNode
from mls.tree_array import TreeArray
from mls.tree_index import TreeIndex
from mls.types import LeafIndex


def parent_of(x: int) -> int:
    """Parent of ``x``, which must not be the root (``tree_math.parent`` without checks)."""
    k = (x ^ (x + 1)).bit_length()  # level + 1
    return ((x >> (k + 1)) << (k + 1)) | ((1 << k) - 1)


def leaf_ancestors(i: int, width: int) -> list[int]:
    """The direct path of leaf ``i`` in a tree of ``width`` nodes, bottom up."""
    x = 2 * i
    return [(x & ~(1 << k)) | ((1 << k) - 1) for k in range(1, width.bit_length())]


class TreeDraft:
    """A private, mutable copy of a tree's arrays while one tree is derived from another."""

    __slots__ = ("hashes", "index", "next_free", "nodes", "sizes")

    def __init__(
        self,
        nodes: TreeArray[Node],
        hashes: TreeArray[bytes],
        sizes: TreeArray[int],
        index: TreeIndex,
    ) -> None:
        # Copies (O(1) each): what the source tree sees never changes.
        self.nodes = nodes.copy()
        self.hashes = hashes.copy()
        self.sizes = sizes.copy()
        self.index = index.copy()
        self.next_free = 0  # no blank leaf left of this one, once adds start

    def require_member(self, i: int) -> None:
        if not 0 <= 2 * i < len(self.nodes) or self.nodes[2 * i] is None:
            raise InvalidMessage(f"leaf {i} is not a member")

    def set(self, x: int, node: Node | None) -> None:
        nodes, hashes, sizes = self.nodes, self.hashes, self.sizes
        self.index.replace(x, nodes[x], node)
        nodes[x] = node
        # Clear the memo of x and its ancestors; past the first already-clear node every
        # ancestor is clear too (see the invariant in mls.tree_hash).
        root = len(nodes) >> 1
        while hashes[x] is not None or sizes[x] is not None:
            hashes[x] = sizes[x] = None
            if x == root:
                break
            x = parent_of(x)

    def blank_direct_path(self, i: int) -> None:
        nodes = self.nodes
        for x in leaf_ancestors(i, len(nodes)):
            if nodes[x] is not None:
                self.set(x, None)

    def truncate(self) -> None:
        """Drop the right half while it holds no member (section 12.1.3)."""
        nodes = self.nodes
        while len(nodes) > 1:
            root = len(nodes) >> 1
            if any(leaf is not None for leaf in nodes.values(root + 1, 2)):
                return
            # The old root and any parent left in the right half go, and their keys too.
            dropped = [(x, n) for x, n in enumerate(nodes.values(root), root) if n is not None]
            for x, node in dropped:
                self.index.discard(x, node)
            for array in (nodes, self.hashes, self.sizes):
                array.resize(root)

    def extend(self) -> None:
        width = 2 * len(self.nodes) + 1
        for array in (self.nodes, self.hashes, self.sizes):
            array.resize(width)

    def free_leaf(self) -> LeafIndex:
        """The leftmost blank leaf at or after ``next_free``, extending a full tree."""
        x = self.nodes.first_blank(2 * self.next_free, 2)
        if x is None:
            i = (len(self.nodes) + 1) >> 1
            self.extend()
        else:
            i = x >> 1
        self.next_free = i + 1
        return LeafIndex(i)

    def add(self, leaf: LeafNode) -> LeafIndex:
        """Section 12.1.1: leftmost blank leaf, unmerged at each non-blank ancestor."""
        if not isinstance(leaf, LeafNode):
            raise UsageError("only a LeafNode can be added")
        i = self.free_leaf()
        self.set(2 * i, leaf)
        nodes = self.nodes
        for x in leaf_ancestors(i, len(nodes)):
            node = nodes[x]
            if isinstance(node, ParentNode):
                self.set(x, replace(node, unmerged_leaves=_insert_sorted(node.unmerged_leaves, i)))
        return i


def _insert_sorted(leaves: tuple[int, ...], i: int) -> tuple[int, ...]:
    if not leaves or leaves[-1] < i:
        return (*leaves, i)
    return tuple(sorted({*leaves, i}))
