"""TLS presentation language (RFC 8446 section 3) with the MLS variable-length vectors.

MLS (RFC 9420 section 2.1.2) prefixes every ``<V>`` vector with a QUIC-style varint:
``00`` = 1 byte (6-bit value), ``01`` = 2 bytes (14-bit), ``10`` = 4 bytes (30-bit).
The prefix ``11`` is reserved and the shortest encoding is mandatory.

Every struct encodes by pushing into a :class:`Writer` and decodes by pulling from a
:class:`Reader`, the symmetric pull/push pair of aioquic's ``tls.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from mls.errors import DecodeError

T = TypeVar("T")

MAX_VARINT = (1 << 30) - 1


class Reader:
    """A cursor over immutable bytes; every pull checks bounds."""

    __slots__ = ("_data", "_pos", "_end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self._data = data
        self._pos = pos
        self._end = len(data) if end is None else end

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    def at_end(self) -> bool:
        return self._pos >= self._end

    def tell(self) -> int:
        """The cursor's position, to take the bytes of a value with :meth:`since` after."""
        return self._pos

    def since(self, start: int) -> bytes:
        """The bytes read from ``start`` (a :meth:`tell`) up to the cursor."""
        return self._data[start : self._pos]

    def finish(self) -> None:
        """Raise unless every byte was consumed."""
        if self._pos != self._end:
            raise DecodeError(f"{self._end - self._pos} trailing bytes")

    def fixed(self, n: int) -> bytes:
        end = self._pos + n
        if n < 0 or end > self._end:
            raise DecodeError(f"truncated: wanted {n} bytes, {self.remaining} left")
        out = self._data[self._pos : end]
        self._pos = end
        return out

    def uint(self, size: int) -> int:
        return int.from_bytes(self.fixed(size), "big")

    def u8(self) -> int:
        if self._pos >= self._end:
            raise DecodeError("truncated: wanted 1 byte")
        b = self._data[self._pos]
        self._pos += 1
        return b

    def u16(self) -> int:
        return self.uint(2)

    def u32(self) -> int:
        return self.uint(4)

    def u64(self) -> int:
        return self.uint(8)

    def varint(self) -> int:
        """RFC 9420 section 2.1.2 length header, minimal encoding enforced."""
        first = self.u8()
        prefix = first >> 6
        if prefix == 0:
            return first
        if prefix == 1:
            value = ((first & 0x3F) << 8) | self.u8()
            if value < 64:
                raise DecodeError("non-minimal varint")
            return value
        if prefix == 2:
            value = ((first & 0x3F) << 24) | self.uint(3)
            if value < 16384:
                raise DecodeError("non-minimal varint")
            return value
        raise DecodeError("invalid varint prefix 0b11")

    def opaque(self) -> bytes:
        """``opaque data<V>``."""
        # Fast path for the common 1-byte header: opaque is the hottest decode call.
        data, pos = self._data, self._pos
        if pos < self._end and data[pos] < 0x40:
            end = pos + 1 + data[pos]
            if end <= self._end:
                self._pos = end
                return data[pos + 1 : end]
        return self.fixed(self.varint())

    def skip_opaque(self) -> None:
        """Step over an ``opaque data<V>`` without copying it out (bounds checked)."""
        n = self.varint()
        if n > self._end - self._pos:
            raise DecodeError(f"truncated: wanted {n} bytes, {self.remaining} left")
        self._pos += n

    def opaque_bounds(self) -> list[int]:
        """The offsets of back-to-back ``opaque<V>`` items filling the rest of this reader:
        each item's start, then the end. Checked as :meth:`opaque` checks, but nothing is
        copied (a fresh commit's UpdatePath holds thousands, of which a member reads one)."""
        data, pos, end = self._data, self._pos, self._end
        bounds = []
        while pos < end:
            bounds.append(pos)
            first = data[pos]
            if first < 0x40:  # the 1- and 2-byte headers inline; the rest by skip_opaque
                pos += 1 + first
            elif first < 0x80 and pos + 1 < end:
                n = ((first & 0x3F) << 8) | data[pos + 1]
                if n < 64:
                    raise DecodeError("non-minimal varint")
                pos += 2 + n
            else:
                self._pos = pos
                self.skip_opaque()
                pos = self._pos
        if pos != end:
            raise DecodeError("truncated: an opaque item runs past its vector")
        bounds.append(pos)
        self._pos = pos
        return bounds

    def sub(self) -> Reader:
        """A reader over the next ``<V>`` vector's body; this reader skips past it."""
        n = self.varint()
        start = self._pos
        if self._pos + n > self._end:
            raise DecodeError(f"truncated vector: wanted {n} bytes, {self.remaining} left")
        self._pos += n
        return Reader(self._data, start, start + n)

    def vector(self, item: Callable[[Reader], T]) -> list[T]:
        """``T items<V>``: a length in bytes, then items until that length is used up."""
        body = self.sub()
        out: list[T] = []
        while not body.at_end():
            out.append(item(body))
        return out

    def optional(self, item: Callable[[Reader], T]) -> T | None:
        """``optional<T>``: a presence byte 0 or 1, then the value."""
        flag = self.u8()
        if flag == 0:
            return None
        if flag != 1:
            raise DecodeError(f"invalid optional presence byte {flag}")
        return item(self)

    def boolean(self) -> bool:
        flag = self.u8()
        if flag > 1:
            raise DecodeError(f"invalid bool {flag}")
        return flag == 1


class Writer:
    """An append-only buffer with the push half of every primitive."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self._buf)

    def fixed(self, data: bytes) -> None:
        self._buf += data

    def uint(self, value: int, size: int) -> None:
        self._buf += value.to_bytes(size, "big")

    def u8(self, value: int) -> None:
        self._buf.append(value)

    def u16(self, value: int) -> None:
        self._buf += value.to_bytes(2, "big")

    def u32(self, value: int) -> None:
        self._buf += value.to_bytes(4, "big")

    def u64(self, value: int) -> None:
        self._buf += value.to_bytes(8, "big")

    def varint(self, value: int) -> None:
        self._buf += encode_varint(value)

    def opaque(self, data: bytes) -> None:
        n = len(data)
        if n < 64:
            self._buf.append(n)
        else:
            self._buf += encode_varint(n)
        self._buf += data

    def vector(self, items: Iterable[T], item: Callable[[Writer, T], None]) -> None:
        body = Writer()
        for x in items:
            item(body, x)
        self._buf += encode_varint(len(body._buf))
        self._buf += body._buf

    def optional(self, value: T | None, item: Callable[[Writer, T], None]) -> None:
        if value is None:
            self._buf.append(0)
        else:
            self._buf.append(1)
            item(self, value)

    def boolean(self, value: bool) -> None:
        self._buf.append(1 if value else 0)


def encode_varint(value: int) -> bytes:
    if value < 0 or value > MAX_VARINT:
        raise ValueError(f"varint out of range: {value}")
    if value < 64:
        return bytes((value,))
    if value < 16384:
        return (value | 0x4000).to_bytes(2, "big")
    return (value | 0x8000_0000).to_bytes(4, "big")


def opaque_v(data: bytes) -> bytes:
    """The ``opaque<V>`` encoding of ``data`` as bytes."""
    return encode_varint(len(data)) + data


def decode_all(data: bytes, pull: Callable[[Reader], T]) -> T:
    """Decode one value that must occupy all of ``data``."""
    reader = Reader(data)
    value = pull(reader)
    reader.finish()
    return value


def vector_bytes(items: Sequence[bytes]) -> bytes:
    """The ``<V>`` vector whose items are already-encoded byte strings."""
    body = b"".join(items)
    return encode_varint(len(body)) + body
