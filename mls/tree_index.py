"""Lookup tables of a ratchet tree: who holds which key, which credential types are in use.

Kept beside the node array so that uniqueness checks (RFC 9420 sections 7.3, 12.4.2 and
12.4.3.1) and the lookups of the group engine cost ``O(1)`` instead of a scan of every
node. The key maps are shared between tree versions: each version owns only a small
overlay of the changes since the shared base, so deriving a tree does not copy a dict
of every member; the overlay is folded into a new base once it grows past
:data:`OVERLAY_LIMIT` entries (amortized ``O(1)`` per change).
"""

from __future__ import annotations

from collections import Counter
from typing import Generic, TypeVar

from mls.errors import InvalidMessage
from mls.messages import LeafNode, Node, ParentNode
from mls.types import LeafIndex, NodeIndex

OVERLAY_LIMIT = 512

V = TypeVar("V", bound=int)


class KeyMap(Generic[V]):
    """``key -> index``: a base dict never mutated once shared, plus our own overlay of
    changes (``None`` marks a key removed from the base)."""

    __slots__ = ("_base", "_changes", "_size")

    def __init__(self, base: dict[bytes, V], changes: dict[bytes, V | None], size: int) -> None:
        self._base = base
        self._changes = changes
        self._size = size

    @classmethod
    def empty(cls) -> KeyMap[V]:
        return cls({}, {}, 0)

    def __len__(self) -> int:
        return self._size

    def get(self, key: bytes) -> V | None:
        changes = self._changes
        if key in changes:
            return changes[key]
        return self._base.get(key)

    def set(self, key: bytes, value: V) -> None:
        if self.get(key) is None:
            self._size += 1
        self._changes[key] = value

    def delete(self, key: bytes) -> None:
        if self.get(key) is not None:
            self._size -= 1
            self._changes[key] = None

    def copy(self) -> KeyMap[V]:
        return KeyMap(self._base, self._changes.copy(), self._size)

    def compact(self) -> None:
        """Fold a large overlay into a fresh base (the old base stays with older trees)."""
        if len(self._changes) <= OVERLAY_LIMIT:
            return
        base = self._base.copy()
        for key, value in self._changes.items():
            if value is None:
                base.pop(key, None)
            else:
                base[key] = value
        self._base, self._changes = base, {}


class TreeIndex:
    """Encryption keys of every node, signature keys of every leaf, and per type how many
    members use a credential type or list a credential, extension or proposal type in
    their capabilities (so "does every member support it" is a lookup, not a scan)."""

    __slots__ = (
        "credential_support",
        "credentials_in_use",
        "encryption_keys",
        "extension_support",
        "proposal_support",
        "signature_keys",
    )

    def __init__(self) -> None:
        self.encryption_keys: KeyMap[NodeIndex] = KeyMap.empty()
        self.signature_keys: KeyMap[LeafIndex] = KeyMap.empty()
        # type -> number of leaves using it / listing it in their capabilities
        self.credentials_in_use: Counter[int] = Counter()
        self.credential_support: Counter[int] = Counter()
        self.extension_support: Counter[int] = Counter()
        self.proposal_support: Counter[int] = Counter()

    def copy(self) -> TreeIndex:
        other = TreeIndex.__new__(TreeIndex)
        other.encryption_keys = self.encryption_keys.copy()
        other.signature_keys = self.signature_keys.copy()
        other.credentials_in_use = self.credentials_in_use.copy()  # a few entries each
        other.credential_support = self.credential_support.copy()
        other.extension_support = self.extension_support.copy()
        other.proposal_support = self.proposal_support.copy()
        return other

    def compact(self) -> None:
        self.encryption_keys.compact()
        self.signature_keys.compact()

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
            self.signature_keys.set(node.signature_key, leaf)
            self.credentials_in_use[node.credential.credential_type] += 1
            self._count_support(node, 1)
        self.encryption_keys.set(key, NodeIndex(x))

    def discard(self, x: int, node: Node) -> None:
        """Forget ``node``, which sat at index ``x``."""
        if self.encryption_keys.get(node.encryption_key) == x:
            self.encryption_keys.delete(node.encryption_key)
        if isinstance(node, LeafNode):
            if self.signature_keys.get(node.signature_key) == x >> 1:
                self.signature_keys.delete(node.signature_key)
            self.credentials_in_use[node.credential.credential_type] -= 1
            self._count_support(node, -1)

    def _count_support(self, leaf: LeafNode, step: int) -> None:
        caps = leaf.capabilities
        for counter, types in (
            (self.credential_support, caps.credentials),
            (self.extension_support, caps.extensions),
            (self.proposal_support, caps.proposals),
        ):
            for t in dict.fromkeys(types):  # a type listed twice still counts once
                counter[t] += step

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
