"""TreeKEM beyond the vectors: new members excluded, joiners, tampering, private keys."""

from __future__ import annotations

from dataclasses import replace
from random import Random

import pytest

from mls import tree_array
from mls.codec import Reader
from mls.crypto import Suite, get_suite
from mls.errors import DecodeError, InvalidMessage, UsageError
from mls.messages import (
    HPKECiphertext,
    LeafNodeSource,
    Node,
    ParentNode,
    UpdatePath,
    UpdatePathNode,
)
from mls.tree import RatchetTree
from mls.tree_draft import leaf_ancestors
from mls.tree_private import TreePrivateKeys
from mls.tree_validation import validate_tree, verify_parent_hashes
from mls.treekem import (
    _locate,
    create_update_path,
    decrypt_update_path,
    encrypt_path_secrets,
    join_private_keys,
    merge_update_path,
)
from mls.types import LeafIndex, NodeIndex
from tests.helpers.mls_tree_factories import (
    GROUP_ID,
    Group,
    context,
    fake_leaf,
    fake_tree,
    new_identity,
)

SUITE = get_suite(1)
L, X = LeafIndex, NodeIndex


def test_members_agree_through_adds_removes_and_blank_paths() -> None:
    """Every commit is checked by every member inside ``Group.commit``."""
    g = Group.create(SUITE, 5)
    g.commit(L(2), adds=[new_identity(SUITE, b"n%d" % i) for i in range(4)])
    g.commit(L(7), removes=[L(1), L(4)])
    g.tree = g.tree.apply(removes=[L(6)])[0]  # a Remove committed without a path
    del g.keys[L(6)], g.identities[L(6)]
    g.commit(L(0), adds=[new_identity(SUITE, b"late")])
    g.commit(L(5))
    g.commit(L(3), removes=[L(7), L(8)])
    assert len(set(g.commit_secrets)) == len(g.commit_secrets)
    for i, keys in g.keys.items():
        assert keys.leaf_index == i
        keys.verify(g.tree)
    verify_parent_hashes(g.tree)
    validate_tree(g.tree, group_id=GROUP_ID, tree_hash=g.tree.tree_hash())


def test_new_members_get_no_ciphertext() -> None:
    g = Group.create(SUITE, 3)
    tree, added = g.tree.apply(adds=[new_identity(SUITE, b"new").leaf])
    prepared = create_update_path(
        tree,
        L(0),
        group_id=GROUP_ID,
        signature_private_key=g.identities[L(0)].signature_private_key,
    )
    gc = context(prepared.tree, 1)
    with_new = encrypt_path_secrets(prepared, gc)
    without = encrypt_path_secrets(prepared, gc, exclude=added)
    counts = [len(n.encrypted_path_secret) for n in with_new.nodes]
    assert [len(n.encrypted_path_secret) for n in without.nodes] == [counts[0], counts[1] - 1]
    # A receiver that forgets the exclusion sees the wrong ciphertext count.
    merged = merge_update_path(tree, L(0), without, group_id=GROUP_ID)
    with pytest.raises(InvalidMessage, match="ciphertexts"):
        decrypt_update_path(merged, g.keys[L(2)], L(0), without, gc)
    received = decrypt_update_path(merged, g.keys[L(2)], L(0), without, gc, exclude=added)
    assert received.commit_secret == prepared.commit_secret
    newcomer = TreePrivateKeys(added[0], b"\x00" * 32)
    with pytest.raises(UsageError, match="Welcome"):
        decrypt_update_path(merged, newcomer, L(0), without, gc, exclude=added)
    assert prepared.path_secret_for(added[0]) == prepared.path_secrets[1]


def test_a_joiner_derives_the_keys_above_the_common_ancestor() -> None:
    g = Group.create(SUITE, 4)
    newcomer = new_identity(SUITE, b"joiner")
    g.commit(L(1), adds=[newcomer])
    keys = g.keys[L(4)]
    assert set(keys.path_keys) == {7}  # the root: the only node above both leaves
    keys.verify(g.tree)
    with pytest.raises(InvalidMessage):
        join_private_keys(
            g.tree, L(4), newcomer.encryption_private_key, signer=L(1), path_secret=b"\x00" * 32
        )
    bare = join_private_keys(
        g.tree, L(4), newcomer.encryption_private_key, signer=L(1), path_secret=None
    )
    assert bare.path_keys == {}


def _committed(g: Group, sender: int = 1) -> tuple[RatchetTree, UpdatePath, bytes]:
    prepared = create_update_path(
        g.tree,
        L(sender),
        group_id=GROUP_ID,
        signature_private_key=g.identities[L(sender)].signature_private_key,
    )
    gc = context(prepared.tree, g.epoch + 1)
    return prepared.tree, encrypt_path_secrets(prepared, gc), gc


def test_tampered_paths_are_refused() -> None:
    g = Group.create(SUITE, 6)
    _, path, _ = _committed(g)
    first = path.nodes[0]
    other_key = SUITE.generate_hpke_key_pair()[1]
    tree_key = g.tree.leaf(L(3))
    assert tree_key is not None
    bad_paths = {
        "wrong parent hash": replace(
            path, nodes=(replace(first, encryption_key=other_key), *path.nodes[1:])
        ),
        "filtered direct path": replace(path, nodes=path.nodes[:-1]),
        "already in the tree": replace(
            path, nodes=(replace(first, encryption_key=tree_key.encryption_key), *path.nodes[1:])
        ),
        "leaf_node_source": replace(
            path,
            leaf_node=replace(
                path.leaf_node, leaf_node_source=LeafNodeSource.UPDATE, parent_hash=None
            ),
        ),
    }
    for message, bad in bad_paths.items():
        with pytest.raises(InvalidMessage, match=message):
            merge_update_path(g.tree, L(1), bad, group_id=GROUP_ID)
    with pytest.raises(InvalidMessage):  # the leaf is signed for another position
        merge_update_path(g.tree, L(2), path, group_id=GROUP_ID)


def test_undecryptable_or_inconsistent_secrets_are_refused() -> None:
    g = Group.create(SUITE, 4)
    merged, path, gc = _committed(g)
    keys = g.keys[L(3)]
    with pytest.raises(InvalidMessage):  # another GroupContext
        decrypt_update_path(merged, keys, L(1), path, gc + b"\x00")
    garbage = HPKECiphertext(path.nodes[1].encrypted_path_secret[0].kem_output, b"\x00" * 48)
    nodes = list(path.nodes)
    nodes[1] = UpdatePathNode(nodes[1].encryption_key, (garbage,))
    with pytest.raises(InvalidMessage):
        decrypt_update_path(merged, keys, L(1), replace(path, nodes=tuple(nodes)), gc)
    # Another path's secret under this path's public key: the derived key will not match.
    other = create_update_path(
        g.tree,
        L(1),
        group_id=GROUP_ID,
        signature_private_key=g.identities[L(1)].signature_private_key,
    )
    forged = encrypt_path_secrets(replace(other, tree=merged), gc)
    with pytest.raises(InvalidMessage, match="does not match"):
        decrypt_update_path(
            merged, keys, L(1), replace(path, nodes=(path.nodes[0], forged.nodes[1])), gc
        )
    with pytest.raises(UsageError):
        decrypt_update_path(merged, g.keys[L(1)], L(1), path, gc)


def test_external_commit_leaf_needs_a_template() -> None:
    g = Group.create(SUITE, 3)
    tree, slot = g.tree.reserve_leaf()
    with pytest.raises(UsageError):
        create_update_path(tree, slot, group_id=GROUP_ID, signature_private_key=b"")
    joiner = new_identity(SUITE, b"external")
    prepared = create_update_path(
        tree,
        slot,
        group_id=GROUP_ID,
        signature_private_key=joiner.signature_private_key,
        leaf_template=joiner.leaf,
    )
    gc = context(prepared.tree, 1)
    path = encrypt_path_secrets(prepared, gc)
    merged = merge_update_path(tree, slot, path, group_id=GROUP_ID)
    for i in (L(0), L(1), L(2)):
        received = decrypt_update_path(merged, g.keys[i], slot, path, gc)
        assert received.commit_secret == prepared.commit_secret


def test_a_lone_member_commits_an_empty_path() -> None:
    founder = new_identity(SUITE, b"alone")
    tree = RatchetTree.create(SUITE, founder.leaf)
    prepared = create_update_path(
        tree, L(0), group_id=GROUP_ID, signature_private_key=founder.signature_private_key
    )
    path = encrypt_path_secrets(prepared, context(prepared.tree, 1))
    assert path.nodes == () and prepared.path == ()
    assert path.leaf_node.parent_hash == b""
    assert merge_update_path(tree, L(0), path, group_id=GROUP_ID) == prepared.tree
    assert len(prepared.commit_secret) == SUITE.nh


def test_deterministic_with_a_leaf_secret() -> None:
    g = Group.create(SUITE, 3)
    priv = g.identities[L(0)].signature_private_key
    a = create_update_path(
        g.tree, L(0), group_id=GROUP_ID, signature_private_key=priv, leaf_secret=b"s" * 32
    )
    b = create_update_path(
        g.tree, L(0), group_id=GROUP_ID, signature_private_key=priv, leaf_secret=b"s" * 32
    )
    assert (a.commit_secret, a.tree.tree_hash()) == (b.commit_secret, b.tree.tree_hash())
    assert a.path_secrets[0] == SUITE.derive_secret(b"s" * 32, "path")


def test_secrets_stay_out_of_repr() -> None:
    g = Group.create(SUITE, 3)
    merged, path, gc = _committed(g)
    received = decrypt_update_path(merged, g.keys[L(2)], L(1), path, gc)
    keys = received.private
    prepared = create_update_path(
        g.tree,
        L(0),
        group_id=GROUP_ID,
        signature_private_key=g.identities[L(0)].signature_private_key,
    )
    secrets = [
        keys.encryption_key,
        received.commit_secret,
        received.path_secret,
        prepared.commit_secret,
    ]
    secrets += [priv for _, priv in keys.path_keys.values()] + list(prepared.path_secrets)
    for text in (repr(keys), repr(received), repr(prepared)):
        for secret in secrets:
            assert secret.hex() not in text and repr(secret) not in text


def test_private_keys_round_trip_and_prune() -> None:
    g = Group.create(SUITE, 5)
    keys = g.keys[L(3)]
    assert TreePrivateKeys.from_bytes(keys.to_bytes()) == keys
    for bad in (keys.to_bytes()[:-1], keys.to_bytes() + b"\x00"):
        with pytest.raises(DecodeError):
            TreePrivateKeys.from_bytes(bad)
    assert TreePrivateKeys.decode(Reader(keys.to_bytes())) == keys
    # After leaf 2 updates (blanking its direct path, which crosses ours), stale keys go.
    updated = g.tree.update_leaf(
        L(2), replace(fake_leaf(9), leaf_node_source=LeafNodeSource.KEY_PACKAGE)
    )
    pruned = keys.pruned(updated)
    assert set(pruned.path_keys) < set(keys.path_keys)
    assert all(updated.node(x) is not None for x in pruned.path_keys)
    assert keys.private_key_for(updated, X(3)) is None


def _count_hashes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    original = Suite.hash

    def counting(self: Suite, data: bytes) -> bytes:
        calls[0] += 1
        return original(self, data)

    monkeypatch.setattr(Suite, "hash", counting)
    return calls


def test_processing_a_commit_rehashes_log_n_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1024-leaf tree: merging a path costs about 3 hashes per level, not N."""
    tree = fake_tree(1024)
    sender = new_identity(SUITE, b"sender")
    tree = tree.update_leaf(L(300), sender.leaf)
    tree.tree_hash()
    calls = _count_hashes(monkeypatch)
    prepared = create_update_path(
        tree, L(300), group_id=GROUP_ID, signature_private_key=sender.signature_private_key
    )
    prepared.tree.tree_hash()
    created = calls[0]
    calls[0] = 0
    path = UpdatePath(
        prepared.leaf_node,
        tuple(
            UpdatePathNode(n.encryption_key, ())
            for n in (prepared.tree.node(x) for x, _ in prepared.path)
            if n is not None
        ),
    )
    merged = merge_update_path(tree, L(300), path, group_id=GROUP_ID)
    merged.tree_hash()
    assert merged == prepared.tree
    # 10 parent hashes + 11 tree hashes along the path (signature hashing is not Suite.hash).
    assert created == calls[0] == 21


def test_merging_a_path_copies_log_n_small_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """The new tree shares its arrays with the old one: a few 32-entry lists per level of
    the tree are copied (for the nodes, hashes and resolution sizes), never an array of
    all 2N - 1 nodes."""
    copied = [0]
    original = tree_array._owned

    def counting(node: list[object], owner: object) -> list[object]:
        copied[0] += 1
        return original(node, owner)

    for n in (256, 4096):
        tree = fake_tree(n)
        sender = new_identity(SUITE, b"sender")
        tree = tree.update_leaf(L(n - 1), sender.leaf)
        tree.tree_hash()
        prepared = create_update_path(
            tree, L(n - 1), group_id=GROUP_ID, signature_private_key=sender.signature_private_key
        )
        keys = (prepared.tree.node(x) for x, _ in prepared.path)
        path = UpdatePath(
            prepared.leaf_node, tuple(UpdatePathNode(k.encryption_key, ()) for k in keys if k)
        )
        with monkeypatch.context() as m:
            m.setattr(tree_array, "_owned", counting)
            copied[0] = 0
            merge_update_path(tree, L(n - 1), path, group_id=GROUP_ID).tree_hash()
        assert 0 < copied[0] <= 4 * (n.bit_length() - 1)
        assert tree.tree_hash() != prepared.tree.tree_hash()  # the old tree is untouched


def _random_tree(rnd: Random, n: int, exclude: set[int]) -> RatchetTree:
    """``n`` members; random parents with random unmerged leaves, and the ``exclude``d
    (just added) leaves unmerged at every non-blank ancestor, as an Add leaves them."""
    nodes: list[Node | None] = [fake_leaf(x) if x % 2 == 0 else None for x in range(2 * n - 1)]
    width = RatchetTree.from_nodes(SUITE, nodes).width
    nodes += [None] * (width - len(nodes))
    for x in range(1, width, 2):
        if rnd.random() < 0.5:
            reach = (1 << ((x ^ (x + 1)).bit_length() - 1)) - 1
            below = range((x - reach) >> 1, min(n, ((x + reach) >> 1) + 1))
            unmerged = [u for u in below if u in exclude or rnd.random() < 0.3]
            nodes[x] = ParentNode(rnd.randbytes(32), b"", tuple(unmerged))
    while nodes[-1] is None:
        nodes.pop()
    return RatchetTree.from_nodes(SUITE, nodes)


def test_ciphertext_position_matches_the_listed_resolution() -> None:
    """``_locate`` walks one path using resolution sizes; on random trees it must pick
    the same resolution entry, at the same position, as a scan of the resolution."""
    rnd = Random(7)
    checked = 0
    for _ in range(300):
        n = rnd.choice([2, 3, 5, 8, 13, 16, 31])
        me = rnd.randrange(n)
        exclude = {u for u in range(n) if u != me and rnd.random() < 0.2}
        tree = _random_tree(rnd, n, exclude)
        ancestors = leaf_ancestors(me, tree.width)
        path_keys = {}
        for a in ancestors:
            node = tree.parent_node(X(a))
            if node is not None and me not in node.unmerged_leaves:
                path_keys[X(a)] = (node.encryption_key, b"priv%d" % a)
        keys = TreePrivateKeys(L(me), b"leaf", path_keys)
        for top in [2 * me, *ancestors[:-1]]:  # every node holding me but the root
            listed = tree.resolution(X(top), [L(u) for u in exclude])
            expected = next(
                (i, keys.private_key_for(tree, y))
                for i, y in enumerate(listed)
                if keys.private_key_for(tree, y) is not None
            )
            assert _locate(tree, keys, X(top), sorted(exclude)) == expected
            checked += 1
    assert checked > 600
