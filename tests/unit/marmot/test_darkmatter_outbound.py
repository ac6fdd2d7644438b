"""Sending into a Profile B group: 445 wrapping, created_at binding and expiration."""

from __future__ import annotations

import random

import pytest

from marmot.errors import UsageError
from marmot.profile_b.branches import BranchTree
from marmot.profile_b.components import ComponentId, MessageRetention
from marmot.profile_b.group import (
    CONFIG,
    GroupSettings,
    create_group_b,
    invite_b,
    update_components_b,
)
from marmot.profile_b.inbound import AppReceived, CommitAdded, join_b, receive_group_event
from marmot.profile_b.key_package import create_key_package_b
from marmot.profile_b.outbound import handshake_event, send_app_payload, welcome_wraps
from marmot.profile_b.payloads import PayloadKind
from marmot.profile_b.transport import parse_welcome_rumor_b
from mls.group import GroupState, join_from_welcome
from nostr import nip59
from nostr.event import UnsignedEvent
from nostr.keys import SecretKey

pytestmark = pytest.mark.darkmatter

NOW = 1_788_718_800
ALICE, BOB = SecretKey(bytes([1]) * 32), SecretKey(bytes([2]) * 32)


def pair() -> tuple[GroupState, GroupState]:
    r = random.Random(3).randbytes
    kp = create_key_package_b(BOB, now=NOW, rng=r)
    settings = GroupSettings("g", "", (), b"\x05" * 32, ("wss://a.example",))
    founding = create_group_b(ALICE, settings, [kp.key_package], now=NOW, rng=r)
    assert founding.pending is not None and founding.pending.welcome is not None
    return founding.pending.next_state, join_from_welcome(
        founding.pending.welcome, kp, config=CONFIG
    )


def test_app_payloads_bind_created_at_and_expire_only_with_retention() -> None:
    alice, bob = pair()
    r = random.Random(4).randbytes
    rumor = UnsignedEvent.create(ALICE.public_key(), NOW - 7, PayloadKind.CHAT, "hi")
    event, alice = send_app_payload(alice, rumor, rng=r)
    assert event.created_at == NOW - 7 and [t[0] for t in event.tags] == ["h"]
    assert event.tags[0][1] == (b"\x05" * 32).hex()
    got = receive_group_event(BranchTree(bob), event, now=NOW)
    assert isinstance(got, AppReceived) and got.payload == rumor
    # turn retention on: a commit, which itself never expires
    pending = update_components_b(
        alice, {ComponentId.MESSAGE_RETENTION: MessageRetention(60).encode()}, rng=r
    )
    commit_event = handshake_event(alice, pending.message, created_at=NOW, rng=r)
    assert [t[0] for t in commit_event.tags] == ["h"]
    tree = BranchTree[UnsignedEvent](bob)
    assert isinstance(receive_group_event(tree, commit_event, now=NOW), CommitAdded)
    later, _ = send_app_payload(pending.next_state, rumor, rng=r)
    assert ("expiration", str(NOW - 7 + 60)) in later.tags
    assert isinstance(receive_group_event(tree, later, now=NOW), AppReceived)


def test_welcomes_are_wrapped_per_invitee_and_join() -> None:
    alice, _ = pair()
    r = random.Random(6).randbytes
    carol = SecretKey(bytes([7]) * 32)
    bundle = create_key_package_b(carol, now=NOW, rng=r)
    pending = invite_b(alice, [bundle.key_package], now=NOW, rng=r)
    (wrap,) = welcome_wraps(ALICE, pending, [(carol.public_key(), "ab" * 32)], now=NOW, rng=r)
    gift = nip59.unwrap(wrap, carol)
    assert gift.sender == ALICE.public_key()
    rumor = parse_welcome_rumor_b(gift.rumor)
    assert rumor.key_package_event_id == "ab" * 32 and rumor.relays == ("wss://a.example",)
    joined = join_b(rumor, bundle)
    assert joined.epoch == pending.next_state.epoch == 2
    with pytest.raises(UsageError):
        welcome_wraps(ALICE, update_components_b(alice, {}, rng=r), [], now=NOW, rng=r)
