"""Which profile a new group uses, from the invitees' key packages (`app.profile_choice`).

Real signed events of both generations, classified and validated by each profile's own
parser; only the network is left out (`classify` and `choose` are pure)."""

from __future__ import annotations

import pytest

from app.errors import InvalidInput, NoKeyPackage
from app.profile_choice import Found, choose, classify, parse_profile
from marmot.key_package_event import key_package_event_data
from marmot.profile_b.key_package import create_key_package_b
from marmot.profile_b.key_package_event import key_package_event
from marmot.profiles import Profile
from nostr.event import Event
from tests.helpers.marmot_factories import key_package
from tests.helpers.marmot_factories import key_package_event as key_package_event_a
from tests.helpers.nostr_factories import NOW, CountingRng, secret

pytestmark = pytest.mark.darkmatter

RELAYS = ("wss://relay.example.com",)


def _b(label: str, *, created_at: int = NOW, slot: str = "") -> Event:
    key = secret(label)
    bundle = create_key_package_b(key, now=NOW, rng=CountingRng(label + "-b" + slot))
    d_tag = (slot or label).encode().hex().ljust(64, "0")
    unsigned = key_package_event(
        bundle.key_package, key.public_key(), created_at=created_at, d_tag=d_tag
    )
    return unsigned.sign(key, rng=CountingRng(label + slot))


def _a(label: str) -> Event:
    return key_package_event_a(label)


def _found(label: str, *events: Event) -> Found:
    return classify(secret(label).public_key().hex, list(events), RELAYS, now=NOW)


def test_each_event_is_sorted_by_profile_and_checked_by_its_own_parser() -> None:
    a, b = _a("bob"), _b("bob")
    found = _found("bob", a, b)
    assert [kp.event_id for kp in found.a] == [a.id]
    assert [kp.event_id for kp in found.b] == [b.id]
    forged = Event(b.id, b.pubkey, b.created_at, b.kind, b.tags, b.content, a.sig)
    alice = _a("alice")  # someone else's event, on Bob's relays
    assert _found("bob", forged, alice).reach == _found("bob").reach  # nothing valid


def test_all_invitees_with_profile_b_get_a_profile_b_group() -> None:
    bob, carol = _b("bob"), _b("carol")
    chosen = choose([_found("bob", bob), _found("carol", carol)], None)
    assert chosen.profile == Profile.B.value == "darkmatter"
    assert chosen.events == (bob, carol)
    assert [p.event_id for p in chosen.b_packages] == [bob.id, carol.id]
    assert chosen.a_packages == ()


def test_all_invitees_with_profile_a_only_get_a_profile_a_group() -> None:
    bob, carol = _a("bob"), _a("carol")
    chosen = choose([_found("bob", bob), _found("carol", carol)], None)
    assert chosen.profile == "mip"
    assert chosen.events == (bob, carol)
    assert [p.event_id for p in chosen.a_packages] == [bob.id, carol.id]
    assert chosen.b_packages == ()


def test_a_contact_with_both_gets_profile_a_unless_someone_reaches_only_b() -> None:
    """Another Burrow publishes both: Profile A, which carries both accounts' other
    devices. One B-only invitee beside them (today's White Noise) makes it Profile B."""
    both = _found("bob", _a("bob"), _b("bob"))
    assert choose([both], None).profile == "mip"
    a_only = _found("carol", _a("carol"))
    chosen = choose([both, a_only], None)
    assert chosen.profile == "mip"
    assert chosen.events == (_a("bob"), _a("carol"))
    b_only = _found("dave", _b("dave"))
    chosen = choose([both, b_only], None)
    assert chosen.profile == "darkmatter"
    assert chosen.events == (_b("bob"), _b("dave"))


def test_a_b_only_and_an_a_only_invitee_cannot_share_a_group() -> None:
    with pytest.raises(InvalidInput) as exc:
        choose([_found("bob", _b("bob")), _found("carol", _a("carol"))], None)
    message = str(exc.value)
    bob = secret("bob").public_key().to_bech32()
    carol = secret("carol").public_key().to_bech32()
    assert "cannot be in one group" in message
    assert f"{carol[:14]}…{carol[-6:]} can only join Marmot v1 (MIP)" in message
    assert f"{bob[:14]}…{bob[-6:]} only Marmot v2 (Dark Matter)" in message


def test_an_invitee_without_any_key_package_is_named() -> None:
    with pytest.raises(NoKeyPackage) as exc:
        choose([_found("bob", _b("bob")), _found("carol")], None)
    assert exc.value.pubkey == secret("carol").public_key().hex
    assert exc.value.relays == RELAYS
    assert "has no key package on wss://relay.example.com" in str(exc.value)
    with pytest.raises(NoKeyPackage):
        choose([_found("carol")], "darkmatter")


def test_a_forced_profile_is_kept_or_refused_naming_who_lacks_it() -> None:
    both, a_only, b_only = (
        _found("bob", _a("bob"), _b("bob")),
        _found("carol", _a("carol")),
        _found("dave", _b("dave")),
    )
    assert choose([both], "mip").events == (_a("bob"),)
    assert choose([both, b_only], "darkmatter").events == (_b("bob"), _b("dave"))
    with pytest.raises(InvalidInput) as exc:
        choose([both, a_only], "darkmatter")
    carol = secret("carol").public_key().to_bech32()
    assert str(exc.value).startswith(f"{carol[:14]}…{carol[-6:]} cannot join a Marmot v2")
    with pytest.raises(InvalidInput, match=r"cannot join a Marmot v1 \(MIP\) group"):
        choose([b_only], "mip")
    with pytest.raises(InvalidInput, match="unknown group profile 'v3'"):
        choose([both], "v3")


def test_a_group_of_us_alone_is_profile_a_unless_forced() -> None:
    """Our other devices are found by their Profile A key packages."""
    assert choose([], None) == choose([], "mip")
    assert choose([], None).profile == "mip" and choose([], None).events == ()
    assert choose([], "darkmatter").profile == "darkmatter"


def test_profile_a_invites_every_device_profile_b_the_best_candidate() -> None:
    """Profile A: every live device (each Burrow slot). Profile B: one KeyPackage per
    account, the best by `select_key_packages_b` (here the fresher slot)."""
    key = secret("bob")
    laptop = key_package("bob", device="laptop")
    data = key_package_event_data(laptop.key_package, relays=list(RELAYS), rng=CountingRng("l"))
    second = data.unsigned(key.public_key(), NOW).sign(key, rng=CountingRng("l"))
    phone_a, laptop_b, phone_b = _a("bob"), _b("bob", slot="laptop"), _b("bob", created_at=NOW + 5)
    found = _found("bob", phone_a, second, laptop_b, phone_b)
    assert set(choose([found], "mip").events) == {phone_a, second}
    assert choose([found], "darkmatter").events == (phone_b,)


def test_profile_names() -> None:
    assert parse_profile(None) is None
    assert parse_profile("mip") is Profile.A and parse_profile("darkmatter") is Profile.B
