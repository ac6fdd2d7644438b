"""A Marmot member for pure multi-member tests: its group value, the states it kept
before each commit, and Burrow's fork-choice rule applied on receipt (as the app does)."""

from __future__ import annotations

from dataclasses import dataclass, field

from marmot.errors import InvalidGroupEvent
from marmot.fork_choice import decide, unpack
from marmot.group import MarmotGroup
from marmot.inbound import (
    ApplicationReceived,
    CommitApplied,
    Outcome,
    ProposalHandled,
    Rejected,
    StaleCommit,
    process_event,
    process_past_commit,
)
from marmot.key_package_event import MarmotKeyPackage, parse_key_package_event
from marmot.operations import OutgoingCommit
from marmot.policy import CommitOrder, RaceDecision
from mls.key_package import KeyPackageBundle
from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey
from tests.helpers.marmot_factories import key_package, key_package_event
from tests.helpers.nostr_factories import NOW, CountingRng, secret


@dataclass
class Member:
    """One device: its keys, its current group value, and the states it kept before
    each commit (for rolling back a lost commit race)."""

    label: str
    secret: SecretKey = field(init=False)
    bundle: KeyPackageBundle = field(init=False)
    group: MarmotGroup | None = None
    kept: dict[int, tuple[MarmotGroup, CommitOrder, bytes]] = field(default_factory=dict)
    rumors: list[UnsignedEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.secret = secret(self.label)
        self.bundle = key_package(self.label)

    @property
    def pub(self) -> bytes:
        return self.secret.public_key().data

    @property
    def g(self) -> MarmotGroup:
        assert self.group is not None
        return self.group

    def key_package(self) -> MarmotKeyPackage:
        return parse_key_package_event(key_package_event(self.label, self.bundle), now=NOW)

    def adopt(self, out: OutgoingCommit) -> None:
        """Our commit was accepted by the relay: keep the old state, move on."""
        self.kept[self.g.epoch] = (self.g, out.order, out.content_hash)
        self.group = out.group

    def receive(self, event: Event) -> Outcome:
        outcome = process_event(self.g, event, now=NOW, rng=CountingRng(self.label + event.id))
        if isinstance(outcome, CommitApplied):
            self.kept[self.g.epoch] = (self.g, outcome.order, outcome.content_hash)
            self.group = outcome.group
        elif isinstance(outcome, ApplicationReceived):
            self.group = outcome.group
            self.rumors.append(outcome.rumor)
        elif isinstance(outcome, ProposalHandled):
            self.group = outcome.group
        elif isinstance(outcome, StaleCommit):
            before = self.kept[outcome.epoch][0]
            try:
                winner = process_past_commit(before, event, now=NOW)
            except InvalidGroupEvent as exc:
                return Rejected(exc)
            discarded = [
                unpack(o, d) for e, (_, o, d) in sorted(self.kept.items()) if e >= outcome.epoch
            ]
            decision = decide(discarded, unpack(winner.order, winner.content_hash))
            if decision is RaceDecision.ROLLBACK:
                self.group = before
                return self.receive(event)
        elif isinstance(outcome, Rejected) and outcome.group is not None:
            self.group = outcome.group
        return outcome


def broadcast(event: Event, *members: Member) -> list[Outcome]:
    return [m.receive(event) for m in members]
