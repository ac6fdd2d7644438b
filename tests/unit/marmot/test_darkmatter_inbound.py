"""Receiving 445 events into a Profile B group's branch tree."""

from __future__ import annotations

import random

import pytest

from marmot.profile_b.branches import BranchTree
from marmot.profile_b.components import ComponentId, GroupProfile
from marmot.profile_b.group import (
    CONFIG,
    GroupSettings,
    create_group_b,
    group_view,
    update_components_b,
)
from marmot.profile_b.inbound import (
    AppReceived,
    CommitAdded,
    Dropped,
    NotYet,
    ProposalKept,
    departure_commit,
    group_event_key,
    receive_group_event,
)
from marmot.profile_b.key_package import create_key_package_b
from marmot.profile_b.payloads import PayloadKind, encode_app_event
from marmot.profile_b.transport import build_group_event_b
from mls.group import GroupState, commit, join_from_welcome, propose_self_remove, protect
from mls.messages import AppDataUpdate, MLSMessage, WireFormat
from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey

pytestmark = pytest.mark.darkmatter

NOW = 1_788_718_800
ALICE, BOB, CAROL = (SecretKey(bytes([i]) * 32) for i in (1, 2, 3))
GID = b"\x09" * 32


def rng(seed: int):  # type: ignore[no-untyped-def]
    return random.Random(seed).randbytes


def group() -> tuple[GroupState, GroupState, GroupState]:
    r = rng(1)
    kps = [create_key_package_b(k, now=NOW, rng=r) for k in (BOB, CAROL)]
    settings = GroupSettings("g", "", (), GID, ("wss://a.example",))
    founding = create_group_b(ALICE, settings, [k.key_package for k in kps], now=NOW, rng=r)
    assert founding.pending is not None and founding.pending.welcome is not None
    joined = [join_from_welcome(founding.pending.welcome, k, config=CONFIG) for k in kps]
    return founding.pending.next_state, joined[0], joined[1]


def wrap(state: GroupState, message: MLSMessage, seed: int) -> Event:
    return build_group_event_b(
        GID, message.to_bytes(), group_event_key(state), created_at=NOW, rng=rng(seed)
    )


def chat(state: GroupState, secret: SecretKey, text: str) -> tuple[Event, GroupState]:
    rumor = UnsignedEvent.create(secret.public_key(), NOW, PayloadKind.CHAT, text)
    message, state = protect(state, encode_app_event(rumor), rng=rng(len(text)))
    return wrap(state, message, 7), state


def test_an_app_message_is_received_once() -> None:
    alice, bob, _ = group()
    tree: BranchTree[UnsignedEvent] = BranchTree(bob)
    event, _ = chat(alice, ALICE, "hello")
    outcome = receive_group_event(tree, event, now=NOW)
    assert isinstance(outcome, AppReceived) and outcome.canonical
    assert outcome.payload.content == "hello" and outcome.sender == ALICE.public_key().data
    assert isinstance(receive_group_event(tree, event, now=NOW), Dropped)  # the key is used


def test_commits_are_added_once_and_later_epochs_wait() -> None:
    alice, bob, _ = group()
    tree: BranchTree[UnsignedEvent] = BranchTree(bob)
    first = update_components_b(
        alice, {ComponentId.GROUP_PROFILE: GroupProfile("one").encode()}, rng=rng(2)
    )
    second = update_components_b(
        first.next_state, {ComponentId.GROUP_PROFILE: GroupProfile("two").encode()}, rng=rng(3)
    )
    later = wrap(first.next_state, second.message, 4)
    assert isinstance(receive_group_event(tree, later, now=NOW), NotYet)
    event = wrap(alice, first.message, 5)
    added = receive_group_event(tree, event, now=NOW)
    assert isinstance(added, CommitAdded) and added.adopted
    assert group_view(tree.canonical.state).profile.name == "one"
    duplicate = receive_group_event(tree, event, now=NOW)
    assert isinstance(duplicate, Dropped) and duplicate.reason == "duplicate commit"
    assert isinstance(receive_group_event(tree, later, now=NOW), CommitAdded)
    assert group_view(tree.canonical.state).profile.name == "two"


def test_refused_input() -> None:
    alice, bob, carol = group()
    tree: BranchTree[UnsignedEvent] = BranchTree(alice)
    forged = commit(
        bob,
        proposals=[AppDataUpdate.update(ComponentId.GROUP_PROFILE, GroupProfile("x").encode())],
        rng=rng(6),
    )
    outcome = receive_group_event(tree, wrap(bob, forged.message, 8), now=NOW)
    assert isinstance(outcome, Dropped) and "non-admin" in outcome.reason
    private = commit(bob, proposals=[], wire_format=WireFormat.PRIVATE_MESSAGE, rng=rng(9))
    outcome = receive_group_event(tree, wrap(bob, private.message, 10), now=NOW)
    assert isinstance(outcome, Dropped) and "PrivateMessage" in outcome.reason
    stranger = SecretKey(bytes([8]) * 32)
    rumor = UnsignedEvent.create(stranger.public_key(), NOW, PayloadKind.CHAT, "spoof")
    message, _ = protect(carol, encode_app_event(rumor), rng=rng(11))
    outcome = receive_group_event(tree, wrap(carol, message, 12), now=NOW)
    assert isinstance(outcome, Dropped) and "MLS sender" in outcome.reason
    event, _ = chat(carol, CAROL, "ok")
    forged_sig = Event(
        event.id, event.pubkey, event.created_at, event.kind, event.tags, event.content, "00" * 64
    )
    outcome = receive_group_event(tree, forged_sig, now=NOW)
    assert isinstance(outcome, Dropped) and "bad 445" in outcome.reason


def test_a_members_departure_is_kept_and_committed_by_another() -> None:
    alice, bob, carol = group()
    tree: BranchTree[UnsignedEvent] = BranchTree(alice)
    message, _ = propose_self_remove(carol, rng=rng(14))
    kept = receive_group_event(tree, wrap(carol, message, 15), now=NOW)
    assert isinstance(kept, ProposalKept) and kept.sender == CAROL.public_key().data
    pending = departure_commit(tree.canonical.state, rng=rng(16))
    assert pending is not None and len(pending.summary.removes) == 1
    assert departure_commit(alice, rng=rng(17)) is None
    own, _ = propose_self_remove(alice, rng=rng(18))  # the admin's own: refused by others
    outcome = receive_group_event(BranchTree(bob), wrap(alice, own, 19), now=NOW)
    assert isinstance(outcome, Dropped) and "admin" in outcome.reason


def test_a_commit_ahead_of_its_proposal_waits_for_it() -> None:
    alice, bob, carol = group()
    message, _ = propose_self_remove(carol, rng=rng(20))
    proposal = wrap(carol, message, 21)
    alice_tree: BranchTree[UnsignedEvent] = BranchTree(alice)
    receive_group_event(alice_tree, proposal, now=NOW)
    pending = departure_commit(alice_tree.canonical.state, rng=rng(22))
    assert pending is not None
    commit_event = wrap(alice_tree.canonical.state, pending.message, 23)
    bob_tree: BranchTree[UnsignedEvent] = BranchTree(bob)
    assert isinstance(receive_group_event(bob_tree, commit_event, now=NOW), NotYet)
    assert isinstance(receive_group_event(bob_tree, proposal, now=NOW), ProposalKept)
    added = receive_group_event(bob_tree, commit_event, now=NOW)
    assert isinstance(added, CommitAdded) and added.adopted
    assert CAROL.public_key().data not in {
        m.credential.identity for m in bob_tree.canonical.state.members()
    }
