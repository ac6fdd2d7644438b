"""The encoding memos and lazily built path ciphertexts (issue 19 speed-ups) change no
bytes and no equality: decoded values equal built ones, truncations still fail."""

from __future__ import annotations

import dataclasses

import pytest

from mls.codec import Reader, Writer
from mls.errors import DecodeError
from mls.messages import HPKECiphertext, LeafNode, UpdatePath, UpdatePathNode
from mls.messages.nodes import HPKECiphertexts
from tests.helpers.mls_tree_factories import fake_leaf


def _node(count: int) -> UpdatePathNode:
    cts = tuple(HPKECiphertext(bytes([i]) * 32, bytes([i]) * (70 + i)) for i in range(count))
    return UpdatePathNode(b"\x07" * 32, cts)


@pytest.mark.parametrize("count", [0, 1, 5])
def test_decoded_path_node_equals_the_built_one(count: int) -> None:
    built = _node(count)
    data = built.to_bytes()
    decoded = UpdatePathNode.from_bytes(data)
    assert isinstance(decoded.encrypted_path_secret, HPKECiphertexts)
    assert decoded == built and hash(decoded) == hash(built)
    assert list(decoded.encrypted_path_secret) == list(built.encrypted_path_secret)
    assert decoded.to_bytes() == data
    if count:
        assert decoded.encrypted_path_secret[-1] == built.encrypted_path_secret[-1]
        assert decoded.encrypted_path_secret[1:] == built.encrypted_path_secret[1:]
    with pytest.raises(IndexError):
        decoded.encrypted_path_secret[count]


def test_truncated_ciphertext_vector_fails_when_decoded_not_when_read() -> None:
    w = Writer()
    w.opaque(b"\x07" * 32)
    w.opaque(b"\x05abc")  # kem_output says 5 bytes, 3 follow
    with pytest.raises(DecodeError):
        UpdatePathNode.from_bytes(w.getvalue())


def test_update_path_reuses_its_decoded_bytes_and_builds_them_once() -> None:
    leaf = fake_leaf(1)
    path = UpdatePath(leaf, (_node(3), _node(2)))
    data = path.to_bytes()
    assert path.to_bytes() is data  # memoized
    decoded = UpdatePath.from_bytes(data)
    assert decoded == path and decoded.to_bytes() == data


def test_leaf_content_memo_follows_replace() -> None:
    leaf = fake_leaf(1)
    signed = dataclasses.replace(leaf, signature=b"\x01" * 64)
    assert signed.content() == leaf.content()
    other = dataclasses.replace(leaf, encryption_key=b"\x09" * 32)
    assert other.content() != leaf.content()  # a new value computes its own
    r = Reader(signed.to_bytes())
    decoded = LeafNode.decode(r)
    r.finish()
    assert decoded == signed and decoded.to_bytes() == signed.to_bytes()


@pytest.mark.parametrize(
    "body",
    [
        b"\x02ab",  # a kem_output without its ciphertext
        b"\x40\x02ab\x00",  # a non-minimal length header
        b"\x02ab\x03cd",  # a ciphertext running past the vector
    ],
)
def test_malformed_ciphertext_vectors_fail_at_decode(body: bytes) -> None:
    w = Writer()
    w.opaque(b"\x07" * 32)
    w.opaque(body)
    with pytest.raises(DecodeError):
        UpdatePathNode.from_bytes(w.getvalue())
