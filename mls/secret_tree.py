"""The secret tree and per-sender hash ratchets (RFC 9420 section 9), plus sender data keys.

The tree is lazy: it starts with only the root (``encryption_secret``) and derives the
path to a leaf the first time that leaf's ratchets are needed, keeping just the copath
secrets that other leaves will need. Each consumed secret is deleted (section 9.2), so a
4096-member group derives 12 nodes per new sender instead of 8191 up front.

Receiving tolerates reordering: keys of skipped generations are kept for at most
``out_of_order_tolerance`` generations behind the newest one used, a key is deleted once
it has been returned, and a jump of more than ``maximum_forward_distance`` generations is
refused. Every rejection is :class:`~mls.errors.InvalidMessage` (the peer's fault).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from mls import tree_math
from mls.codec import Reader, Writer
from mls.crypto import Suite
from mls.errors import DecodeError, InvalidMessage, UsageError
from mls.types import Generation, LeafCount, LeafIndex, NodeIndex

DEFAULT_OUT_OF_ORDER_TOLERANCE = 100
DEFAULT_MAXIMUM_FORWARD_DISTANCE = 1000
_U32 = 0xFFFFFFFF


class RatchetType(Enum):
    """Which ratchet: handshake for proposals and commits, application for data.
    The value is the ExpandWithLabel label that seeds it."""

    HANDSHAKE = "handshake"
    APPLICATION = "application"


@dataclass(frozen=True, slots=True)
class RatchetKey:
    """The AEAD key and nonce of one generation (the nonce before the reuse guard)."""

    generation: Generation
    key: bytes = field(repr=False)
    nonce: bytes = field(repr=False)


class HashRatchet:
    """One sender's ratchet: ``secret`` is the ratchet secret of ``generation``, the next
    generation not yet used; ``retained`` keeps unused keys of skipped generations."""

    __slots__ = ("_suite", "generation", "retained", "secret")

    def __init__(
        self,
        suite: Suite,
        secret: bytes,
        generation: int = 0,
        retained: dict[int, RatchetKey] | None = None,
    ) -> None:
        self._suite = suite
        self.secret = secret
        self.generation = generation
        self.retained: dict[int, RatchetKey] = {} if retained is None else retained

    def __repr__(self) -> str:
        return f"HashRatchet(generation={self.generation}, retained={len(self.retained)})"

    def _key(self) -> RatchetKey:
        """The key and nonce of the current generation."""
        suite, secret, gen = self._suite, self.secret, self.generation
        return RatchetKey(
            Generation(gen),
            suite.derive_tree_secret(secret, "key", gen, suite.nk),
            suite.derive_tree_secret(secret, "nonce", gen, suite.nn),
        )

    def _advance(self) -> None:
        """Ratchet forward; the old secret is gone (section 9.2 deletion schedule)."""
        gen = self.generation
        self.secret = self._suite.derive_tree_secret(self.secret, "secret", gen, self._suite.nh)
        self.generation = gen + 1

    def next_key(self) -> RatchetKey:
        """The key for our next message; it is never handed out again."""
        key = self._key()
        self._advance()
        return key

    def key_for(self, generation: int, tolerance: int, max_forward: int) -> RatchetKey:
        """The key of a received message's generation, consumed by this call."""
        if generation < self.generation:
            key = self.retained.pop(generation, None)
            if key is None:
                raise InvalidMessage(f"generation {generation} already used or too old")
            return key
        if generation - self.generation > max_forward:
            raise InvalidMessage(
                f"generation {generation} is more than {max_forward} ahead of {self.generation}"
            )
        keep_from = generation - tolerance
        while self.generation < generation:
            if self.generation >= keep_from:  # older skipped keys would be dropped at once
                self.retained[self.generation] = self._key()
            self._advance()
        key = self.next_key()
        # Inserted in increasing order, so the oldest retained key is always first.
        retained = self.retained
        while retained and next(iter(retained)) < keep_from:
            del retained[next(iter(retained))]
        return key

    def copy(self) -> HashRatchet:
        return HashRatchet(self._suite, self.secret, self.generation, dict(self.retained))


class SecretTree:
    """Section 9 secret tree over ``n_leaves`` leaves rooted at ``encryption_secret``."""

    __slots__ = ("_nodes", "_ratchets", "max_forward", "n_leaves", "suite", "tolerance")

    def __init__(
        self,
        suite: Suite,
        encryption_secret: bytes,
        n_leaves: int,
        *,
        out_of_order_tolerance: int = DEFAULT_OUT_OF_ORDER_TOLERANCE,
        maximum_forward_distance: int = DEFAULT_MAXIMUM_FORWARD_DISTANCE,
    ) -> None:
        if not (0 <= out_of_order_tolerance <= _U32 and 0 <= maximum_forward_distance <= _U32):
            raise UsageError("ratchet window parameters must be uint32 values")
        self.suite = suite
        self.n_leaves = LeafCount(n_leaves)
        self.tolerance = out_of_order_tolerance
        self.max_forward = maximum_forward_distance
        # Known, not yet consumed node secrets; derived lazily from the root down.
        self._nodes: dict[int, bytes] = {tree_math.root(self.n_leaves): encryption_secret}
        self._ratchets: dict[tuple[int, RatchetType], HashRatchet] = {}

    def __repr__(self) -> str:
        return f"SecretTree(n_leaves={self.n_leaves}, ratchets={len(self._ratchets)})"

    def _leaf_secret(self, leaf: int) -> bytes:
        """Derive the path down to ``leaf``, keeping copath secrets, deleting the rest."""
        x = NodeIndex(2 * leaf)
        nodes = self._nodes
        if x in nodes:
            return nodes.pop(x)
        path = tree_math.direct_path(x, self.n_leaves)
        top = next((i for i, node in enumerate(path) if node in nodes), None)
        if top is None:
            raise UsageError(f"secret of leaf {leaf} was already consumed")
        node = path[top]
        secret = nodes.pop(node)
        expand, nh = self.suite.expand_with_label, self.suite.nh
        for child in [*reversed(path[:top]), x]:
            left, right = expand(secret, "tree", b"left", nh), expand(secret, "tree", b"right", nh)
            if child < node:
                secret, nodes[tree_math.right(node)] = left, right
            else:
                secret, nodes[tree_math.left(node)] = right, left
            node = child
        return secret

    def _ratchet(self, leaf: int, kind: RatchetType) -> HashRatchet:
        ratchet = self._ratchets.get((leaf, kind))
        if ratchet is None:
            if not 0 <= leaf < self.n_leaves:
                raise UsageError(f"leaf {leaf} is outside a tree of {self.n_leaves} leaves")
            secret = self._leaf_secret(leaf)
            nh, expand = self.suite.nh, self.suite.expand_with_label
            for each in RatchetType:
                self._ratchets[leaf, each] = HashRatchet(
                    self.suite, expand(secret, each.value, b"", nh)
                )
            ratchet = self._ratchets[leaf, kind]
        return ratchet

    def next_key(self, leaf: LeafIndex, kind: RatchetType) -> RatchetKey:
        """Our own next key to encrypt with (``leaf`` is our leaf index)."""
        return self._ratchet(leaf, kind).next_key()

    def key_for(self, leaf: LeafIndex, kind: RatchetType, generation: int) -> RatchetKey:
        """The key a received message from ``leaf`` at ``generation`` was encrypted with."""
        if not 0 <= leaf < self.n_leaves:
            raise InvalidMessage(f"sender leaf {leaf} is outside the tree")
        ratchet = self._ratchet(leaf, kind)
        return ratchet.key_for(generation, self.tolerance, self.max_forward)

    @property
    def held_node_secrets(self) -> int:
        """How many tree-node secrets are held: the laziness, observable."""
        return len(self._nodes)

    def copy(self) -> SecretTree:
        """An independent copy, for stage-then-merge processing."""
        clone = self._empty(self.suite, self.n_leaves, self.tolerance, self.max_forward)
        clone._nodes = dict(self._nodes)
        clone._ratchets = {k: r.copy() for k, r in self._ratchets.items()}
        return clone

    def fork(self, leaf: int) -> SecretTree:
        """A copy that shares every ratchet except those of ``leaf``, which it owns: for
        copy-on-write group states that then advance only ``leaf``'s ratchets. Cheaper
        than :meth:`copy` in a large group (two ratchets copied, not all of them)."""
        clone = self._empty(self.suite, self.n_leaves, self.tolerance, self.max_forward)
        clone._nodes = dict(self._nodes)
        clone._ratchets = ratchets = dict(self._ratchets)
        for kind in _KINDS:
            ratchet = ratchets.get((leaf, kind))
            if ratchet is not None:
                ratchets[leaf, kind] = ratchet.copy()
        return clone

    @classmethod
    def _empty(cls, suite: Suite, n_leaves: int, tolerance: int, max_forward: int) -> SecretTree:
        tree = cls.__new__(cls)
        tree.suite, tree.n_leaves = suite, LeafCount(n_leaves)
        tree.tolerance, tree.max_forward = tolerance, max_forward
        tree._nodes, tree._ratchets = {}, {}
        return tree

    # -- snapshot encoding (the group engine stores it inside its state blob) --
    def encode(self, w: Writer) -> None:
        """Everything needed to resume: window parameters, unconsumed node secrets and
        every ratchet with its retained keys."""
        w.u32(self.n_leaves)
        w.u32(self.tolerance)
        w.u32(self.max_forward)
        w.vector(sorted(self._nodes.items()), _push_node)
        w.vector(sorted(self._ratchets.items(), key=_ratchet_order), _push_ratchet)

    @classmethod
    def decode(cls, r: Reader, suite: Suite) -> SecretTree:
        n_leaves, tolerance, max_forward = r.u32(), r.u32(), r.u32()
        if n_leaves == 0 or n_leaves & (n_leaves - 1):
            raise DecodeError(f"secret tree of {n_leaves} leaves")
        tree = cls._empty(suite, n_leaves, tolerance, max_forward)
        width = tree_math.node_width(tree.n_leaves)
        for node, secret in r.vector(_pull_node):
            if node >= width or len(secret) != suite.nh:
                raise DecodeError(f"bad secret tree node {node}")
            tree._nodes[node] = secret
        for (leaf, kind), ratchet in r.vector(lambda rr: _pull_ratchet(rr, suite)):
            if leaf >= n_leaves:
                raise DecodeError(f"ratchet for leaf {leaf} outside the tree")
            tree._ratchets[leaf, kind] = ratchet
        return tree


_KINDS = (RatchetType.HANDSHAKE, RatchetType.APPLICATION)


def _ratchet_order(item: tuple[tuple[int, RatchetType], HashRatchet]) -> tuple[int, int]:
    (leaf, kind), _ = item
    return leaf, _KINDS.index(kind)


def _push_node(w: Writer, item: tuple[int, bytes]) -> None:
    w.u32(item[0])
    w.opaque(item[1])


def _pull_node(r: Reader) -> tuple[int, bytes]:
    return r.u32(), r.opaque()


def _push_key(w: Writer, key: RatchetKey) -> None:
    w.u32(key.generation)
    w.opaque(key.key)
    w.opaque(key.nonce)


def _push_ratchet(w: Writer, item: tuple[tuple[int, RatchetType], HashRatchet]) -> None:
    (leaf, kind), ratchet = item
    w.u32(leaf)
    w.u8(_KINDS.index(kind))
    w.u32(ratchet.generation)
    w.opaque(ratchet.secret)
    w.vector(sorted(ratchet.retained.values(), key=lambda k: k.generation), _push_key)


def _pull_ratchet(r: Reader, suite: Suite) -> tuple[tuple[int, RatchetType], HashRatchet]:
    leaf, kind_index, generation, secret = r.u32(), r.u8(), r.u32(), r.opaque()
    if kind_index >= len(_KINDS) or len(secret) != suite.nh:
        raise DecodeError("bad ratchet entry")
    retained: dict[int, RatchetKey] = {}
    for gen, key, nonce in r.vector(lambda rr: (rr.u32(), rr.opaque(), rr.opaque())):
        if gen >= generation or len(key) != suite.nk or len(nonce) != suite.nn:
            raise DecodeError("bad retained ratchet key")
        retained[gen] = RatchetKey(Generation(gen), key, nonce)
    ordered = dict(sorted(retained.items()))  # key_for relies on increasing order
    return (leaf, _KINDS[kind_index]), HashRatchet(suite, secret, generation, ordered)


def sender_data_key_nonce(
    suite: Suite, sender_data_secret: bytes, ciphertext: bytes
) -> tuple[bytes, bytes]:
    """Section 6.3.2: key and nonce from the first Nh bytes of the content ciphertext
    (all of it when shorter)."""
    sample = ciphertext[: suite.nh]
    key = suite.expand_with_label(sender_data_secret, "key", sample, suite.nk)
    return key, suite.expand_with_label(sender_data_secret, "nonce", sample, suite.nn)


def apply_reuse_guard(nonce: bytes, reuse_guard: bytes) -> bytes:
    """Section 6.3.1: XOR the 4-byte ``reuse_guard`` into the first 4 bytes of ``nonce``."""
    if len(reuse_guard) != 4:
        raise UsageError("reuse_guard must be 4 bytes")
    head = int.from_bytes(nonce[:4], "big") ^ int.from_bytes(reuse_guard, "big")
    return head.to_bytes(4, "big") + nonce[4:]
