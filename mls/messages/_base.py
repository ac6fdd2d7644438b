"""Shared plumbing of the wire structs: the ``Struct`` mixin and small codec helpers."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from enum import IntEnum
from typing import Self, TypeVar

from mls.codec import Reader, Writer, encode_varint
from mls.errors import DecodeError

E = TypeVar("E", bound=IntEnum)


class Struct:
    """Mixin giving every wire struct ``to_bytes``/``from_bytes`` over ``encode``/``decode``."""

    __slots__ = ()

    def encode(self, w: Writer) -> None:
        raise NotImplementedError

    @classmethod
    def decode(cls, r: Reader) -> Self:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a value that must occupy all of ``data`` (trailing bytes are an error)."""
        r = Reader(data)
        value = cls.decode(r)
        r.finish()
        return value


class Memoized(Struct):
    """A wire struct whose encoding is computed at most once and then reused.

    Big values are encoded again and again: a KeyPackage for its signature, for the Add in
    the commit's signed content, for the transcript hash and for the message itself; an
    UpdatePath of a thousand ciphertexts likewise. A value is immutable, so its encoding
    is too: ``decode`` keeps the bytes it read (the codec only accepts the canonical
    encoding, so they are what ``encode`` would write), a value built in memory fills the
    memo on its first ``encode``. Each dataclass declares the memo as
    ``_wire: bytes | None = field(default=None, init=False, repr=False, compare=False)``,
    so it takes no part in equality and ``dataclasses.replace`` starts a fresh one.
    """

    __slots__ = ()
    _wire: bytes | None

    def encode_fields(self, w: Writer) -> None:
        raise NotImplementedError

    def wire(self) -> bytes:
        wire = self._wire
        if wire is None:
            w = Writer()
            self.encode_fields(w)
            wire = w.getvalue()
            object.__setattr__(self, "_wire", wire)
        return wire

    def encode(self, w: Writer) -> None:
        w.fixed(self.wire())

    def to_bytes(self) -> bytes:
        return self.wire()

    def remember(self, r: Reader, start: int) -> Self:
        """Keep the bytes this value was decoded from (``start`` is ``r.tell()`` before)."""
        object.__setattr__(self, "_wire", r.since(start))
        return self


def closed_enum(enum: type[E], value: int) -> E:
    """A codepoint of a closed enumeration; anything else is a ``DecodeError``."""
    member = enum._value2member_map_.get(value)  # a dict hit, cheaper than enum(value)
    if member is None:
        raise DecodeError(f"invalid {enum.__name__} {value}")
    return member  # type: ignore[return-value]


def pull_u16s(r: Reader) -> tuple[int, ...]:
    """``uint16 values<V>`` in one slice instead of one call per item."""
    body = r.opaque()
    if len(body) & 1:
        raise DecodeError("uint16 vector of odd length")
    return struct.unpack(f">{len(body) >> 1}H", body)


def push_u16s(w: Writer, values: Sequence[int]) -> None:
    w.fixed(encode_varint(2 * len(values)))
    w.fixed(struct.pack(f">{len(values)}H", *values))


def pull_u32s(r: Reader) -> tuple[int, ...]:
    body = r.opaque()
    if len(body) & 3:
        raise DecodeError("uint32 vector of length not a multiple of 4")
    return struct.unpack(f">{len(body) >> 2}I", body)


def push_u32s(w: Writer, values: Sequence[int]) -> None:
    w.fixed(encode_varint(4 * len(values)))
    w.fixed(struct.pack(f">{len(values)}I", *values))


def pull_opaques(r: Reader) -> tuple[bytes, ...]:
    """``opaque items<V><V>``: a vector of variable-length byte strings."""
    return tuple(r.vector(Reader.opaque))


def push_opaques(w: Writer, items: Sequence[bytes]) -> None:
    w.vector(items, Writer.opaque)


def push_structs(w: Writer, items: Sequence[Struct]) -> None:
    """``T items<V>`` for a vector of structs."""
    body = Writer()
    for item in items:
        item.encode(body)
    w.opaque(body.getvalue())


def push_optional(w: Writer, item: Struct | None) -> None:
    """``optional<T>`` for a struct."""
    if item is None:
        w.u8(0)
    else:
        w.u8(1)
        item.encode(w)
