"""The Marmot binary profile (spec foundation/canonical-encoding.md), shared by the
profiles' own codecs.

Marmot-owned structs are TLS presentation language with QUIC variable-length integers
(RFC 9000 section 16) as vector prefixes: 1, 2, 4 or 8 bytes, the two high bits of the
first byte naming the width. Unlike RFC 9420's MLS varint (at most 4 bytes), the 8-byte
form is legal here, so these bytes need their own reader. Decoding is canonical: a prefix
longer than the value needs is an error, never repaired, because Marmot bytes are signed,
hashed and compared as bytes.

::

    encode_varint(n) -> bytes          decode_varint(data, pos) -> (n, new_pos)
    w = Out(); w.var_bytes(b"..."); w.u16(1); w.getvalue()
    c = Cursor(data); c.var_bytes(max_len=256); c.u64(); c.finish()
"""

from __future__ import annotations

VARINT_MAX = (1 << 62) - 1

__all__ = ["VARINT_MAX", "BinaryError", "Cursor", "Out", "decode_varint", "encode_varint"]


class BinaryError(ValueError):
    """Bytes that are not a canonical encoding of the expected structure."""


def encode_varint(value: int) -> bytes:
    """The shortest QUIC varint for ``value`` (0 .. 2^62 - 1)."""
    if value < 0 or value > VARINT_MAX:
        raise BinaryError(f"varint value {value} out of range")
    if value < 0x40:
        return bytes((value,))
    if value < 0x4000:
        return (0x4000 | value).to_bytes(2, "big")
    if value < 0x4000_0000:
        return (0x8000_0000 | value).to_bytes(4, "big")
    return (0xC000_0000_0000_0000 | value).to_bytes(8, "big")


def _minimal_width(value: int) -> int:
    if value < 0x40:
        return 1
    if value < 0x4000:
        return 2
    if value < 0x4000_0000:
        return 4
    return 8


def decode_varint(data: bytes, pos: int = 0) -> tuple[int, int]:
    """The QUIC varint at ``data[pos:]`` and the position after it; non-minimal is refused."""
    if pos >= len(data):
        raise BinaryError("missing varint")
    width = 1 << (data[pos] >> 6)
    end = pos + width
    if end > len(data):
        raise BinaryError("truncated varint")
    value = int.from_bytes(data[pos:end], "big") & ((1 << (8 * width - 2)) - 1)
    if _minimal_width(value) != width:
        raise BinaryError("non-canonical varint length")
    return value, end


class Cursor:
    """Reads a Marmot-profile struct front to back."""

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def fixed(self, n: int, what: str = "field") -> bytes:
        end = self._pos + n
        if end > len(self._data):
            raise BinaryError(f"{what} is truncated")
        out = self._data[self._pos : end]
        self._pos = end
        return out

    def uint(self, size: int, what: str = "integer") -> int:
        return int.from_bytes(self.fixed(size, what), "big")

    def u8(self, what: str = "u8") -> int:
        return self.uint(1, what)

    def u16(self, what: str = "u16") -> int:
        return self.uint(2, what)

    def u64(self, what: str = "u64") -> int:
        return self.uint(8, what)

    def varint(self, what: str = "length") -> int:
        try:
            value, self._pos = decode_varint(self._data, self._pos)
        except BinaryError as exc:
            raise BinaryError(f"{what}: {exc}") from None
        return value

    def var_bytes(self, max_len: int, what: str = "vector") -> bytes:
        """``opaque x<0..max_len>``: a varint length then that many bytes."""
        n = self.varint(f"{what} length")
        if n > max_len:
            raise BinaryError(f"{what} is longer than {max_len} bytes")
        return self.fixed(n, what)

    def finish(self, what: str = "value") -> None:
        if self._pos != len(self._data):
            raise BinaryError(f"{what} has trailing bytes")


class Out:
    """Writes a Marmot-profile struct."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def fixed(self, data: bytes) -> None:
        self._parts.append(bytes(data))

    def uint(self, value: int, size: int) -> None:
        self._parts.append(value.to_bytes(size, "big"))

    def u8(self, value: int) -> None:
        self.uint(value, 1)

    def u16(self, value: int) -> None:
        self.uint(value, 2)

    def u64(self, value: int) -> None:
        self.uint(value, 8)

    def var_bytes(self, data: bytes) -> None:
        self._parts.append(encode_varint(len(data)))
        self._parts.append(bytes(data))

    def getvalue(self) -> bytes:
        return b"".join(self._parts)
