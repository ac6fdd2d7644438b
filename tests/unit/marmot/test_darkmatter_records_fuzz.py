"""The decoders added for push, media, history purge and invite links on hostile input:
a typed error or a value, never another exception; a value re-encodes to its bytes.

Seeds are the vector bytes (``marmot-spec/history-purge-v1.json``,
``marmot-spec/invite-links-v1.json``), mutated: a byte changed, cut short, extended.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marmot.errors import InvalidPushMessage
from marmot.profile_b.history_purge import InvalidHistoryPurge, RequestCore, decode_capability_state
from marmot.profile_b.history_purge_flow import Finalization, OpenState
from marmot.profile_b.invite_links import InvalidInviteLink, InviteCode, InvitePreview, decode_links
from marmot.profile_b.invite_records import InviteRequest, InviteStatus, InviteWithdrawal
from marmot.profile_b.push_gossip import KIND_LIST, KIND_REMOVAL, parse_gossip
from tests.vectors import load_json

pytestmark = pytest.mark.darkmatter

PURGE = load_json("marmot-vectors/marmot-spec/history-purge-v1.json")["expected"]
INVITE = load_json("marmot-vectors/marmot-spec/invite-links-v1.json")

Decoder = Callable[[bytes], Any]
CASES: list[tuple[str, Decoder, bytes, type[Exception]]] = [
    (
        "capability state",
        decode_capability_state,
        bytes.fromhex(PURGE["capability_bytes"]),
        InvalidHistoryPurge,
    ),
    (
        "request core",
        RequestCore.decode,
        bytes.fromhex(PURGE["request_core_bytes"]),
        InvalidHistoryPurge,
    ),
    (
        "finalization",
        Finalization.decode,
        bytes.fromhex(PURGE["finalization_bytes"]),
        InvalidHistoryPurge,
    ),
    (
        "open state",
        OpenState.decode,
        # the fixture's core with a proof made at its created_at, then one yes record
        bytes.fromhex(PURGE["request_core_bytes"])
        + bytes.fromhex(PURGE["proof_bytes"]).replace(
            bytes.fromhex("6553f164"), bytes.fromhex("6553f100")
        )
        + bytes.fromhex("4069")
        + b"\x01"
        + bytes.fromhex(PURGE["proof_bytes"]),
        InvalidHistoryPurge,
    ),
    ("code", InviteCode.decode, bytes.fromhex(INVITE["code_hex"]), InvalidInviteLink),
    ("component", decode_links, bytes.fromhex(INVITE["component_hex"]), InvalidInviteLink),
    ("preview", InvitePreview.decode, bytes.fromhex(INVITE["preview_hex"]), InvalidInviteLink),
    ("request", InviteRequest.decode, bytes.fromhex(INVITE["request_hex"]), InvalidInviteLink),
    (
        "withdrawal",
        InviteWithdrawal.decode,
        bytes.fromhex(INVITE["withdrawal_hex"]),
        InvalidInviteLink,
    ),
]


def _encode(value: Any) -> bytes:
    if isinstance(value, tuple):  # the list decoders return entries
        return b""
    out: bytes = value.encode()
    return out


mutation = st.tuples(
    st.integers(min_value=0, max_value=10_000), st.integers(0, 255), st.sampled_from("xcap")
)


def _mutate(seed: bytes, m: tuple[int, int, str]) -> bytes:
    pos, byte, how = m[0] % (len(seed) + 1), m[1], m[2]
    if how == "x" and pos < len(seed):
        return seed[:pos] + bytes((byte,)) + seed[pos + 1 :]
    if how == "c":
        return seed[:pos]
    if how == "a":
        return seed + bytes((byte,)) * (1 + pos % 3)
    return seed[:pos] + bytes((byte,)) + seed[pos:]


@pytest.mark.parametrize(("name", "decode", "seed", "error"), CASES, ids=[c[0] for c in CASES])
@settings(max_examples=150, deadline=None)
@given(m=mutation)
def test_mutated_bytes_decode_or_are_refused(
    name: str, decode: Decoder, seed: bytes, error: type[Exception], m: tuple[int, int, str]
) -> None:
    data = _mutate(seed, m)
    try:
        value = decode(data)
    except error:
        return
    if not isinstance(value, tuple):
        assert _encode(value) == data, name


def test_the_seeds_decode() -> None:
    for name, decode, seed, _ in CASES:
        value = decode(seed)
        assert isinstance(value, tuple) or _encode(value) == seed, name


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
        ),
        max_leaves=12,
    )
)
def test_gossip_content_of_any_json(value: Any) -> None:
    for kind in (KIND_LIST, KIND_REMOVAL):
        for doc in (value, {"v": "marmot-push-v1", "tokens": value, "removals": value}):
            try:
                gossip = parse_gossip(kind, b"g" * 16, json.dumps(doc))
            except InvalidPushMessage:
                continue
            assert isinstance(value, list) and len(gossip.entries) + gossip.dropped <= len(value)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_status_bytes(data: bytes) -> None:
    try:
        value = InviteStatus.decode(data)
    except InvalidInviteLink:
        return
    assert value.encode() == data
