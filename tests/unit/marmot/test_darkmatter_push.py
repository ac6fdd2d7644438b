"""marmot-push-v1 owner proofs against the spec's removal signing vector
(``extracted/marmot-push-v1-removal-owner-proof.json``), the SignedRecord bytes and the
profile rule for which signatures count."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import pytest

from marmot.errors import InvalidPushMessage
from marmot.primitives import sha256
from marmot.profile_b.push import (
    LEGACY_OWNER_PROOF_KIND,
    OwnerProof,
    owner_proof_event,
    record_digest,
    sign_owner_proof,
    signed_record,
    verify_owner_proof,
)
from nostr.event import compact_json
from nostr.keys import SecretKey
from tests.vectors import load_json

pytestmark = pytest.mark.darkmatter

VECTOR = "marmot-vectors/extracted/marmot-push-v1-removal-owner-proof.json"


def _vector() -> dict[str, Any]:
    data: dict[str, Any] = load_json(VECTOR)
    return data


def _proof() -> OwnerProof:
    tags = dict(t[:2] for t in json.loads(_vector()["canonical_serialization"])[4])
    secret = SecretKey(bytes.fromhex(_vector()["secret_key_hex"]))
    return OwnerProof(
        bytes.fromhex(tags["group_id"]),
        secret.public_key(),
        int(tags["leaf_index"]),
        tags["platform"],
        tags["server_pubkey"],
        tags["token_fingerprint"],
        int(tags["owner_ts"]),
        tags["relay_hint"],
    )


@pytest.mark.vectors
def test_removal_proof_event_signature_match_the_vector() -> None:
    v = _vector()
    proof = _proof()
    assert proof.member.hex == v["member_id_hex"]
    event = owner_proof_event(proof)
    serialized = compact_json(
        [
            0,
            event.pubkey,
            event.created_at,
            event.kind,
            [list(t) for t in event.tags],
            event.content,
        ]
    )
    assert serialized == v["canonical_serialization"]
    assert event.id == v["event_id_hex"]
    secret = SecretKey(bytes.fromhex(v["secret_key_hex"]))
    zeros = bytes.fromhex(v["aux_rand_hex"])
    sig = sign_owner_proof(secret, proof, rng=lambda n: zeros[:n])
    assert sig.hex() == v["owner_sig_hex"]
    verify_owner_proof(proof, sig)


def test_a_moved_or_forged_proof_is_refused() -> None:
    proof = _proof()
    sig = bytes.fromhex(_vector()["owner_sig_hex"])
    for changed in (
        dataclasses.replace(proof, group_id=bytes(32)),
        dataclasses.replace(proof, owner_ts=proof.owner_ts + 1),
        dataclasses.replace(proof, encrypted_token=b"\x01" * 1084),
    ):
        with pytest.raises(InvalidPushMessage):
            verify_owner_proof(changed, sig)
    with pytest.raises(InvalidPushMessage, match="only the member"):
        sign_owner_proof(SecretKey(bytes([5]) * 32), proof)
    with pytest.raises(InvalidPushMessage):
        dataclasses.replace(proof, platform="webpush")
    with pytest.raises(InvalidPushMessage):
        dataclasses.replace(proof, token_fingerprint="sha256:XYZ")


def test_a_record_carries_its_encrypted_token() -> None:
    secret = SecretKey(bytes([3]) * 32)
    token = b"\x02" * 1084
    record = dataclasses.replace(_proof(), member=secret.public_key(), encrypted_token=token)
    event = owner_proof_event(record)
    assert event.tags[0] == ("d", "marmot-push-token-record-v1")
    assert event.tags[-1] == ("encrypted_token_encoding", "base64")
    assert event.content == base64.b64encode(token).decode()
    verify_owner_proof(record, sign_owner_proof(secret, record))
    with pytest.raises(InvalidPushMessage, match="1084"):
        dataclasses.replace(record, encrypted_token=b"\x02" * 1083)


@pytest.mark.vectors
def test_signed_record_bytes_of_the_vector_removal() -> None:
    """The spec's SignedRecord layout, field by field, for the vector's removal."""
    proof = _proof()
    raw = signed_record(proof)
    expected = (
        b"marmot-push-token-removal-v1"
        + (32).to_bytes(2, "big")
        + bytes(range(32))
        + proof.member.data
        + (3).to_bytes(4, "big")
        + b"\x01"
        + bytes.fromhex("2f8bde4d1a07209355b4a7250a5c5128e88b84bddc619ab7cba8d569b240efe4")
        + bytes(range(12))
        + (1700000000000).to_bytes(8, "big")
        + b"\x00\x00"
    )
    assert raw == expected and len(raw) == 153
    assert record_digest(proof) == sha256(raw).hex()
    hinted = dataclasses.replace(proof, relay_hint="wss://r.example")
    assert signed_record(hinted).endswith((15).to_bytes(2, "big") + b"wss://r.example")
    token = bytes([9]) * 1084
    record = dataclasses.replace(proof, encrypted_token=token)
    assert signed_record(record).startswith(b"marmot-push-token-record-v1")
    assert signed_record(record).endswith(token)


def test_a_blank_relay_hint_is_absent_and_one_is_trimmed() -> None:
    proof = _proof()
    assert dataclasses.replace(proof, relay_hint=" \t\n").relay_hint == ""
    padded = dataclasses.replace(proof, relay_hint=" wss://r.example\n")
    assert padded.relay_hint == "wss://r.example"
    assert owner_proof_event(padded).tags[-1] == ("relay_hint", "wss://r.example")
    # Rust's trim: Unicode White_Space goes, U+001C (not White_Space) stays.
    assert dataclasses.replace(proof, relay_hint="\u3000wss://r\u2028").relay_hint == "wss://r"
    assert dataclasses.replace(proof, relay_hint="\x1cwss://r").relay_hint == "\x1cwss://r"


def test_current_groups_take_only_the_kind_451_proof() -> None:
    """MDK: a current-profile group verifies kind 451 only; legacy ones also 450 and the
    bare SignedRecord digest."""
    secret = SecretKey(bytes.fromhex(_vector()["secret_key_hex"]))
    proof = _proof()
    old_event = owner_proof_event(proof, kind=LEGACY_OWNER_PROOF_KIND)
    for digest in (bytes.fromhex(old_event.id), sha256(signed_record(proof))):
        sig = secret.sign_schnorr(digest)
        with pytest.raises(InvalidPushMessage):
            verify_owner_proof(proof, sig)
        verify_owner_proof(proof, sig, legacy=True)
    with pytest.raises(InvalidPushMessage):
        verify_owner_proof(proof, secret.sign_schnorr(bytes(32)), legacy=True)
