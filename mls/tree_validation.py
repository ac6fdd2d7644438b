"""Validation of leaf nodes (RFC 9420 section 7.3) and of a whole tree on join (7.9.2, 12.4.3.1).

API::

    validate_leaf_node(tree, leaf, source=..., group_id=..., leaf_index=None,
                       required_capabilities=None, now=None, validate_credential=None)
    verify_parent_hashes(tree)
    validate_tree(tree, group_id=..., tree_hash=None, required_capabilities=None,
                  now=None, validate_credential=None)

Every failure raises :class:`~mls.errors.InvalidMessage`. ``now`` (seconds since the Unix
epoch) enables the lifetime check of ``key_package`` leaves; ``None`` skips it, which
section 7.3 allows for received leaves. ``validate_credential(credential, signature_key)``
is the application's Authentication Service hook (section 5.3.1); it raises to refuse.
Uniqueness of encryption and signature keys across the tree is enforced when a
:class:`~mls.tree.RatchetTree` is built, so a tree that exists never holds a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from mls.errors import InvalidMessage
from mls.extensions import supports_required
from mls.key_package import check_extensions_listed
from mls.messages import Credential, LeafNode, LeafNodeSource, ParentNode, RequiredCapabilities
from mls.tree import RatchetTree
from mls.tree_draft import leaf_ancestors
from mls.tree_hash import parent_hash, subtree_leaf_span
from mls.types import LeafIndex, NodeIndex

CredentialValidator = Callable[[Credential, bytes], None]
"""``validate_credential(credential, signature_key)``: raise to refuse the credential."""


def check_leaf_content(
    tree: RatchetTree,
    leaf: LeafNode,
    *,
    group_id: bytes,
    leaf_index: int,
    required_capabilities: RequiredCapabilities | None = None,
    now: int | None = None,
    validate_credential: CredentialValidator | None = None,
) -> None:
    """The checks of section 7.3 that concern the leaf alone: credential, signature
    (with ``group_id``/``leaf_index`` context for update and commit leaves), required
    capabilities, lifetime and extension support."""
    if validate_credential is not None:
        validate_credential(leaf.credential, leaf.signature_key)
    tree.suite.verify_with_label(
        leaf.signature_key, "LeafNodeTBS", leaf.tbs(group_id, leaf_index), leaf.signature
    )
    caps = leaf.capabilities
    if leaf.credential.credential_type not in caps.credentials:
        raise InvalidMessage("leaf credential type is not in its own capabilities")
    check_extensions_listed(leaf)
    if required_capabilities is not None and not supports_required(caps, required_capabilities):
        raise InvalidMessage("leaf lacks a required capability")
    if now is not None and leaf.lifetime is not None:
        life = leaf.lifetime
        if not life.not_before <= now <= life.not_after:
            raise InvalidMessage(
                f"leaf lifetime {life.not_before}..{life.not_after} excludes {now}"
            )


def validate_leaf_node(
    tree: RatchetTree,
    leaf: LeafNode,
    *,
    source: LeafNodeSource,
    group_id: bytes,
    leaf_index: LeafIndex | None = None,
    required_capabilities: RequiredCapabilities | None = None,
    now: int | None = None,
    validate_credential: CredentialValidator | None = None,
) -> None:
    """Section 7.3 for a leaf about to enter ``tree``: from a KeyPackage (``source`` =
    key_package, ``leaf_index`` None), an Update or a Commit path (``leaf_index`` = the
    sender, whose current leaf it replaces) or an external commit (a blank ``leaf_index``).
    """
    if leaf.leaf_node_source != source:
        raise InvalidMessage(f"leaf_node_source is {leaf.leaf_node_source!r}, not {source!r}")
    if source != LeafNodeSource.KEY_PACKAGE and leaf_index is None:
        raise InvalidMessage("an update or commit leaf needs its leaf index")
    check_leaf_content(
        tree,
        leaf,
        group_id=group_id,
        leaf_index=0 if leaf_index is None else leaf_index,
        required_capabilities=required_capabilities,
        now=now,
        validate_credential=validate_credential,
    )
    old = None if leaf_index is None else tree.leaf(leaf_index)
    if old is not None and leaf.encryption_key == old.encryption_key:
        raise InvalidMessage("a new leaf must change the encryption key")
    holder = tree.find_encryption_key(leaf.encryption_key)
    if holder is not None:  # not the replaced leaf: its key was just ruled out
        raise InvalidMessage(f"encryption key already used by node {holder}")
    owner = tree.find_signature_key(leaf.signature_key)
    if owner is not None and owner != leaf_index:
        raise InvalidMessage(f"signature key already used by leaf {owner}")
    _check_credential_compatibility(tree, leaf, old)


def _check_credential_compatibility(
    tree: RatchetTree, leaf: LeafNode, replaced: LeafNode | None
) -> None:
    """Section 7.3: the leaf's credential type is supported by every other member, and
    the leaf supports every credential type the other members use."""
    others = tree.member_count - (replaced is not None)
    mine = leaf.credential.credential_type
    support = tree.credential_support(mine)
    if replaced is not None and mine in replaced.capabilities.credentials:
        support -= 1
    if support != others:
        raise InvalidMessage(f"credential type {mine:#06x} is not supported by every member")
    supported = leaf.capabilities.credentials
    for t in tree.credential_types_in_use():
        if t in supported:
            continue
        if (
            replaced is None
            or replaced.credential.credential_type != t
            or tree.credential_use(t) > 1
        ):
            raise InvalidMessage(f"leaf does not support credential type {t:#06x} in use")


def verify_parent_hashes(tree: RatchetTree) -> None:
    """Section 7.9.2, top down: every non-blank parent node is parent-hash valid with
    respect to exactly one descendant."""
    for x in range(1, tree.width, 2):
        node = tree.parent_node(NodeIndex(x))
        if node is not None and _valid_descendants(tree, NodeIndex(x), node) != 1:
            raise InvalidMessage(f"parent node {x} is not parent-hash valid")


def _valid_descendants(tree: RatchetTree, x: NodeIndex, p: ParentNode) -> int:
    """How many descendants ``D`` of ``x`` carry the parent hash of ``p`` correctly."""
    half = 1 << ((x ^ (x + 1)).bit_length() - 2)
    left, right = NodeIndex(x ^ half), NodeIndex(x ^ (3 * half))
    found = 0
    for c, s in ((left, right), (right, left)):
        first, last = subtree_leaf_span(c)
        wanted = {2 * u for u in p.unmerged_leaves if first <= u <= last}
        # Cheap size test first: D plus exactly the unmerged leaves under c.
        if tree.resolution_size(c) != len(wanted) + 1:
            continue
        res = tree.resolution(c)
        rest = set(res) - wanted
        if len(rest) != 1 or len(set(res)) != len(res):
            continue
        d = tree.node(NodeIndex(rest.pop()))
        field = d.parent_hash if d is not None else None
        if not field:
            continue
        sibling = tree.original_tree_hash(s, p.unmerged_leaves)
        if field == parent_hash(tree.suite, p.encryption_key, p.parent_hash, sibling):
            found += 1
    return found


def validate_tree(
    tree: RatchetTree,
    *,
    group_id: bytes,
    tree_hash: bytes | None = None,
    required_capabilities: RequiredCapabilities | None = None,
    now: int | None = None,
    validate_credential: CredentialValidator | None = None,
) -> None:
    """Everything a joiner checks about the tree of a Welcome (section 12.4.3.1)."""
    if tree_hash is not None and tree.tree_hash() != tree_hash:
        raise InvalidMessage("the ratchet tree does not match the GroupInfo tree hash")
    _check_unmerged_leaves(tree)
    verify_parent_hashes(tree)
    in_use = tree.credential_types_in_use()
    for i, leaf in tree.members():
        check_leaf_content(
            tree,
            leaf,
            group_id=group_id,
            leaf_index=i,
            required_capabilities=required_capabilities,
            now=now,
            validate_credential=validate_credential,
        )
        if not in_use.issubset(leaf.capabilities.credentials):
            raise InvalidMessage(f"leaf {i} does not support every credential type in use")


def _check_unmerged_leaves(tree: RatchetTree) -> None:
    """Section 7.1 and 12.4.3.1: sorted, non-blank descendants, listed on the way down."""
    listed: dict[int, tuple[int, ...]] = {}
    for x in range(1, tree.width, 2):
        node = tree.parent_node(NodeIndex(x))
        if node is not None:
            leaves = listed[x] = node.unmerged_leaves
            if any(a >= b for a, b in pairwise(leaves)):
                raise InvalidMessage(f"unmerged leaves of node {x} are not strictly increasing")
    as_sets = {x: frozenset(leaves) for x, leaves in listed.items() if leaves}
    for x, leaves in listed.items():
        first, last = subtree_leaf_span(x)
        for u in leaves:
            if not first <= u <= last or tree.leaf(LeafIndex(u)) is None:
                raise InvalidMessage(f"node {x} lists leaf {u}, not a member below it")
            for y in leaf_ancestors(u, tree.width):
                if y == x:
                    break
                if y in listed and u not in as_sets.get(y, ()):
                    raise InvalidMessage(f"node {y} does not list unmerged leaf {u}")
