"""Profile B decoders on arbitrary input: a typed error or a value, never a crash; and a
decoded value re-encodes to exactly the bytes it came from (canonical decoding)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marmot.binary import BinaryError, decode_varint, encode_varint
from marmot.profile_b.components import ComponentId, NostrRouting, decode_component
from marmot.profile_b.errors import (
    InvalidComponent,
    InvalidIdentityProof,
    InvalidKeyPackage,
    InvalidPayload,
)
from marmot.profile_b.identity_proof import decode_identity_proof
from marmot.profile_b.key_package import decode_key_package_message
from marmot.profile_b.payloads import decode_app_event, parse_system_content

pytestmark = pytest.mark.darkmatter

IDS = sorted(
    {
        ComponentId.GROUP_PROFILE,
        ComponentId.GROUP_BLOSSOM_IMAGE,
        ComponentId.ADMIN_POLICY,
        ComponentId.NOSTR_ROUTING,
        ComponentId.MESSAGE_RETENTION,
        ComponentId.GROUP_AVATAR_URL,
        ComponentId.ENCRYPTED_MEDIA_V1,
        ComponentId.ENCRYPTED_MEDIA_V2,
        ComponentId.GROUP_LIFECYCLE,
    }
)


@given(st.sampled_from(IDS), st.binary(max_size=120))
def test_component_bytes_decode_or_are_refused(component_id: int, data: bytes) -> None:
    try:
        value = decode_component(component_id, data)
    except InvalidComponent:
        return
    assert value.encode() == data


relay = st.from_regex(r"wss://[a-z]{1,8}\.example(/[a-z]{0,4})?", fullmatch=True)


@given(st.binary(min_size=32, max_size=32), st.lists(relay, min_size=1, max_size=16))
def test_routing_built_by_a_producer_round_trips(group_id: bytes, relays: list[str]) -> None:
    routing = NostrRouting.of(group_id, relays)
    assert NostrRouting.decode(routing.encode()) == routing


@given(st.integers(min_value=0, max_value=(1 << 62) - 1))
def test_varint_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded) == (value, len(encoded))


@given(st.binary(max_size=9))
def test_varint_bytes_decode_canonically_or_are_refused(data: bytes) -> None:
    try:
        value, end = decode_varint(data)
    except BinaryError:
        return
    assert encode_varint(value) == data[:end]


@given(st.binary(max_size=200))
def test_key_package_messages(data: bytes) -> None:
    try:
        decode_key_package_message(data)
    except InvalidKeyPackage:
        return


@given(st.binary(max_size=120))
def test_identity_proof_bytes(data: bytes) -> None:
    try:
        proof = decode_identity_proof(data)
    except InvalidIdentityProof:
        return
    assert len(data) == 104 and proof.account == data[:32]


members = st.dictionaries(
    st.sampled_from(["id", "pubkey", "created_at", "kind", "tags", "content", "sig", "v"]),
    st.one_of(st.text(max_size=8), st.integers(), st.lists(st.lists(st.text(max_size=4)))),
    max_size=8,
)


@given(st.one_of(st.binary(max_size=80), members.map(lambda m: json.dumps(m).encode())))
def test_app_payloads(data: bytes) -> None:
    try:
        decode_app_event(data, bytes(32))
    except InvalidPayload:
        return


@given(st.text(max_size=80))
def test_system_row_content(content: str) -> None:
    try:
        parse_system_content(content)
    except InvalidPayload:
        return
