"""The group facade: creation, joining, persistence, every local guard of the outgoing
operations, and the incoming rules the scenario test does not reach."""

from __future__ import annotations

from dataclasses import replace

import pytest

from marmot.errors import (
    InvalidGroupEvent,
    InvalidRumor,
    InvalidWelcome,
    NotAdmin,
    PolicyViolation,
    UsageError,
)
from marmot.group import (
    GroupConfig,
    MarmotGroup,
    create_group,
    join_group,
)
from marmot.group_data import NostrGroupData
from marmot.group_event import build_group_event
from marmot.inbound import (
    ApplicationReceived,
    CommitApplied,
    ProposalHandled,
    Rejected,
    StaleProposal,
    process_event,
    process_past_proposal,
)
from marmot.key_package_event import MarmotKeyPackage, parse_key_package_event
from marmot.operations import (
    add_members,
    commit_pending_self_removes,
    create_message,
    leave_group,
    remove_members,
    self_demote,
    self_update,
    update_group_data,
)
from marmot.policy import ProposalAction
from marmot.welcome import build_welcome_rumor, parse_welcome_rumor
from mls import group as mls_group
from mls.group import LeafChanges
from mls.messages import Credential, Extension, MLSMessage, Remove, SelfRemove
from nostr.event import Event, UnsignedEvent
from tests.helpers.marmot_factories import (
    RELAY,
    key_package,
    key_package_event,
    legacy_key_package,
)
from tests.helpers.nostr_factories import NOW, CountingRng, secret

ALICE, BOB, CAROL = (secret(n) for n in ("alice", "bob", "carol"))
A, B, C = (k.public_key().data for k in (ALICE, BOB, CAROL))


def kp(label: str, *, legacy: bool = False) -> MarmotKeyPackage:
    bundle = legacy_key_package(label) if legacy else key_package(label)
    return parse_key_package_event(key_package_event(label, bundle), now=NOW)


def pair(
    *, disappearing: int | None = None, legacy_bob: bool = False
) -> tuple[MarmotGroup, MarmotGroup]:
    """Alice (admin) and Bob at epoch 1."""
    config = GroupConfig("pair", (RELAY,), disappearing_message_secs=disappearing)
    created = create_group(
        ALICE.public_key(), config, [kp("bob", legacy=legacy_bob)], now=NOW, rng=CountingRng("pair")
    )
    bundle = legacy_key_package("bob") if legacy_bob else key_package("bob")
    invite = parse_welcome_rumor(created.welcomes[0].rumor)
    return created.group, join_group(invite, bundle).group


def message(
    group: MarmotGroup, text: str, *, kind: int = 9, tags: list[list[str]] | None = None
) -> tuple[Event, MarmotGroup]:
    identity = group.identity.hex()
    out = create_message(
        group, UnsignedEvent.create(identity, NOW, kind, text, tags or []), now=NOW
    )
    return out.event, out.group


# --- creation, joining, persistence ---------------------------------------------------------


def test_creator_only_group_stays_at_epoch_zero() -> None:
    created = create_group(ALICE.public_key(), GroupConfig("solo", (RELAY,)), now=NOW)
    assert created.group.epoch == 0 and created.welcomes == ()
    assert created.group.members() == {0: A}
    assert created.group.is_admin
    assert not created.group.self_remove_enabled  # creator-only: no SelfRemove required
    assert len(created.group.mls_group_id) == 16


def test_creation_rules() -> None:
    with pytest.raises(UsageError, match="must be an invitee"):
        create_group(
            ALICE.public_key(), GroupConfig("g", (RELAY,), admins=(C,)), [kp("bob")], now=NOW
        )
    with pytest.raises(UsageError, match="relay"):
        create_group(ALICE.public_key(), GroupConfig("g", ()), now=NOW)


def test_joiner_sees_the_same_group() -> None:
    alice, bob = pair()
    assert bob.epoch == alice.epoch == 1
    assert bob.state.epoch_authenticator == alice.state.epoch_authenticator
    assert bob.data == alice.data and bob.data.admins == (A,)
    assert bob.members() == {0: A, 1: B}
    assert bob.self_remove_enabled
    assert bob.group_event_key() == alice.group_event_key()
    assert bob.media_exporter() == alice.media_exporter() != alice.group_event_key()
    assert alice.group_event_key() == alice.state.export("marmot", b"group-event", 32)


def test_a_legacy_invitee_turns_self_remove_off() -> None:
    alice, bob = pair(legacy_bob=True)
    assert not alice.self_remove_enabled and not bob.self_remove_enabled


def test_joining_with_the_wrong_key_package_fails_typed() -> None:
    created = create_group(ALICE.public_key(), GroupConfig("g", (RELAY,)), [kp("bob")], now=NOW)
    invite = parse_welcome_rumor(created.welcomes[0].rumor)
    with pytest.raises(InvalidWelcome, match="cannot join"):
        join_group(invite, key_package("carol"))


def test_a_group_without_group_data_cannot_be_joined() -> None:
    state = mls_group.create_group(1, Credential.basic(A), now=NOW)
    pending = mls_group.add_members(state, [key_package("bob").key_package], now=NOW)
    assert pending.welcome is not None
    rumor = build_welcome_rumor(
        A.hex(), NOW, pending.welcome, relays=[RELAY], key_package_event_id="ab" * 32
    )
    with pytest.raises(InvalidWelcome, match="marmot_group_data"):
        join_group(parse_welcome_rumor(rumor), key_package("bob"))


def test_snapshot_round_trip() -> None:
    alice, bob = pair()
    restored = MarmotGroup.from_bytes(alice.to_bytes())
    assert restored.data == alice.data and restored.epoch == alice.epoch
    event, _ = message(restored, "after restart")
    outcome = process_event(bob, event, now=NOW)
    assert isinstance(outcome, ApplicationReceived) and outcome.rumor.content == "after restart"
    with pytest.raises(UsageError, match="version"):
        MarmotGroup.from_bytes(b"\x09" + alice.to_bytes()[1:])
    with pytest.raises(UsageError, match="corrupt"):
        MarmotGroup.from_bytes(alice.to_bytes()[:50])
    assert repr(alice.state.signature_priv)[2:-1] not in repr(alice)  # no secrets in repr


# --- outgoing guards ------------------------------------------------------------------------


def test_admin_only_operations_refuse_non_admins() -> None:
    _, bob = pair()
    with pytest.raises(NotAdmin):
        add_members(bob, [kp("carol")], now=NOW)
    with pytest.raises(NotAdmin):
        remove_members(bob, [A], now=NOW)
    with pytest.raises(NotAdmin):
        update_group_data(bob, now=NOW, name="mine")
    with pytest.raises(NotAdmin):
        self_demote(bob, now=NOW)


def test_remove_guards() -> None:
    alice, _ = pair()
    with pytest.raises(UsageError, match="ourselves"):
        remove_members(alice, [A], now=NOW)
    with pytest.raises(UsageError, match="not a member"):
        remove_members(alice, [C], now=NOW)
    with pytest.raises(UsageError):
        add_members(alice, [], now=NOW)


def test_admin_updates_prune_non_members_and_keep_one_admin() -> None:
    alice, bob = pair()
    out = update_group_data(alice, now=NOW, admins=(A, B, C))
    assert out.group.data.admins == tuple(sorted((A, B)))
    with pytest.raises(UsageError, match="no admin"):
        update_group_data(alice, now=NOW, admins=(C,))
    with pytest.raises(UsageError, match="sequence"):
        update_group_data(alice, now=NOW, admins=A)
    outcome = process_event(bob, out.event, now=NOW)
    assert isinstance(outcome, CommitApplied) and outcome.group_data_changed
    assert outcome.group.is_admin


def test_self_demote_needs_another_admin() -> None:
    alice, _ = pair()
    with pytest.raises(UsageError, match="no other active admin"):
        self_demote(alice, now=NOW)


def test_leaving_rules() -> None:
    alice, bob = pair()
    with pytest.raises(UsageError, match="self-demote"):
        leave_group(alice, now=NOW)
    with pytest.raises(UsageError, match="no SelfRemove"):
        commit_pending_self_removes(alice, now=NOW)
    with pytest.raises(UsageError, match="our own identity"):
        create_message(bob, UnsignedEvent.create(A.hex(), NOW, 9, "spoof"), now=NOW)


def test_legacy_leave_is_a_remove_proposal_an_admin_commits() -> None:
    alice, bob = pair(legacy_bob=True)
    leave = leave_group(bob, now=NOW)
    outcome = process_event(alice, leave.event, now=NOW)
    assert isinstance(outcome, ProposalHandled)
    assert isinstance(outcome.proposal, Remove) and outcome.proposal.removed == 1
    assert outcome.action is ProposalAction.AUTO_COMMIT and outcome.auto_commit is not None
    applied = process_event(leave.group, outcome.auto_commit.event, now=NOW)
    assert isinstance(applied, CommitApplied) and applied.evicted


def test_disappearing_groups_put_expiration_on_every_event() -> None:
    alice, bob = pair(disappearing=3600)
    event, _ = message(alice, "poof")
    assert event.tags[-1] == ("expiration", str(NOW + 3600))
    commit = self_update(alice, now=NOW)
    assert commit.event.tags[-1] == ("expiration", str(NOW + 3600))
    leave = leave_group(bob, now=NOW)
    assert leave.event.expiration == NOW + 3600
    out = create_message(
        alice, UnsignedEvent.create(A.hex(), NOW, 9, "sooner"), now=NOW, expiration=NOW + 60
    )
    assert out.event.expiration == NOW + 60


def test_rotating_the_nostr_group_id() -> None:
    alice, bob = pair()
    new_id = b"\x77" * 32
    out = update_group_data(alice, now=NOW, nostr_group_id=new_id)
    assert out.event.first_tag_value("h") == alice.nostr_group_id.hex()  # sent under the old h
    outcome = process_event(bob, out.event, now=NOW)
    assert isinstance(outcome, CommitApplied) and outcome.group.nostr_group_id == new_id
    event, _ = message(out.group, "new h")
    assert event.first_tag_value("h") == new_id.hex()
    assert isinstance(process_event(outcome.group, event, now=NOW), ApplicationReceived)


def test_self_update_rotates_the_signature_key() -> None:
    alice, bob = pair()
    out = self_update(bob, now=NOW)
    assert out.group.state.signature_public_key != bob.state.signature_public_key
    outcome = process_event(alice, out.event, now=NOW)
    assert isinstance(outcome, CommitApplied) and outcome.committer == B


# --- incoming rules -------------------------------------------------------------------------


def test_events_of_another_group_or_key_are_rejected() -> None:
    alice, bob = pair()
    event, _ = message(alice, "hi")
    elsewhere = build_group_event(b"\x01" * 32, b"x" * 40, alice.group_event_key(), now=NOW)
    outcome = process_event(bob, elsewhere, now=NOW)
    assert isinstance(outcome, Rejected) and "another group" in outcome.error.reason
    wrong_key = build_group_event(bob.nostr_group_id, b"x" * 40, b"\x00" * 32, now=NOW)
    outcome = process_event(bob, wrong_key, now=NOW)
    assert isinstance(outcome, Rejected) and "no epoch key" in outcome.error.reason
    garbage = build_group_event(bob.nostr_group_id, b"\x00\x01\x00", bob.group_event_key(), now=NOW)
    outcome = process_event(bob, garbage, now=NOW)
    assert isinstance(outcome, Rejected) and "not an MLS message" in outcome.error.reason
    outcome = process_event(bob, event, now=NOW + 3_888_001)
    assert isinstance(outcome, Rejected) and "too old" in outcome.error.reason
    assert outcome.error.event_id == event.id


def test_a_welcome_inside_a_group_event_is_rejected() -> None:
    _, bob = pair()
    created = create_group(ALICE.public_key(), GroupConfig("g", (RELAY,)), [kp("bob")], now=NOW)
    welcome = parse_welcome_rumor(created.welcomes[0].rumor).welcome
    event = build_group_event(
        bob.nostr_group_id, MLSMessage(welcome).to_bytes(), bob.group_event_key(), now=NOW
    )
    outcome = process_event(bob, event, now=NOW)
    assert isinstance(outcome, Rejected) and "not a group message" in outcome.error.reason


def test_bad_rumor_keeps_the_advanced_state() -> None:
    alice, bob = pair()
    bad, alice = message(alice, "", kind=7)  # a reaction without an e tag
    outcome = process_event(bob, bad, now=NOW)
    assert isinstance(outcome, Rejected) and isinstance(outcome.error, InvalidRumor)
    assert outcome.group is not None
    spoofed = mls_group.protect(
        alice.state, UnsignedEvent.create(B.hex(), NOW, 9, "x").to_json().encode()
    )[0]
    event = build_group_event(
        alice.nostr_group_id, spoofed.to_bytes(), alice.group_event_key(), now=NOW
    )
    outcome = process_event(outcome.group, event, now=NOW)
    assert isinstance(outcome, Rejected) and "not the MLS sender" in outcome.error.reason


def test_late_messages_of_a_past_epoch_are_read() -> None:
    alice, bob = pair()
    late, _ = message(bob, "written before the commit")
    commit = self_update(alice, now=NOW)
    bob = process_event(bob, commit.event, now=NOW).group  # type: ignore[union-attr]
    outcome = process_event(commit.group, late, now=NOW)
    assert isinstance(outcome, ApplicationReceived) and outcome.epoch == 1
    assert outcome.group.epoch == 2


def test_messages_of_the_five_previous_epochs_are_read_and_no_older() -> None:
    alice, bob = pair()
    late, _ = message(bob, "written in epoch 1")
    for _ in range(5):
        alice = self_update(alice, now=NOW).group
    assert alice.epoch == 6
    outcome = process_event(alice, late, now=NOW)
    assert isinstance(outcome, ApplicationReceived) and outcome.epoch == 1
    alice = self_update(alice, now=NOW).group
    outcome = process_event(alice, late, now=NOW)
    assert isinstance(outcome, Rejected) and "no epoch key" in outcome.error.reason


def test_a_proposal_of_a_past_epoch_is_stale_until_validated_on_that_epoch() -> None:
    alice, bob = pair()
    leave = leave_group(bob, now=NOW)
    commit = self_update(alice, now=NOW)
    assert process_event(commit.group, leave.event, now=NOW) == StaleProposal(alice.epoch)
    handled = process_past_proposal(alice, leave.event, now=NOW)
    assert (
        isinstance(handled.proposal, SelfRemove) and handled.sender == bob.members()[bob.own_leaf]
    )
    junk = replace(leave.event, content=leave.event.content[:-8] + "AAAAAAAA")
    with pytest.raises(InvalidGroupEvent):
        process_past_proposal(alice, junk, now=NOW)


def test_identity_change_in_a_path_is_refused() -> None:
    alice, bob = pair()
    forged = mls_group.commit(
        bob.state, include_pending=False, leaf=LeafChanges(credential=Credential.basic(C))
    )
    event = build_group_event(
        bob.nostr_group_id, forged.message.to_bytes(), bob.group_event_key(), now=NOW
    )
    outcome = process_event(alice, event, now=NOW)
    assert isinstance(outcome, Rejected) and isinstance(outcome.error, PolicyViolation)
    assert "identity" in outcome.error.reason


def test_a_commit_with_broken_group_data_is_refused() -> None:
    alice, bob = pair()
    broken = tuple(
        Extension(0xF2EE, b"\x00\x00") if e.extension_type == 0xF2EE else e
        for e in alice.state.extensions
    )
    forged = mls_group.update_extensions(alice.state, broken)
    event = build_group_event(
        alice.nostr_group_id, forged.message.to_bytes(), alice.group_event_key(), now=NOW
    )
    outcome = process_event(bob, event, now=NOW)
    assert isinstance(outcome, Rejected) and "group data" in outcome.error.reason


def test_stored_and_ignored_proposals() -> None:
    alice, bob = pair()
    add_msg, bob_state = mls_group.propose_add(bob.state, key_package("carol").key_package, now=NOW)
    add_event = build_group_event(
        bob.nostr_group_id, add_msg.to_bytes(), bob.group_event_key(), now=NOW
    )
    stored = process_event(alice, add_event, now=NOW)
    assert isinstance(stored, ProposalHandled) and stored.action is ProposalAction.STORE
    assert len(stored.group.state.proposals) == 1
    upd_msg, _ = mls_group.propose_update(bob_state)
    upd_event = build_group_event(
        bob.nostr_group_id, upd_msg.to_bytes(), bob.group_event_key(), now=NOW
    )
    ignored = process_event(stored.group, upd_event, now=NOW)
    assert isinstance(ignored, ProposalHandled) and ignored.action is ProposalAction.IGNORE
    assert len(ignored.group.state.proposals) == 1  # the Update was dropped, the Add kept
    # No commit of ours carries it: its joiner could never get a Welcome (a 444 names
    # the KeyPackage event, an Add proposal only holds the KeyPackage).
    out = update_group_data(ignored.group, now=NOW, name="without carol")
    assert len(out.group.members()) == 2 and out.summary.adds == ()
    out = add_members(ignored.group, [kp("dave")], now=NOW)
    assert [a.key_package for a in out.summary.adds] == [kp("dave").key_package]
    assert len(out.welcomes) == 1


def test_non_admin_committing_a_stored_add_is_refused() -> None:
    alice, bob = pair()
    add_msg, alice_with = mls_group.propose_add(
        alice.state, key_package("carol").key_package, now=NOW
    )
    event = build_group_event(
        alice.nostr_group_id, add_msg.to_bytes(), alice.group_event_key(), now=NOW
    )
    handled = process_event(bob, event, now=NOW)
    assert isinstance(handled, ProposalHandled)
    forged = mls_group.commit(handled.group.state)
    commit_event = build_group_event(
        bob.nostr_group_id, forged.message.to_bytes(), bob.group_event_key(), now=NOW
    )
    outcome = process_event(MarmotGroup.of(alice_with), commit_event, now=NOW)
    assert isinstance(outcome, Rejected) and isinstance(outcome.error, PolicyViolation)


def test_never_raises_on_garbage() -> None:
    alice, _ = pair()
    junk = UnsignedEvent.create(
        secret("x").public_key(),
        NOW,
        445,
        "!!",
        [["h", alice.nostr_group_id.hex()], ["encoding", "base64"]],
    ).sign(secret("x"))
    outcome = process_event(alice, junk, now=NOW)
    assert isinstance(outcome, Rejected) and isinstance(outcome.error, InvalidGroupEvent)
    data = NostrGroupData.from_extensions(alice.state.extensions)
    assert data == alice.data


def test_a_key_package_without_self_remove_cannot_join_a_group_requiring_it() -> None:
    alice, _ = pair()
    assert alice.self_remove_enabled
    with pytest.raises(UsageError, match="cannot add"):
        add_members(alice, [kp("carol", legacy=True)], now=NOW)
    out = add_members(alice, [kp("carol")], now=NOW)
    assert [w.invitee.data for w in out.welcomes] == [C]
    assert out.welcomes[0].rumor.tags[0] == ("relays", RELAY)
