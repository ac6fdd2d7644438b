"""RatchetTree beyond the vectors: shape changes, the RFC figures, lookups, caching."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mls.crypto import Suite, get_suite
from mls.errors import DecodeError, InvalidMessage, UsageError
from mls.messages import Credential, LeafNode, ParentNode
from mls.tree import RatchetTree
from mls.tree_hash import leaf_hash_input
from mls.types import LeafIndex, NodeIndex
from tests.helpers.mls_tree_factories import fake_leaf, fake_tree

SUITE = get_suite(1)
L, X = LeafIndex, NodeIndex


def parent(tag: int, unmerged: tuple[int, ...] = ()) -> ParentNode:
    return ParentNode(bytes([tag]) * 32, b"", unmerged)


def tree_of(nodes: list[LeafNode | ParentNode | None]) -> RatchetTree:
    """A tree from a full node array (trailing blanks dropped as on the wire)."""
    while nodes and nodes[-1] is None:
        nodes = nodes[:-1]
    return RatchetTree.from_nodes(SUITE, nodes)


def test_a_new_tree_has_one_leaf() -> None:
    leaf = fake_leaf(0)
    tree = RatchetTree.create(SUITE, leaf)
    assert (tree.width, tree.leaf_count, tree.root, tree.member_count) == (1, 1, 0, 1)
    assert tree.leaf(L(0)) == leaf
    assert tree.tree_hash() == SUITE.hash(leaf_hash_input(0, leaf))
    assert list(tree.members()) == [(0, leaf)]
    assert tree.direct_path(L(0)) == [] == tree.filtered_direct_path(L(0))
    assert tree.resolution(X(0)) == [0]


def test_adds_fill_the_leftmost_blank_and_extend_a_full_tree() -> None:
    tree = fake_tree(2)
    assert tree.leaf_count == 2
    tree, i = tree.add_leaf(fake_leaf(2))
    assert (i, tree.leaf_count, tree.width) == (2, 4, 7)
    assert tree.to_nodes()[-1] is tree.leaf(L(2))  # trailing blanks are not sent
    tree = tree.remove_leaf(L(1))
    tree, i = tree.add_leaf(fake_leaf(3))
    assert i == 1
    tree, added = tree.apply(adds=[fake_leaf(4), fake_leaf(5)])
    assert added == [3, 4] and tree.leaf_count == 8


def test_add_records_the_new_leaf_as_unmerged_at_non_blank_ancestors() -> None:
    a, b, c = fake_leaf(0), fake_leaf(1), fake_leaf(2)
    tree = tree_of([a, parent(1), b, parent(3), c, None, None])
    tree, i = tree.add_leaf(fake_leaf(3))
    assert i == 3
    root = tree.parent_node(X(3))
    assert root is not None and root.unmerged_leaves == (3,)
    assert tree.parent_node(X(5)) is None  # blank parents stay blank
    assert tree.resolution(X(3)) == [3, 6]
    # The list stays sorted when a lower leaf is added later.
    d = fake_leaf(4)
    tree = RatchetTree.from_nodes(SUITE, [a, None, None, parent(3, (3,)), c, None, d])
    tree, i = tree.add_leaf(fake_leaf(5))
    root = tree.parent_node(X(3))
    assert i == 1 and root is not None and root.unmerged_leaves == (1, 3)


def test_update_replaces_the_leaf_and_blanks_its_direct_path() -> None:
    a, b, c, d = (fake_leaf(i) for i in range(4))
    tree = RatchetTree.from_nodes(SUITE, [a, parent(1), b, parent(3), c, parent(5), d])
    new = fake_leaf(9)
    after = tree.update_leaf(L(2), new)
    assert after.leaf(L(2)) == new
    assert [after.node(X(x)) is None for x in (1, 3, 5)] == [False, True, True]
    assert tree.node(X(3)) == parent(3)  # the original value is untouched
    assert after.find_encryption_key(c.encryption_key) is None
    assert after.find_encryption_key(new.encryption_key) == 4
    assert after.find_encryption_key(parent(3).encryption_key) is None


def test_remove_blanks_and_truncates_down_to_the_last_member() -> None:
    tree = fake_tree(5)  # 8 leaves wide
    assert tree.leaf_count == 8
    tree = tree.remove_leaf(L(4))
    assert tree.leaf_count == 4 and tree.member_count == 4
    tree = tree.remove_leaf(L(1))
    assert tree.leaf_count == 4  # leaf 3 still holds the right half
    tree = tree.remove_leaf(L(3)).remove_leaf(L(2))
    assert tree.leaf_count == 1 and tree.width == 1


def test_truncation_discards_a_non_blank_root() -> None:
    a, b, c = fake_leaf(0), fake_leaf(1), fake_leaf(2)
    tree = RatchetTree.from_nodes(SUITE, [a, parent(1), b, None, c])
    tree = tree.remove_leaf(L(2))  # blanks 5 and 3, drops the right half
    assert tree.width == 3
    tree = tree.remove_leaf(L(1))  # blanks 1 (root) then truncates to one leaf
    assert tree.to_nodes() == (a,)
    assert tree.find_encryption_key(parent(1).encryption_key) is None


def test_resolution_of_figure_10() -> None:
    """RFC 9420 Figure 10: resolution(X) = [X, B], top = [X, B, Y, H], leaf 2 = []."""
    leaves = [fake_leaf(i) if i in (0, 1, 3, 4, 5, 7) else None for i in range(8)]
    nodes: list[LeafNode | ParentNode | None] = [None] * 15
    for i, leaf in enumerate(leaves):
        nodes[2 * i] = leaf
    nodes[3] = parent(3, (1,))  # X[B]
    nodes[9] = parent(9)  # Y
    tree = tree_of(nodes)
    assert tree.resolution(X(3)) == [3, 2]
    assert tree.resolution(X(7)) == [3, 2, 9, 14]
    assert tree.resolution(X(4)) == [] == tree.resolution(X(12))
    assert tree.resolution(X(7), exclude=[L(1)]) == [3, 9, 14]
    assert [tree.resolution_size(X(x)) for x in (3, 7, 4, 11)] == [2, 4, 0, 2]


def test_filtered_direct_paths_of_figure_11() -> None:
    """RFC 9420 Figure 11 / Table 2."""
    nodes: list[LeafNode | ParentNode | None] = [None] * 15
    for i in (0, 1, 4, 5, 6):
        nodes[2 * i] = fake_leaf(i)
    for x in (1, 9, 11, 7):  # T, X, Y, W; U, V, Z blank
        nodes[x] = parent(x)
    tree = tree_of(nodes)

    def filtered(i: int) -> list[int]:
        return [x for x, _ in tree.filtered_direct_path(L(i))]

    assert [x for x, _ in tree.direct_path(L(0))] == [1, 3, 7]
    assert [c for _, c in tree.direct_path(L(0))] == [2, 5, 11]
    assert filtered(0) == filtered(1) == [1, 7]
    assert filtered(4) == filtered(5) == [9, 11, 7]
    assert filtered(6) == [11, 7]


def test_encoding_round_trip_and_errors() -> None:
    tree = fake_tree(5)
    assert RatchetTree.from_bytes(SUITE, tree.to_bytes()) == tree
    a, b = fake_leaf(0), fake_leaf(1)
    bad_shapes: list[list[LeafNode | ParentNode | None]] = [
        [],
        [a, None],  # trailing blank
        [parent(1)],  # parent at a leaf position
        [a, b, b],  # leaf at a parent position
        [a, parent(1, (2,)), b],  # unmerged leaf outside the tree
    ]
    for nodes in bad_shapes:
        with pytest.raises(InvalidMessage):
            RatchetTree.from_nodes(SUITE, nodes)
    with pytest.raises(DecodeError):
        RatchetTree.from_bytes(SUITE, tree.to_bytes()[:-1])
    with pytest.raises(DecodeError):
        RatchetTree.from_bytes(SUITE, tree.to_bytes() + b"\x00")


def test_duplicate_keys_are_refused() -> None:
    a, b = fake_leaf(0), fake_leaf(1)
    with pytest.raises(InvalidMessage, match="encryption key"):
        RatchetTree.from_nodes(SUITE, [a, None, replace(b, encryption_key=a.encryption_key)])
    with pytest.raises(InvalidMessage, match="signature key"):
        RatchetTree.from_nodes(SUITE, [a, None, replace(b, signature_key=a.signature_key)])
    with pytest.raises(InvalidMessage, match="encryption key"):
        RatchetTree.from_nodes(SUITE, [a, ParentNode(a.encryption_key, b"", ()), b])
    tree = RatchetTree.from_nodes(SUITE, [a, None, b])
    with pytest.raises(InvalidMessage):
        tree.add_leaf(replace(fake_leaf(2), signature_key=b.signature_key))
    # Replacing a leaf with one keeping its own signature key is fine.
    tree.update_leaf(L(1), replace(fake_leaf(3), signature_key=b.signature_key))


def test_operations_on_non_members_are_refused() -> None:
    tree = fake_tree(3).remove_leaf(L(1))
    with pytest.raises(InvalidMessage):
        tree.remove_leaf(L(1))
    with pytest.raises(InvalidMessage):
        tree.update_leaf(L(1), fake_leaf(9))
    with pytest.raises(InvalidMessage):
        tree.remove_leaf(L(40))
    with pytest.raises(UsageError):
        tree.leaf(L(4))
    with pytest.raises(UsageError):
        tree.node(X(7))
    with pytest.raises(UsageError):
        tree.parent_node(X(0))


def test_lookups_follow_the_tree() -> None:
    a = fake_leaf(0)
    b = replace(fake_leaf(1), credential=Credential.basic(b"alice"))
    c = replace(fake_leaf(2), credential=Credential.basic(b"alice"))
    tree = RatchetTree.from_nodes(SUITE, [a, None, b, None, c])
    assert tree.find_identity(b"alice") == [1, 2]
    assert tree.find_signature_key(c.signature_key) == 2
    assert tree.find_encryption_key(b"\x00" * 32) is None
    tree = tree.remove_leaf(L(1))
    assert tree.find_identity(b"alice") == [2]
    assert tree.find_signature_key(b.signature_key) is None
    assert tree.credential_types_in_use() == {1}
    assert (tree.credential_use(1), tree.credential_support(1)) == (2, 2)


def test_apply_matches_one_operation_at_a_time() -> None:
    base = fake_tree(6)
    new_leaves = [fake_leaf(i) for i in (10, 11, 12)]
    update = fake_leaf(20)
    batched, added = base.apply(updates=[(L(0), update)], removes=[L(2), L(5)], adds=new_leaves)
    stepwise = base.update_leaf(L(0), update).remove_leaf(L(2)).remove_leaf(L(5))
    for leaf in new_leaves:
        stepwise = stepwise.add_leaf(leaf)[0]
    assert batched == stepwise and added == [2, 5, 6]
    assert batched.tree_hash() == stepwise.tree_hash()


def test_reserve_leaf_takes_the_leftmost_blank_or_extends() -> None:
    tree = fake_tree(4)
    wider, i = tree.reserve_leaf()
    assert (i, wider.leaf_count, wider.leaf(i)) == (4, 8, None)
    assert wider.tree_hash() != tree.tree_hash()
    gap, i = tree.remove_leaf(L(1)).reserve_leaf()
    assert (i, gap.leaf_count) == (1, 4)


def test_repr_names_the_shape_only() -> None:
    assert repr(fake_tree(3)) == (
        "RatchetTree(MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, leaves=4, members=3)"
    )


def _count_hashes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    original = Suite.hash

    def counting(self: Suite, data: bytes) -> bytes:
        calls[0] += 1
        return original(self, data)

    monkeypatch.setattr(Suite, "hash", counting)
    return calls


def test_a_leaf_update_rehashes_only_its_path(monkeypatch: pytest.MonkeyPatch) -> None:
    tree = fake_tree(1024)
    calls = _count_hashes(monkeypatch)
    root_hash = tree.tree_hash()
    assert calls[0] == 2047  # every node once
    assert tree.tree_hash() == root_hash and calls[0] == 2047  # memoized

    calls[0] = 0
    after = tree.update_leaf(L(700), fake_leaf(5000))
    after_hash = after.tree_hash()
    assert calls[0] == 11  # the leaf and its 10 ancestors
    assert tree.tree_hash() == root_hash  # the old version keeps its own hashes
    fresh = RatchetTree.from_bytes(SUITE, after.to_bytes())
    assert fresh.tree_hash() == after_hash


def test_hash_cost_grows_with_log_n(monkeypatch: pytest.MonkeyPatch) -> None:
    costs = []
    for n in (64, 1024):
        tree = fake_tree(n)
        tree.tree_hash()
        calls = _count_hashes(monkeypatch)
        tree.apply(updates=[(L(0), fake_leaf(n)), (L(n - 1), fake_leaf(n + 1))])[0].tree_hash()
        costs.append(calls[0])
        monkeypatch.undo()
    assert costs == [2 * 7 - 1, 2 * 11 - 1]  # two leaf-to-root paths sharing the root
