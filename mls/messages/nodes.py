"""Tree nodes, update paths and the ratchet tree encoding (RFC 9420 sections 7 and 12.4.3.3)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Self, TypeAlias, overload

from mls.codec import Reader, Writer
from mls.errors import DecodeError
from mls.messages._base import Memoized, Struct, pull_u32s, push_structs, push_u32s
from mls.messages.codepoints import NodeType
from mls.messages.leaf_node import LeafNode


@dataclass(frozen=True, slots=True)
class HPKECiphertext(Struct):
    """Section 7.6::

    struct {
        opaque kem_output<V>;
        opaque ciphertext<V>;
    } HPKECiphertext;
    """

    kem_output: bytes
    ciphertext: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.kem_output)
        w.opaque(self.ciphertext)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), r.opaque())


class HPKECiphertexts(Sequence[HPKECiphertext]):
    """A decoded ``HPKECiphertext encrypted_path_secret<V>``, built item by item on access.

    The UpdatePath of a commit in a fresh tree carries about one ciphertext per member, and
    each receiver opens one of them: building all of them was most of the time a member of
    a large group spent processing such a commit. Decoding still checks every item's
    bounds (``starts`` holds each item's offset, then the end); an item becomes an
    :class:`HPKECiphertext` when it is read. Equal to, and hashed as, the tuple of its
    items, so a decoded node compares equal to one built in memory.
    """

    __slots__ = ("_data", "_starts")

    def __init__(self, data: bytes, starts: Sequence[int]) -> None:
        self._data = data
        self._starts = tuple(starts)

    @classmethod
    def decode(cls, r: Reader) -> HPKECiphertexts:
        body = r.sub()
        bounds = body.opaque_bounds()  # kem_output, ciphertext, kem_output, ...
        if len(bounds) % 2 == 0:
            raise DecodeError("an HPKECiphertext lacks its ciphertext")
        first = bounds[0]
        return cls(r.since(first), [b - first for b in bounds[::2]])

    @property
    def body(self) -> bytes:
        """The vector's body as decoded (its items' encodings, back to back)."""
        return self._data

    def __len__(self) -> int:
        return len(self._starts) - 1

    @overload
    def __getitem__(self, i: int) -> HPKECiphertext: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[HPKECiphertext, ...]: ...
    def __getitem__(self, i: int | slice) -> HPKECiphertext | tuple[HPKECiphertext, ...]:
        if isinstance(i, slice):
            return tuple(self)[i]
        n = len(self)
        if not -n <= i < n:
            raise IndexError("ciphertext index out of range")
        i %= n
        r = Reader(self._data, self._starts[i], self._starts[i + 1])
        return HPKECiphertext.decode(r)

    def __iter__(self) -> Iterator[HPKECiphertext]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HPKECiphertexts | tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"HPKECiphertexts({len(self)} items)"


@dataclass(frozen=True, slots=True)
class UpdatePathNode(Struct):
    """Section 7.6::

    struct {
        HPKEPublicKey encryption_key;
        HPKECiphertext encrypted_path_secret<V>;
    } UpdatePathNode;
    """

    encryption_key: bytes
    # A tuple when built in memory, HPKECiphertexts (items built on access) when decoded.
    encrypted_path_secret: Sequence[HPKECiphertext]

    def encode(self, w: Writer) -> None:
        w.opaque(self.encryption_key)
        ciphertexts = self.encrypted_path_secret
        if isinstance(ciphertexts, HPKECiphertexts):
            w.opaque(ciphertexts.body)  # the bytes it was decoded from
        else:
            push_structs(w, ciphertexts)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), HPKECiphertexts.decode(r))


@dataclass(frozen=True, slots=True)
class UpdatePath(Memoized):
    """Section 7.6::

    struct {
        LeafNode leaf_node;
        UpdatePathNode nodes<V>;
    } UpdatePath;
    """

    leaf_node: LeafNode
    nodes: tuple[UpdatePathNode, ...]
    # Encoded for the signature, the transcript hash and the message: memoized.
    _wire: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def encode_fields(self, w: Writer) -> None:
        self.leaf_node.encode(w)
        push_structs(w, self.nodes)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        start = r.tell()
        path = cls(LeafNode.decode(r), tuple(r.vector(UpdatePathNode.decode)))
        return path.remember(r, start)


@dataclass(frozen=True, slots=True)
class ParentNode(Struct):
    """Section 7.1::

    struct {
        HPKEPublicKey encryption_key;
        opaque parent_hash<V>;
        uint32 unmerged_leaves<V>;
    } ParentNode;
    """

    encryption_key: bytes
    parent_hash: bytes
    unmerged_leaves: tuple[int, ...] = ()

    def encode(self, w: Writer) -> None:
        w.opaque(self.encryption_key)
        w.opaque(self.parent_hash)
        push_u32s(w, self.unmerged_leaves)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), r.opaque(), pull_u32s(r))


Node: TypeAlias = LeafNode | ParentNode
"""Section 12.4.3.3::

    struct {
        NodeType node_type;
        select (Node.node_type) {
            case leaf:   LeafNode leaf_node;
            case parent: ParentNode parent_node;
        };
    } Node;
"""


def push_node(w: Writer, node: Node) -> None:
    if isinstance(node, LeafNode):
        w.u8(NodeType.LEAF)
    else:
        w.u8(NodeType.PARENT)
    node.encode(w)


def pull_node(r: Reader) -> Node:
    node_type = r.u8()
    if node_type == NodeType.LEAF:
        return LeafNode.decode(r)
    if node_type == NodeType.PARENT:
        return ParentNode.decode(r)
    raise DecodeError(f"invalid NodeType {node_type}")


def push_ratchet_tree(w: Writer, nodes: Sequence[Node | None]) -> None:
    """``optional<Node> ratchet_tree<V>``, the body of the ``ratchet_tree`` extension."""
    body = Writer()
    for node in nodes:
        if node is None:
            body.u8(0)
        else:
            body.u8(1)
            push_node(body, node)
    w.opaque(body.getvalue())


def pull_ratchet_tree(r: Reader) -> tuple[Node | None, ...]:
    """``optional<Node> ratchet_tree<V>``; structural checks belong to tree validation."""
    return tuple(r.vector(_pull_optional_node))


def ratchet_tree_to_bytes(nodes: Sequence[Node | None]) -> bytes:
    w = Writer()
    push_ratchet_tree(w, nodes)
    return w.getvalue()


def ratchet_tree_from_bytes(data: bytes) -> tuple[Node | None, ...]:
    r = Reader(data)
    nodes = pull_ratchet_tree(r)
    r.finish()
    return nodes


def _pull_optional_node(r: Reader) -> Node | None:
    return r.optional(pull_node)


def node_to_bytes(node: Node) -> bytes:
    w = Writer()
    push_node(w, node)
    return w.getvalue()


def node_from_bytes(data: bytes) -> Node:
    r = Reader(data)
    node = pull_node(r)
    r.finish()
    return node
