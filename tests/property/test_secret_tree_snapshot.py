"""Secret-tree snapshots: any byte string decodes or raises DecodeError, nothing else."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from mls.codec import Writer, decode_all
from mls.crypto import get_suite
from mls.errors import DecodeError
from mls.secret_tree import RatchetType, SecretTree
from mls.types import LeafIndex

SUITE = get_suite(1)


def _snapshot() -> bytes:
    tree = SecretTree(SUITE, bytes(32), 8, out_of_order_tolerance=3)
    tree.key_for(LeafIndex(2), RatchetType.APPLICATION, 5)
    tree.next_key(LeafIndex(6), RatchetType.HANDSHAKE)
    w = Writer()
    tree.encode(w)
    return w.getvalue()


SNAPSHOT = _snapshot()


def _decode(data: bytes) -> SecretTree:
    return decode_all(data, lambda r: SecretTree.decode(r, SUITE))


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        _decode(data)


@given(st.integers(0, len(SNAPSHOT) - 1))
def test_truncated_snapshots_raise_decode_error(cut: int) -> None:
    with contextlib.suppress(DecodeError):
        _decode(SNAPSHOT[:cut])
        raise AssertionError(f"a snapshot cut at {cut} decoded")


@given(st.integers(0, len(SNAPSHOT) - 1), st.integers(1, 255))
def test_corrupted_snapshots_raise_only_decode_error(index: int, xor: int) -> None:
    data = bytearray(SNAPSHOT)
    data[index] ^= xor
    with contextlib.suppress(DecodeError):
        _decode(bytes(data))
