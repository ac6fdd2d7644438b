"""Tree hashes (RFC 9420 section 7.8), parent hashes (section 7.9) and resolution sizes.

These work on the node array of a :class:`~mls.tree.RatchetTree` plus two memo arrays
owned by that tree: ``hashes[x]`` (tree hash of node ``x``) and ``sizes[x]`` (length of the
resolution of ``x``). ``None`` means "not computed yet". A tree derived from another takes
(persistent, ``O(1)``) copies of both arrays and clears only the entries of changed nodes
and their ancestors, so a commit rehashes ``O(log N)`` nodes. Invariant: when
``hashes[x]`` is set, so is every hash below ``x``; when ``sizes[x]`` is set and ``x`` is
blank, so are the sizes of its children.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from mls.codec import encode_varint
from mls.crypto import Suite
from mls.messages import LeafNode, Node, ParentNode
from mls.tree_array import TreeArray

_LEAF = b"\x01"
_PARENT_BLANK = b"\x02\x00"
_PARENT_PRESENT = b"\x02\x01"


def leaf_hash_input(leaf_index: int, leaf: LeafNode | None) -> bytes:
    """``TreeHashInput`` of a leaf: ``node_type = leaf`` then ``LeafNodeHashInput``."""
    head = _LEAF + leaf_index.to_bytes(4, "big")
    return head + b"\x00" if leaf is None else head + b"\x01" + leaf.to_bytes()


def parent_hash_input(node: ParentNode | None, left_hash: bytes, right_hash: bytes) -> bytes:
    """``TreeHashInput`` of a parent: ``node_type = parent`` then ``ParentNodeHashInput``."""
    head = _PARENT_BLANK if node is None else _PARENT_PRESENT + node.to_bytes()
    return (
        head
        + encode_varint(len(left_hash))
        + left_hash
        + encode_varint(len(right_hash))
        + right_hash
    )


def tree_hash(suite: Suite, nodes: TreeArray[Node], hashes: TreeArray[bytes], x: int) -> bytes:
    """The tree hash of node ``x``, filling ``hashes`` for the subtree as a side effect."""
    cached = hashes[x]
    if cached is not None:
        return cached
    if not x & 1:
        node = nodes[x]
        digest = suite.hash(leaf_hash_input(x >> 1, node if isinstance(node, LeafNode) else None))
    else:
        half = 1 << ((x ^ (x + 1)).bit_length() - 2)  # 2^(level - 1)
        left = tree_hash(suite, nodes, hashes, x ^ half)
        right = tree_hash(suite, nodes, hashes, x ^ (3 * half))
        node = nodes[x]
        parent = node if isinstance(node, ParentNode) else None
        digest = suite.hash(parent_hash_input(parent, left, right))
    hashes[x] = digest
    return digest


def resolution_size(nodes: TreeArray[Node], sizes: TreeArray[int], x: int) -> int:
    """``len(resolution(x))``: a non-blank node counts itself and its unmerged leaves."""
    cached = sizes[x]
    if cached is not None:
        return cached
    node = nodes[x]
    if node is not None:
        size = 1 + len(node.unmerged_leaves) if isinstance(node, ParentNode) else 1
    elif not x & 1:
        size = 0
    else:
        half = 1 << ((x ^ (x + 1)).bit_length() - 2)
        size = resolution_size(nodes, sizes, x ^ half) + resolution_size(
            nodes, sizes, x ^ (3 * half)
        )
    sizes[x] = size
    return size


def subtree_leaf_span(x: int) -> tuple[int, int]:
    """The leaf indices ``[first, last]`` under node ``x``."""
    reach = (1 << ((x ^ (x + 1)).bit_length() - 1)) - 1  # 2^level - 1
    return (x - reach) >> 1, (x + reach) >> 1


def original_tree_hash(
    suite: Suite,
    nodes: TreeArray[Node],
    hashes: TreeArray[bytes],
    x: int,
    removed: Sequence[int],
) -> bytes:
    """Tree hash of ``x`` with the leaves ``removed`` (sorted, distinct) blanked and
    dropped from every ``unmerged_leaves`` list (``original_sibling_tree_hash``, 7.9).

    Subtrees holding none of ``removed`` reuse their cached hash, as section 7.9 suggests.
    """
    first, last = subtree_leaf_span(x)
    inside = removed[bisect_left(removed, first) : bisect_right(removed, last)]
    if not inside:
        return tree_hash(suite, nodes, hashes, x)
    if not x & 1:
        return suite.hash(leaf_hash_input(x >> 1, None))
    half = 1 << ((x ^ (x + 1)).bit_length() - 2)
    left = original_tree_hash(suite, nodes, hashes, x ^ half, inside)
    right = original_tree_hash(suite, nodes, hashes, x ^ (3 * half), inside)
    node = nodes[x]
    if isinstance(node, ParentNode):
        gone = set(inside)
        kept = tuple(leaf for leaf in node.unmerged_leaves if leaf not in gone)
        if kept != node.unmerged_leaves:
            node = ParentNode(node.encryption_key, node.parent_hash, kept)
    else:
        node = None
    return suite.hash(parent_hash_input(node, left, right))


def parent_hash(
    suite: Suite, encryption_key: bytes, parent_hash_field: bytes, sibling_hash: bytes
) -> bytes:
    """Hash of ``ParentHashInput{encryption_key, parent_hash, original_sibling_tree_hash}``."""
    return suite.hash(
        encode_varint(len(encryption_key))
        + encryption_key
        + encode_varint(len(parent_hash_field))
        + parent_hash_field
        + encode_varint(len(sibling_hash))
        + sibling_hash
    )
