"""Telling the two generations' KeyPackages apart, choosing a new group's profile, and
ranking an account's Profile B KeyPackages."""

from __future__ import annotations

import pytest

from marmot.key_package_event import create_marmot_key_package, key_package_event_data
from marmot.primitives import b64encode
from marmot.profile_b.key_package import create_key_package_b
from marmot.profile_b.key_package_event import key_package_event, select_key_packages_b
from marmot.profiles import MixedProfiles, Profile, Reach, choose_profile, key_package_profile
from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey
from tests.helpers.mls_members import seeded_rng

pytestmark = pytest.mark.darkmatter

NOW = 1_788_718_800
ALICE = SecretKey(bytes([3]) * 32)


def event_b(seed: int, *, created_at: int = NOW, d_tag: str | None = None) -> Event:
    bundle = create_key_package_b(ALICE, now=NOW, rng=seeded_rng(seed))
    unsigned = key_package_event(
        bundle.key_package,
        ALICE.public_key(),
        created_at=created_at,
        d_tag=d_tag,
        rng=seeded_rng(seed + 100),
    )
    return unsigned.sign(ALICE, rng=seeded_rng(seed + 200))


def event_a(seed: int) -> Event:
    bundle = create_marmot_key_package(ALICE.public_key(), now=NOW, rng=seeded_rng(seed))
    data = key_package_event_data(
        bundle.key_package, relays=["wss://r.example"], rng=seeded_rng(seed)
    )
    return data.unsigned(ALICE.public_key(), NOW).sign(ALICE, rng=seeded_rng(seed))


def test_each_generation_is_recognised_by_its_shape() -> None:
    assert key_package_profile(event_a(1)) is Profile.A
    assert key_package_profile(event_b(1)) is Profile.B
    legacy = UnsignedEvent.create(ALICE.public_key(), NOW, 443, event_a(2).content, ())
    assert key_package_profile(legacy.sign(ALICE, rng=seeded_rng(3))) is Profile.A


def test_contradictory_or_foreign_events_are_neither() -> None:
    b = event_b(4)
    with_encoding = UnsignedEvent.create(
        ALICE.public_key(), NOW, 30443, b.content, (*b.tags, ("encoding", "base64"))
    )
    a = event_a(5)
    with_components = UnsignedEvent.create(
        ALICE.public_key(), NOW, 30443, a.content, (*a.tags, ("app_components", "0x8001"))
    )
    junk = UnsignedEvent.create(ALICE.public_key(), NOW, 30443, b64encode(b"\x00\x02\x00\x01"), ())
    note = UnsignedEvent.create(ALICE.public_key(), NOW, 1, b.content, ())
    not_base64 = UnsignedEvent.create(ALICE.public_key(), NOW, 30443, "!!", ())
    for event in (with_encoding, with_components, junk, note, not_base64):
        assert key_package_profile(event.sign(ALICE, rng=seeded_rng(6))) is None


def test_choose_profile() -> None:
    both, only_a, only_b = Reach(True, True), Reach(True, False), Reach(False, True)
    assert choose_profile([both, only_b]) is Profile.B
    assert choose_profile([both, only_a]) is Profile.A
    assert choose_profile([both, both]) is Profile.A
    assert choose_profile([]) is Profile.B and choose_profile([], solo=Profile.A) is Profile.A
    with pytest.raises(MixedProfiles):
        choose_profile([only_a, only_b])
    with pytest.raises(MixedProfiles):
        choose_profile([Reach(False, False)])


def test_profile_b_candidates_newest_per_slot_then_freshest() -> None:
    slot = "aa" * 32
    old = event_b(10, created_at=NOW - 50, d_tag=slot)
    new = event_b(11, created_at=NOW - 10, d_tag=slot)
    other = event_b(12, created_at=NOW - 20, d_tag="bb" * 32)
    bad = Event(new.id, new.pubkey, new.created_at + 1, new.kind, new.tags, new.content, new.sig)
    chosen = select_key_packages_b([old, other, new, bad], now=NOW)
    assert [c.event_id for c in chosen] == [new.id, other.id]


def test_profile_b_slot_tie_goes_to_the_lower_event_id() -> None:
    slot = "cc" * 32
    first, second = event_b(20, d_tag=slot), event_b(21, d_tag=slot)
    lower = min(first, second, key=lambda e: e.id)
    assert [c.event_id for c in select_key_packages_b([first, second], now=NOW)] == [lower.id]
    assert select_key_packages_b([event_a(22)], now=NOW) == []
