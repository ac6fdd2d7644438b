"""Consensual history purge (component 0x800d): bytes, identities, proofs, transitions.

Vector: ``marmot-spec/history-purge-v1.json`` (the marmot spec's encoding fixture; its
zero signatures are deliberately invalid): every expected byte string and id is
reproduced from its inputs. The vector does not name the response's decision nor the
receipt's sender and outcome; the only ones that reproduce the pinned ids are yes, the
proposer and ``applied``, and the test pins them. Signatures are made here with real
keys, since the fixture's cannot verify.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from marmot.primitives import b64encode
from marmot.profile_b.auth_proof import AuthorizationProof
from marmot.profile_b.history_purge import (
    CapabilityLeaf,
    Decision,
    InvalidHistoryPurge,
    PurgeRequest,
    RequestCore,
    cancellation_id,
    capability_state_hash,
    decode_capability_state,
    encode_capability_state,
    response_id,
    sign_cancellation,
    sign_decision,
    sign_request,
    verify_cancellation,
    verify_decision,
)
from marmot.profile_b.history_purge_flow import (
    Cancellation,
    DecisionRecord,
    Finalization,
    OpenState,
    Receipt,
    Terminal,
    cancellation_event,
    parse_control_event,
    receipt_event,
    receipt_id,
    request_event,
    sign_terminal,
    verify_finalization,
)
from nostr.event import UnsignedEvent
from nostr.keys import SecretKey
from tests.vectors import load_json

pytestmark = pytest.mark.darkmatter

VECTOR = "marmot-vectors/marmot-spec/history-purge-v1.json"


def _v() -> dict[str, Any]:
    data: dict[str, Any] = load_json(VECTOR)
    return data


def _leaves() -> list[CapabilityLeaf]:
    return [
        CapabilityLeaf(
            leaf["leaf_index"], bytes.fromhex(leaf["account_pubkey"]), *map(bool, leaf["support"])
        )
        for leaf in _v()["leaves"]
    ]


def _core(**changes: Any) -> RequestCore:
    r = _v()["request"]
    core = RequestCore(
        bytes.fromhex(r["group_id"]),
        r["parent_epoch"],
        bytes.fromhex(r["parent_group_context_hash"]),
        bytes.fromhex(r["proposer_pubkey"]),
        r["created_at"],
        r["expires_at"],
        r["prior_retention_secs"] if r["prior_retention_present"] else None,
        r["target_retention_secs"],
        tuple(bytes.fromhex(m) for m in r["members"]),
        bytes.fromhex(r["capability_state_hash"]),
    )
    return dataclasses.replace(core, **changes) if changes else core


def _proof() -> AuthorizationProof:
    p = _v()["proof"]
    return AuthorizationProof(
        bytes.fromhex(p["signer_pubkey"]), p["created_at"], bytes.fromhex(p["signature"])
    )


@pytest.mark.vectors
def test_every_byte_string_and_id_of_the_vector() -> None:
    e = _v()["expected"]
    leaves = _leaves()
    assert encode_capability_state(leaves).hex() == e["capability_bytes"]
    assert decode_capability_state(bytes.fromhex(e["capability_bytes"])) == tuple(leaves)
    assert capability_state_hash(leaves).hex() == e["capability_state_hash"]
    assert _v()["request"]["capability_state_hash"] == e["capability_state_hash"]
    core = _core()
    assert core.encode().hex() == e["request_core_bytes"]
    assert RequestCore.decode(bytes.fromhex(e["request_core_bytes"])) == core
    rid = core.request_id
    assert rid.hex() == e["request_id"]
    proof = _proof()
    assert proof.encode().hex() == e["proof_bytes"]
    assert AuthorizationProof.decode(bytes.fromhex(e["proof_bytes"])) == proof
    assert response_id(rid, Decision.YES, proof).hex() == e["response_id"]
    assert response_id(rid, Decision.NO, proof).hex() != e["response_id"]
    assert cancellation_id(rid, proof).hex() == e["cancellation_id"]
    fin = Finalization(rid, Terminal.ACCEPTED, proof)
    assert fin.encode().hex() == e["finalization_bytes"]
    assert Finalization.decode(bytes.fromhex(e["finalization_bytes"])) == fin
    assert fin.finalization_id.hex() == e["finalization_id"]
    assert receipt_id(fin.finalization_id, core.proposer, "applied").hex() == e["receipt_id"]
    assert core.purge_before_epoch == 8


@pytest.mark.vectors
def test_the_fixtures_zero_signature_does_not_verify() -> None:
    core = _core()
    with pytest.raises(InvalidHistoryPurge):
        verify_decision(core, Decision.YES, _proof())
    with pytest.raises(InvalidHistoryPurge, match="created_at"):
        PurgeRequest(core, dataclasses.replace(_proof(), created_at=core.created_at + 1))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"group_id": b""}, "1..255"),
        ({"parent_epoch": 2**64 - 1}, "room for the purge boundary"),
        ({"expires_at": 1700000000}, "within seven days"),
        ({"expires_at": 1700000000 + 604801}, "within seven days"),
        ({"members": ()}, "cohort"),
        ({"members": (bytes(32), bytes(32))}, "sorted and unique"),
        ({"members": (bytes([0xFF]) * 32, bytes(32))}, "sorted and unique"),
        ({"proposer": bytes([5]) * 32}, "proposer is in the cohort"),
        ({"capability_state_hash": bytes(31)}, "32 bytes"),
    ],
)
def test_each_request_rule(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidHistoryPurge, match=reason):
        _core(**changes)


def test_canonical_decoding() -> None:
    e = _v()["expected"]
    core_bytes = bytes.fromhex(e["request_core_bytes"])
    assert _core(expires_at=1700000000 + 604800).encode()  # the window's edge is fine
    prior_flag = core_bytes.index(bytes.fromhex("6553ff10")) + 4  # the byte after expires_at
    for bad, reason in (
        (core_bytes + b"\x00", "trailing"),
        (core_bytes[:-1], "truncated"),
        (core_bytes[:prior_flag] + b"\x02" + core_bytes[prior_flag + 1 :], "present is 0 or 1"),
        (
            core_bytes[:prior_flag]
            + b"\x00"
            + core_bytes[prior_flag + 1 : prior_flag + 8]
            + b"\x01"
            + core_bytes[prior_flag + 9 :],
            "absent means 0",
        ),
        (b"\x40\x0c" + core_bytes[1:], "non-canonical"),
    ):
        with pytest.raises(InvalidHistoryPurge, match=reason):
            RequestCore.decode(bad)
    with_prior = _core(prior_retention_secs=3600)
    assert RequestCore.decode(with_prior.encode()) == with_prior
    caps = bytes.fromhex(e["capability_bytes"])
    for bad, reason in (
        (caps[:-1] + b"\x02", "0 or 1"),
        (b"\x00", "whole leaves"),
        (caps[:2] + caps[41:] + caps[2:41], "increasing"),
    ):
        with pytest.raises(InvalidHistoryPurge, match=reason):
            decode_capability_state(bad)


ALICE, BOB = SecretKey(bytes([1]) * 32), SecretKey(bytes([2]) * 32)
T0 = 1_800_000_000


def _signed() -> PurgeRequest:
    members = tuple(sorted((ALICE.public_key().data, BOB.public_key().data)))
    core = _core(
        proposer=ALICE.public_key().data, members=members, created_at=T0, expires_at=T0 + 3600
    )
    return sign_request(ALICE, core, rng=bytes)


def test_signed_request_and_its_control_event() -> None:
    request = _signed()
    request.verify()
    assert PurgeRequest.decode(request.encode()) == request
    event = request_event(request, T0)
    assert event.kind == 453 and event.tags == (
        ("v", "marmot-history-purge-v1"),
        ("type", "request"),
        ("request", request.core.request_id.hex()),
    )
    assert parse_control_event(event) == request
    forged = dataclasses.replace(
        request, core=dataclasses.replace(request.core, target_retention_secs=1)
    )
    with pytest.raises(InvalidHistoryPurge, match="does not verify"):
        forged.verify()
    by_bob = UnsignedEvent.create(BOB.public_key(), T0, 453, event.content, event.tags)
    with pytest.raises(InvalidHistoryPurge, match="proposer"):
        parse_control_event(by_bob)
    wrong_id = UnsignedEvent.create(
        ALICE.public_key(), T0, 453, event.content, [*event.tags[:2], ("request", "00" * 32)]
    )
    with pytest.raises(InvalidHistoryPurge, match="not the request's id"):
        parse_control_event(wrong_id)
    for tags in ([], [("v", "x"), ("type", "request"), event.tags[2]], [*event.tags, ("x", "y")]):
        with pytest.raises(InvalidHistoryPurge):
            parse_control_event(
                UnsignedEvent.create(ALICE.public_key(), T0, 453, event.content, tags)
            )


def test_votes_then_every_terminal_rule() -> None:
    request = _signed()
    core = request.core
    state = OpenState(request)
    yes_a = DecisionRecord(
        Decision.YES, sign_decision(ALICE, core, Decision.YES, T0 + 1, rng=bytes)
    )
    state = state.with_yes(yes_a, ALICE.public_key().data)
    assert not state.unanimous
    with pytest.raises(InvalidHistoryPurge, match="decides once"):
        state.with_yes(yes_a, ALICE.public_key().data)
    with pytest.raises(InvalidHistoryPurge, match="its own yes"):
        state.with_yes(yes_a, BOB.public_key().data)
    late = DecisionRecord(
        Decision.YES, sign_decision(BOB, core, Decision.YES, T0 + 3601, rng=bytes)
    )
    with pytest.raises(InvalidHistoryPurge, match="timed"):
        state.with_yes(late, BOB.public_key().data)
    admin = ALICE.public_key().data
    accept = sign_terminal(ALICE, core, Terminal.ACCEPTED, T0 + 5, rng=bytes)
    with pytest.raises(InvalidHistoryPurge, match="every member's yes"):
        verify_finalization(accept, state, committer=admin, admins={admin})
    # Bob says no instead: a rejection by his own commit.
    no = sign_decision(BOB, core, Decision.NO, T0 + 2, rng=bytes)
    reject = Finalization(core.request_id, Terminal.REJECTED, no)
    verify_finalization(reject, state, committer=BOB.public_key().data, admins={admin})
    with pytest.raises(InvalidHistoryPurge, match="committer"):
        verify_finalization(reject, state, committer=admin, admins={admin})
    alice_no = Finalization(
        core.request_id,
        Terminal.REJECTED,
        sign_decision(ALICE, core, Decision.NO, T0 + 2, rng=bytes),
    )
    with pytest.raises(InvalidHistoryPurge, match="said yes"):
        verify_finalization(alice_no, state, committer=admin, admins={admin})
    # Or Bob says yes and the admin accepts.
    yes_b = DecisionRecord(Decision.YES, sign_decision(BOB, core, Decision.YES, T0 + 2, rng=bytes))
    full = state.with_yes(yes_b, BOB.public_key().data)
    assert full.unanimous and OpenState.decode(full.encode()) == full
    full.verify()
    verify_finalization(accept, full, committer=admin, admins={admin})
    with pytest.raises(InvalidHistoryPurge, match="admin"):
        verify_finalization(accept, full, committer=admin, admins=set())
    early = sign_terminal(ALICE, core, Terminal.EXPIRED, T0 + 3600, rng=bytes)
    with pytest.raises(InvalidHistoryPurge, match="after expires_at"):
        verify_finalization(early, full, committer=admin, admins={admin})
    verify_finalization(
        sign_terminal(ALICE, core, Terminal.EXPIRED, T0 + 3601, rng=bytes),
        full,
        committer=admin,
        admins={admin},
    )
    relabeled = dataclasses.replace(accept, terminal=Terminal.SUPERSEDED)
    with pytest.raises(InvalidHistoryPurge, match="does not verify"):
        verify_finalization(relabeled, full, committer=admin, admins={admin})
    with pytest.raises(InvalidHistoryPurge, match="454 / 456"):
        sign_terminal(ALICE, core, Terminal.CANCELLED, T0)


def test_cancellation_and_receipts() -> None:
    request = _signed()
    core = request.core
    proof = sign_cancellation(ALICE, core, T0 + 10, rng=bytes)
    verify_cancellation(core, proof)
    fin = Finalization(core.request_id, Terminal.CANCELLED, proof)
    verify_finalization(fin, OpenState(request), committer=ALICE.public_key().data, admins=())
    with pytest.raises(InvalidHistoryPurge, match="only the proposer"):
        verify_cancellation(core, sign_cancellation(BOB, core, T0 + 10, rng=bytes))
    event = cancellation_event(core, proof, T0 + 10)
    assert parse_control_event(event) == Cancellation(core.request_id, proof)
    assert event.content == b64encode(proof.encode())
    accepted = sign_terminal(ALICE, core, Terminal.ACCEPTED, T0 + 5, rng=bytes)
    receipt = receipt_event(BOB.public_key(), T0 + 20, accepted, "applied")
    assert receipt.tags[2:] == (
        ("finalization", accepted.finalization_id.hex()),
        ("outcome", "applied"),
    )
    assert parse_control_event(receipt) == Receipt(
        accepted.finalization_id, BOB.public_key().data, "applied"
    )
    with pytest.raises(InvalidHistoryPurge, match="applied or failed"):
        receipt_event(BOB.public_key(), T0, accepted, "done")
    bad = UnsignedEvent.create(BOB.public_key(), T0, 453, "x", receipt.tags)
    with pytest.raises(InvalidHistoryPurge, match="empty content"):
        parse_control_event(bad)
    with pytest.raises(InvalidHistoryPurge, match="unknown terminal"):
        Finalization.decode(accepted.request_id + b"\x06" + accepted.authorization.encode())
