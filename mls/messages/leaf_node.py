"""Leaf nodes and key packages (RFC 9420 sections 7.2 and 10)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from mls.codec import Reader, Writer
from mls.errors import UsageError
from mls.messages._base import Memoized, Struct, closed_enum, pull_u16s, push_u16s
from mls.messages.codepoints import LeafNodeSource
from mls.messages.credentials import Credential, Extension, pull_extensions, push_extensions


@dataclass(frozen=True, slots=True)
class Capabilities(Struct):
    """Section 7.2::

    struct {
        ProtocolVersion versions<V>;
        CipherSuite cipher_suites<V>;
        ExtensionType extensions<V>;
        ProposalType proposals<V>;
        CredentialType credentials<V>;
    } Capabilities;
    """

    versions: tuple[int, ...] = ()
    cipher_suites: tuple[int, ...] = ()
    extensions: tuple[int, ...] = ()
    proposals: tuple[int, ...] = ()
    credentials: tuple[int, ...] = ()

    def encode(self, w: Writer) -> None:
        push_u16s(w, self.versions)
        push_u16s(w, self.cipher_suites)
        push_u16s(w, self.extensions)
        push_u16s(w, self.proposals)
        push_u16s(w, self.credentials)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(pull_u16s(r), pull_u16s(r), pull_u16s(r), pull_u16s(r), pull_u16s(r))


@dataclass(frozen=True, slots=True)
class Lifetime(Struct):
    """Section 7.2: ``struct { uint64 not_before; uint64 not_after; } Lifetime;``"""

    not_before: int
    not_after: int

    def encode(self, w: Writer) -> None:
        w.u64(self.not_before)
        w.u64(self.not_after)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.u64(), r.u64())


@dataclass(frozen=True, slots=True)
class LeafNode(Struct):
    """Section 7.2::

        struct {
            HPKEPublicKey encryption_key;
            SignaturePublicKey signature_key;
            Credential credential;
            Capabilities capabilities;
            LeafNodeSource leaf_node_source;
            select (LeafNode.leaf_node_source) {
                case key_package: Lifetime lifetime;
                case update: struct{};
                case commit: opaque parent_hash<V>;
            };
            Extension extensions<V>;
            /* SignWithLabel(., "LeafNodeTBS", LeafNodeTBS) */
            opaque signature<V>;
        } LeafNode;

    ``lifetime`` is set exactly for ``key_package`` leaves, ``parent_hash`` exactly for
    ``commit`` leaves. ``content()`` (every field before the signature) is computed once:
    a leaf is encoded for its signature, for the tree hash and in every Welcome and path.
    """

    encryption_key: bytes
    signature_key: bytes
    credential: Credential
    capabilities: Capabilities
    leaf_node_source: LeafNodeSource
    extensions: tuple[Extension, ...]
    signature: bytes
    lifetime: Lifetime | None = None
    parent_hash: bytes | None = None
    _content: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        source = self.leaf_node_source
        if (self.lifetime is None) == (source == LeafNodeSource.KEY_PACKAGE) or (
            self.parent_hash is None
        ) == (source == LeafNodeSource.COMMIT):
            raise UsageError(f"leaf node fields do not match leaf_node_source {source!r}")

    def content(self) -> bytes:
        """The encoding of every field before ``signature`` (decoded or built once)."""
        content = self._content
        if content is None:
            w = Writer()
            self._push_content(w)
            content = w.getvalue()
            object.__setattr__(self, "_content", content)
        return content

    def _push_content(self, w: Writer) -> None:
        w.opaque(self.encryption_key)
        w.opaque(self.signature_key)
        self.credential.encode(w)
        self.capabilities.encode(w)
        w.u8(self.leaf_node_source)
        if self.lifetime is not None:
            self.lifetime.encode(w)
        elif self.parent_hash is not None:
            w.opaque(self.parent_hash)
        push_extensions(w, self.extensions)

    def encode(self, w: Writer) -> None:
        w.fixed(self.content())
        w.opaque(self.signature)

    def tbs(self, group_id: bytes, leaf_index: int) -> bytes:
        """The encoded ``LeafNodeTBS`` this leaf's signature covers::

            struct {
                ... every LeafNode field up to and including extensions ...
                select (LeafNodeTBS.leaf_node_source) {
                    case key_package: struct{};
                    case update: opaque group_id<V>; uint32 leaf_index;
                    case commit: opaque group_id<V>; uint32 leaf_index;
                };
            } LeafNodeTBS;

        ``group_id`` and ``leaf_index`` are ignored for ``key_package`` leaves.
        """
        content = self.content()
        if self.leaf_node_source == LeafNodeSource.KEY_PACKAGE:
            return content
        w = Writer()
        w.fixed(content)
        w.opaque(group_id)
        w.u32(leaf_index)
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader) -> Self:
        start = r.tell()
        encryption_key = r.opaque()
        signature_key = r.opaque()
        credential = Credential.decode(r)
        capabilities = Capabilities.decode(r)
        source = closed_enum(LeafNodeSource, r.u8())
        lifetime = Lifetime.decode(r) if source == LeafNodeSource.KEY_PACKAGE else None
        parent_hash = r.opaque() if source == LeafNodeSource.COMMIT else None
        extensions = pull_extensions(r)
        content = r.since(start)  # canonical (the codec accepts nothing else): reuse it
        leaf = cls(
            encryption_key,
            signature_key,
            credential,
            capabilities,
            source,
            extensions,
            r.opaque(),
            lifetime,
            parent_hash,
        )
        object.__setattr__(leaf, "_content", content)
        return leaf


@dataclass(frozen=True, slots=True)
class KeyPackage(Memoized):
    """Section 10::

        struct {
            ProtocolVersion version;
            CipherSuite cipher_suite;
            HPKEPublicKey init_key;
            LeafNode leaf_node;
            Extension extensions<V>;
            /* SignWithLabel(., "KeyPackageTBS", KeyPackageTBS) */
            opaque signature<V>;
        } KeyPackage;

    ``version`` and ``cipher_suite`` stay raw ints: whether they fit a group is a
    validation question (section 10.1), not a parsing one.
    """

    version: int
    cipher_suite: int
    init_key: bytes
    leaf_node: LeafNode
    extensions: tuple[Extension, ...]
    signature: bytes
    _wire: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def _encode_content(self, w: Writer) -> None:
        w.u16(self.version)
        w.u16(self.cipher_suite)
        w.opaque(self.init_key)
        self.leaf_node.encode(w)
        push_extensions(w, self.extensions)

    def encode_fields(self, w: Writer) -> None:
        self._encode_content(w)
        w.opaque(self.signature)

    def tbs(self) -> bytes:
        """The encoded ``KeyPackageTBS``: every field but the signature."""
        w = Writer()
        self._encode_content(w)
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader) -> Self:
        start = r.tell()
        return cls(
            r.u16(),
            r.u16(),
            r.opaque(),
            LeafNode.decode(r),
            pull_extensions(r),
            r.opaque(),
        ).remember(r, start)
