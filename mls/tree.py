"""The ratchet tree (RFC 9420 sections 4.1, 7 and 12.4.3.3) as an immutable value.

API (``x`` is a :class:`~mls.types.NodeIndex`, ``i`` a :class:`~mls.types.LeafIndex`)::

    tree = RatchetTree.create(suite, leaf_node)          # a one-member tree
    tree = RatchetTree.from_bytes(suite, data)           # ``optional<Node> ratchet_tree<V>``
    tree = RatchetTree.from_nodes(suite, nodes)          # same, already decoded
    tree.to_bytes(); tree.to_nodes()                     # trailing blanks dropped
    tree.suite, tree.leaf_count, tree.width, tree.root, tree.member_count
    tree.node(x); tree.leaf(i); tree.parent_node(x)      # None when blank
    tree.members()                                       # iterator of (i, LeafNode)
    tree.resolution(x, exclude=leaves)                   # list of x
    tree.resolution_size(x)                              # memoized, O(1) amortized
    tree.direct_path(i); tree.filtered_direct_path(i)    # lists of (x, copath child of x)
    tree.tree_hash(); tree.node_hash(x)                  # memoized per node
    tree.original_tree_hash(x, removed_leaves)           # section 7.9
    tree.find_encryption_key(key) -> x | None            # O(1), every node
    tree.find_signature_key(key) -> i | None             # O(1), leaves
    tree.find_identity(identity) -> list of i            # basic credentials
    tree.credential_types_in_use(); tree.credential_use(t); tree.credential_support(t)
    tree.extension_support(t); tree.proposal_support(t)  # members listing the type

New trees (the receiver is never changed; the node and memo arrays are persistent, see
:mod:`mls.tree_array`, so a new tree shares everything but the ``O(log N)`` entries each
changed node touches)::

    tree.apply(updates=[(i, leaf)], removes=[i], adds=[leaf]) -> (tree, added leaf indices)
    tree.add_leaf(leaf) -> (tree, i); tree.update_leaf(i, leaf); tree.remove_leaf(i)
    tree.reserve_leaf() -> (tree, i)                     # external commit: leftmost blank
    tree.with_path(i, leaf, [(x, ParentNode)])           # merge an UpdatePath (mls.treekem)

``apply`` follows section 12.3: updates (replace the leaf, blank its direct path), then
removes (blank leaf and direct path, truncate while the right half has no member), then
adds in order (leftmost blank leaf, extending a full tree, recording the new leaf as
unmerged at every non-blank ancestor). Use it for a whole proposal list: one new tree
instead of one per proposal. Structural problems in input (a key already in the tree, a
blank target, a malformed encoding) raise :class:`~mls.errors.InvalidMessage`;
the semantic checks of a joiner are in :mod:`mls.tree_validation`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from mls import tree_hash as th
from mls.codec import Reader
from mls.crypto import Suite
from mls.errors import InvalidMessage, UsageError
from mls.messages import (
    CredentialType,
    LeafNode,
    Node,
    ParentNode,
    pull_ratchet_tree,
    ratchet_tree_to_bytes,
)
from mls.tree_array import TreeArray
from mls.tree_draft import TreeDraft, leaf_ancestors
from mls.tree_index import TreeIndex
from mls.types import LeafCount, LeafIndex, NodeIndex


class RatchetTree:
    """An immutable ratchet tree bound to one cipher suite; see the module docstring."""

    __slots__ = ("_hashes", "_index", "_nodes", "_sizes", "suite")

    def __init__(
        self,
        suite: Suite,
        nodes: TreeArray[Node],
        hashes: TreeArray[bytes],
        sizes: TreeArray[int],
        index: TreeIndex,
    ) -> None:
        # Private: use create / from_nodes / from_bytes. Nothing here changes ``nodes``;
        # ``hashes`` and ``sizes`` are memos, filled in as they are asked for.
        self.suite = suite
        self._nodes = nodes
        self._hashes = hashes
        self._sizes = sizes
        self._index = index

    # -- construction and encoding --
    @classmethod
    def create(cls, suite: Suite, leaf: LeafNode) -> RatchetTree:
        return cls.from_nodes(suite, [leaf])

    @classmethod
    def from_nodes(cls, suite: Suite, nodes: Sequence[Node | None]) -> RatchetTree:
        """A tree from its array form; trailing blanks may be omitted (section 12.4.3.3)."""
        if not nodes or nodes[-1] is None:
            raise InvalidMessage("a ratchet tree must end with a non-blank node")
        width = 1
        while width < len(nodes):
            width = 2 * width + 1
        full = list(nodes) + [None] * (width - len(nodes))
        leaf_count = (width + 1) >> 1
        index = TreeIndex()
        for x, node in enumerate(full):
            if node is None:
                continue
            if isinstance(node, LeafNode) == bool(x & 1):
                raise InvalidMessage(f"node {x} has the wrong node type")
            if isinstance(node, ParentNode) and any(u >= leaf_count for u in node.unmerged_leaves):
                raise InvalidMessage(f"node {x} lists an unmerged leaf outside the tree")
            index.insert(x, node)
        index.compact()
        return cls(suite, TreeArray.from_list(full), TreeArray(width), TreeArray(width), index)

    @classmethod
    def from_bytes(cls, suite: Suite, data: bytes) -> RatchetTree:
        """Decode the ``ratchet_tree`` extension body; ``DecodeError`` if malformed."""
        r = Reader(data)
        nodes = pull_ratchet_tree(r)
        r.finish()
        return cls.from_nodes(suite, nodes)

    def to_nodes(self) -> tuple[Node | None, ...]:
        """The array form without trailing blanks, as sent in the extension."""
        nodes = self._nodes.to_list()
        end = len(nodes)
        while end and nodes[end - 1] is None:
            end -= 1
        return tuple(nodes[:end])

    def to_bytes(self) -> bytes:
        return ratchet_tree_to_bytes(self.to_nodes())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RatchetTree):
            return NotImplemented
        return self.suite is other.suite and self._nodes == other._nodes

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"RatchetTree({self.suite.cipher_suite.name}, leaves={self.leaf_count}, "
            f"members={self.member_count})"
        )

    # -- access --
    @property
    def width(self) -> int:
        """Number of nodes, ``2 * leaf_count - 1``."""
        return len(self._nodes)

    @property
    def leaf_count(self) -> LeafCount:
        return LeafCount((len(self._nodes) + 1) >> 1)

    @property
    def root(self) -> NodeIndex:
        return NodeIndex(len(self._nodes) >> 1)

    @property
    def member_count(self) -> int:
        return len(self._index.signature_keys)

    def node(self, x: NodeIndex) -> Node | None:
        self._check(x)
        return self._nodes[x]

    def leaf(self, i: LeafIndex) -> LeafNode | None:
        if not 0 <= i < self.leaf_count:
            raise UsageError(f"leaf {i} is outside a tree of {self.leaf_count} leaves")
        node = self._nodes[2 * i]
        assert node is None or isinstance(node, LeafNode)
        return node

    def parent_node(self, x: NodeIndex) -> ParentNode | None:
        self._check(x)
        if not x & 1:
            raise UsageError(f"node {x} is a leaf")
        node = self._nodes[x]
        assert node is None or isinstance(node, ParentNode)
        return node

    def is_blank(self, x: NodeIndex) -> bool:
        self._check(x)
        return self._nodes[x] is None

    def members(self) -> Iterator[tuple[LeafIndex, LeafNode]]:
        """Every non-blank leaf with its index, left to right."""
        for i, node in enumerate(self._nodes.values(0, 2)):
            if node is not None:
                assert isinstance(node, LeafNode)
                yield LeafIndex(i), node

    def _check(self, x: int) -> None:
        if not 0 <= x < len(self._nodes):
            raise UsageError(f"node {x} is outside a tree of {len(self._nodes)} nodes")

    # -- lookups --
    def find_encryption_key(self, key: bytes) -> NodeIndex | None:
        return self._index.encryption_keys.get(key)

    def find_signature_key(self, key: bytes) -> LeafIndex | None:
        return self._index.signature_keys.get(key)

    def find_identity(self, identity: bytes) -> list[LeafIndex]:
        """Leaves whose basic credential carries ``identity`` (one per device)."""
        return [
            i
            for i, leaf in self.members()
            if leaf.credential.credential_type == CredentialType.BASIC
            and leaf.credential.identity == identity
        ]

    def credential_types_in_use(self) -> frozenset[int]:
        return frozenset(t for t, n in self._index.credentials_in_use.items() if n > 0)

    def credential_use(self, credential_type: int) -> int:
        """How many members hold a credential of ``credential_type``."""
        return self._index.credentials_in_use[credential_type]

    def credential_support(self, credential_type: int) -> int:
        """How many members list ``credential_type`` in their capabilities."""
        return self._index.credential_support[credential_type]

    def extension_support(self, extension_type: int) -> int:
        """How many members list ``extension_type`` in their capabilities."""
        return self._index.extension_support[extension_type]

    def proposal_support(self, proposal_type: int) -> int:
        """How many members list ``proposal_type`` in their capabilities."""
        return self._index.proposal_support[proposal_type]

    # -- resolution and paths --
    def resolution_size(self, x: NodeIndex) -> int:
        self._check(x)
        return th.resolution_size(self._nodes, self._sizes, x)

    def resolution(self, x: NodeIndex, exclude: Iterable[LeafIndex] = ()) -> list[NodeIndex]:
        """Section 4.1.1, left to right; ``exclude`` drops leaves (new members, 12.4.2)."""
        self._check(x)
        out: list[NodeIndex] = []
        self._resolve(x, out)
        skip = {2 * leaf for leaf in exclude}
        return [y for y in out if y not in skip] if skip else out

    def _resolve(self, x: int, out: list[NodeIndex]) -> None:
        node = self._nodes[x]
        if node is not None:
            out.append(NodeIndex(x))
            if isinstance(node, ParentNode):
                out.extend(NodeIndex(2 * u) for u in node.unmerged_leaves)
        elif x & 1 and th.resolution_size(self._nodes, self._sizes, x):
            half = 1 << ((x ^ (x + 1)).bit_length() - 2)
            self._resolve(x ^ half, out)
            self._resolve(x ^ (3 * half), out)

    def direct_path(self, i: LeafIndex) -> list[tuple[NodeIndex, NodeIndex]]:
        """Every ancestor of leaf ``i`` with its child on the copath of ``i``, bottom up."""
        if not 0 <= i < self.leaf_count:
            raise UsageError(f"leaf {i} is outside a tree of {self.leaf_count} leaves")
        ancestors = leaf_ancestors(i, len(self._nodes))
        below = [2 * i, *ancestors][: len(ancestors)]  # each ancestor's child on the path
        # The copath child mirrors the path child around their parent: 2p - x.
        return [(NodeIndex(p), NodeIndex(2 * p - x)) for p, x in zip(ancestors, below, strict=True)]

    def filtered_direct_path(self, i: LeafIndex) -> list[tuple[NodeIndex, NodeIndex]]:
        """Section 4.1.2: ancestors whose copath child has a non-empty resolution."""
        nodes, sizes = self._nodes, self._sizes
        return [(p, c) for p, c in self.direct_path(i) if th.resolution_size(nodes, sizes, c)]

    # -- hashes --
    def tree_hash(self) -> bytes:
        """The tree hash of the root (section 7.8), as carried in the GroupContext."""
        return th.tree_hash(self.suite, self._nodes, self._hashes, len(self._nodes) >> 1)

    def node_hash(self, x: NodeIndex) -> bytes:
        self._check(x)
        return th.tree_hash(self.suite, self._nodes, self._hashes, x)

    def original_tree_hash(self, x: NodeIndex, removed: Iterable[int]) -> bytes:
        """Tree hash of ``x`` with the leaves ``removed`` blanked (section 7.9)."""
        self._check(x)
        leaves = sorted(set(removed))
        return th.original_tree_hash(self.suite, self._nodes, self._hashes, x, leaves)

    # -- derivations --
    def _draft(self) -> TreeDraft:
        return TreeDraft(self._nodes, self._hashes, self._sizes, self._index)

    def _freeze(self, draft: TreeDraft) -> RatchetTree:
        draft.index.compact()
        return RatchetTree(self.suite, draft.nodes, draft.hashes, draft.sizes, draft.index)

    def apply(
        self,
        *,
        updates: Iterable[tuple[LeafIndex, LeafNode]] = (),
        removes: Iterable[LeafIndex] = (),
        adds: Iterable[LeafNode] = (),
    ) -> tuple[RatchetTree, list[LeafIndex]]:
        """The tree after a proposal list (section 12.3) and the leaves given to ``adds``."""
        draft = self._draft()
        for i, leaf in updates:
            draft.require_member(i)
            draft.set(2 * i, leaf)
            draft.blank_direct_path(i)
        for i in removes:
            draft.require_member(i)
            draft.set(2 * i, None)
            draft.blank_direct_path(i)
            draft.truncate()
        added = [draft.add(leaf) for leaf in adds]
        return self._freeze(draft), added

    def add_leaf(self, leaf: LeafNode) -> tuple[RatchetTree, LeafIndex]:
        tree, added = self.apply(adds=(leaf,))
        return tree, added[0]

    def update_leaf(self, i: LeafIndex, leaf: LeafNode) -> RatchetTree:
        return self.apply(updates=((i, leaf),))[0]

    def remove_leaf(self, i: LeafIndex) -> RatchetTree:
        return self.apply(removes=(i,))[0]

    def reserve_leaf(self) -> tuple[RatchetTree, LeafIndex]:
        """The leftmost blank leaf, extending a full tree first (external commits)."""
        draft = self._draft()
        i = draft.free_leaf()
        return self._freeze(draft), i

    def with_path(
        self, i: LeafIndex, leaf: LeafNode, path: Sequence[tuple[NodeIndex, ParentNode]]
    ) -> RatchetTree:
        """Merge an UpdatePath (section 7.5): blank the direct path of ``i``, then set
        ``leaf`` and the parent nodes of its filtered direct path."""
        if not 0 <= i < self.leaf_count:
            raise UsageError(f"leaf {i} is outside a tree of {self.leaf_count} leaves")
        draft = self._draft()
        draft.blank_direct_path(i)
        for x, node in path:
            draft.set(x, node)
        draft.set(2 * i, leaf)
        return self._freeze(draft)
