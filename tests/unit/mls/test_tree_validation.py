"""Tree and leaf validation: every rejection a joiner or a receiver must make."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mls.crypto import get_suite
from mls.errors import InvalidMessage
from mls.messages import (
    Credential,
    Extension,
    LeafNode,
    LeafNodeSource,
    Lifetime,
    Node,
    ParentNode,
    RequiredCapabilities,
)
from mls.tree import RatchetTree
from mls.tree_validation import validate_leaf_node, validate_tree, verify_parent_hashes
from mls.types import LeafIndex, NodeIndex
from tests.helpers.mls_tree_factories import (
    GROUP_ID,
    Group,
    capabilities,
    new_identity,
    sign_leaf,
)

SUITE = get_suite(1)
L, X = LeafIndex, NodeIndex


@pytest.fixture(scope="module")
def group() -> Group:
    """Seven members after three path commits, then leaf 7 added without a path, so it
    is unmerged at two non-blank ancestors (nodes 11 and 7)."""
    g = Group.create(SUITE, 6)
    g.commit(L(3))
    g.commit(L(4), adds=[new_identity(SUITE, b"m6")])
    g.tree, added = g.tree.apply(adds=[new_identity(SUITE, b"late").leaf])
    assert added == [7]
    return g


def tampered(tree: RatchetTree, x: int, node: Node | None) -> RatchetTree:
    nodes = list(tree.to_nodes())
    nodes[x] = node
    return RatchetTree.from_nodes(SUITE, nodes)


def test_a_real_group_tree_is_valid(group: Group) -> None:
    tree = group.tree
    assert any(p.unmerged_leaves for x in range(1, tree.width, 2) if (p := tree.parent_node(X(x))))
    validate_tree(tree, group_id=GROUP_ID, tree_hash=tree.tree_hash(), now=1_700_000_000)


def test_tree_hash_mismatch(group: Group) -> None:
    with pytest.raises(InvalidMessage, match="tree hash"):
        validate_tree(group.tree, group_id=GROUP_ID, tree_hash=b"\x00" * 32)


def test_tampered_leaf_signature(group: Group) -> None:
    leaf = group.tree.leaf(L(3))
    assert leaf is not None
    bad = replace(leaf, signature=leaf.signature[:-1] + bytes([leaf.signature[-1] ^ 1]))
    with pytest.raises(InvalidMessage):
        validate_tree(tampered(group.tree, 6, bad), group_id=GROUP_ID)
    with pytest.raises(InvalidMessage):  # right signature, wrong group
        validate_tree(group.tree, group_id=b"another group")


def _first_parent(tree: RatchetTree) -> tuple[int, ParentNode]:
    for x in range(1, tree.width, 2):
        node = tree.parent_node(X(x))
        if node is not None:
            return x, node
    raise AssertionError("no parent node")


def test_bad_parent_hash(group: Group) -> None:
    x, node = _first_parent(group.tree)
    for bad in (
        replace(node, parent_hash=b"\x01" * 32),
        replace(node, encryption_key=SUITE.generate_hpke_key_pair()[1]),
    ):
        tree = tampered(group.tree, x, bad)
        with pytest.raises(InvalidMessage, match="parent-hash valid"):
            verify_parent_hashes(tree)
        with pytest.raises(InvalidMessage):
            validate_tree(tree, group_id=GROUP_ID)


def test_a_parent_node_nobody_set_is_refused(group: Group) -> None:
    tree = group.tree
    blank = next(x for x in range(1, tree.width, 2) if tree.parent_node(X(x)) is None)
    forged = ParentNode(SUITE.generate_hpke_key_pair()[1], b"", ())
    with pytest.raises(InvalidMessage, match="parent-hash valid"):
        verify_parent_hashes(tampered(tree, blank, forged))


def test_unmerged_leaf_rules(group: Group) -> None:
    tree = group.tree
    root = tree.parent_node(X(7))
    assert root is not None and root.unmerged_leaves == (7,)
    with pytest.raises(InvalidMessage, match="strictly increasing"):
        validate_tree(tampered(tree, 7, replace(root, unmerged_leaves=(7, 7))), group_id=GROUP_ID)
    low = tree.parent_node(X(9))  # leaves 4 and 5
    assert low is not None
    with pytest.raises(InvalidMessage, match="not a member below it"):
        validate_tree(tampered(tree, 9, replace(low, unmerged_leaves=(7,))), group_id=GROUP_ID)
    with pytest.raises(InvalidMessage):  # dropping an entry breaks the parent-hash check
        validate_tree(tampered(tree, 7, replace(root, unmerged_leaves=())), group_id=GROUP_ID)
    # A blank leaf cannot be unmerged (structure is checked before any signature).
    a, b = new_identity(SUITE, b"a").leaf, new_identity(SUITE, b"b").leaf
    nodes: list[Node | None] = [a, ParentNode(b"\x07" * 32, b"", (1,)), None, None, b]
    with pytest.raises(InvalidMessage, match="not a member below it"):
        validate_tree(RatchetTree.from_nodes(SUITE, nodes), group_id=GROUP_ID)


def test_unmerged_leaf_missing_between(group: Group) -> None:
    tree = group.tree
    holders = [y for y, _ in tree.direct_path(L(7)) if tree.parent_node(y) is not None]
    assert holders == [11, 7]
    low = tree.parent_node(X(11))
    assert low is not None and low.unmerged_leaves == (7,)
    with pytest.raises(InvalidMessage, match="does not list unmerged leaf"):
        validate_tree(tampered(tree, 11, replace(low, unmerged_leaves=())), group_id=GROUP_ID)


def test_duplicate_keys_never_make_a_tree(group: Group) -> None:
    tree = group.tree
    a, b = tree.leaf(L(0)), tree.leaf(L(2))
    assert a is not None and b is not None
    with pytest.raises(InvalidMessage, match="encryption key"):
        tampered(tree, 4, replace(b, encryption_key=a.encryption_key))
    with pytest.raises(InvalidMessage, match="signature key"):
        tampered(tree, 4, replace(b, signature_key=a.signature_key))


def test_lifetimes_are_checked_against_now() -> None:
    member = new_identity(SUITE, b"a", lifetime=Lifetime(1000, 2000))
    tree = RatchetTree.create(SUITE, member.leaf)
    validate_tree(tree, group_id=GROUP_ID, now=1500)
    validate_tree(tree, group_id=GROUP_ID, now=None)  # a received tree may skip it
    for now in (999, 2001):
        with pytest.raises(InvalidMessage, match="lifetime"):
            validate_tree(tree, group_id=GROUP_ID, now=now)


def test_required_capabilities() -> None:
    tree = RatchetTree.create(SUITE, new_identity(SUITE, b"a").leaf)
    fine = RequiredCapabilities(extension_types=(0x0002,), proposal_types=(0x0001,))
    validate_tree(tree, group_id=GROUP_ID, required_capabilities=fine)
    for missing in (
        RequiredCapabilities(extension_types=(0xF2EE,)),
        RequiredCapabilities(proposal_types=(0x000A,)),
        RequiredCapabilities(credential_types=(2,)),
    ):
        with pytest.raises(InvalidMessage, match="required"):
            validate_tree(tree, group_id=GROUP_ID, required_capabilities=missing)


def test_credential_types_must_be_supported_by_everyone() -> None:
    both = capabilities(SUITE, credentials=(1, 2))
    a = new_identity(SUITE, b"a", caps=both)
    tree = RatchetTree.create(SUITE, a.leaf)
    x509 = new_identity(SUITE, b"", caps=both, credential=Credential.x509([b"cert"]))
    validate_leaf_node(tree, x509.leaf, source=LeafNodeSource.KEY_PACKAGE, group_id=GROUP_ID)
    basic_only = new_identity(SUITE, b"b")
    tree2 = tree.add_leaf(basic_only.leaf)[0]
    with pytest.raises(InvalidMessage, match="not supported by every member"):
        validate_leaf_node(tree2, x509.leaf, source=LeafNodeSource.KEY_PACKAGE, group_id=GROUP_ID)
    with pytest.raises(InvalidMessage, match="every credential type"):
        validate_tree(tree2.add_leaf(x509.leaf)[0], group_id=GROUP_ID)
    x509_only = new_identity(
        SUITE, b"", caps=capabilities(SUITE, credentials=(2,)), credential=Credential.x509([b"c"])
    )
    with pytest.raises(InvalidMessage, match="in use"):
        validate_leaf_node(
            tree, x509_only.leaf, source=LeafNodeSource.KEY_PACKAGE, group_id=GROUP_ID
        )


def _update_leaf(group: Group, i: int, **changes: object) -> LeafNode:
    old = group.tree.leaf(L(i))
    assert old is not None
    leaf = replace(
        old,
        encryption_key=SUITE.generate_hpke_key_pair()[1],
        leaf_node_source=LeafNodeSource.UPDATE,
        lifetime=None,
        parent_hash=None,
    )
    leaf = replace(leaf, **changes)  # type: ignore[arg-type]
    return sign_leaf(SUITE, leaf, group.identities[L(i)].signature_private_key, i)


def test_leaf_node_rules_for_updates(group: Group) -> None:
    tree, upd = group.tree, LeafNodeSource.UPDATE
    good = _update_leaf(group, 2)
    validate_leaf_node(tree, good, source=upd, group_id=GROUP_ID, leaf_index=L(2))
    with pytest.raises(InvalidMessage, match="leaf_node_source"):
        validate_leaf_node(
            tree, good, source=LeafNodeSource.COMMIT, group_id=GROUP_ID, leaf_index=L(2)
        )
    with pytest.raises(InvalidMessage):  # signed for leaf 2, presented as leaf 4
        validate_leaf_node(tree, good, source=upd, group_id=GROUP_ID, leaf_index=L(4))
    old = tree.leaf(L(2))
    other = tree.leaf(L(0))
    assert old is not None and other is not None
    cases = {
        "change the encryption key": _update_leaf(group, 2, encryption_key=old.encryption_key),
        "encryption key already used": _update_leaf(group, 2, encryption_key=other.encryption_key),
        "not in its capabilities": _update_leaf(group, 2, extensions=(Extension(0x1A1A, b""),)),
    }
    for message, leaf in cases.items():
        with pytest.raises(InvalidMessage, match=message):
            validate_leaf_node(tree, leaf, source=upd, group_id=GROUP_ID, leaf_index=L(2))
    stolen = replace(good, signature_key=other.signature_key)
    with pytest.raises(InvalidMessage):
        validate_leaf_node(tree, stolen, source=upd, group_id=GROUP_ID, leaf_index=L(2))
    listed = replace(old.capabilities, extensions=(0x1A1A,))
    greased = _update_leaf(group, 2, extensions=(Extension(0x1A1A, b""),), capabilities=listed)
    validate_leaf_node(tree, greased, source=upd, group_id=GROUP_ID, leaf_index=L(2))


def test_the_credential_hook_can_refuse(group: Group) -> None:
    seen: list[bytes] = []

    def refuse_mallory(credential: Credential, signature_key: bytes) -> None:
        seen.append(credential.identity)
        if credential.identity == b"m4":
            raise InvalidMessage("unknown identity")

    with pytest.raises(InvalidMessage, match="unknown identity"):
        validate_tree(group.tree, group_id=GROUP_ID, validate_credential=refuse_mallory)
    assert seen[0] == b"m0" and seen[-1] == b"m4"
