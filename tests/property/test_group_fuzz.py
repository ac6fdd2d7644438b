"""Corrupted group messages and Welcomes only ever raise typed ``mls`` errors."""

from __future__ import annotations

import contextlib
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from mls.errors import MlsError
from mls.group import (
    add_members,
    join_from_welcome,
    process,
    propose_update,
    protect,
    self_update,
)
from mls.key_package import KeyPackageBundle
from mls.messages import MLSMessage, WireFormat
from tests.helpers.mls_members import Members, key_package


@cache
def _samples() -> tuple[Members, dict[str, bytes], KeyPackageBundle]:
    g = Members.create(["alice", "bob", "carol"], seed=21)
    alice = g["alice"]
    raw = {
        "application": protect(alice, b"x" * 40)[0].to_bytes(),
        "proposal": propose_update(alice, wire_format=WireFormat.PUBLIC_MESSAGE)[0].to_bytes(),
        "public commit": self_update(
            alice, wire_format=WireFormat.PUBLIC_MESSAGE
        ).message.to_bytes(),
        "private commit": self_update(alice).message.to_bytes(),
    }
    bundle = key_package("dave", rng=g.rng)
    pending = add_members(alice, [bundle.key_package])
    assert pending.welcome is not None
    raw["welcome"] = pending.welcome.to_bytes()
    return g, raw, bundle


def _mutate(data: bytes, position: int, value: int, cut: int) -> bytes:
    position %= len(data)
    mutated = data[:position] + bytes([value]) + data[position + 1 :]
    return mutated[: len(mutated) - cut] if cut else mutated


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["application", "proposal", "public commit", "private commit"]),
    position=st.integers(0, 10_000),
    value=st.integers(0, 255),
    cut=st.integers(0, 3),
)
def test_corrupted_messages_raise_mls_errors(
    kind: str, position: int, value: int, cut: int
) -> None:
    g, raw, _ = _samples()
    data = _mutate(raw[kind], position, value, cut)
    with contextlib.suppress(MlsError):
        process(g["bob"], data)


@settings(max_examples=60, deadline=None)
@given(position=st.integers(0, 100_000), value=st.integers(0, 255), cut=st.integers(0, 2))
def test_corrupted_welcomes_raise_mls_errors(position: int, value: int, cut: int) -> None:
    _, raw, bundle = _samples()
    data = _mutate(raw["welcome"], position, value, cut)
    with contextlib.suppress(MlsError):
        join_from_welcome(MLSMessage.from_bytes(data), bundle)
