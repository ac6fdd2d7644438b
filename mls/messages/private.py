"""PrivateMessage and the structs its encryption is built from (RFC 9420 section 6.3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from mls.codec import Reader, Writer
from mls.errors import DecodeError, UsageError
from mls.messages._base import Struct, closed_enum
from mls.messages.codepoints import ContentType
from mls.messages.content import (
    Content,
    FramedContentAuthData,
    content_type_of,
    pull_content,
    push_content,
)


@dataclass(frozen=True, slots=True)
class PrivateMessage(Struct):
    """Section 6.3::

    struct {
        opaque group_id<V>;
        uint64 epoch;
        ContentType content_type;
        opaque authenticated_data<V>;
        opaque encrypted_sender_data<V>;
        opaque ciphertext<V>;
    } PrivateMessage;
    """

    group_id: bytes
    epoch: int
    content_type: ContentType
    authenticated_data: bytes
    encrypted_sender_data: bytes
    ciphertext: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id)
        w.u64(self.epoch)
        w.u8(self.content_type)
        w.opaque(self.authenticated_data)
        w.opaque(self.encrypted_sender_data)
        w.opaque(self.ciphertext)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        group_id = r.opaque()
        epoch = r.u64()
        content_type = closed_enum(ContentType, r.u8())
        return cls(group_id, epoch, content_type, r.opaque(), r.opaque(), r.opaque())


@dataclass(frozen=True, slots=True)
class PrivateMessageContent:
    """Section 6.3.1::

        struct {
            select (PrivateMessage.content_type) {
                case application: opaque application_data<V>;
                case proposal:    Proposal proposal;
                case commit:      Commit commit;
            };
            FramedContentAuthData auth;
            opaque padding[length_of_padding];
        } PrivateMessageContent;

    ``padding`` is the number of zero bytes at the end. The content type lives in the
    enclosing PrivateMessage, so decoding takes it: :meth:`from_plaintext`.
    """

    content: Content
    auth: FramedContentAuthData
    padding: int = 0

    def __post_init__(self) -> None:
        self.auth.check_matches(content_type_of(self.content))

    def encode(self, w: Writer) -> None:
        push_content(w, self.content)
        self.auth.encode(w)
        w.fixed(bytes(self.padding))

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def from_plaintext(cls, data: bytes, content_type: ContentType) -> Self:
        """Parse a decrypted PrivateMessage body; the padding must be all zero bytes."""
        r = Reader(data)
        content = pull_content(r, content_type)
        auth = FramedContentAuthData.decode_for(r, content_type)
        padding = r.remaining
        tail = r.fixed(padding)
        if tail.count(0) != padding:
            raise DecodeError("PrivateMessageContent padding is not all zero")
        return cls(content, auth, padding)


@dataclass(frozen=True, slots=True)
class SenderData(Struct):
    """Section 6.3.2::

    struct {
        uint32 leaf_index;
        uint32 generation;
        opaque reuse_guard[4];
    } SenderData;
    """

    leaf_index: int
    generation: int
    reuse_guard: bytes

    def __post_init__(self) -> None:
        if len(self.reuse_guard) != 4:
            raise UsageError("reuse_guard must be 4 bytes")

    def encode(self, w: Writer) -> None:
        w.u32(self.leaf_index)
        w.u32(self.generation)
        w.fixed(self.reuse_guard)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.u32(), r.u32(), r.fixed(4))


@dataclass(frozen=True, slots=True)
class SenderDataAAD(Struct):
    """Section 6.3.2::

    struct {
        opaque group_id<V>;
        uint64 epoch;
        ContentType content_type;
    } SenderDataAAD;
    """

    group_id: bytes
    epoch: int
    content_type: ContentType

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id)
        w.u64(self.epoch)
        w.u8(self.content_type)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), r.u64(), closed_enum(ContentType, r.u8()))


@dataclass(frozen=True, slots=True)
class PrivateContentAAD(Struct):
    """Section 6.3.1::

    struct {
        opaque group_id<V>;
        uint64 epoch;
        ContentType content_type;
        opaque authenticated_data<V>;
    } PrivateContentAAD;
    """

    group_id: bytes
    epoch: int
    content_type: ContentType
    authenticated_data: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id)
        w.u64(self.epoch)
        w.u8(self.content_type)
        w.opaque(self.authenticated_data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(r.opaque(), r.u64(), closed_enum(ContentType, r.u8()), r.opaque())
