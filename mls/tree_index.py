"""Lookup tables of a ratchet tree: who holds which key, which credential types are in use.

Kept beside the node array so that uniqueness checks (RFC 9420 sections 7.3, 12.4.2 and
12.4.3.1) and the lookups of the group engine cost ``O(1)`` instead of a scan of every
node. A derived tree copies the tables (a C-level dict copy) and replays its few changes.
"""

from __future__ import annotations

from collections import Counter

from mls.errors import InvalidMessage
from mls.messages import LeafNode, Node, ParentNode
from mls.types import LeafIndex, NodeIndex


class TreeIndex:
    """Encryption keys of every node, signature keys of every leaf, credential counters."""

    __slots__ = ("credential_support", "credentials_in_use", "encryption_keys", "signature_keys")

    def __init__(self) -> None:
        self.encryption_keys: dict[bytes, NodeIndex] = {}
        self.signature_keys: dict[bytes, LeafIndex] = {}
        # credential type -> number of leaves using it / listing it in capabilities
        self.credentials_in_use: Counter[int] = Counter()
        self.credential_support: Counter[int] = Counter()

    def copy(self) -> TreeIndex:
        other = TreeIndex.__new__(TreeIndex)
        other.encryption_keys = self.encryption_keys.copy()
        other.signature_keys = self.signature_keys.copy()
        other.credentials_in_use = self.credentials_in_use.copy()
        other.credential_support = self.credential_support.copy()
        return other

    def insert(self, x: int, node: Node) -> None:
        """Record ``node`` at index ``x``; a key already held elsewhere is refused."""
        key = node.encryption_key
        holder = self.encryption_keys.get(key)
        if holder is not None and holder != x:
            raise InvalidMessage(f"encryption key of node {x} already used by node {holder}")
        if isinstance(node, LeafNode):
            leaf = LeafIndex(x >> 1)
            owner = self.signature_keys.get(node.signature_key)
            if owner is not None and owner != leaf:
                raise InvalidMessage(f"signature key of leaf {leaf} already used by leaf {owner}")
            self.signature_keys[node.signature_key] = leaf
            self.credentials_in_use[node.credential.credential_type] += 1
            self.credential_support.update(set(node.capabilities.credentials))
        self.encryption_keys[key] = NodeIndex(x)

    def discard(self, x: int, node: Node) -> None:
        """Forget ``node``, which sat at index ``x``."""
        if self.encryption_keys.get(node.encryption_key) == x:
            del self.encryption_keys[node.encryption_key]
        if isinstance(node, LeafNode):
            if self.signature_keys.get(node.signature_key) == x >> 1:
                del self.signature_keys[node.signature_key]
            self.credentials_in_use[node.credential.credential_type] -= 1
            self.credential_support.subtract(set(node.capabilities.credentials))

    def replace(self, x: int, old: Node | None, new: Node | None) -> None:
        if (
            isinstance(old, ParentNode)
            and isinstance(new, ParentNode)
            and old.encryption_key == new.encryption_key
        ):
            return  # a parent whose unmerged leaves changed: no key moved
        if old is not None:
            self.discard(x, old)
        if new is not None:
            self.insert(x, new)
