"""Secret tree behaviour beyond the vectors: windows, deletion, laziness, snapshots."""

from __future__ import annotations

import pytest

from mls.codec import Reader, Writer, decode_all
from mls.crypto import get_suite
from mls.errors import DecodeError, InvalidMessage, UsageError
from mls.secret_tree import (
    RatchetKey,
    RatchetType,
    SecretTree,
    apply_reuse_guard,
    sender_data_key_nonce,
)
from mls.types import LeafIndex

SUITE = get_suite(1)
SECRET = bytes(range(32))
APP, HS = RatchetType.APPLICATION, RatchetType.HANDSHAKE
L0, L1 = LeafIndex(0), LeafIndex(1)


def tree(n: int = 8, tolerance: int = 100, forward: int = 1000) -> SecretTree:
    return SecretTree(
        SUITE, SECRET, n, out_of_order_tolerance=tolerance, maximum_forward_distance=forward
    )


def sender_keys(n_keys: int, leaf: LeafIndex = L1) -> list[RatchetKey]:
    sender = tree()
    return [sender.next_key(leaf, APP) for _ in range(n_keys)]


def test_out_of_order_within_the_window() -> None:
    sent = sender_keys(6)
    receiver = tree()
    for generation in (5, 3, 0, 4, 1, 2):
        assert receiver.key_for(L1, APP, generation) == sent[generation]


def test_a_key_is_handed_out_once() -> None:
    receiver = tree()
    receiver.key_for(L1, APP, 3)
    receiver.key_for(L1, APP, 1)
    for generation in (3, 1):
        with pytest.raises(InvalidMessage, match="already used"):
            receiver.key_for(L1, APP, generation)
    receiver.key_for(L1, APP, 2)  # the other skipped ones are still there
    receiver.key_for(L1, APP, 0)


def test_keys_older_than_the_tolerance_are_deleted() -> None:
    sent = sender_keys(12)
    receiver = tree(tolerance=2)
    assert receiver.key_for(L1, APP, 10) == sent[10]
    for generation in range(8):
        with pytest.raises(InvalidMessage):
            receiver.key_for(L1, APP, generation)
    assert receiver.key_for(L1, APP, 9) == sent[9]
    assert receiver.key_for(L1, APP, 11) == sent[11]
    with pytest.raises(InvalidMessage):  # 8 was kept for 10, but is too old for 11
        receiver.key_for(L1, APP, 8)


def test_retained_keys_are_bounded_by_the_tolerance() -> None:
    receiver = tree(tolerance=5)
    receiver.key_for(L1, APP, 50)
    receiver.key_for(L1, APP, 200)
    w = Writer()
    receiver.encode(w)
    restored = SecretTree.decode(Reader(w.getvalue()), SUITE)
    for generation in range(195, 200):
        restored.key_for(L1, APP, generation)
    with pytest.raises(InvalidMessage):
        restored.key_for(L1, APP, 194)


def test_zero_tolerance_keeps_nothing() -> None:
    receiver = tree(tolerance=0)
    receiver.key_for(L1, APP, 4)
    with pytest.raises(InvalidMessage):
        receiver.key_for(L1, APP, 3)


def test_maximum_forward_distance() -> None:
    receiver = tree(forward=5)
    with pytest.raises(InvalidMessage, match="ahead"):
        receiver.key_for(L1, APP, 6)
    receiver.key_for(L1, APP, 5)
    receiver.key_for(L1, APP, 11)
    with pytest.raises(InvalidMessage, match="ahead"):
        receiver.key_for(L1, APP, 18)


def test_handshake_and_application_ratchets_are_independent() -> None:
    receiver = tree()
    hs = receiver.key_for(L1, HS, 0)
    app = receiver.key_for(L1, APP, 0)
    assert hs.key != app.key
    receiver.key_for(L1, HS, 1)
    assert receiver.key_for(L1, APP, 1) == sender_keys(2)[1]


def test_leaves_give_the_same_keys_in_any_order() -> None:
    first, second = tree(16), tree(16)
    forward = {leaf: first.key_for(LeafIndex(leaf), HS, 2) for leaf in range(16)}
    backward = {leaf: second.key_for(LeafIndex(leaf), HS, 2) for leaf in reversed(range(16))}
    assert forward == backward
    assert len({key.key for key in forward.values()}) == 16


def test_the_tree_is_lazy_and_deletes_consumed_node_secrets() -> None:
    big = tree(4096)
    assert big.held_node_secrets == 1  # just the root
    big.key_for(LeafIndex(17), APP, 0)
    assert big.held_node_secrets == 12  # the copath of leaf 17, nothing else
    big.key_for(LeafIndex(16), APP, 0)  # leaf 17's sibling: its secret is consumed
    assert big.held_node_secrets == 11


def test_sender_leaf_outside_the_tree() -> None:
    small = tree(2)
    with pytest.raises(InvalidMessage):
        small.key_for(LeafIndex(2), APP, 0)
    with pytest.raises(UsageError):
        small.next_key(LeafIndex(5), APP)


def test_bad_parameters() -> None:
    with pytest.raises(UsageError):
        tree(3)
    with pytest.raises(UsageError):
        tree(tolerance=-1)


def test_copy_is_independent() -> None:
    original = tree()
    original.key_for(L1, APP, 2)
    clone = original.copy()
    assert clone.key_for(L1, APP, 1) == original.key_for(L1, APP, 1)
    clone.key_for(L0, HS, 0)
    assert original.held_node_secrets != clone.held_node_secrets
    original.next_key(L0, APP)
    with pytest.raises(InvalidMessage):
        original.key_for(L1, APP, 1)


def test_snapshot_round_trip_resumes_exactly() -> None:
    live = tree(32, tolerance=10, forward=500)
    live.key_for(LeafIndex(3), APP, 7)
    live.key_for(LeafIndex(3), APP, 2)
    live.next_key(LeafIndex(9), HS)
    w = Writer()
    live.encode(w)
    data = w.getvalue()
    restored = decode_all(data, lambda r: SecretTree.decode(r, SUITE))
    w2 = Writer()
    restored.encode(w2)
    assert w2.getvalue() == data
    assert (restored.tolerance, restored.max_forward, restored.n_leaves) == (10, 500, 32)
    for leaf, kind, generation in [(3, APP, 5), (3, APP, 8), (9, HS, 1), (30, HS, 4)]:
        assert restored.key_for(LeafIndex(leaf), kind, generation) == live.key_for(
            LeafIndex(leaf), kind, generation
        )
    with pytest.raises(InvalidMessage):
        restored.key_for(LeafIndex(3), APP, 2)
    assert restored.next_key(LeafIndex(9), HS) == live.next_key(LeafIndex(9), HS)


_HEAD = "00000002" + "00000000" * 2  # 2 leaves, tolerance 0, forward 0


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ("", "truncated"),
        ("00000003" + "00000000" * 2 + "0000", "3 leaves"),
        (_HEAD + "05" + "00000009" + "00" + "00", "node 9"),
        (_HEAD + "06" + "00000001" + "01" + "00" + "00", "node 1"),
        (_HEAD + "00" + "2b" + "00000001" + "02" + "00000000" + "20" + "00" * 32 + "00", "ratchet"),
        (_HEAD + "00" + "2b" + "00000002" + "00" + "00000000" + "20" + "00" * 32 + "00", "leaf 2"),
        (
            _HEAD
            + "00"
            + "404d"
            + "00000000"
            + "00"
            + "00000000"
            + "20"
            + "00" * 32
            + "22"
            + "00000000"
            + "10"
            + "00" * 16
            + "0c"
            + "00" * 12,
            "retained",  # a retained key at or past the ratchet's own generation
        ),
    ],
)
def test_snapshot_decode_rejects_garbage(data: str, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        decode_all(bytes.fromhex(data), lambda r: SecretTree.decode(r, SUITE))


def test_secrets_stay_out_of_repr() -> None:
    key = tree().next_key(L0, APP)
    assert key.key.hex() not in repr(key)
    assert SECRET.hex() not in repr(tree())


def test_sender_data_uses_at_most_nh_bytes_of_ciphertext() -> None:
    secret = bytes(32)
    long = bytes(range(48))
    assert sender_data_key_nonce(SUITE, secret, long) == sender_data_key_nonce(
        SUITE, secret, long[:32]
    )
    short = sender_data_key_nonce(SUITE, secret, b"tiny")
    key, nonce = short
    assert (len(key), len(nonce)) == (16, 12)
    assert short != sender_data_key_nonce(SUITE, secret, b"tinz")


def test_reuse_guard() -> None:
    nonce = bytes(range(12))
    guarded = apply_reuse_guard(nonce, b"\xff\x00\x0f\xf0")
    assert guarded == bytes([0xFF, 0x01, 0x0D, 0xF3]) + nonce[4:]
    assert apply_reuse_guard(guarded, b"\xff\x00\x0f\xf0") == nonce
    with pytest.raises(UsageError):
        apply_reuse_guard(nonce, b"abc")
