"""Several devices of one identity (marmot.md section 10.5: each device is its own leaf
sharing the account's Nostr identity): the creator's other devices at creation, another
device of a member added later, admin rights per identity, removing one device, one
device leaving, and what a removed device can no longer do."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from marmot.errors import AlreadyInGroup, InvalidGroupEvent, NotAdmin, UsageError
from marmot.group import GroupConfig, GroupCreated, MarmotGroup, create_group, join_group
from marmot.group_event import build_group_event
from marmot.inbound import (
    ApplicationReceived,
    CommitApplied,
    Outcome,
    ProposalHandled,
    Rejected,
    process_event,
)
from marmot.key_package_event import MarmotKeyPackage, parse_key_package_event
from marmot.operations import (
    OutgoingCommit,
    add_members,
    create_message,
    leave_group,
    remove_leaves,
    remove_members,
    self_update,
    update_group_data,
)
from marmot.policy import ProposalAction
from marmot.welcome import parse_welcome_rumor, unwrap_welcome
from mls import group as mls_group
from mls.key_package import KeyPackageBundle
from nostr.event import Event, UnsignedEvent
from tests.helpers.marmot_factories import RELAY, key_package, key_package_event
from tests.helpers.nostr_factories import NOW, CountingRng, secret

ALICE, BOB, CAROL = (secret(n) for n in ("alice", "bob", "carol"))
A, B, C = (k.public_key().data for k in (ALICE, BOB, CAROL))


@dataclass
class Device:
    """One install of ``label``'s identity: its own KeyPackage, its own leaf."""

    label: str
    name: str
    bundle: KeyPackageBundle = field(init=False)
    group: MarmotGroup | None = None

    def __post_init__(self) -> None:
        self.bundle = key_package(self.label, device=self.name)

    @property
    def g(self) -> MarmotGroup:
        assert self.group is not None
        return self.group

    def key_package(self) -> MarmotKeyPackage:
        event = key_package_event(self.label, self.bundle)
        return parse_key_package_event(event, now=NOW)

    def join(self, made: OutgoingCommit | GroupCreated) -> None:
        """Join with the Welcome ``made`` sent to our KeyPackage."""
        event_id = self.key_package().event_id
        ours = [w for w in made.welcomes if w.key_package_event_id == event_id]
        assert len(ours) == 1
        self.group = join_group(parse_welcome_rumor(ours[0].rumor), self.bundle).group

    def receive(self, event: Event) -> Outcome:
        outcome = process_event(self.g, event, now=NOW, rng=CountingRng(self.name + event.id))
        group = getattr(outcome, "group", None)
        if group is not None:
            self.group = group
        return outcome

    def say(self, text: str) -> Event:
        rumor = UnsignedEvent.create(secret(self.label).public_key(), NOW, 9, text)
        out = create_message(self.g, rumor, now=NOW, rng=CountingRng(self.name + text))
        self.group = out.group
        return out.event


def commit(by: Device, out: OutgoingCommit, *others: Device) -> list[Outcome]:
    """Publish ``out`` to the others, then let its author adopt it."""
    outcomes = [d.receive(out.event) for d in others]
    by.group = out.group
    return outcomes


def same_epoch(*devices: Device) -> None:
    for d in devices[1:]:
        assert d.g.epoch == devices[0].g.epoch
        assert d.g.state.epoch_authenticator == devices[0].g.state.epoch_authenticator


def created_with_laptop() -> tuple[Device, Device, Device]:
    """Alice creates a group from her phone with her laptop and Bob."""
    phone, laptop, bob = Device("alice", "phone"), Device("alice", "laptop"), Device("bob", "1")
    created = create_group(
        ALICE.public_key(),
        GroupConfig("devices", (RELAY,)),
        [laptop.key_package(), bob.key_package()],
        now=NOW,
        rng=CountingRng("create"),
    )
    phone.group = created.group
    laptop.join(created)
    bob.join(created)
    same_epoch(phone, laptop, bob)
    return phone, laptop, bob


# --- creation -------------------------------------------------------------------------------


def test_the_creators_other_device_joins_as_its_own_leaf_with_admin_rights() -> None:
    phone, laptop, bob = created_with_laptop()
    assert phone.g.members() == {0: A, 1: A, 2: B}
    assert laptop.g.own_leaf == 1 and laptop.g.is_admin
    assert phone.g.other_device_leaves == [1] and laptop.g.other_device_leaves == [0]
    assert bob.g.other_device_leaves == [] and bob.g.leaves_of(A) == [0, 1]
    assert phone.g.data.admins == (A,)
    # The laptop uses the shared admin rights; Bob (MDK's rules) accepts its commit.
    carol = Device("carol", "1")
    out = add_members(laptop.g, [carol.key_package()], now=NOW, rng=CountingRng("add"))
    seen = commit(laptop, out, phone, bob)
    assert all(isinstance(o, CommitApplied) and o.committer == A for o in seen)
    assert seen[0].committer_leaf == 1  # type: ignore[union-attr]
    carol.join(out)
    same_epoch(phone, laptop, bob, carol)


def test_the_welcome_to_our_own_device_is_wrapped_to_ourselves() -> None:
    laptop = Device("alice", "laptop")
    created = create_group(
        ALICE.public_key(), GroupConfig("g", (RELAY,)), [laptop.key_package()], now=NOW
    )
    (welcome,) = created.welcomes
    assert welcome.invitee == ALICE.public_key()
    wrap = welcome.wrap(ALICE, now=NOW, rng=CountingRng("self"))
    invite = unwrap_welcome(wrap, ALICE)
    assert invite.inviter == ALICE.public_key().hex
    group = join_group(invite, laptop.bundle).group
    assert group.members() == {0: A, 1: A} and group.is_admin
    assert group.self_remove_enabled  # every invitee (our laptop) supports SelfRemove


def test_creation_refuses_a_key_package_given_twice_and_keeps_the_admin_rules() -> None:
    laptop, bob = Device("alice", "laptop"), Device("bob", "1")
    config = GroupConfig("g", (RELAY,))
    with pytest.raises(AlreadyInGroup, match="twice"):
        create_group(ALICE.public_key(), config, [laptop.key_package()] * 2, now=NOW)
    again = Device("alice", "laptop").key_package()
    with pytest.raises(AlreadyInGroup, match="twice"):
        create_group(ALICE.public_key(), config, [laptop.key_package(), again], now=NOW)
    with pytest.raises(UsageError, match="must be an invitee"):  # our laptop is not Carol
        create_group(
            ALICE.public_key(),
            GroupConfig("g", (RELAY,), admins=(C,)),
            [laptop.key_package(), bob.key_package()],
            now=NOW,
        )


# --- adding a device later ------------------------------------------------------------------


def test_another_device_of_a_member_is_added_and_speaks_as_that_member() -> None:
    phone, laptop, bob = created_with_laptop()
    tablet = Device("bob", "tablet")
    out = add_members(phone.g, [tablet.key_package()], now=NOW, rng=CountingRng("tablet"))
    seen = commit(phone, out, laptop, bob)
    for outcome in seen:
        assert isinstance(outcome, CommitApplied)
        assert outcome.added == (B,) and outcome.added_leaves == (3,)
    tablet.join(out)
    same_epoch(phone, laptop, bob, tablet)
    assert bob.g.other_device_leaves == [3] and tablet.g.other_device_leaves == [2]
    hello = tablet.say("from my tablet")
    at_bob, at_phone = bob.receive(hello), phone.receive(hello)
    assert isinstance(at_bob, ApplicationReceived) and isinstance(at_phone, ApplicationReceived)
    assert at_bob.sender == at_phone.sender == B and at_bob.sender_leaf == 3
    assert at_bob.from_own_device and not at_phone.from_own_device
    assert at_bob.rumor.content == "from my tablet"


def test_our_own_other_device_is_added_to_an_existing_group() -> None:
    phone, laptop, bob = created_with_laptop()
    desktop = Device("alice", "desktop")
    out = add_members(phone.g, [desktop.key_package()], now=NOW, rng=CountingRng("desk"))
    assert [w.invitee for w in out.welcomes] == [ALICE.public_key()]
    commit(phone, out, laptop, bob)
    desktop.join(out)
    assert desktop.g.is_admin and sorted(desktop.g.other_device_leaves) == [0, 1]


def test_the_same_key_package_or_leaf_is_not_added_again() -> None:
    phone, laptop, bob = created_with_laptop()
    assert phone.g.leaf_of_key_package(bob.key_package()) == 2
    with pytest.raises(AlreadyInGroup, match="already leaf 2"):
        add_members(phone.g, [bob.key_package()], now=NOW)
    with pytest.raises(AlreadyInGroup, match="already leaf 1"):
        add_members(phone.g, [laptop.key_package()], now=NOW)
    tablet = Device("bob", "tablet")
    with pytest.raises(AlreadyInGroup, match="twice"):
        add_members(phone.g, [tablet.key_package(), tablet.key_package()], now=NOW)
    # After Bob's self-update his leaf no longer carries the KeyPackage's keys.
    commit(bob, self_update(bob.g, now=NOW, rng=CountingRng("upd")), phone)
    assert phone.g.leaf_of_key_package(bob.key_package()) is None


def test_a_non_admin_cannot_add_even_its_own_device() -> None:
    _, _, bob = created_with_laptop()
    with pytest.raises(NotAdmin):
        add_members(bob.g, [Device("bob", "tablet").key_package()], now=NOW)


# --- removing and leaving -------------------------------------------------------------------


def test_an_admin_removes_its_lost_device_and_stays_admin() -> None:
    phone, laptop, bob = created_with_laptop()
    out = remove_leaves(phone.g, [1], now=NOW, rng=CountingRng("lost"))
    assert out.group.data.admins == (A,)  # Alice keeps her phone, so she stays admin
    at_laptop, at_bob = commit(phone, out, laptop, bob)
    assert isinstance(at_laptop, CommitApplied) and at_laptop.evicted
    assert isinstance(at_bob, CommitApplied) and at_bob.removed == (A,)
    assert at_bob.removed_leaves == (1,) and bob.g.members() == {0: A, 2: B}


def test_remove_leaves_guards() -> None:
    phone, _, bob = created_with_laptop()
    with pytest.raises(UsageError, match="own leaf"):
        remove_leaves(phone.g, [0], now=NOW)
    with pytest.raises(UsageError, match="no member at leaf 7"):
        remove_leaves(phone.g, [7], now=NOW)
    with pytest.raises(UsageError, match="no leaf"):
        remove_leaves(phone.g, [], now=NOW)
    with pytest.raises(NotAdmin):
        remove_leaves(bob.g, [1], now=NOW)
    with pytest.raises(UsageError, match="remove_leaves"):
        remove_members(phone.g, [A], now=NOW)


def test_removing_a_member_removes_all_its_devices() -> None:
    phone, laptop, bob = created_with_laptop()
    tablet = Device("bob", "tablet")
    out = add_members(phone.g, [tablet.key_package()], now=NOW, rng=CountingRng("t"))
    commit(phone, out, laptop, bob)
    tablet.join(out)
    removal = remove_members(phone.g, [B], now=NOW, rng=CountingRng("rm"))
    seen = commit(phone, removal, laptop, bob, tablet)
    assert seen[0].removed_leaves == (2, 3)  # type: ignore[union-attr]
    assert all(o.evicted for o in seen[1:])  # type: ignore[union-attr]
    assert phone.g.members() == {0: A, 1: A}


def test_one_device_of_a_member_leaves_and_the_member_stays() -> None:
    phone, laptop, bob = created_with_laptop()
    tablet = Device("bob", "tablet")
    out = add_members(phone.g, [tablet.key_package()], now=NOW, rng=CountingRng("t"))
    commit(phone, out, laptop, bob)
    tablet.join(out)
    leave = leave_group(tablet.g, now=NOW, rng=CountingRng("bye"))
    tablet.group = leave.group
    handled = [d.receive(leave.event) for d in (phone, laptop, bob)]
    assert all(isinstance(h, ProposalHandled) for h in handled)
    assert all(h.action is ProposalAction.AUTO_COMMIT for h in handled)  # type: ignore[union-attr]
    auto = handled[2].auto_commit  # type: ignore[union-attr]
    assert auto is not None  # Bob's own other device may commit it
    seen = commit(bob, auto, phone, laptop, tablet)
    assert isinstance(seen[0], CommitApplied) and seen[0].removed_leaves == (3,)
    assert seen[2].evicted  # type: ignore[union-attr]
    assert bob.g.leaves_of(B) == [2]


def test_the_commit_of_a_leave_is_dated_after_the_leave_request() -> None:
    """Members who order a fetched batch by (created_at, id), as MDK clients do, must see
    the proposal before the commit that covers it."""
    for asked_at in (NOW, NOW + 7):  # the admin's clock says NOW
        phone, _, bob = created_with_laptop()
        leave = leave_group(bob.g, now=asked_at, rng=CountingRng(f"bye{asked_at}"))
        handled = phone.receive(leave.event)
        assert isinstance(handled, ProposalHandled) and handled.auto_commit is not None
        assert handled.auto_commit.event.created_at == asked_at + 1


def test_a_device_of_an_admin_cannot_leave_by_self_remove() -> None:
    phone, laptop, bob = created_with_laptop()
    with pytest.raises(UsageError, match="self-demote"):
        leave_group(laptop.g, now=NOW)
    # Forced through anyway, every receiver ignores it (MDK: the sender is an admin).
    message, _ = mls_group.propose_self_remove(laptop.g.state, rng=CountingRng("x"))
    event = build_group_event(
        laptop.g.nostr_group_id, message.to_bytes(), laptop.g.group_event_key(), now=NOW
    )
    for device in (phone, bob):
        outcome = device.receive(event)
        assert isinstance(outcome, ProposalHandled)
        assert outcome.action is ProposalAction.IGNORE and outcome.auto_commit is None
        assert device.g.state.proposals == ()


def test_demoting_an_identity_demotes_all_its_devices() -> None:
    phone, laptop, bob = created_with_laptop()
    promote = update_group_data(phone.g, now=NOW, admins=(A, B), rng=CountingRng("p"))
    commit(phone, promote, laptop, bob)
    demote = update_group_data(bob.g, now=NOW, admins=(B,), rng=CountingRng("d"))
    commit(bob, demote, phone, laptop)
    assert not phone.g.is_admin and not laptop.g.is_admin and bob.g.is_admin


# --- a removed device -----------------------------------------------------------------------


def test_a_removed_device_cannot_write_into_past_epochs_even_when_its_leaf_is_reused() -> None:
    phone, laptop, bob = created_with_laptop()
    tablet = Device("bob", "tablet")
    out = add_members(phone.g, [tablet.key_package()], now=NOW, rng=CountingRng("t"))
    commit(phone, out, laptop, bob)
    tablet.join(out)
    stolen = tablet.g  # the lost tablet keeps this epoch's secrets
    commit(phone, remove_leaves(phone.g, [3], now=NOW, rng=CountingRng("rm")), laptop, bob)
    watch = Device("bob", "watch")  # takes the freed leaf 3: same identity, new device
    out = add_members(phone.g, [watch.key_package()], now=NOW, rng=CountingRng("w"))
    assert out.group.leaves_of(B) == [2, 3]
    commit(phone, out, laptop, bob)
    rumor = UnsignedEvent.create(BOB.public_key(), NOW, 9, "I am still Bob")
    late = create_message(stolen, rumor, now=NOW, rng=CountingRng("late")).event
    restored = MarmotGroup.from_bytes(phone.g.to_bytes())  # past epochs kept as overlays
    for group in (phone.g, bob.g, restored):
        outcome = process_event(group, late, now=NOW)
        assert isinstance(outcome, Rejected) and isinstance(outcome.error, InvalidGroupEvent)
        assert "removed since epoch" in outcome.error.reason


def test_late_messages_of_a_device_that_updated_its_leaf_still_count() -> None:
    phone, _, bob = created_with_laptop()
    late = bob.say("written before my update")
    commit(bob, self_update(bob.g, now=NOW, rng=CountingRng("u")), phone)
    commit(phone, self_update(phone.g, now=NOW, rng=CountingRng("v")), bob)
    restored = MarmotGroup.from_bytes(phone.g.to_bytes())
    for group in (phone.g, restored):
        outcome = process_event(group, late, now=NOW)
        assert isinstance(outcome, ApplicationReceived) and outcome.epoch == 1
        assert group.leaf_kept_since(2, 1) and not group.leaf_kept_since(2, 99)
