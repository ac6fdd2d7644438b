"""Our private TreeKEM state (RFC 9420 section 4.2): the leaf key and the path keys we know.

::

    keys = TreePrivateKeys(leaf_index, leaf_private_key)
    keys = keys.with_path_secret(tree, x, path_secret)   # node x from its path secret
    keys.private_key_for(tree, x) -> bytes | None        # only if it matches the tree's key
    keys.with_leaf_key(private_key); keys.pruned(tree); keys.verify(tree)
    keys.to_bytes(); TreePrivateKeys.from_bytes(data)

Each path key is stored with its public key so that a key the tree has since replaced is
never used. Secrets stay out of ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Self

from mls.codec import Reader, Writer, decode_all
from mls.crypto import Suite
from mls.errors import InvalidMessage
from mls.tree import RatchetTree
from mls.types import LeafIndex, NodeIndex


def node_key_pair(suite: Suite, path_secret: bytes) -> tuple[bytes, bytes]:
    """Section 7.4: ``DeriveKeyPair(DeriveSecret(path_secret, "node"))`` as (private, public)."""
    return suite.derive_key_pair(suite.derive_secret(path_secret, "node"))


@dataclass(frozen=True, slots=True)
class TreePrivateKeys:
    """The HPKE private keys of one member: its leaf and the parent nodes it knows.

    ``path_keys`` maps a node index to ``(public_key, private_key)``.
    """

    leaf_index: LeafIndex
    encryption_key: bytes = field(repr=False)
    path_keys: Mapping[NodeIndex, tuple[bytes, bytes]] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.path_keys, MappingProxyType):
            object.__setattr__(self, "path_keys", MappingProxyType(dict(self.path_keys)))

    def private_key_for(self, tree: RatchetTree, x: NodeIndex) -> bytes | None:
        """Our private key for node ``x`` of ``tree``, if we hold the current one."""
        if x == 2 * self.leaf_index:
            return self.encryption_key
        entry = self.path_keys.get(x)
        if entry is None:
            return None
        node = tree.node(x)
        return entry[1] if node is not None and node.encryption_key == entry[0] else None

    def with_path_secret(self, tree: RatchetTree, x: NodeIndex, path_secret: bytes) -> Self:
        """Set node ``x`` from its path secret; the derived key must match the tree."""
        private, public = node_key_pair(tree.suite, path_secret)
        node = tree.node(x)
        if node is None or node.encryption_key != public:
            raise InvalidMessage(f"path secret does not match the public key of node {x}")
        return self.with_path_keys({x: (public, private)})

    def with_path_keys(self, keys: Mapping[NodeIndex, tuple[bytes, bytes]]) -> Self:
        return type(self)(self.leaf_index, self.encryption_key, {**self.path_keys, **keys})

    def with_leaf_key(self, private_key: bytes) -> Self:
        """After our Update (or our own commit) replaced the leaf's encryption key."""
        return type(self)(self.leaf_index, private_key, self.path_keys)

    def pruned(self, tree: RatchetTree) -> Self:
        """Drop path keys of nodes the tree has blanked or replaced (section 7.5)."""
        keep = {
            x: pair
            for x, pair in self.path_keys.items()
            if x < tree.width and (node := tree.node(x)) is not None
            if node.encryption_key == pair[0]
        }
        return type(self)(self.leaf_index, self.encryption_key, keep)

    def verify(self, tree: RatchetTree) -> None:
        """Every private key belongs to the public key in its (non-blank) node."""
        suite = tree.suite
        leaf = tree.leaf(self.leaf_index)
        if leaf is None or suite.hpke_public_key(self.encryption_key) != leaf.encryption_key:
            raise InvalidMessage(f"leaf key does not match leaf {self.leaf_index}")
        for x, (public, private) in self.path_keys.items():
            node = tree.node(x)
            if node is None or node.encryption_key != public:
                raise InvalidMessage(f"path key does not match node {x}")
            if suite.hpke_public_key(private) != public:
                raise InvalidMessage(f"private key of node {x} does not match its public key")

    # -- serialization (inside the group snapshot) --
    def encode(self, w: Writer) -> None:
        w.u32(self.leaf_index)
        w.opaque(self.encryption_key)
        body = Writer()
        for x in sorted(self.path_keys):
            public, private = self.path_keys[x]
            body.u32(x)
            body.opaque(public)
            body.opaque(private)
        w.opaque(body.getvalue())

    @classmethod
    def decode(cls, r: Reader) -> Self:
        leaf_index = LeafIndex(r.u32())
        encryption_key = r.opaque()
        body = r.sub()
        keys: dict[NodeIndex, tuple[bytes, bytes]] = {}
        while not body.at_end():
            x = NodeIndex(body.u32())
            keys[x] = (body.opaque(), body.opaque())
        return cls(leaf_index, encryption_key, keys)

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return decode_all(data, cls.decode)
