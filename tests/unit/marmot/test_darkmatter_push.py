"""marmot-push-v1 owner proofs against the spec's removal signing vector."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from marmot.errors import InvalidPushMessage
from marmot.profile_b.push import (
    OwnerProof,
    owner_proof_event,
    sign_owner_proof,
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
        dataclasses.replace(proof, encrypted_token=b"\x01" * 8),
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
    record = dataclasses.replace(_proof(), member=secret.public_key(), encrypted_token=b"\x02" * 12)
    event = owner_proof_event(record)
    assert event.tags[0] == ("d", "marmot-push-token-record-v1")
    assert (
        event.tags[-1] == ("encrypted_token_encoding", "base64")
        and event.content == "AgICAgICAgICAgIC"
    )
    verify_owner_proof(record, sign_owner_proof(secret, record))
