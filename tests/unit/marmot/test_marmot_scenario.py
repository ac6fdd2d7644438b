"""Issue 5's in-memory scenario: three members, no relay, every Marmot layer at once.

Alice creates a group with Bob (the creation commit is merged locally and never sent),
adds Carol (commit first, Welcome after); all exchange kind 9 messages, kind 7 reactions
and kind 5 deletions; a non-admin's add is refused; two admins commit in the same epoch
and every member converges on the same winner (race function + kept states); Bob leaves
by SelfRemove and a remaining member commits it; Carol is removed by the admin; a 445
from a removed member or with a tampered signature is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from marmot.errors import InvalidGroupEvent, NotAdmin, PolicyViolation, UsageError
from marmot.group import GroupConfig, GroupCreated, create_group, join_group
from marmot.group_event import build_group_event
from marmot.inbound import (
    ApplicationReceived,
    CommitApplied,
    CommitWaiting,
    Outcome,
    ProposalHandled,
    Rejected,
    StaleCommit,
)
from marmot.operations import (
    OutgoingCommit,
    add_members,
    create_message,
    leave_group,
    remove_members,
    self_demote,
    update_group_data,
)
from marmot.policy import ProposalAction
from marmot.welcome import unwrap_welcome
from mls import group as mls_group
from nostr.event import Event, UnsignedEvent
from tests.helpers.marmot_factories import RELAY
from tests.helpers.marmot_members import Member, broadcast
from tests.helpers.nostr_factories import NOW, CountingRng


def chat(member: Member, kind: int, content: str, tags: list[list[str]] | None = None) -> Event:
    rumor = UnsignedEvent.create(member.secret.public_key(), NOW, kind, content, tags or [])
    out = create_message(member.g, rumor, now=NOW, rng=CountingRng(member.label + content))
    member.group = out.group
    return out.event


def same_epoch(*members: Member) -> None:
    first = members[0].g.state
    for m in members[1:]:
        assert m.g.epoch == first.epoch
        assert m.g.state.epoch_authenticator == first.epoch_authenticator
        assert m.g.data == members[0].g.data


@dataclass
class Scenario:
    """What each step of the scenario produced; the tests below read it."""

    alice: Member
    bob: Member
    carol: Member
    created: GroupCreated
    add: CommitApplied
    echo: Outcome
    local_refusal: NotAdmin
    remote_refusal: list[Outcome]
    race_epoch: int
    """The epoch in which Alice and Bob both commit."""
    race: tuple[OutgoingCommit, OutgoingCommit]
    race_outcomes: dict[str, list[Outcome]]
    leave_handled: list[Outcome]
    bob_evicted: Outcome
    alice_sees_leave: Outcome
    ghost: list[Outcome]
    forged: Outcome
    honest: Outcome
    carol_removed: Outcome


def _create(alice: Member, bob: Member) -> GroupCreated:
    """Step 1: the creation commit never leaves Alice's device; Bob joins by Welcome."""
    config = GroupConfig(name="Burrow", relays=(RELAY,), description="tests")
    created = create_group(
        alice.secret.public_key(), config, [bob.key_package()], now=NOW, rng=CountingRng("c")
    )
    alice.group = created.group
    wrap = created.welcomes[0].wrap(alice.secret, now=NOW, rng=CountingRng("w1"))
    bob.group = join_group(unwrap_welcome(wrap, bob.secret), bob.bundle).group
    same_epoch(alice, bob)
    return created


def _add_carol(alice: Member, bob: Member, carol: Member) -> Outcome:
    """Step 2: the add commit is published and applied before the Welcome goes out."""
    add = add_members(alice.g, [carol.key_package()], now=NOW, rng=CountingRng("add"))
    outcome = bob.receive(add.event)
    alice.adopt(add)
    wrap = add.welcomes[0].wrap(alice.secret, now=NOW, rng=CountingRng("w2"))
    carol.group = join_group(unwrap_welcome(wrap, carol.secret), carol.bundle).group
    same_epoch(alice, bob, carol)
    return outcome


def _talk(alice: Member, bob: Member, carol: Member) -> Outcome:
    """Step 3: a message each way, a reaction and a deletion; returns Alice's own echo."""
    hello = chat(alice, 9, "hello all")
    broadcast(hello, bob, carol)
    broadcast(chat(bob, 9, "hi alice"), alice, carol)
    target = alice.rumors[-1].id  # Bob's reply
    broadcast(chat(carol, 7, "+", [["e", target]]), alice, bob)
    broadcast(chat(alice, 5, "", [["e", target]]), bob, carol)
    return alice.receive(hello)


def _non_admin_add(alice: Member, bob: Member, carol: Member) -> tuple[NotAdmin, list[Outcome]]:
    """Step 4: Bob may not add; a commit he forces through MLS anyway is refused."""
    dave = Member("dave").key_package()
    with pytest.raises(NotAdmin) as refused:
        add_members(bob.g, [dave], now=NOW)
    forced = mls_group.add_members(bob.g.state, [dave.key_package], now=NOW)
    event = build_group_event(
        bob.g.nostr_group_id, forced.message.to_bytes(), bob.g.group_event_key(), now=NOW
    )
    outcomes = broadcast(event, alice, carol)
    same_epoch(alice, bob, carol)
    return refused.value, outcomes


def _race(alice: Member, bob: Member, carol: Member) -> tuple[OutgoingCommit, ...]:
    """Step 5: Bob becomes an admin; then Alice and Bob commit in the same epoch."""
    promote = update_group_data(alice.g, now=NOW, admins=(alice.pub, bob.pub), rng=CountingRng("p"))
    broadcast(promote.event, bob, carol)
    alice.adopt(promote)
    a = update_group_data(alice.g, now=NOW + 10, name="Alice's name", rng=CountingRng("ra"))
    b = update_group_data(bob.g, now=NOW + 5, name="Bob's name", rng=CountingRng("rb"))
    alice.adopt(a)  # both relays said OK
    bob.adopt(b)
    return a, b


def _leave(alice: Member, bob: Member, carol: Member) -> tuple[list[Outcome], ...]:
    """Step 6: Bob self-demotes, then leaves by SelfRemove; Carol (no admin) commits it.

    Returns the proposal outcomes, Bob's and Alice's view of Carol's commit, and what
    a message Bob writes afterwards with his old epoch's keys does at Alice and Carol.
    """
    demote = self_demote(bob.g, now=NOW, rng=CountingRng("d"))
    broadcast(demote.event, alice, carol)
    bob.adopt(demote)
    before_leaving = bob.g
    leave = leave_group(bob.g, now=NOW, rng=CountingRng("leave"))
    bob.group = leave.group
    handled = broadcast(leave.event, alice, carol)
    by_carol = handled[1]
    assert isinstance(by_carol, ProposalHandled) and by_carol.auto_commit is not None
    commit = by_carol.auto_commit
    seen = [bob.receive(commit.event), alice.receive(commit.event)]
    carol.adopt(commit)
    same_epoch(alice, carol)
    rumor = UnsignedEvent.create(bob.secret.public_key(), NOW, 9, "still here?")
    ghost = create_message(before_leaving, rumor, now=NOW, rng=CountingRng("ghost")).event
    return handled, seen, broadcast(ghost, alice, carol)


@pytest.fixture(scope="module")
def run() -> Scenario:
    """Run the scenario once; each test below checks one part of it."""
    alice, bob, carol = Member("alice"), Member("bob"), Member("carol")
    created = _create(alice, bob)
    add = _add_carol(alice, bob, carol)
    assert isinstance(add, CommitApplied)
    echo = _talk(alice, bob, carol)
    local_refusal, remote_refusal = _non_admin_add(alice, bob, carol)
    race_epoch = alice.g.epoch + 1  # the promotion commit comes first
    a, b = _race(alice, bob, carol)
    race_outcomes = {
        "carol": [carol.receive(a.event), carol.receive(b.event)],  # Alice's first
        "alice": [alice.receive(b.event)],
        "bob": [bob.receive(a.event)],
    }
    same_epoch(alice, bob, carol)
    handled, seen, ghost = _leave(alice, bob, carol)
    honest = chat(carol, 9, "bye bob")
    forged = replace(honest, sig=honest.sig[:-2] + ("00" if honest.sig[-2:] != "00" else "11"))
    forged_outcome, honest_outcome = alice.receive(forged), alice.receive(honest)
    removal = remove_members(alice.g, [carol.pub], now=NOW, rng=CountingRng("rm"))
    carol_removed = carol.receive(removal.event)
    alice.adopt(removal)
    return Scenario(
        alice, bob, carol, created, add, echo, local_refusal, remote_refusal, race_epoch,
        (a, b), race_outcomes, handled, seen[0], seen[1], ghost, forged_outcome,
        honest_outcome, carol_removed,
    )  # fmt: skip


def test_creation_commit_is_never_sent(run: Scenario) -> None:
    created = run.created
    assert created.group.epoch == 1
    assert [w.invitee for w in created.welcomes] == [run.bob.secret.public_key()]
    welcome = created.welcomes[0].rumor
    assert welcome.kind == 444 and welcome.pubkey == run.alice.secret.public_key().hex
    assert welcome.first_tag_value("e") == run.bob.key_package().event_id
    assert created.group.data.relays == (RELAY,)


def test_add_commit_before_welcome(run: Scenario) -> None:
    assert run.add.added == (run.carol.pub,)
    assert run.add.epoch == 2
    assert run.add.committer == run.alice.pub


def test_everyone_read_every_message(run: Scenario) -> None:
    alice, bob, carol = run.alice, run.bob, run.carol
    seen = {m.label: [(r.kind, r.content) for r in m.rumors[:3]] for m in (alice, bob, carol)}
    assert seen["bob"] == [(9, "hello all"), (7, "+"), (5, "")]
    assert seen["carol"] == [(9, "hello all"), (9, "hi alice"), (5, "")]
    assert seen["alice"][:2] == [(9, "hi alice"), (7, "+")]
    assert bob.rumors[0].pubkey == alice.secret.public_key().hex
    assert bob.rumors[1].tag_values("e") == [carol.rumors[1].id]
    assert isinstance(run.echo, Rejected)  # our own ratchet already used that generation


def test_non_admin_add_is_refused(run: Scenario) -> None:
    assert "add members" in run.local_refusal.reason
    for outcome in run.remote_refusal:
        assert isinstance(outcome, Rejected)
        assert isinstance(outcome.error, PolicyViolation)
        assert outcome.group is None


def test_concurrent_admin_commits_converge_on_the_earliest(run: Scenario) -> None:
    a, b = run.race
    assert a.order > b.order  # Bob's is earlier, so it wins everywhere
    carol_first, carol_second = run.race_outcomes["carol"]
    assert isinstance(carol_first, CommitApplied)
    assert isinstance(carol_second, CommitApplied)  # rolled back, then applied Bob's
    assert isinstance(run.race_outcomes["alice"][0], CommitApplied)  # her own one lost
    bob_sees = run.race_outcomes["bob"][0]
    assert isinstance(bob_sees, StaleCommit) and bob_sees.epoch == run.race_epoch
    for m in (run.alice, run.bob, run.carol):
        assert m.kept[run.race_epoch][1] == b.order
        assert m.kept[run.race_epoch + 1][0].data.name == "Bob's name"


def test_self_remove_committed_by_a_non_admin(run: Scenario) -> None:
    for outcome in run.leave_handled:
        assert isinstance(outcome, ProposalHandled)
        assert outcome.action is ProposalAction.AUTO_COMMIT
        assert outcome.sender == run.bob.pub
    assert isinstance(run.bob_evicted, CommitApplied) and run.bob_evicted.evicted
    assert not run.bob.g.active
    seen = run.alice_sees_leave
    assert isinstance(seen, CommitApplied)
    assert seen.removed == (run.bob.pub,) and seen.committer == run.carol.pub


def test_removed_member_and_forged_events_are_rejected(run: Scenario) -> None:
    for outcome in run.ghost:
        assert isinstance(outcome, Rejected)
        assert isinstance(outcome.error, InvalidGroupEvent)
        assert "removed" in outcome.error.reason
    assert isinstance(run.forged, Rejected) and "signature" in run.forged.error.reason
    assert isinstance(run.honest, ApplicationReceived)


def test_admin_removes_carol(run: Scenario) -> None:
    outcome = run.carol_removed
    assert isinstance(outcome, CommitApplied) and outcome.evicted
    assert not run.carol.g.active
    assert run.alice.g.members() == {0: run.alice.pub}
    rumor = UnsignedEvent.create(run.carol.secret.public_key(), NOW, 9, "x")
    with pytest.raises(UsageError, match="no longer a member"):
        create_message(run.carol.g, rumor, now=NOW)


def test_a_commit_before_the_proposal_it_covers_waits_for_it() -> None:
    """Relays may hand out a commit before its proposal (same created_at, smaller id):
    the commit changes nothing until the proposal is in, then applies."""
    alice, bob, carol = Member("alice"), Member("bob"), Member("carol")
    _create(alice, bob)
    _add_carol(alice, bob, carol)
    leave = leave_group(carol.g, now=NOW, rng=CountingRng("leave"))
    handled = alice.receive(leave.event)
    assert isinstance(handled, ProposalHandled) and handled.auto_commit is not None
    alice.adopt(handled.auto_commit)
    before = bob.g
    waiting = bob.receive(handled.auto_commit.event)
    assert isinstance(waiting, CommitWaiting) and "proposal" in waiting.reason
    assert bob.g is before
    assert isinstance(bob.receive(leave.event), ProposalHandled)
    applied = bob.receive(handled.auto_commit.event)
    assert isinstance(applied, CommitApplied) and applied.removed == (carol.pub,)
    same_epoch(alice, bob)
