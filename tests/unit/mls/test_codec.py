from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mls.codec import MAX_VARINT, Reader, Writer, decode_all, encode_varint
from mls.errors import DecodeError


@given(st.integers(min_value=0, max_value=MAX_VARINT))
def test_varint_round_trips(value: int) -> None:
    assert decode_all(encode_varint(value), Reader.varint) == value


@pytest.mark.parametrize(("value", "size"), [(63, 1), (64, 2), (16383, 2), (16384, 4)])
def test_varint_uses_the_shortest_form(value: int, size: int) -> None:
    assert len(encode_varint(value)) == size


@pytest.mark.parametrize("data", ["4000", "403f", "80000000", "80003fff", "c0", "40"])
def test_varint_rejects_non_minimal_reserved_and_truncated(data: str) -> None:
    with pytest.raises(DecodeError):
        decode_all(bytes.fromhex(data), Reader.varint)


def test_vector_optional_and_trailing_bytes() -> None:
    w = Writer()
    w.vector([1, 2, 3], Writer.u16)
    w.optional(None, Writer.u8)
    w.optional(7, Writer.u8)
    data = w.getvalue()
    assert data.hex() == "06000100020003" + "00" + "0107"

    def pull(r: Reader) -> tuple[list[int], int | None, int | None]:
        return r.vector(Reader.u16), r.optional(Reader.u8), r.optional(Reader.u8)

    assert decode_all(data, pull) == ([1, 2, 3], None, 7)
    with pytest.raises(DecodeError):
        decode_all(data + b"\x00", pull)
    with pytest.raises(DecodeError):
        decode_all(data[:-1], pull)


def test_vector_item_may_not_overrun_its_length() -> None:
    # A 3-byte vector of u16 items leaves half an item.
    with pytest.raises(DecodeError):
        decode_all(bytes.fromhex("03000100"), lambda r: r.vector(Reader.u16))


@given(st.binary(max_size=64))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_all(data, lambda r: (r.opaque(), r.optional(Reader.opaque)))
