"""marmot-push-v1 kind-446 triggers and the per-group record state.

No vector in ``shared/marmot-vectors`` covers triggers or the record ordering (the one
push vector is the owner proof, used in ``test_darkmatter_push.py`` and
``test_darkmatter_push_gossip.py``); the rules come from the spec and MDK and each is
exercised here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools

import pytest

from marmot.errors import InvalidPushMessage, UsageError
from marmot.primitives import b64encode
from marmot.profile_b.push import OwnerProof, sign_owner_proof
from marmot.profile_b.push_gossip import (
    KIND_LIST,
    KIND_REMOVAL,
    KIND_UPDATE,
    SignedEntry,
    accepted,
    gossip_event,
    own_record,
    own_removal,
    parse_gossip,
)
from marmot.profile_b.push_state import PushTokenState
from marmot.profile_b.push_token import (
    Platform,
    PushToken,
    decrypt_token,
    encrypt_token,
    token_fingerprint,
)
from marmot.profile_b.push_trigger import (
    build_trigger,
    dedup_key,
    open_trigger,
    parse_trigger_rumor,
    records_by_server,
    trigger_chunks,
    trigger_relays,
    trigger_rumor,
    wakes_recipients,
)
from nostr.event import UnsignedEvent
from nostr.keys import SecretKey

pytestmark = pytest.mark.darkmatter

SERVER = SecretKey(bytes([0x11]) * 32)
KEY = SecretKey(bytes([0x44]) * 32).public_key()
TOKEN = bytes([7]) * 1084


def _rng(seed: int):  # type: ignore[no-untyped-def]
    counter = itertools.count(seed * 1000)

    def rng(n: int) -> bytes:
        return hashlib.shake_256(next(counter).to_bytes(8, "big")).digest(n)

    return rng


def test_rumor_shape() -> None:
    rumor = trigger_rumor(KEY, 10, [TOKEN, TOKEN])
    assert rumor.kind == 446 and rumor.tags == (("v", "marmot-push-v1"),)
    assert rumor.content == b64encode(TOKEN * 2)
    assert parse_trigger_rumor(rumor) == (TOKEN, TOKEN)
    assert dedup_key((TOKEN, TOKEN)) == hashlib.sha256(TOKEN * 2).digest()
    assert parse_trigger_rumor(trigger_rumor(KEY, 10, [TOKEN] * 32)) == (TOKEN,) * 32
    for bad in ([], [TOKEN] * 33, [TOKEN[:-1]]):
        with pytest.raises(UsageError):
            trigger_rumor(KEY, 10, bad)


def _rumor(
    kind: int = 446,
    tags: tuple[tuple[str, ...], ...] = (("v", "marmot-push-v1"),),
    content: str = "",
) -> UnsignedEvent:
    return UnsignedEvent.create(KEY, 1, kind, content or b64encode(TOKEN), tags)


@pytest.mark.parametrize(
    ("rumor", "reason"),
    [
        (_rumor(kind=445), "not a notification trigger"),
        (_rumor(tags=()), "needs the tag"),
        (_rumor(tags=(("v", "mip05-v1"),)), "needs the tag"),
        (_rumor(tags=(("v", "marmot-push-v1", "x"),)), "needs the tag"),
        (_rumor(tags=(("v", "marmot-push-v1"), ("encoding", "base64"))), "no tag but"),
        (_rumor(tags=(("v", "marmot-push-v1"), ("p", "ab" * 32))), "no tag but"),
        (_rumor(content="!!!"), "not base64"),
        (_rumor(content=b64encode(TOKEN).rstrip("=") + "A"), "not base64"),
        (_rumor(content=b64encode(TOKEN + b"\x00")), "whole"),
        (_rumor(content=b64encode(TOKEN[:-1])), "whole"),
    ],
)
def test_each_trigger_refusal(rumor: UnsignedEvent, reason: str) -> None:
    with pytest.raises(InvalidPushMessage, match=reason):
        parse_trigger_rumor(rumor)


def test_empty_content_is_refused() -> None:
    rumor = dataclasses.replace(_rumor(), content="")
    with pytest.raises(InvalidPushMessage, match="whole"):
        parse_trigger_rumor(rumor)


def test_gift_wrapped_to_the_server_and_opened() -> None:
    device = PushToken(Platform.APNS, b"\xaa" * 32)
    blob = encrypt_token(SERVER.public_key(), device, rng=_rng(1))
    wrap = build_trigger(SERVER.public_key(), [blob, TOKEN], now=1_700_000_000, rng=_rng(2))
    assert wrap.kind == 1059 and wrap.tags == (("p", SERVER.public_key().hex),)
    tokens = open_trigger(wrap, SERVER)
    assert tokens == (blob, TOKEN)
    assert decrypt_token(SERVER, tokens[0]) == device
    with pytest.raises(InvalidPushMessage):
        decrypt_token(SERVER, tokens[1])  # a bad chunk is the server's to skip
    with pytest.raises(InvalidPushMessage, match="does not open"):
        open_trigger(wrap, SecretKey(bytes([0x12]) * 32))
    again = build_trigger(SERVER.public_key(), [blob, TOKEN], now=1_700_000_000, rng=_rng(3))
    assert again.id != wrap.id and dedup_key(open_trigger(again, SERVER)) == dedup_key(tokens)


def _entry(
    member: SecretKey,
    leaf: int,
    server: str,
    ts: int,
    *,
    removal: bool = False,
    fp: str = "0" * 24,
    hint: str = "",
) -> SignedEntry:
    proof = OwnerProof(
        b"group-16-bytes!!",
        member.public_key(),
        leaf,
        "apns",
        server,
        "sha256:" + fp,
        ts,
        hint,
        None if removal else bytes([leaf % 256]) * 1084,
    )
    return SignedEntry(proof, sign_owner_proof(member, proof, rng=bytes))


ALICE, BOB, CAROL = (SecretKey(bytes([i]) * 32) for i in (1, 2, 3))
S1, S2 = "aa" * 32, "bb" * 32


def test_records_by_server_relays_and_chunks() -> None:
    records = [
        _entry(ALICE, 0, S1, 1),
        _entry(BOB, 1, S1, 1),
        _entry(BOB, 4, S1, 1),  # Bob's second leaf on the same platform and server
        _entry(CAROL, 2, S2, 1),
    ]
    grouped = records_by_server(records, own_account=ALICE.public_key().hex)
    assert {s: [r.proof.leaf_index for r in rs] for s, rs in grouped.items()} == {S1: [1], S2: [2]}
    assert trigger_relays([" wss://a", "wss://a", "", "wss://b"], ["wss://inbox"]) == (
        "wss://a",
        "wss://b",
    )
    assert trigger_relays(["  "], ["wss://i1", "wss://i1", "wss://i2"]) == ("wss://i1", "wss://i2")
    assert trigger_relays([], []) == ()
    assert [len(c) for c in trigger_chunks([TOKEN] * 65)] == [32, 32, 1]


def test_newer_stamp_wins_and_equal_is_idempotent() -> None:
    state = PushTokenState()
    old, new = _entry(BOB, 1, S1, 100, fp="1" * 24), _entry(BOB, 1, S1, 200, fp="2" * 24)
    assert state.apply(new) and not state.apply(old) and not state.apply(new)
    assert state.records() == [new]
    other_leaf = _entry(BOB, 2, S1, 50)
    assert state.apply(other_leaf) and len(state.records()) == 2  # leaves are apart
    a, b = _entry(BOB, 3, S1, 300, fp="a" * 24), _entry(BOB, 3, S1, 300, fp="b" * 24)
    first, second = sorted((a, b), key=lambda e: e.stamp[1])
    assert state.apply(first) and state.apply(second)  # equal owner_ts: the larger digest
    assert not state.apply(first)


def test_tombstones_stop_stale_records_until_a_newer_one() -> None:
    state = PushTokenState()
    record, removal = _entry(BOB, 1, S1, 100), _entry(BOB, 1, S1, 150, removal=True)
    assert state.apply(record) and state.apply(removal) and state.records() == []
    assert not state.apply(record)  # a stale 448 cannot resurrect it
    assert not state.apply(_entry(BOB, 1, S1, 120, fp="9" * 24))
    assert not state.apply(_entry(BOB, 1, S1, 140, removal=True))  # an older removal is stale too
    fresh = _entry(BOB, 1, S1, 151)
    assert state.apply(fresh) and state.records() == [fresh] and not state.tombstones
    assert not state.apply(removal)  # and the old removal cannot revoke the newer token


def test_every_arrival_order_converges() -> None:
    entries = [
        _entry(BOB, 1, S1, 100),
        _entry(BOB, 1, S1, 150, removal=True),
        _entry(BOB, 1, S1, 200, fp="2" * 24),
        _entry(BOB, 1, S1, 180, removal=True),
        _entry(CAROL, 0, S1, 10),
    ]
    outcomes = set()
    for order in itertools.permutations(entries):
        state = PushTokenState()
        state.apply_all(order)
        outcomes.add((tuple(state.records()), tuple(sorted(state.tombstones.items()))))
    assert len(outcomes) == 1
    ((records, tombstones),) = outcomes
    assert sorted(r.proof.owner_ts for r in records) == [10, 200]
    assert tombstones == ()


def test_a_leaving_member_takes_records_and_tombstones() -> None:
    state = PushTokenState()
    state.apply_all(
        [_entry(BOB, 1, S1, 5), _entry(BOB, 2, S1, 9, removal=True), _entry(CAROL, 0, S1, 1)]
    )
    state.forget_member(BOB.public_key().hex)
    assert [r.proof.member for r in state.records()] == [CAROL.public_key()]
    assert not state.tombstones


def test_own_record_travels_is_stored_wakes_and_is_removed() -> None:
    """Our device registers, Carol relays our record in a 448, a stale copy cannot come
    back after our 449, and the server opens the token from a trigger."""
    group, device = b"group-16-bytes!!", PushToken(Platform.FCM, b"fcm:abc")
    record = own_record(
        BOB,
        group,
        3,
        device,
        SERVER.public_key(),
        now_ms=1000,
        relay_hint=" wss://push.example ",
        rng=_rng(7),
    )
    assert record.proof.relay_hint == "wss://push.example"
    assert record.proof.token_fingerprint == token_fingerprint(device)
    members = {BOB.public_key().hex, CAROL.public_key().hex}
    update = gossip_event(BOB.public_key(), 1, KIND_UPDATE, [record])
    relayed = gossip_event(CAROL.public_key(), 2, KIND_LIST, [record])
    state = PushTokenState()
    for event in (update, relayed):
        state.apply_all(
            accepted(parse_gossip(event.kind, group, event.content), members, now_ms=1000)
        )
    assert state.records() == [record]
    by_server = records_by_server(state.records(), own_account=CAROL.public_key().hex)
    hints = trigger_relays([r.proof.relay_hint for r in by_server[SERVER.public_key().hex]], [])
    assert hints == ("wss://push.example",)
    tokens = [r.proof.encrypted_token for r in by_server[SERVER.public_key().hex]]
    wrap = build_trigger(
        SERVER.public_key(), [t for t in tokens if t], now=1_700_000_000, rng=_rng(8)
    )
    assert decrypt_token(SERVER, open_trigger(wrap, SERVER)[0]) == device
    removal = own_removal(BOB, record.proof, now_ms=2000, rng=_rng(9))
    with pytest.raises(InvalidPushMessage, match="owner"):
        own_removal(CAROL, record.proof, now_ms=2000)
    gone = gossip_event(BOB.public_key(), 3, KIND_REMOVAL, [removal])
    state.apply_all(accepted(parse_gossip(KIND_REMOVAL, group, gone.content), members, now_ms=2000))
    state.apply_all(accepted(parse_gossip(KIND_LIST, group, relayed.content), members, now_ms=2000))
    assert state.records() == [] and removal.key in state.tombstones


def test_only_chat_wakes() -> None:
    assert wakes_recipients(9)
    assert not any(wakes_recipients(k) for k in (5, 7, 1009, 1210, 447, 448, 449))
