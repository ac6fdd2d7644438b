"""Reaching people across relays (outbox model): separate 10002 / 10050 / 10051 lists,
published to our relays and the discovery relays, and contacts found through a discovery
relay. Every relay is a real relay process on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import InvalidInput, NotFound, Services
from app.relays import list_kind
from nostr.event import Event
from nostr.filters import Filter
from nostr.kinds import Kind
from nostr.relay_lists import parse_relay_list, parse_relay_tags
from storage.repos import relays as relays_repo
from storage.rows import RelayListKind
from tests.helpers.app_clients import (
    PASSPHRASE,
    catch_up,
    config_for,
    eventually,
    join,
    make_client,
)
from tests.helpers.relay import RelayFactory

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

LISTS = (Kind.RELAY_LIST, Kind.INBOX_RELAYS, Kind.KEY_PACKAGE_RELAYS)


def _urls(event: Event) -> tuple[str, ...]:
    if event.kind == Kind.RELAY_LIST:
        return tuple(e.url for e in parse_relay_list(event))
    return parse_relay_tags(event)


async def test_onboarding_relays_and_each_list_edited_on_its_own(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    home, inbox, keys, index = (relay_factory() for _ in range(4))
    config = config_for(tmp_path / "a", home.url, (index.url,))
    services = Services(config)
    try:
        session = await services.create_account("Alice", PASSPHRASE, [home.url])
        await session.start(live=False)
        relays = session.relays
        await relays.set_relays([inbox.url], list_kind("inbox"))
        await relays.add(keys.url, RelayListKind.KEY_PACKAGES)
        await relays.remove(home.url, RelayListKind.KEY_PACKAGES)
        assert relays.lists() == {
            "nip65": (home.url,),
            "inbox": (inbox.url,),
            "key_packages": (keys.url,),
        }
        with pytest.raises(InvalidInput):  # a list never goes empty
            await relays.remove(inbox.url, RelayListKind.INBOX)
        with pytest.raises(NotFound):
            await relays.remove(keys.url, RelayListKind.NIP65)
        await session.flush(10)
        # Published where anyone can look them up: the discovery relay has all three.
        mine = Filter(authors=[session.pubkey], kinds=list(LISTS))
        found = await relays.fetch([mine], [index.url])
        newest = {e.kind: e for e in sorted(found, key=lambda e: e.created_at)}
        assert {k: _urls(newest[k]) for k in LISTS} == {
            Kind.RELAY_LIST: (home.url,),
            Kind.INBOX_RELAYS: (inbox.url,),
            Kind.KEY_PACKAGE_RELAYS: (keys.url,),
        }
        # The key package went where our 10051 says, not to the NIP-65 relay.
        await session.key_packages.publish()
        await session.flush(10)
        on_keys = await relays.fetch(
            [Filter(authors=[session.pubkey], kinds=[Kind.MLS_KEY_PACKAGE])], [keys.url]
        )
        assert on_keys
    finally:
        await services.close()


async def test_the_public_choice_is_the_configured_public_set(tmp_path: Path) -> None:
    config = config_for(tmp_path, "ws://127.0.0.1:1")
    assert config.initial_relays("public") == config.public_relays
    assert config.initial_relays(None) == config.initial_relays("local") == (config.local_relay,)
    assert config.initial_relays("ws://127.0.0.1:2,ws://127.0.0.1:3") == (
        "ws://127.0.0.1:2",
        "ws://127.0.0.1:3",
    )
    with pytest.raises(InvalidInput):
        config.initial_relays([" "])


async def test_alice_and_bob_on_different_relays_meet_through_a_discovery_relay(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    home_a, home_b, index = relay_factory(), relay_factory(), relay_factory()
    alice = await make_client(tmp_path, home_a.url, "alice", discovery=(index.url,))
    bob = await make_client(tmp_path, home_b.url, "bob", discovery=(index.url,))
    try:
        # Neither home relay knows the other person: only the discovery relay links them.
        for relay_url, stranger in ((home_a.url, bob), (home_b.url, alice)):
            seen = await alice.session.relays.fetch(
                [Filter(authors=[stranger.pubkey])], [relay_url]
            )
            assert seen == []
        # A bare npub (no relay hint): Bob's lists come from the discovery relay, his key
        # package from his 10051 relay, and the Welcome goes to his 10050 inbox.
        contact = await alice.session.contacts.add(bob.npub)
        assert contact.pubkey == bob.pubkey
        lists = await alice.session.relays.lists_of(bob.pubkey)
        assert lists[RelayListKind.KEY_PACKAGES] == (home_b.url,)
        assert lists[RelayListKind.INBOX] == (home_b.url,)
        cached = await alice.session.ctx.db.run(
            relays_repo.get_list, bob.pubkey, RelayListKind.INBOX
        )
        assert cached is not None and cached.fetched_at > 0  # cached, with its freshness
        packages = await alice.session.key_packages.fetch_published(bob.pubkey)
        assert packages
        group = await alice.session.groups.create("", [bob.npub], profile="mip")
        await alice.session.flush(10)
        wraps = await bob.session.relays.fetch(
            [Filter(kinds=[Kind.GIFT_WRAP], tags={"p": [bob.pubkey]})], [home_b.url]
        )
        assert wraps, "the Welcome is on Bob's inbox relay"
        joined = await join(bob, group)
        assert joined.id == group.id
        await alice.session.messages.send(group.id, "found you")
        await alice.session.flush(10)
        await catch_up(bob)

        async def texts() -> list[str]:
            return [m.content for m in await bob.session.messages.list_messages(group.id)]

        assert "found you" in await eventually(texts, lambda t: "found you" in t)
        # Bob found Alice the same way: her lists are cached on his side, from the index.
        alice_lists = await bob.session.relays.lists_of(alice.pubkey)
        assert alice_lists[RelayListKind.INBOX] == (home_a.url,)
    finally:
        await alice.close()
        await bob.close()
