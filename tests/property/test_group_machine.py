"""A Hypothesis state machine over several members of our MLS implementation.

Random adds, removes, Updates, SelfRemoves, commits (with and without a path, as
PublicMessage and PrivateMessage) and application messages, some delivered late. After
every step: all members agree on epoch, tree hash and epoch authenticator; every member
decrypts every message; removed members cannot read later ones.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from mls.errors import InvalidMessage
from mls.group import (
    ApplicationMessage,
    CommitProcessed,
    GroupState,
    PendingCommit,
    commit,
    join_from_welcome,
    process,
    propose_self_remove,
    propose_update,
    protect,
)
from mls.messages import Add, MLSMessage, Remove, WireFormat
from tests.helpers.mls_members import Members, key_package

WIRE = st.sampled_from([WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE])
MAX_MEMBERS = 6


class GroupMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.g: Members
        self.removed: dict[str, GroupState] = {}
        # (sender name, sender leaf, epoch, message, data) of messages read late
        self.late: list[tuple[str, int, int, MLSMessage, bytes]] = []
        self.counter = 0

    @initialize(seed=st.integers(0, 2**32), size=st.integers(2, 3), cs=st.sampled_from([1, 3]))
    def start(self, seed: int, size: int, cs: int) -> None:
        self.g = Members.create([f"m{i}" for i in range(size)], cs, seed=seed)
        self.counter = size

    def _name(self, pick: int) -> str:
        names = sorted(self.g.states)
        return names[pick % len(names)]

    def _commit(self, committer: str, pending: PendingCommit) -> None:
        results = self.g.apply(committer, pending)
        for name, result in results.items():
            assert isinstance(result, CommitProcessed)
            assert result.epoch == pending.next_state.epoch
            if result.removed_self:
                self.removed[name] = self.g.states.pop(name)
        for added in pending.summary.adds:
            assert added.leaf_index is not None

    @precondition(lambda self: len(self.g.states) < MAX_MEMBERS)
    @rule(pick=st.integers(0, 99), count=st.integers(1, 2), path=st.booleans(), wire=WIRE)
    def add(self, pick: int, count: int, path: bool, wire: WireFormat) -> None:
        committer = self._name(pick)
        names = [f"m{self.counter + i}" for i in range(count)]
        self.counter += count
        cs = self.g[committer].cipher_suite
        bundles = [key_package(n, cs, rng=self.g.rng) for n in names]
        adds = [Add(b.key_package) for b in bundles]
        pending = commit(
            self.g[committer], proposals=adds, path=path, wire_format=wire, rng=self.g.rng
        )
        self._commit(committer, pending)
        assert pending.welcome is not None
        for name, bundle in zip(names, bundles, strict=True):
            self.g.states[name] = join_from_welcome(pending.welcome, bundle)

    @precondition(lambda self: len(self.g.states) > 2)
    @rule(pick=st.integers(0, 99), victim_pick=st.integers(0, 99), wire=WIRE)
    def remove(self, pick: int, victim_pick: int, wire: WireFormat) -> None:
        committer, victim = self._name(pick), self._name(victim_pick)
        if committer == victim:
            return
        leaf = self.g[victim].own_leaf
        pending = commit(
            self.g[committer], proposals=[Remove(leaf)], wire_format=wire, rng=self.g.rng
        )
        self._commit(committer, pending)
        assert victim in self.removed

    @rule(pick=st.integers(0, 99), proposer=st.integers(0, 99), wire=WIRE)
    def update(self, pick: int, proposer: int, wire: WireFormat) -> None:
        """An Update proposal committed by another member, or a self-update commit."""
        committer, sender = self._name(pick), self._name(proposer)
        if committer != sender:
            message, self.g.states[sender] = propose_update(self.g[sender], rng=self.g.rng)
            self.g.deliver(sender, message)
        pending = commit(self.g[committer], wire_format=wire, rng=self.g.rng)
        assert len(pending.summary.updates) == (committer != sender)
        self._commit(committer, pending)

    @precondition(lambda self: len(self.g.states) > 2)
    @rule(pick=st.integers(0, 99), leaver=st.integers(0, 99))
    def self_remove(self, pick: int, leaver: int) -> None:
        committer, sender = self._name(pick), self._name(leaver)
        if committer == sender:
            return
        message, self.g.states[sender] = propose_self_remove(self.g[sender], rng=self.g.rng)
        self.g.deliver(sender, message)
        self._commit(committer, commit(self.g[committer], rng=self.g.rng))
        assert sender in self.removed

    @rule(pick=st.integers(0, 99), late=st.booleans())
    def send(self, pick: int, late: bool) -> None:
        sender = self._name(pick)
        self.counter += 1
        data = b"message %d" % self.counter
        state = self.g[sender]
        message, self.g.states[sender] = protect(state, data)
        if late:  # read after later commits, from a retained past epoch
            self.late.append((sender, state.own_leaf, state.epoch, message, data))
            return
        self._read(sender, state.own_leaf, message, data, self.g.states)
        for state in self.removed.values():
            try:
                process(state, message)
            except InvalidMessage:
                continue
            raise AssertionError("a removed member read a later message")

    @rule()
    def deliver_late(self) -> None:
        for sender, leaf, epoch, message, data in self.late:
            # Members that joined later never had that epoch; the rest still retain it.
            readers = {n: s for n, s in self.g.states.items() if epoch in s.retained_epochs()}
            self._read(sender, leaf, message, data, readers)
        self.late.clear()

    def _read(
        self,
        sender: str,
        leaf: int,
        message: MLSMessage,
        data: bytes,
        readers: dict[str, GroupState],
    ) -> None:
        for name, state in readers.items():
            if name == sender:
                continue
            result, self.g.states[name] = process(state, message)
            assert isinstance(result, ApplicationMessage)
            assert (result.data, result.sender) == (data, leaf)

    @invariant()
    def members_agree(self) -> None:
        self.g.agree()
        leaves = {s.own_leaf for s in self.g.states.values()}
        assert len(leaves) == len(self.g.states)
        assert self.g[next(iter(self.g.states))].tree.member_count == len(self.g.states)


GroupMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=15, deadline=None)
TestGroupMachine = GroupMachine.TestCase
