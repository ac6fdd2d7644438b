"""Issue 13 as a state machine: random interleavings of honest commits, stale honest
commits (replays) and forged past-epoch commits from a member who is later removed.

Invariant: every honest member's (epoch, tree hash, member set) equals the honest
branch, and once removed Carol is never a member again.
"""

from __future__ import annotations

import os

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from marmot.group import GroupConfig, MarmotGroup, create_group, join_group
from marmot.group_event import build_group_event, trial_decrypt
from marmot.operations import OutgoingCommit, remove_members, self_update, update_group_data
from marmot.welcome import unwrap_welcome
from mls.messages import ContentType, MLSMessage, PrivateMessage
from nostr.event import Event
from tests.helpers.marmot_factories import RELAY
from tests.helpers.marmot_members import Member
from tests.helpers.nostr_factories import NOW, CountingRng

View = tuple[int, bytes, frozenset[bytes]]


def _view(group: MarmotGroup) -> View:
    return group.epoch, group.state.tree_hash, frozenset(group.members().values())


def _random_commit(past: MarmotGroup, created_at: int) -> Event:
    body = PrivateMessage(
        past.mls_group_id, past.epoch, ContentType.COMMIT, b"", os.urandom(16), os.urandom(120)
    )
    key = past.group_event_key()
    return build_group_event(past.nostr_group_id, MLSMessage(body).to_bytes(), key, now=created_at)


class ForkChoice(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.alice, self.bob, self.carol = Member("alice"), Member("bob"), Member("carol")
        config = GroupConfig(name="Burrow", relays=(RELAY,))
        invitees = [self.bob.key_package(), self.carol.key_package()]
        created = create_group(
            self.alice.secret.public_key(), config, invitees, now=NOW, rng=CountingRng("c")
        )
        self.alice.group = created.group
        for member, welcome in zip((self.bob, self.carol), created.welcomes, strict=True):
            wrap = welcome.wrap(self.alice.secret, now=NOW, rng=CountingRng(member.label))
            member.group = join_group(unwrap_welcome(wrap, member.secret), member.bundle).group
        self.honest = (self.alice, self.bob)
        self.branch = _view(self.alice.g)
        self.commits: list[Event] = []
        self.removed = False
        self.step = 0

    def _publish(self, committer: Member, out: OutgoingCommit) -> None:
        committer.adopt(out)
        receivers = [m for m in (self.alice, self.bob, self.carol) if m is not committer]
        for member in receivers:
            if member is not self.carol or not self.removed:
                member.receive(out.event)
        self.commits.append(out.event)
        self.branch = _view(committer.g)

    def _rng(self, what: str) -> CountingRng:
        self.step += 1
        return CountingRng(f"{what}{self.step}")

    @rule(kind=st.sampled_from(["rename", "alice_update", "bob_update"]))
    def honest_commit(self, kind: str) -> None:
        now = NOW + self.step
        if kind == "rename":
            out = update_group_data(self.alice.g, now=now, rng=self._rng(kind), name=kind)
            self._publish(self.alice, out)
        else:
            member = self.alice if kind == "alice_update" else self.bob
            self._publish(member, self_update(member.g, now=now, rng=self._rng(kind)))

    @precondition(lambda self: not self.removed)
    @rule()
    def remove_carol(self) -> None:
        out = remove_members(
            self.alice.g, [self.carol.pub], now=NOW + self.step, rng=self._rng("r")
        )
        self.carol.receive(out.event)
        self.removed = True
        self._publish(self.alice, out)

    @precondition(lambda self: bool(self.commits))
    @rule(data=st.data())
    def stale_honest(self, data: st.DataObject) -> None:
        event = data.draw(st.sampled_from(self.commits))
        data.draw(st.sampled_from(self.honest)).receive(event)

    @precondition(lambda self: bool(self.carol.kept))
    @rule(data=st.data(), how=st.sampled_from(["self_update", "rewrapped", "random"]))
    def forged(self, data: st.DataObject, how: str) -> None:
        """Carol, from an epoch she saw, posts a back-dated commit to everyone."""
        if how != "random" and not self.removed:
            return  # before her removal Carol's back-dated self-update is a fair competitor
        epoch = data.draw(st.sampled_from(sorted(self.carol.kept)))
        past = self.carol.kept[epoch][0]
        early = NOW - 1000 - self.step
        if how == "random":
            event = _random_commit(past, early)
        else:
            event = self_update(past, now=early, rng=self._rng("f")).event
            if how == "rewrapped":
                inner = trial_decrypt(event, past.group_event_keys()).mls_message
                key = past.group_event_key()
                event = build_group_event(past.nostr_group_id, inner, key, now=early - 1)
        for member in self.honest:
            member.receive(event)

    @invariant()
    def honest_members_follow_the_honest_branch(self) -> None:
        for member in self.honest:
            assert _view(member.g) == self.branch
            if self.removed:
                assert self.carol.pub not in member.g.members().values()


ForkChoice.TestCase.settings = settings(max_examples=60, stateful_step_count=12, deadline=None)
test_fork_choice = ForkChoice.TestCase
