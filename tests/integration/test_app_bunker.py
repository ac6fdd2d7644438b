"""A bunker account (its key only in NDK's remote signer, a Node process) through the real
services and relay: nothing secret stored, every identity-key use goes to the signer, the
round trips each common action costs, and an invite that arrives while the signer is down
waits (retryable) and is opened once it is back."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import Services
from app.errors import NotAllowed
from app.events import SignerStatusChanged
from nostr.filters import Filter
from nostr.keys import SecretKey
from nostr.relay.remote_signer import RemoteSigner
from storage.repos import accounts as accounts_repo
from tests.helpers.app_clients import (
    PASSPHRASE,
    Client,
    config_for,
    eventually,
    join,
    make_client,
)
from tests.helpers.bunker import BunkerFactory
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def bunker_client(tmp: Path, relay_url: str, uri: str, name: str) -> Client:
    services = Services(config_for(tmp / name, relay_url))
    client = Client(name, services, await services.import_account(uri, PASSPHRASE, name))
    services.bus.subscribe(client.events.append)
    await client.session.start(live=True)
    await client.session.flush(10)
    return client


def remote(client: Client) -> RemoteSigner:
    signer = client.session.account.remote
    assert signer is not None
    return signer


def spent(client: Client, before: dict[str, int]) -> dict[str, int]:
    """Round trips since ``before``, without the session's liveness pings."""
    now = remote(client).round_trips
    return {k: now[k] - before.get(k, 0) for k in now if now[k] != before.get(k, 0) and k != "ping"}


async def texts(client: Client, gid: str) -> list[str]:
    return [m.content for m in await client.session.messages.list_messages(gid)]


async def test_a_bunker_account_creates_joins_and_chats(
    relay: RelayProcess, bunker_factory: BunkerFactory, tmp_path: Path
) -> None:
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user, secret="one time")
    alice = await bunker_client(tmp_path, relay.url, bunker.uri, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        assert alice.pubkey == user.public_key().hex
        row = await alice.session.account.db.run(accounts_repo.require)
        assert row.secret_key is None and row.remote_signer is not None
        assert user.secret_hex() not in row.remote_signer and "one time" not in row.remote_signer
        with pytest.raises(NotAllowed):
            alice.services.export_nsec(alice.pubkey, PASSPHRASE)
        published = await alice.session.relays.fetch([Filter(authors=[alice.pubkey])], [relay.url])
        # One key package per Marmot profile (the Profile B proof signed by the bunker too).
        assert sorted(e.kind for e in published) == [0, 443, 10002, 10050, 10051, 30443]
        for event in published:
            event.verify()  # signed by the bunker with the user's key

        # Alice (bunker) creates a group with Bob: one seal per invitee (made by the outbox
        # when the Welcome goes out, after the commit).
        before = dict(remote(alice).round_trips)
        group = await alice.session.groups.create("Bunker team", [bob.npub], profile="mip")
        await join(bob, group)
        create_cost = spent(alice, before)
        before = dict(remote(alice).round_trips)
        sent = await alice.session.messages.send(group.id, "from the bunker")
        await alice.session.messages.wait_sent(sent, 5)
        send_cost = spent(alice, before)
        await bob.session.messages.send(group.id, "hello bunker")
        await eventually(lambda: texts(alice, group.id), lambda t: "hello bunker" in t)
        receive_cost = spent(alice, before)

        # Bob invites Alice: opening the Welcome, then accepting it.
        before = dict(remote(alice).round_trips)
        other = await bob.session.groups.create("Bob's", [alice.npub], profile="mip")
        await eventually(alice.session.invites.list_invites, bool)
        open_cost = spent(alice, before)
        before = dict(remote(alice).round_trips)
        await join(alice, other)
        await alice.session.flush(10)
        accept_cost = spent(alice, before)
        await alice.session.messages.send(other.id, "joined through the bunker")
        await eventually(lambda: texts(bob, other.id), lambda t: t == ["joined through the bunker"])

        assert create_cost == {"nip44_encrypt": 1, "sign_event": 1}
        assert send_cost == {} and receive_cost == {}
        assert open_cost.get("nip44_decrypt") == 2
        assert set(open_cost) <= {"nip44_decrypt", "sign_event"} and set(accept_cost) <= {
            "sign_event"
        }
        # A fresh key package replaces the consumed one (signed), the old one is deleted. That
        # starts when the Welcome is stored, so its signatures fall while opening or accepting.
        replacing = open_cost.get("sign_event", 0) + accept_cost.get("sign_event", 0)
        assert replacing <= 3
        print(
            "ROUND TRIPS",
            {"create+invite 1": create_cost, "send": send_cost, "receive": receive_cost},
            {"welcome received": open_cost, "accept": accept_cost},
        )
    finally:
        await bob.close()
        await alice.close()


async def test_an_invite_waits_while_the_signer_is_down(
    relay: RelayProcess, bunker_factory: BunkerFactory, tmp_path: Path
) -> None:
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user)
    alice = await bunker_client(tmp_path, relay.url, bunker.uri, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        bunker.stop()
        group = await bob.session.groups.create("While away", [alice.npub], profile="mip")
        states = await eventually(lambda: _states(alice), lambda s: "offline" in s, timeout=40)
        assert await alice.session.invites.list_invites() == []
        bunker.start()
        invites = await eventually(alice.session.invites.list_invites, bool, timeout=40)
        assert invites[0].group_id == group.id
        assert "ready" in await _states(alice) and states
        await join(alice, group)
        await alice.session.messages.send(group.id, "back")
        await eventually(lambda: texts(bob, group.id), lambda t: t == ["back"])
    finally:
        await bob.close()
        await alice.close()


async def _pending(client: Client, purpose: str) -> list[str]:
    return [e.event_id for e in await client.session.outbox.pending() if e.purpose == purpose]


async def _states(client: Client) -> list[str]:
    return [e.state for e in client.of(SignerStatusChanged)]


async def test_a_group_created_while_the_signer_is_down_sends_its_welcome_later(
    relay: RelayProcess, bunker_factory: BunkerFactory, tmp_path: Path
) -> None:
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user)
    alice = await bunker_client(tmp_path, relay.url, bunker.uri, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        bunker.stop()
        group = await alice.session.groups.create(
            "Made offline", [bob.npub], profile="mip"
        )  # not failed
        await alice.session.messages.send(group.id, "waiting for you")
        [welcome] = [e for e in await alice.session.outbox.pending() if e.purpose == "welcome"]
        assert "deferred_welcome" in welcome.event_json  # the rumor, to be sealed later
        await eventually(lambda: _states(alice), lambda s: "offline" in s, timeout=40)
        assert await bob.session.invites.list_invites() == []
        bunker.start()
        await join(bob, group)
        await eventually(lambda: texts(bob, group.id), lambda t: t == ["waiting for you"])
        await eventually(lambda: _pending(alice, "welcome"), lambda p: not p)
    finally:
        await bob.close()
        await alice.close()


async def test_events_wait_unsigned_in_the_outbox_while_the_signer_is_down(
    relay: RelayProcess, bunker_factory: BunkerFactory, tmp_path: Path
) -> None:
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user)
    alice = await bunker_client(tmp_path, relay.url, bunker.uri, "alice")
    try:
        bunker.stop()
        profile = await alice.session.contacts.publish_profile(name="Alice while away")
        assert profile.name == "Alice while away"  # stored at once, not failed
        [entry] = [e for e in await alice.session.outbox.pending() if e.purpose == "profile"]
        assert '"sig"' not in entry.event_json  # waiting for the signer, durably
        await eventually(lambda: _states(alice), lambda s: "offline" in s, timeout=40)
        bunker.start()

        async def published() -> list[str]:
            found = await alice.session.relays.fetch(
                [Filter(authors=[alice.pubkey], kinds=[0])], [relay.url]
            )
            return [e.content for e in found]

        contents = await eventually(
            published, lambda c: any("while away" in x for x in c), timeout=40
        )
        assert contents
        # The relay stores the event before its OK reaches the outbox: wait for the OK.
        await eventually(lambda: _pending(alice, "profile"), lambda p: not p)
    finally:
        await alice.close()


async def test_nip42_auth_is_signed_by_the_bunker(
    relay: RelayProcess,
    auth_relay: RelayProcess,
    bunker_factory: BunkerFactory,
    tmp_path: Path,
) -> None:
    # The account lives on a relay that wants AUTH for reads and writes (and lets only the
    # addressee read gift wraps); the bunker listens on another, open relay.
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user)
    alice = await bunker_client(tmp_path, auth_relay.url, bunker.uri, "alice")
    bob = await make_client(tmp_path, auth_relay.url, "bob")
    try:
        assert not await alice.session.outbox.pending()  # lists, profile, key package out
        assert 22242 in bunker.signed_kinds  # NIP-42 AUTH, signed by the bunker
        group = await bob.session.groups.create("Behind AUTH", [alice.npub], profile="mip")
        await join(alice, group)  # the gift wrap is readable only after AUTH as Alice
        await alice.session.messages.send(group.id, "authenticated")
        await eventually(lambda: texts(bob, group.id), lambda t: t == ["authenticated"])
    finally:
        await bob.close()
        await alice.close()


@pytest.mark.darkmatter
async def test_a_bunker_account_founds_a_marmot_v2_group(
    relay: RelayProcess, bunker_factory: BunkerFactory, tmp_path: Path
) -> None:
    """Our leaf's 0x8009 proof is a kind-450 signature, which the bunker makes."""
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user)
    alice = await bunker_client(tmp_path, relay.url, bunker.uri, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        proofs = bunker.signed_kinds.count(450)  # so far, those of her key packages
        group = await alice.session.groups.create(
            "Signed remotely", [bob.npub], profile="darkmatter"
        )
        assert group.profile == "darkmatter"

        async def proofs_signed() -> int:  # the bunker's log is read by a thread
            return bunker.signed_kinds.count(450)

        await eventually(proofs_signed, lambda n: n == proofs + 1)  # her founding leaf's
        await join(bob, group)
        await bob.session.messages.send(group.id, "hello v2")
        await eventually(
            lambda: alice.session.messages.list_messages(group.id),
            lambda ms: [m.content for m in ms] == ["hello v2"],
        )
    finally:
        await bob.close()
        await alice.close()
