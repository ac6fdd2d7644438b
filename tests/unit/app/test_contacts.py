"""`Contacts.profile`: the nprofile it builds from relay lists someone else controls."""

from __future__ import annotations

import pytest

from app.contacts import Contacts, parse_person
from app.sync_plan import author_filters
from nostr import nip19
from nostr.event import UnsignedEvent
from nostr.keys import SecretKey
from nostr.relay_lists import RelayListEntry, inbox_relays_event, relay_list_event
from tests.unit.app.conftest import START, Harness, seeded_rng

LONG = "wss://relay.example/" + "a" * 300  # a valid relay URL, too long for a NIP-19 TLV


@pytest.mark.asyncio
async def test_a_hint_nip19_cannot_carry_is_skipped_and_the_rest_kept(harness: Harness) -> None:
    bob = SecretKey.generate(seeded_rng("bob"))
    nip65 = relay_list_event(
        bob.public_key(),
        [
            RelayListEntry(LONG),
            RelayListEntry("wss://one.example"),
            RelayListEntry("wss://two.example"),
        ],
        created_at=START - 10,
    )
    inbox = inbox_relays_event(
        bob.public_key(), ["wss://one.example", "wss://three.example"], created_at=START - 10
    )
    for event in (nip65, inbox):
        assert await harness.relays.remember(event.sign(bob, rng=seeded_rng()))

    info = await Contacts(harness.ctx, harness.relays).profile(bob.public_key().hex)

    decoded = nip19.decode(info.nprofile)
    assert isinstance(decoded, nip19.Profile)
    assert decoded.public_key.hex == bob.public_key().hex
    # The long one is left out, duplicates are given once, at most three hints.
    assert decoded.relays == ("wss://one.example", "wss://two.example", "wss://three.example")


@pytest.mark.asyncio
async def test_our_own_too_long_relay_does_not_break_our_nprofile(harness: Harness) -> None:
    await harness.relays.set_relays([LONG, "wss://one.example"])

    info = await Contacts(harness.ctx, harness.relays).profile(harness.ctx.pubkey)

    decoded = nip19.decode(info.nprofile)
    assert isinstance(decoded, nip19.Profile)
    assert decoded.relays == ("wss://one.example",)


@pytest.mark.asyncio
async def test_a_malformed_p_tag_in_our_follow_list_is_not_someone_we_follow(
    harness: Harness,
) -> None:
    """Our kind 3 may come from another client: a bad ``p`` value must not reach the
    contact list (it raised) nor the discovery filters (every catch-up failed)."""
    bob = SecretKey.generate(seeded_rng("bob")).public_key().hex
    tags = (("p", bob), ("p", bob.upper()), ("p", "npub1nothex"), ("p", ""), ("p",))
    event = await harness.ctx.sign(UnsignedEvent(harness.ctx.pubkey, START, 3, tags, ""))
    contacts = Contacts(harness.ctx, harness.relays)
    assert await contacts.remember(event)

    assert await contacts.following() == [bob]
    assert [c.pubkey for c in await contacts.list_contacts()] == [bob]
    authors = await contacts.authors()
    assert authors == [harness.ctx.pubkey, bob]
    assert author_filters(authors, since=None)  # valid filters (a bad author raised)


def test_an_nprofile_keeps_only_hints_that_are_relay_urls() -> None:
    key = SecretKey.generate(seeded_rng("bob")).public_key()
    relays = ("WSS://One.Example:443", "not a relay", "https://web.example", "wss://one.example")
    person = parse_person(nip19.encode_profile(nip19.Profile(key, relays)))
    assert person.pubkey == key.hex
    assert person.hints == ("wss://one.example",)
