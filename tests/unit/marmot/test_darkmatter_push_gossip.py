"""marmot-push-v1 token gossip (app payloads 447 / 448 / 449).

Vector: ``extracted/marmot-push-v1-removal-owner-proof.json`` (the spec's removal signing
vector): its removal, carried in a 449 as MDK writes one, is read back and accepted.
Every other case is built here; each payload-level refusal and each entry-level drop is
made to happen on its own.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import pytest

from marmot.errors import InvalidPushMessage
from marmot.profile_b.push import OwnerProof, sign_owner_proof
from marmot.profile_b.push_gossip import (
    KIND_LIST,
    KIND_REMOVAL,
    KIND_UPDATE,
    SignedEntry,
    accepted,
    gossip_content,
    gossip_event,
    parse_gossip,
)
from nostr.keys import SecretKey
from tests.vectors import load_json

pytestmark = pytest.mark.darkmatter

VECTOR = "marmot-vectors/extracted/marmot-push-v1-removal-owner-proof.json"
GROUP = bytes([0xEF]) * 16
OWNER = SecretKey(bytes([7]) * 32)
SERVER_HEX = "2f8bde4d1a07209355b4a7250a5c5128e88b84bddc619ab7cba8d569b240efe4"
NOW_MS = 1_700_000_000_000


def _record(
    owner_ts: int = NOW_MS, leaf: int = 1, hint: str = "wss://relay.example"
) -> SignedEntry:
    proof = OwnerProof(
        GROUP,
        OWNER.public_key(),
        leaf,
        "fcm",
        SERVER_HEX,
        "sha256:0123456789abcdef01234567",
        owner_ts,
        hint,
        bytes([leaf]) * 1084,
    )
    return SignedEntry(proof, sign_owner_proof(OWNER, proof, rng=bytes))


def _removal(owner_ts: int = NOW_MS + 1) -> SignedEntry:
    proof = dataclasses.replace(
        _record().proof, owner_ts=owner_ts, relay_hint="", encrypted_token=None
    )
    return SignedEntry(proof, sign_owner_proof(OWNER, proof, rng=bytes))


def _json(kind: int, entries: list[SignedEntry]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gossip_content(kind, entries))
    return data


def test_mdk_field_order_and_round_trip() -> None:
    record, removal = _record(), _removal()
    content = gossip_content(KIND_UPDATE, [record])
    assert content.startswith('{"v":"marmot-push-v1","tokens":[{"member_id_hex":"')
    entry = json.loads(content)["tokens"][0]
    assert list(entry) == [
        "member_id_hex",
        "leaf_index",
        "platform",
        "token_fingerprint",
        "server_pubkey_hex",
        "relay_hint",
        "encrypted_token",
        "owner_ts",
        "owner_sig",
    ]
    assert entry["encrypted_token"] == base64.b64encode(bytes([1]) * 1084).decode()
    no_hint = _record(hint="")
    assert "relay_hint" not in _json(KIND_LIST, [no_hint])["tokens"][0]
    assert list(_json(KIND_REMOVAL, [removal])["removals"][0]) == [
        "member_id_hex",
        "leaf_index",
        "platform",
        "token_fingerprint",
        "server_pubkey_hex",
        "owner_ts",
        "owner_sig",
    ]
    for kind, entries in (
        (KIND_UPDATE, [record]),
        (KIND_LIST, [record, no_hint]),
        (KIND_REMOVAL, [removal]),
    ):
        gossip = parse_gossip(kind, GROUP, gossip_content(kind, entries))
        assert gossip.entries == tuple(entries) and gossip.dropped == 0
    event = gossip_event(OWNER.public_key(), 5, KIND_UPDATE, [record])
    assert event.kind == 447 and event.tags == (("v", "marmot-push-v1"),)
    request = parse_gossip(KIND_UPDATE, GROUP, gossip_content(KIND_UPDATE, []))
    assert request.is_request and not request.entries


@pytest.mark.vectors
def test_the_spec_removal_vector_in_a_449_is_accepted() -> None:
    v = load_json(VECTOR)
    tags = dict(t[:2] for t in json.loads(v["canonical_serialization"])[4])
    content = json.dumps(
        {
            "v": "marmot-push-v1",
            "removals": [
                {
                    "member_id_hex": v["member_id_hex"],
                    "leaf_index": int(tags["leaf_index"]),
                    "platform": tags["platform"],
                    "token_fingerprint": tags["token_fingerprint"],
                    "server_pubkey_hex": tags["server_pubkey"],
                    "owner_ts": int(tags["owner_ts"]),
                    "owner_sig": v["owner_sig_hex"],
                }
            ],
        }
    )
    group = bytes.fromhex(tags["group_id"])
    gossip = parse_gossip(KIND_REMOVAL, group, content)
    assert len(gossip.entries) == 1 and gossip.entries[0].proof.removal
    members = {v["member_id_hex"]}
    assert accepted(gossip, members, now_ms=int(tags["owner_ts"])) == gossip.entries
    # The signature binds the group: the same removal read in another group is dropped.
    assert accepted(parse_gossip(KIND_REMOVAL, GROUP, content), members, now_ms=NOW_MS) == ()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not json", "not JSON"),
        ('{"v":"marmot-push-v1","tokens":[],"x":NaN}', "not JSON"),
        ('{"v":"marmot-push-v1","tokens":[],"x":"\\ud800"}', "not JSON"),
        ("[]", "not a JSON object"),
        ('{"v":"marmot-push-v1","v":"marmot-push-v1","tokens":[]}', "repeats"),
        ('{"tokens":[]}', "version"),
        ('{"v":"mip05-v1","tokens":[]}', "version"),
        ('{"v":"marmot-push-v1","tokens":null}', "not an array"),
        ('{"v":"marmot-push-v1","tokens":{}}', "not an array"),
    ],
)
def test_each_payload_level_refusal(content: str, reason: str) -> None:
    with pytest.raises(InvalidPushMessage, match=reason):
        parse_gossip(KIND_LIST, GROUP, content)


def test_size_bound_and_kind() -> None:
    entry = _json(KIND_LIST, [_record()])["tokens"][0]
    for n in (0, 1, 31, 32):
        body = json.dumps({"v": "marmot-push-v1", "tokens": [entry] * n})
        assert len(parse_gossip(KIND_LIST, GROUP, body).entries) == min(n, 1)  # copies count once
    with pytest.raises(InvalidPushMessage, match="at most 32"):
        parse_gossip(KIND_LIST, GROUP, json.dumps({"v": "marmot-push-v1", "tokens": [{}] * 33}))
    with pytest.raises(InvalidPushMessage, match="at most 32"):
        gossip_content(KIND_LIST, [_record(leaf=i) for i in range(33)])
    with pytest.raises(InvalidPushMessage, match="not push token gossip"):
        parse_gossip(446, GROUP, "{}")
    with pytest.raises(InvalidPushMessage, match="removals only"):
        gossip_content(KIND_REMOVAL, [_record()])
    # A missing array is an empty one; the other kind's array is an unknown member.
    assert (
        parse_gossip(
            KIND_REMOVAL, GROUP, json.dumps({"v": "marmot-push-v1", "tokens": [entry]})
        ).entries
        == ()
    )


def _mutations() -> list[tuple[str, Any]]:
    return [
        ("member_id_hex", "AB" * 32),
        ("member_id_hex", "ab" * 31),
        ("leaf_index", -1),
        ("leaf_index", 2**32),
        ("leaf_index", 1.0),
        ("leaf_index", True),
        ("leaf_index", "1"),
        ("platform", "APNS"),
        ("platform", "webpush"),
        ("token_fingerprint", "sha256:0123456789ABCDEF01234567"),
        ("token_fingerprint", "sha256:0123"),
        ("token_fingerprint", "md5:0123456789abcdef01234567"),
        ("server_pubkey_hex", "cd" * 33),
        ("relay_hint", 5),
        ("encrypted_token", base64.b64encode(bytes(1083)).decode()),
        ("encrypted_token", "not base64!"),
        ("encrypted_token", base64.b64encode(bytes(1084)).decode().rstrip("=")),
        ("owner_ts", -1),
        ("owner_ts", 2**63),
        ("owner_ts", 1.5),
        ("owner_sig", "00" * 63),
        ("owner_sig", "AA" * 64),
        ("owner_sig", None),
    ]


@pytest.mark.parametrize(("field", "value"), _mutations())
def test_each_bad_entry_is_dropped_alone(field: str, value: Any) -> None:
    good = _json(KIND_LIST, [_record()])["tokens"][0]
    bad = dict(good, **{field: value})
    sibling = _json(KIND_LIST, [_record(leaf=2)])["tokens"][0]
    gossip = parse_gossip(
        KIND_LIST, GROUP, json.dumps({"v": "marmot-push-v1", "tokens": [bad, sibling]})
    )
    assert gossip.dropped == 1
    assert [e.proof.leaf_index for e in gossip.entries] == [2]


def test_missing_fields_non_objects_and_repeats_drop_the_entry() -> None:
    good = _json(KIND_LIST, [_record()])["tokens"][0]
    for name in list(good):
        if name == "relay_hint":
            continue
        partial = {k: v for k, v in good.items() if k != name}
        body = json.dumps({"v": "marmot-push-v1", "tokens": [partial]})
        assert parse_gossip(KIND_LIST, GROUP, body).dropped == 1, name
    for item in ("[1]", "3", '"x"'):
        body = '{"v":"marmot-push-v1","tokens":[' + item + "]}"
        assert parse_gossip(KIND_LIST, GROUP, body).dropped == 1
    entry = json.dumps(good)
    repeated = entry[:-1] + ',"leaf_index":2}'  # as serde_json's Value: the last one wins
    body = '{"v":"marmot-push-v1","tokens":[' + repeated + "]}"
    (read,) = parse_gossip(KIND_LIST, GROUP, body).entries
    assert read.proof.leaf_index == 2
    assert (
        accepted(parse_gossip(KIND_LIST, GROUP, body), {OWNER.public_key().hex}, now_ms=NOW_MS)
        == ()
    )
    # Repeated unknown top-level members are ignored, as MDK's struct reader ignores them.
    ignored = '{"v":"marmot-push-v1","x":1,"x":2,"tokens":[' + entry + "]}"
    assert len(parse_gossip(KIND_LIST, GROUP, ignored).entries) == 1
    with pytest.raises(InvalidPushMessage, match="repeats"):
        parse_gossip(KIND_LIST, GROUP, '{"v":"marmot-push-v1","tokens":[],"tokens":[]}')


def test_relay_hint_forms_that_read_as_one_record() -> None:
    record = _record(hint="")
    plain = _json(KIND_LIST, [record])["tokens"][0]
    variants = [plain, dict(plain, relay_hint=None), dict(plain, relay_hint=" \t")]
    body = json.dumps({"v": "marmot-push-v1", "tokens": variants, "extra": 1})
    gossip = parse_gossip(KIND_LIST, GROUP, body)
    assert gossip.entries == (record,)
    padded = _json(KIND_LIST, [_record()])["tokens"][0]
    padded["relay_hint"] = " wss://relay.example\n"
    padded["unknown_member"] = "ignored"
    (entry,) = parse_gossip(
        KIND_LIST, GROUP, json.dumps({"v": "marmot-push-v1", "tokens": [padded]})
    ).entries
    assert entry == _record()
    assert accepted(
        parse_gossip(KIND_LIST, GROUP, json.dumps({"v": "marmot-push-v1", "tokens": [padded]})),
        {OWNER.public_key().hex},
        now_ms=NOW_MS,
    )


def test_acceptance_rules_each_alone() -> None:
    members = {OWNER.public_key().hex}
    record = _record()
    ok = parse_gossip(KIND_LIST, GROUP, gossip_content(KIND_LIST, [record]))
    assert accepted(ok, members, now_ms=NOW_MS) == (record,)
    assert accepted(ok, {"ab" * 32}, now_ms=NOW_MS) == ()  # not a member
    future = _record(owner_ts=NOW_MS + 3_600_001)
    late = parse_gossip(KIND_LIST, GROUP, gossip_content(KIND_LIST, [future]))
    assert accepted(late, members, now_ms=NOW_MS) == ()
    assert accepted(late, members, now_ms=NOW_MS + 1) == (future,)  # exactly one hour ahead
    forged = dataclasses.replace(record, owner_sig=bytes(64))
    bad = parse_gossip(KIND_LIST, GROUP, gossip_content(KIND_LIST, [forged, _record(leaf=2)]))
    assert [e.proof.leaf_index for e in accepted(bad, members, now_ms=NOW_MS)] == [2]
    # A record relayed by someone else is as good as the owner's: authority is the signature.
    relayed = gossip_event(SecretKey(bytes([9]) * 32).public_key(), 1, KIND_LIST, [record])
    assert accepted(parse_gossip(KIND_LIST, GROUP, relayed.content), members, now_ms=NOW_MS) == (
        record,
    )
