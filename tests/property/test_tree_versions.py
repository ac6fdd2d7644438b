"""RatchetTree versions share memoized hashes, resolution sizes and key maps; whatever the
sequence of operations, every version must agree with a tree rebuilt from its encoding,
and older versions must never change."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mls import tree_index
from mls.crypto import get_suite
from mls.messages import Capabilities, Credential, LeafNode, LeafNodeSource, Lifetime, ParentNode
from mls.tree import RatchetTree
from mls.types import LeafIndex, NodeIndex

SUITE = get_suite(1)


def leaf(n: int) -> LeafNode:
    """A deterministic leaf (no valid signature: these properties are structural)."""
    return LeafNode(
        hashlib.sha256(b"enc%d" % n).digest(),
        hashlib.sha256(b"sig%d" % n).digest(),
        Credential.basic(b"%d" % n),
        Capabilities((1,), (1,), (n % 3 + 6,) * (n % 2 + 1), (n % 2 + 8,), (1, n % 4 + 1)),
        LeafNodeSource.KEY_PACKAGE,
        (),
        b"",
        lifetime=Lifetime(0, 1),
    )


# An operation: ("add", k) adds k leaves, ("remove", r) / ("update", r) pick a member by
# rank, ("path", r) sets the member's direct path to parent nodes (a merged commit).
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(1, 5)),
        st.tuples(st.sampled_from(["remove", "update", "path"]), st.integers(0, 1000)),
    ),
    max_size=12,
)


def step(tree: RatchetTree, op: tuple[str, int], fresh: list[int]) -> RatchetTree:
    kind, n = op
    if kind == "add":
        adds = []
        for _ in range(n):
            fresh[0] += 1
            adds.append(leaf(fresh[0]))
        return tree.apply(adds=adds)[0]
    members = [i for i, _ in tree.members()]
    target = members[n % len(members)]
    fresh[0] += 1
    if kind == "remove" and len(members) > 1:
        return tree.remove_leaf(target)
    if kind == "path":
        key = hashlib.sha256(b"path%d" % fresh[0]).digest()
        nodes = [
            (x, ParentNode(key[:31] + bytes([k]), b"", ()))
            for k, (x, _) in enumerate(tree.filtered_direct_path(target))
        ]
        return tree.with_path(target, leaf(fresh[0]), nodes)
    return tree.update_leaf(target, leaf(fresh[0]))


def check_against_rebuild(tree: RatchetTree) -> None:
    rebuilt = RatchetTree.from_bytes(SUITE, tree.to_bytes())
    assert rebuilt == tree
    assert rebuilt.tree_hash() == tree.tree_hash()
    for x in range(tree.width):
        node = NodeIndex(x)
        assert (
            tree.resolution_size(node)
            == rebuilt.resolution_size(node)
            == len(rebuilt.resolution(node))
        )
        assert tree.node_hash(node) == rebuilt.node_hash(node)
        value = tree.node(node)
        if value is not None:
            assert tree.find_encryption_key(value.encryption_key) == x
    assert tree.member_count == rebuilt.member_count == len(list(tree.members()))
    for i, member in tree.members():
        assert tree.find_signature_key(member.signature_key) == i
    # The per-type support counters match a count over the members.
    leaves = [leaf for _, leaf in tree.members()]
    for t in range(1, 10):
        assert tree.extension_support(t) == sum(t in x.capabilities.extensions for x in leaves)
        assert tree.proposal_support(t) == sum(t in x.capabilities.proposals for x in leaves)
        assert tree.credential_support(t) == sum(t in x.capabilities.credentials for x in leaves)


@given(OPS, OPS)
def test_versions_agree_with_rebuilds(
    first: list[tuple[str, int]], second: list[tuple[str, int]]
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tree_index, "OVERLAY_LIMIT", 3)  # compact often
        fresh = [0]
        base = RatchetTree.create(SUITE, leaf(0))
        versions = [base]
        for op in first:
            versions.append(step(versions[-1], op, fresh))
        snapshots = [(t.to_bytes(), t.tree_hash()) for t in versions]
        # A second branch from the middle must not disturb the first one.
        branch = versions[len(versions) // 2]
        for op in second:
            branch = step(branch, op, fresh)
            branch.tree_hash()
        check_against_rebuild(branch)
        for tree, (data, digest) in zip(versions, snapshots, strict=True):
            assert (tree.to_bytes(), tree.tree_hash()) == (data, digest)
            check_against_rebuild(tree)
        # Keys that left the tree are gone from the lookups.
        gone = {leaf(n).signature_key for n in range(fresh[0] + 1)} - {
            m.signature_key for _, m in branch.members()
        }
        assert all(branch.find_signature_key(k) is None for k in gone)
        assert LeafIndex(0) in {i for i, _ in versions[0].members()}
