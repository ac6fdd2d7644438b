"""Members, leaves and groups for ratchet-tree and TreeKEM tests (no Welcome, no framing).

``Group`` is a minimal in-memory simulation of TreeKEM: a public tree, each member's
private keys, and commits that run the real create/merge/decrypt functions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from mls.crypto import Suite, get_suite
from mls.messages import (
    Capabilities,
    Credential,
    GroupContext,
    LeafNode,
    LeafNodeSource,
    Lifetime,
    UpdatePath,
)
from mls.tree import RatchetTree
from mls.tree_private import TreePrivateKeys
from mls.treekem import (
    create_update_path,
    decrypt_update_path,
    encrypt_path_secrets,
    join_private_keys,
    merge_update_path,
)
from mls.types import LeafIndex

GROUP_ID = b"tree-test-group"
FOREVER = Lifetime(0, 2**64 - 1)


@dataclass(frozen=True, slots=True)
class Identity:
    """A client's key material: its KeyPackage leaf and the private halves."""

    leaf: LeafNode
    signature_private_key: bytes = field(repr=False)
    encryption_private_key: bytes = field(repr=False)


def capabilities(suite: Suite, credentials: Sequence[int] = (1,)) -> Capabilities:
    return Capabilities((1,), (suite.cipher_suite,), (), (), tuple(credentials))


def sign_leaf(
    suite: Suite, leaf: LeafNode, signature_private_key: bytes, leaf_index: int = 0
) -> LeafNode:
    tbs = leaf.tbs(GROUP_ID, leaf_index)
    return replace(leaf, signature=suite.sign_with_label(signature_private_key, "LeafNodeTBS", tbs))


def new_identity(
    suite: Suite,
    name: bytes,
    *,
    lifetime: Lifetime = FOREVER,
    caps: Capabilities | None = None,
    credential: Credential | None = None,
) -> Identity:
    """A freshly keyed ``key_package`` leaf for ``name``, correctly signed."""
    sig_priv, sig_pub = suite.generate_signature_key_pair()
    enc_priv, enc_pub = suite.generate_hpke_key_pair()
    leaf = LeafNode(
        enc_pub,
        sig_pub,
        credential or Credential.basic(name),
        caps or capabilities(suite),
        LeafNodeSource.KEY_PACKAGE,
        (),
        b"",
        lifetime=lifetime,
    )
    return Identity(sign_leaf(suite, leaf, sig_priv), sig_priv, enc_priv)


def fake_leaf(i: int) -> LeafNode:
    """A structurally valid leaf with random keys and no valid signature (cheap)."""
    return LeafNode(
        os.urandom(32),
        os.urandom(32),
        Credential.basic(b"member-%d" % i),
        Capabilities((1,), (1,), (), (), (1,)),
        LeafNodeSource.KEY_PACKAGE,
        (),
        b"\x00" * 64,
        lifetime=FOREVER,
    )


def fake_tree(n: int, suite: Suite | None = None) -> RatchetTree:
    """``n`` members added in one batch: every parent node blank."""
    tree = RatchetTree.create(suite or get_suite(1), fake_leaf(0))
    return tree.apply(adds=[fake_leaf(i) for i in range(1, n)])[0]


def context(tree: RatchetTree, epoch: int) -> bytes:
    return GroupContext(
        1, tree.suite.cipher_suite, GROUP_ID, epoch, tree.tree_hash(), b""
    ).to_bytes()


@dataclass
class Group:
    """A public tree plus the private state of every member (mutable test harness)."""

    suite: Suite
    tree: RatchetTree
    identities: dict[LeafIndex, Identity]
    keys: dict[LeafIndex, TreePrivateKeys]
    epoch: int = 0
    commit_secrets: list[bytes] = field(default_factory=list)

    @classmethod
    def create(cls, suite: Suite, size: int) -> Group:
        """Member 0 founds the group and adds the others with a path commit."""
        founder = new_identity(suite, b"m0")
        tree = RatchetTree.create(suite, founder.leaf)
        group = cls(suite, tree, {LeafIndex(0): founder}, {})
        group.keys[LeafIndex(0)] = TreePrivateKeys(LeafIndex(0), founder.encryption_private_key)
        group.commit(LeafIndex(0), adds=[new_identity(suite, b"m%d" % i) for i in range(1, size)])
        return group

    def commit(
        self,
        sender: LeafIndex,
        *,
        adds: Sequence[Identity] = (),
        removes: Sequence[LeafIndex] = (),
    ) -> UpdatePath:
        """A path commit by ``sender``; every other member processes it and must agree."""
        tree, added = self.tree.apply(removes=removes, adds=[i.leaf for i in adds])
        for i in removes:
            del self.identities[i], self.keys[i]
        identity = self.identities[sender]
        prepared = create_update_path(
            tree, sender, group_id=GROUP_ID, signature_private_key=identity.signature_private_key
        )
        gc = context(prepared.tree, self.epoch + 1)
        path = encrypt_path_secrets(prepared, gc, exclude=added)
        for j, keys in self.keys.items():
            if j == sender:
                continue
            merged = merge_update_path(tree, sender, path, group_id=GROUP_ID)
            assert merged == prepared.tree
            received = decrypt_update_path(merged, keys, sender, path, gc, exclude=added)
            assert received.commit_secret == prepared.commit_secret
            self.keys[j] = received.private
        self.keys[sender] = prepared.private
        for leaf, ident in zip(added, adds, strict=True):
            self.identities[leaf] = ident
            self.keys[leaf] = join_private_keys(
                prepared.tree,
                leaf,
                ident.encryption_private_key,
                signer=sender,
                path_secret=prepared.path_secret_for(leaf),
            )
        self.tree = prepared.tree
        self.epoch += 1
        self.commit_secrets.append(prepared.commit_secret)
        return path
