"""Proposals, pre-shared key ids and commits (RFC 9420 sections 8.4 and 12.1 to 12.4).

Each proposal variant encodes only its body (the struct named in the RFC: ``Add``,
``Remove``...); :func:`push_proposal`/:func:`pull_proposal` add the ``proposal_type``
selector of ``Proposal``. A proposal type we do not know keeps its body as ``opaque<V>``
(the convention for registry entries after RFC 9420) in :class:`UnknownProposal`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Self, TypeAlias

from mls.codec import Reader, Writer
from mls.errors import UsageError
from mls.messages._base import Struct, closed_enum, push_optional, push_structs
from mls.messages.app_data import AppDataUpdate
from mls.messages.codepoints import ProposalOrRefType, ProposalType, PSKType, ResumptionPSKUsage
from mls.messages.credentials import Extension, pull_extensions, push_extensions
from mls.messages.leaf_node import KeyPackage, LeafNode
from mls.messages.nodes import UpdatePath


@dataclass(frozen=True, slots=True)
class PreSharedKeyID(Struct):
    """Section 8.4::

        struct {
            PSKType psktype;
            select (PreSharedKeyID.psktype) {
                case external: opaque psk_id<V>;
                case resumption:
                    ResumptionPSKUsage usage;
                    opaque psk_group_id<V>;
                    uint64 psk_epoch;
            };
            opaque psk_nonce<V>;
        } PreSharedKeyID;

    Build with :meth:`external` or :meth:`resumption`; ``usage`` is set exactly for
    resumption PSKs.
    """

    psktype: PSKType
    psk_nonce: bytes
    psk_id: bytes = b""
    usage: ResumptionPSKUsage | None = None
    psk_group_id: bytes = b""
    psk_epoch: int = 0

    def __post_init__(self) -> None:
        if self.psktype == PSKType.EXTERNAL:
            ok = self.usage is None and not self.psk_group_id and self.psk_epoch == 0
        else:
            ok = self.usage is not None and not self.psk_id
        if not ok:
            raise UsageError(f"PreSharedKeyID fields do not match psktype {self.psktype!r}")

    @classmethod
    def external(cls, psk_id: bytes, psk_nonce: bytes) -> PreSharedKeyID:
        return cls(PSKType.EXTERNAL, psk_nonce, psk_id=psk_id)

    @classmethod
    def resumption(
        cls, usage: ResumptionPSKUsage, psk_group_id: bytes, psk_epoch: int, psk_nonce: bytes
    ) -> PreSharedKeyID:
        return cls(
            PSKType.RESUMPTION,
            psk_nonce,
            usage=usage,
            psk_group_id=psk_group_id,
            psk_epoch=psk_epoch,
        )

    def encode(self, w: Writer) -> None:
        w.u8(self.psktype)
        if self.usage is None:
            w.opaque(self.psk_id)
        else:
            w.u8(self.usage)
            w.opaque(self.psk_group_id)
            w.u64(self.psk_epoch)
        w.opaque(self.psk_nonce)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        psktype = closed_enum(PSKType, r.u8())
        if psktype == PSKType.EXTERNAL:
            psk_id = r.opaque()
            return cls(psktype, r.opaque(), psk_id=psk_id)
        usage = closed_enum(ResumptionPSKUsage, r.u8())
        group_id = r.opaque()
        epoch = r.u64()
        return cls(psktype, r.opaque(), usage=usage, psk_group_id=group_id, psk_epoch=epoch)


@dataclass(frozen=True, slots=True)
class PSKLabel(Struct):
    """Section 8.4::

    struct {
        PreSharedKeyID id;
        uint16 index;
        uint16 count;
    } PSKLabel;
    """

    id: PreSharedKeyID
    index: int
    count: int

    def encode(self, w: Writer) -> None:
        self.id.encode(w)
        w.u16(self.index)
        w.u16(self.count)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(PreSharedKeyID.decode(r), r.u16(), r.u16())


@dataclass(frozen=True, slots=True)
class Add(Struct):
    """Section 12.1.1: ``struct { KeyPackage key_package; } Add;``"""

    proposal_type: ClassVar[int] = ProposalType.ADD
    key_package: KeyPackage

    def encode(self, w: Writer) -> None:
        self.key_package.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(KeyPackage.decode(r))


@dataclass(frozen=True, slots=True)
class Update(Struct):
    """Section 12.1.2: ``struct { LeafNode leaf_node; } Update;``"""

    proposal_type: ClassVar[int] = ProposalType.UPDATE
    leaf_node: LeafNode

    def encode(self, w: Writer) -> None:
        self.leaf_node.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(LeafNode.decode(r))


@dataclass(frozen=True, slots=True)
class Remove(Struct):
    """Section 12.1.3: ``struct { uint32 removed; } Remove;``"""

    proposal_type: ClassVar[int] = ProposalType.REMOVE
    removed: int

    def encode(self, w: Writer) -> None:
        w.u32(self.removed)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.u32())


@dataclass(frozen=True, slots=True)
class PreSharedKey(Struct):
    """Section 12.1.4: ``struct { PreSharedKeyID psk; } PreSharedKey;``"""

    proposal_type: ClassVar[int] = ProposalType.PSK
    psk: PreSharedKeyID

    def encode(self, w: Writer) -> None:
        self.psk.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(PreSharedKeyID.decode(r))


@dataclass(frozen=True, slots=True)
class ReInit(Struct):
    """Section 12.1.5::

    struct {
        opaque group_id<V>;
        ProtocolVersion version;
        CipherSuite cipher_suite;
        Extension extensions<V>;
    } ReInit;
    """

    proposal_type: ClassVar[int] = ProposalType.REINIT
    group_id: bytes
    version: int
    cipher_suite: int
    extensions: tuple[Extension, ...] = ()

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id)
        w.u16(self.version)
        w.u16(self.cipher_suite)
        push_extensions(w, self.extensions)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), r.u16(), r.u16(), pull_extensions(r))


@dataclass(frozen=True, slots=True)
class ExternalInit(Struct):
    """Section 12.1.6: ``struct { opaque kem_output<V>; } ExternalInit;``"""

    proposal_type: ClassVar[int] = ProposalType.EXTERNAL_INIT
    kem_output: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.kem_output)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque())


@dataclass(frozen=True, slots=True)
class GroupContextExtensions(Struct):
    """Section 12.1.7: ``struct { Extension extensions<V>; } GroupContextExtensions;``"""

    proposal_type: ClassVar[int] = ProposalType.GROUP_CONTEXT_EXTENSIONS
    extensions: tuple[Extension, ...] = ()

    def encode(self, w: Writer) -> None:
        push_extensions(w, self.extensions)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(pull_extensions(r))


@dataclass(frozen=True, slots=True)
class SelfRemove(Struct):
    """MLS extensions draft, proposal type 0x000A: ``struct {} SelfRemove;``"""

    proposal_type: ClassVar[int] = ProposalType.SELF_REMOVE

    def encode(self, w: Writer) -> None:
        pass

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls()


@dataclass(frozen=True, slots=True)
class UnknownProposal:
    """A proposal of a type we do not implement, body kept as ``opaque<V>``.

    Not a ``Struct``: the body alone does not say its type, so it is only ever decoded
    through :func:`pull_proposal`.
    """

    proposal_type: int
    data: bytes

    def __post_init__(self) -> None:
        if self.proposal_type in _DECODERS:
            raise UsageError(f"proposal type {self.proposal_type} is known; use its class")

    def encode(self, w: Writer) -> None:
        w.opaque(self.data)


Proposal: TypeAlias = (
    Add
    | Update
    | Remove
    | PreSharedKey
    | ReInit
    | ExternalInit
    | GroupContextExtensions
    | SelfRemove
    | AppDataUpdate
    | UnknownProposal
)
"""Section 12.1: ``struct { ProposalType proposal_type; select (...) { case add: Add;
... }; } Proposal;`` (a body per type, selected by :func:`push_proposal`/`pull_proposal`)."""

_DECODERS: dict[int, Callable[[Reader], Proposal]] = {
    ProposalType.ADD: Add.decode,
    ProposalType.UPDATE: Update.decode,
    ProposalType.REMOVE: Remove.decode,
    ProposalType.PSK: PreSharedKey.decode,
    ProposalType.REINIT: ReInit.decode,
    ProposalType.EXTERNAL_INIT: ExternalInit.decode,
    ProposalType.GROUP_CONTEXT_EXTENSIONS: GroupContextExtensions.decode,
    ProposalType.SELF_REMOVE: SelfRemove.decode,
    ProposalType.APP_DATA_UPDATE: AppDataUpdate.decode,
}


def push_proposal(w: Writer, proposal: Proposal) -> None:
    w.u16(proposal.proposal_type)
    proposal.encode(w)


def pull_proposal(r: Reader) -> Proposal:
    proposal_type = r.u16()
    decoder = _DECODERS.get(proposal_type)
    if decoder is None:
        return UnknownProposal(proposal_type, r.opaque())
    return decoder(r)


def proposal_to_bytes(proposal: Proposal) -> bytes:
    w = Writer()
    push_proposal(w, proposal)
    return w.getvalue()


def proposal_from_bytes(data: bytes) -> Proposal:
    r = Reader(data)
    proposal = pull_proposal(r)
    r.finish()
    return proposal


@dataclass(frozen=True, slots=True)
class ProposalOrRef(Struct):
    """Section 12.4::

        struct {
            ProposalOrRefType type;
            select (ProposalOrRef.type) {
                case proposal:  Proposal proposal;
                case reference: ProposalRef reference;
            };
        } ProposalOrRef;

    ``ProposalRef`` is ``opaque HashReference<V>``. Exactly one of ``proposal`` and
    ``reference`` is set; build with :meth:`of_proposal` or :meth:`of_reference`.
    """

    type: ProposalOrRefType
    proposal: Proposal | None = None
    reference: bytes | None = None

    def __post_init__(self) -> None:
        if (self.proposal is None) == (self.type == ProposalOrRefType.PROPOSAL) or (
            self.reference is None
        ) == (self.type == ProposalOrRefType.REFERENCE):
            raise UsageError(f"ProposalOrRef fields do not match type {self.type!r}")

    @classmethod
    def of_proposal(cls, proposal: Proposal) -> ProposalOrRef:
        return cls(ProposalOrRefType.PROPOSAL, proposal=proposal)

    @classmethod
    def of_reference(cls, reference: bytes) -> ProposalOrRef:
        return cls(ProposalOrRefType.REFERENCE, reference=reference)

    def encode(self, w: Writer) -> None:
        w.u8(self.type)
        if self.proposal is not None:
            push_proposal(w, self.proposal)
        elif self.reference is not None:
            w.opaque(self.reference)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        kind = closed_enum(ProposalOrRefType, r.u8())
        if kind == ProposalOrRefType.PROPOSAL:
            return cls(kind, proposal=pull_proposal(r))
        return cls(kind, reference=r.opaque())


@dataclass(frozen=True, slots=True)
class Commit(Struct):
    """Section 12.4::

    struct {
        ProposalOrRef proposals<V>;
        optional<UpdatePath> path;
    } Commit;
    """

    proposals: tuple[ProposalOrRef, ...] = ()
    path: UpdatePath | None = None

    def encode(self, w: Writer) -> None:
        push_structs(w, self.proposals)
        push_optional(w, self.path)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(tuple(r.vector(ProposalOrRef.decode)), r.optional(UpdatePath.decode))
