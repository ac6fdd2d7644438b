"""deserialization.json: the MLS variable-length vector header (RFC 9420 section 2.1.2)."""

from __future__ import annotations

from typing import Any

import pytest

from mls.codec import Reader, decode_all, encode_varint
from mls.errors import DecodeError
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("deserialization")
pytestmark = pytest.mark.vectors


@pytest.mark.parametrize("case", CASES, ids=case_ids("deserialization", CASES))
def test_vlbytes_header(case: dict[str, Any]) -> None:
    header = bytes.fromhex(case["vlbytes_header"])
    length = case["length"]
    assert decode_all(header, Reader.varint) == length
    assert encode_varint(length) == header
    # As a vector header: a body of exactly `length` bytes is read whole, one byte less is
    # a truncation (bodies are only materialised while small).
    if length <= 1 << 16:
        body = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
        assert decode_all(header + body, Reader.opaque) == body
    short = header + bytes(min(length, 1 << 16) - 1) if length else header + b"\x00"
    with pytest.raises(DecodeError):
        decode_all(short, Reader.opaque)
