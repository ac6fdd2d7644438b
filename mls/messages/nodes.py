"""Tree nodes, update paths and the ratchet tree encoding (RFC 9420 sections 7 and 12.4.3.3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Self, TypeAlias

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


@dataclass(frozen=True, slots=True)
class UpdatePathNode(Struct):
    """Section 7.6::

    struct {
        HPKEPublicKey encryption_key;
        HPKECiphertext encrypted_path_secret<V>;
    } UpdatePathNode;
    """

    encryption_key: bytes
    encrypted_path_secret: tuple[HPKECiphertext, ...]

    def encode(self, w: Writer) -> None:
        w.opaque(self.encryption_key)
        push_structs(w, self.encrypted_path_secret)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        key = r.opaque()
        body = r.sub()
        ciphertexts = []
        # Inlined HPKECiphertext.decode: a fresh commit's path holds about N of these.
        while not body.at_end():
            ciphertexts.append(HPKECiphertext(body.opaque(), body.opaque()))
        return cls(key, tuple(ciphertexts))


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
