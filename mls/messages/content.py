"""Message framing structs (RFC 9420 section 6).

The select-on-content-type bodies (``application_data``/``proposal``/``commit``) are one
field ``content`` typed ``bytes | Proposal | Commit``; ``content_type`` follows from it,
so a struct whose type and body disagree cannot be built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self, TypeAlias

from mls.codec import Reader, Writer
from mls.errors import DecodeError, UsageError
from mls.messages._base import Struct, closed_enum
from mls.messages.codepoints import ContentType, ProtocolVersion, SenderType, WireFormat
from mls.messages.group_info import GroupContext
from mls.messages.proposals import Commit, Proposal, pull_proposal, push_proposal

Content: TypeAlias = bytes | Proposal | Commit
"""``application_data`` (bytes), a ``Proposal`` or a ``Commit``."""


def content_type_of(content: Content) -> ContentType:
    if isinstance(content, bytes):
        return ContentType.APPLICATION
    if isinstance(content, Commit):
        return ContentType.COMMIT
    return ContentType.PROPOSAL


def push_content(w: Writer, content: Content) -> None:
    """The body of the content-type select (the type itself is written by the caller)."""
    if isinstance(content, bytes):
        w.opaque(content)
    elif isinstance(content, Commit):
        content.encode(w)
    else:
        push_proposal(w, content)


def pull_content(r: Reader, content_type: ContentType) -> Content:
    if content_type == ContentType.APPLICATION:
        return r.opaque()
    if content_type == ContentType.COMMIT:
        return Commit.decode(r)
    return pull_proposal(r)


@dataclass(frozen=True, slots=True)
class Sender(Struct):
    """Section 6::

    struct {
        SenderType sender_type;
        select (Sender.sender_type) {
            case member:        uint32 leaf_index;
            case external:      uint32 sender_index;
            case new_member_commit:
            case new_member_proposal:
                struct{};
        };
    } Sender;
    """

    sender_type: SenderType
    leaf_index: int | None = None
    sender_index: int | None = None

    def __post_init__(self) -> None:
        if (self.leaf_index is None) == (self.sender_type == SenderType.MEMBER) or (
            self.sender_index is None
        ) == (self.sender_type == SenderType.EXTERNAL):
            raise UsageError(f"sender fields do not match sender_type {self.sender_type!r}")

    @classmethod
    def member(cls, leaf_index: int) -> Sender:
        return cls(SenderType.MEMBER, leaf_index=leaf_index)

    @classmethod
    def external(cls, sender_index: int) -> Sender:
        return cls(SenderType.EXTERNAL, sender_index=sender_index)

    @classmethod
    def new_member_commit(cls) -> Sender:
        return cls(SenderType.NEW_MEMBER_COMMIT)

    @classmethod
    def new_member_proposal(cls) -> Sender:
        return cls(SenderType.NEW_MEMBER_PROPOSAL)

    def encode(self, w: Writer) -> None:
        w.u8(self.sender_type)
        if self.leaf_index is not None:
            w.u32(self.leaf_index)
        elif self.sender_index is not None:
            w.u32(self.sender_index)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        sender_type = closed_enum(SenderType, r.u8())
        if sender_type == SenderType.MEMBER:
            return cls(sender_type, leaf_index=r.u32())
        if sender_type == SenderType.EXTERNAL:
            return cls(sender_type, sender_index=r.u32())
        return cls(sender_type)


@dataclass(frozen=True, slots=True)
class FramedContent(Struct):
    """Section 6::

    struct {
        opaque group_id<V>;
        uint64 epoch;
        Sender sender;
        opaque authenticated_data<V>;
        ContentType content_type;
        select (FramedContent.content_type) {
            case application: opaque application_data<V>;
            case proposal:    Proposal proposal;
            case commit:      Commit commit;
        };
    } FramedContent;
    """

    group_id: bytes
    epoch: int
    sender: Sender
    authenticated_data: bytes
    content: Content

    @property
    def content_type(self) -> ContentType:
        return content_type_of(self.content)

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id)
        w.u64(self.epoch)
        self.sender.encode(w)
        w.opaque(self.authenticated_data)
        w.u8(content_type_of(self.content))
        push_content(w, self.content)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        group_id = r.opaque()
        epoch = r.u64()
        sender = Sender.decode(r)
        authenticated_data = r.opaque()
        content_type = closed_enum(ContentType, r.u8())
        return cls(group_id, epoch, sender, authenticated_data, pull_content(r, content_type))


@dataclass(frozen=True, slots=True)
class FramedContentAuthData:
    """Section 6.1::

        struct {
            /* SignWithLabel(., "FramedContentTBS", FramedContentTBS) */
            opaque signature<V>;
            select (FramedContent.content_type) {
                case commit:
                    /* MAC(confirmation_key, GroupContext.confirmed_transcript_hash) */
                    MAC confirmation_tag;
                case application:
                case proposal:
                    struct{};
            };
        } FramedContentAuthData;

    Its shape depends on the content type, so it decodes with :meth:`decode_for`.
    """

    signature: bytes
    confirmation_tag: bytes | None = None

    def encode(self, w: Writer) -> None:
        w.opaque(self.signature)
        if self.confirmation_tag is not None:
            w.opaque(self.confirmation_tag)

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def decode_for(cls, r: Reader, content_type: ContentType) -> Self:
        signature = r.opaque()
        if content_type == ContentType.COMMIT:
            return cls(signature, r.opaque())
        return cls(signature)

    def check_matches(self, content_type: ContentType) -> None:
        """Commit auth data carries a confirmation tag, and nothing else does."""
        if (self.confirmation_tag is None) == (content_type == ContentType.COMMIT):
            raise UsageError(f"confirmation_tag does not match content type {content_type!r}")


@dataclass(frozen=True, slots=True)
class AuthenticatedContent(Struct):
    """Section 6.1::

    struct {
        WireFormat wire_format;
        FramedContent content;
        FramedContentAuthData auth;
    } AuthenticatedContent;
    """

    wire_format: WireFormat
    content: FramedContent
    auth: FramedContentAuthData

    def __post_init__(self) -> None:
        self.auth.check_matches(self.content.content_type)

    def encode(self, w: Writer) -> None:
        w.u16(self.wire_format)
        self.content.encode(w)
        self.auth.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        wire_format = closed_enum(WireFormat, r.u16())
        content = FramedContent.decode(r)
        return cls(wire_format, content, FramedContentAuthData.decode_for(r, content.content_type))


@dataclass(frozen=True, slots=True)
class FramedContentTBS(Struct):
    """Section 6.1::

        struct {
            ProtocolVersion version = mls10;
            WireFormat wire_format;
            FramedContent content;
            select (FramedContentTBS.content.sender.sender_type) {
                case member:
                case new_member_commit:
                    GroupContext context;
                case external:
                case new_member_proposal:
                    struct{};
            };
        } FramedContentTBS;

    The framing hot path builds these bytes with :func:`framed_content_tbs` from an
    already-encoded GroupContext instead.
    """

    wire_format: WireFormat
    content: FramedContent
    context: GroupContext | None = None

    def __post_init__(self) -> None:
        if (self.context is None) == _needs_context(self.content.sender.sender_type):
            raise UsageError("FramedContentTBS context does not match the sender type")

    def encode(self, w: Writer) -> None:
        w.u16(ProtocolVersion.MLS10)
        w.u16(self.wire_format)
        self.content.encode(w)
        if self.context is not None:
            self.context.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        if r.u16() != ProtocolVersion.MLS10:
            raise DecodeError("FramedContentTBS version is not mls10")
        wire_format = closed_enum(WireFormat, r.u16())
        content = FramedContent.decode(r)
        needs = _needs_context(content.sender.sender_type)
        return cls(wire_format, content, GroupContext.decode(r) if needs else None)


def _needs_context(sender_type: SenderType) -> bool:
    return sender_type in (SenderType.MEMBER, SenderType.NEW_MEMBER_COMMIT)


def framed_content_tbs(
    wire_format: WireFormat, content: FramedContent, group_context: bytes
) -> bytes:
    """The encoded FramedContentTBS; ``group_context`` is the encoded GroupContext and is
    appended only for senders whose signature covers it (member, new_member_commit)."""
    w = Writer()
    w.u16(ProtocolVersion.MLS10)
    w.u16(wire_format)
    content.encode(w)
    if _needs_context(content.sender.sender_type):
        w.fixed(group_context)
    return w.getvalue()


@dataclass(frozen=True, slots=True)
class PublicMessage(Struct):
    """Section 6.2::

    struct {
        FramedContent content;
        FramedContentAuthData auth;
        select (PublicMessage.content.sender.sender_type) {
            case member:
                MAC membership_tag;
            case external:
            case new_member_commit:
            case new_member_proposal:
                struct{};
        };
    } PublicMessage;
    """

    content: FramedContent
    auth: FramedContentAuthData
    membership_tag: bytes | None = None

    def __post_init__(self) -> None:
        self.auth.check_matches(self.content.content_type)
        if (self.membership_tag is None) == (self.content.sender.sender_type == SenderType.MEMBER):
            raise UsageError("membership_tag must be present exactly for member senders")

    def encode(self, w: Writer) -> None:
        self.content.encode(w)
        self.auth.encode(w)
        if self.membership_tag is not None:
            w.opaque(self.membership_tag)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        content = FramedContent.decode(r)
        auth = FramedContentAuthData.decode_for(r, content.content_type)
        is_member = content.sender.sender_type == SenderType.MEMBER
        return cls(content, auth, r.opaque() if is_member else None)
