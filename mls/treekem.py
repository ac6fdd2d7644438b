"""TreeKEM (RFC 9420 sections 7.4 to 7.6 and 12.4.2): creating and processing UpdatePaths.

Committer (two steps, because the HPKE context is the GroupContext whose tree hash
covers the new path)::

    prepared = create_update_path(tree, sender, group_id=..., signature_private_key=...)
    context = GroupContext(..., tree_hash=prepared.tree.tree_hash(), ...).to_bytes()
    update_path = encrypt_path_secrets(prepared, context, exclude=added_leaves)
    prepared.commit_secret; prepared.private; prepared.path_secret_for(new_member)

Receiver::

    tree = merge_update_path(tree, sender, update_path, group_id=...)   # checks, merges
    context = GroupContext(..., tree_hash=tree.tree_hash(), ...).to_bytes()
    received = decrypt_update_path(tree, keys, sender, update_path, context,
                                   exclude=added_leaves)
    received.commit_secret; received.private; received.path_secret

Joiner: ``join_private_keys(tree, my_leaf, leaf_private_key, signer, path_secret)``.

``tree`` is always the tree after the commit's proposals were applied, ``added_leaves``
the leaves those proposals added (they get their secrets through the Welcome instead).
A receiver does ``O(log N)`` work apart from the one HPKE decryption: the position of its
ciphertext comes from memoized resolution sizes, not from listing the resolution.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from mls import tree_math
from mls.crypto import DEFAULT_RNG, Suite
from mls.errors import InvalidMessage, UsageError
from mls.messages import (
    HPKECiphertext,
    LeafNode,
    LeafNodeSource,
    ParentNode,
    RequiredCapabilities,
    UpdatePath,
    UpdatePathNode,
)
from mls.tree import RatchetTree
from mls.tree_hash import parent_hash, subtree_leaf_span
from mls.tree_private import TreePrivateKeys, node_key_pair
from mls.tree_validation import CredentialValidator, validate_leaf_node
from mls.types import LeafIndex, NodeIndex, Rng

_LABEL = "UpdatePathNode"


@dataclass(frozen=True, slots=True)
class PreparedPath:
    """A committer's new path: the merged tree, its keys and the secrets to send."""

    tree: RatchetTree
    sender: LeafIndex
    leaf_node: LeafNode
    path: tuple[tuple[NodeIndex, NodeIndex], ...]  # filtered direct path: (node, copath child)
    private: TreePrivateKeys
    path_secrets: tuple[bytes, ...] = field(repr=False)
    commit_secret: bytes = field(repr=False)

    def path_secret_for(self, member: LeafIndex) -> bytes:
        """The secret of the lowest node on both direct paths, for ``member``'s Welcome."""
        ancestor = tree_math.common_ancestor(
            tree_math.leaf_to_node(self.sender), tree_math.leaf_to_node(member)
        )
        for (x, _), secret in zip(self.path, self.path_secrets, strict=True):
            if x == ancestor:
                return secret
        raise UsageError(f"leaf {member} is not below the filtered direct path")


@dataclass(frozen=True, slots=True)
class ReceivedPath:
    """What a receiver learns from an UpdatePath."""

    private: TreePrivateKeys
    path_secret: bytes = field(repr=False)  # the secret it decrypted
    commit_secret: bytes = field(repr=False)


def create_update_path(
    tree: RatchetTree,
    sender: LeafIndex,
    *,
    group_id: bytes,
    signature_private_key: bytes,
    leaf_template: LeafNode | None = None,
    leaf_secret: bytes | None = None,
    rng: Rng = DEFAULT_RNG,
) -> PreparedPath:
    """Section 7.4/7.5: new leaf and path keys for ``sender``, parent hashes, signed leaf.

    ``leaf_template`` supplies the credential, signature key, capabilities and extensions
    of the new leaf (default: the current leaf; required for an external commit).
    """
    suite = tree.suite
    template = tree.leaf(sender) if leaf_template is None else leaf_template
    if template is None:
        raise UsageError(f"leaf {sender} is blank: pass a leaf_template")
    secret = rng(suite.nh) if leaf_secret is None else leaf_secret
    leaf_private, leaf_public = node_key_pair(suite, secret)
    path = tree.filtered_direct_path(sender)
    path_secrets, keys, commit_secret = _derive_path(suite, secret, len(path))
    nodes, leaf_parent_hash = _chain_parent_hashes(tree, path, [pub for _, pub in keys])
    unsigned = replace(
        template,
        encryption_key=leaf_public,
        leaf_node_source=LeafNodeSource.COMMIT,
        signature=b"",
        lifetime=None,
        parent_hash=leaf_parent_hash,
    )
    leaf = _signed(suite, unsigned, group_id, sender, signature_private_key)
    path_keys = {x: (pub, priv) for (x, _), (priv, pub) in zip(path, keys, strict=True)}
    return PreparedPath(
        tree.with_path(sender, leaf, nodes),
        sender,
        leaf,
        tuple(path),
        TreePrivateKeys(sender, leaf_private, path_keys),
        tuple(path_secrets),
        commit_secret,
    )


def _signed(
    suite: Suite, leaf: LeafNode, group_id: bytes, sender: LeafIndex, private_key: bytes
) -> LeafNode:
    """The leaf signed with ``group_id`` and the sender's index as context (7.2)."""
    tbs = leaf.tbs(group_id, sender)
    return replace(leaf, signature=suite.sign_with_label(private_key, "LeafNodeTBS", tbs))


def _derive_path(
    suite: Suite, leaf_secret: bytes, length: int
) -> tuple[list[bytes], list[tuple[bytes, bytes]], bytes]:
    """Section 7.4: ``length`` path secrets chained from the leaf secret, their node key
    pairs (private, public), and the next secret in the chain: the commit secret."""
    secrets, keys = [], []
    current = suite.derive_secret(leaf_secret, "path")
    for _ in range(length):
        secrets.append(current)
        keys.append(node_key_pair(suite, current))
        current = suite.derive_secret(current, "path")
    return secrets, keys, current


def _chain_parent_hashes(
    tree: RatchetTree, path: Sequence[tuple[NodeIndex, NodeIndex]], keys: Sequence[bytes]
) -> tuple[list[tuple[NodeIndex, ParentNode]], bytes]:
    """Section 7.9, root down: each path node gets the parent hash of the node above it.

    The new nodes have no unmerged leaves, so the original sibling tree hash is the
    current (memoized) hash of the copath child. Returns the nodes and the leaf's hash.
    """
    suite = tree.suite
    above = b""
    nodes: list[tuple[NodeIndex, ParentNode]] = []
    for (x, copath_child), key in zip(reversed(path), reversed(keys), strict=True):
        nodes.append((x, ParentNode(key, above, ())))
        above = parent_hash(suite, key, above, tree.node_hash(copath_child))
    nodes.reverse()
    return nodes, above


def encrypt_path_secrets(
    prepared: PreparedPath,
    group_context: bytes,
    *,
    exclude: Collection[LeafIndex] = (),
    rng: Rng = DEFAULT_RNG,
) -> UpdatePath:
    """Section 7.6: each path secret to every node of its copath child's resolution,
    leaving out the leaves ``exclude`` (added by the same commit)."""
    tree, suite = prepared.tree, prepared.tree.suite
    out = []
    for (x, copath_child), secret in zip(prepared.path, prepared.path_secrets, strict=True):
        ciphertexts = []
        for y in tree.resolution(copath_child, exclude):
            node = tree.node(y)
            assert node is not None
            kem_output, ct = suite.encrypt_with_label(
                node.encryption_key, _LABEL, group_context, secret, rng
            )
            ciphertexts.append(HPKECiphertext(kem_output, ct))
        node = tree.node(x)
        assert node is not None
        out.append(UpdatePathNode(node.encryption_key, tuple(ciphertexts)))
    return UpdatePath(prepared.leaf_node, tuple(out))


def merge_update_path(
    tree: RatchetTree,
    sender: LeafIndex,
    update_path: UpdatePath,
    *,
    group_id: bytes,
    required_capabilities: RequiredCapabilities | None = None,
    now: int | None = None,
    validate_credential: CredentialValidator | None = None,
) -> RatchetTree:
    """Section 12.4.2: validate the path's leaf (source commit, section 7.3), refuse keys
    already in the tree, recompute the parent hashes and check the leaf's, then merge."""
    path = tree.filtered_direct_path(sender)
    if len(update_path.nodes) != len(path):
        raise InvalidMessage(
            f"UpdatePath has {len(update_path.nodes)} nodes, the filtered direct path {len(path)}"
        )
    leaf = update_path.leaf_node
    validate_leaf_node(
        tree,
        leaf,
        source=LeafNodeSource.COMMIT,
        group_id=group_id,
        leaf_index=sender,
        required_capabilities=required_capabilities,
        now=now,
        validate_credential=validate_credential,
    )
    keys = [n.encryption_key for n in update_path.nodes]
    for key in keys:
        if tree.find_encryption_key(key) is not None:
            raise InvalidMessage("an UpdatePath key is already in the tree")
    nodes, leaf_parent_hash = _chain_parent_hashes(tree, path, keys)
    if leaf.parent_hash != leaf_parent_hash:
        raise InvalidMessage("the committer's leaf has the wrong parent hash")
    return tree.with_path(sender, leaf, nodes)


def decrypt_update_path(
    tree: RatchetTree,
    keys: TreePrivateKeys,
    sender: LeafIndex,
    update_path: UpdatePath,
    group_context: bytes,
    *,
    exclude: Collection[LeafIndex] = (),
) -> ReceivedPath:
    """Section 7.5: decrypt the path secret of the lowest common ancestor with our private
    key, derive the rest up to the root, check every derived public key against the
    (merged) ``tree``, and return the new keys and the commit secret."""
    me = keys.leaf_index
    if me == sender:
        raise UsageError("a committer keeps its own path from create_update_path")
    if me in exclude:
        raise UsageError("a member added by this commit joins through the Welcome")
    suite = tree.suite
    path = tree.filtered_direct_path(sender)
    if len(update_path.nodes) != len(path):
        raise InvalidMessage("UpdatePath does not fit the filtered direct path")
    ancestor = tree_math.common_ancestor(tree_math.leaf_to_node(sender), tree_math.leaf_to_node(me))
    k = next((j for j, (x, _) in enumerate(path) if x == ancestor), None)
    if k is None:
        raise UsageError(f"leaf {me} is not covered by the path of leaf {sender}")
    excluded = sorted(exclude)
    position, private_key = _locate(tree, keys, path[k][1], excluded)
    ciphertexts = update_path.nodes[k].encrypted_path_secret
    first, last = subtree_leaf_span(path[k][1])
    expected = tree.resolution_size(path[k][1]) - _count(excluded, first, last)
    if len(ciphertexts) != expected:
        raise InvalidMessage(f"{len(ciphertexts)} ciphertexts for a resolution of {expected}")
    ct = ciphertexts[position]
    secret = suite.decrypt_with_label(
        private_key, _LABEL, group_context, ct.kem_output, ct.ciphertext
    )
    new_keys, commit_secret = _derive_and_check(suite, secret, path[k:], update_path.nodes[k:])
    private_keys = keys.with_path_keys(new_keys).pruned(tree)
    return ReceivedPath(private_keys, secret, commit_secret)


def _derive_and_check(
    suite: Suite,
    secret: bytes,
    path: Sequence[tuple[NodeIndex, NodeIndex]],
    nodes: Sequence[UpdatePathNode],
) -> tuple[dict[NodeIndex, tuple[bytes, bytes]], bytes]:
    """Key pairs from ``secret`` up the path, each checked against the UpdatePath's
    public key; returns them and the commit secret."""
    keys = {}
    for (x, _), upn in zip(path, nodes, strict=True):
        private, public = node_key_pair(suite, secret)
        if public != upn.encryption_key:
            raise InvalidMessage(f"derived key of node {x} does not match the UpdatePath")
        keys[x] = (public, private)
        secret = suite.derive_secret(secret, "path")
    return keys, secret


def _count(sorted_leaves: Sequence[int], first: int, last: int) -> int:
    return bisect_right(sorted_leaves, last) - bisect_left(sorted_leaves, first)


def _locate(
    tree: RatchetTree, keys: TreePrivateKeys, top: NodeIndex, excluded: Sequence[int]
) -> tuple[int, bytes]:
    """Position in ``resolution(top)`` minus ``excluded`` of the entry covering our leaf,
    and our private key for it, walking down one path instead of listing the resolution.
    """
    me = keys.leaf_index
    target, x, offset = 2 * me, int(top), 0
    while True:
        node = tree.node(NodeIndex(x))
        if node is not None:
            private = keys.private_key_for(tree, NodeIndex(x))
            if private is not None:
                return offset, private
            unmerged = node.unmerged_leaves if isinstance(node, ParentNode) else ()
            if me not in unmerged:
                raise InvalidMessage(f"no private key for node {x}, which covers our leaf")
            earlier = unmerged[: unmerged.index(me)]
            skipped = sum(1 for u in earlier if _count(excluded, u, u))
            return offset + 1 + len(earlier) - skipped, keys.encryption_key
        if not x & 1:
            raise InvalidMessage("our own leaf is blank")
        half = 1 << ((x ^ (x + 1)).bit_length() - 2)
        left = x ^ half
        if target < x:
            x = left
        else:
            first, last = subtree_leaf_span(left)
            offset += tree.resolution_size(NodeIndex(left)) - _count(excluded, first, last)
            x = x ^ (3 * half)


def join_private_keys(
    tree: RatchetTree,
    leaf_index: LeafIndex,
    leaf_private_key: bytes,
    *,
    signer: LeafIndex,
    path_secret: bytes | None,
) -> TreePrivateKeys:
    """Section 12.4.3.1: a joiner's keys from the Welcome's path secret, which belongs
    to the lowest common ancestor with the committer ``signer``; each later node of the
    committer's filtered direct path takes the next derived secret."""
    keys = TreePrivateKeys(leaf_index, leaf_private_key)
    if path_secret is None:
        return keys
    if signer == leaf_index:
        raise InvalidMessage("the Welcome's signer is the joiner itself")
    ancestor = tree_math.common_ancestor(
        tree_math.leaf_to_node(signer), tree_math.leaf_to_node(leaf_index)
    )
    path = [x for x, _ in tree.filtered_direct_path(signer)]
    if ancestor not in path:
        raise InvalidMessage("the common ancestor with the signer is not on its path")
    suite, current = tree.suite, path_secret
    new_keys = {}
    for x in path[path.index(ancestor) :]:
        private, public = node_key_pair(suite, current)
        node = tree.node(x)
        if node is None or node.encryption_key != public:
            raise InvalidMessage(f"the Welcome path secret does not match node {x}")
        new_keys[x] = (public, private)
        current = suite.derive_secret(current, "path")
    return keys.with_path_keys(new_keys)
