"""MIP-05 in the service layer between in-process clients over the real relay.

The notification server is played by its pure core here (``TriggerProcessor`` fed with
the gift wraps fetched from the relay); ``tests/e2e/test_push_e2e.py`` runs the real one.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from app import InvalidInput
from app.events import CommitRaceResolved
from app.push import SHARED
from app.push_models import PushChanged, PushStatus
from nostr.filters import Filter
from nostr.kinds import Kind
from nostr.relay import RelayPool
from nostr.relay_lists import inbox_relays_event
from nostr.signer import KeySigner
from push_server.processor import TriggerProcessor
from storage.repos import accounts as accounts_repo
from storage.repos import push as push_repo
from storage.repos import snapshots as snapshots_repo
from tests.helpers.app_clients import Client, catch_up, eventually, join, make_client
from tests.helpers.nostr_factories import secret
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

SERVER = secret("app push server")


async def _server_inbox(relay_url: str) -> None:
    """The notification server's kind 10050 (what clients look up through the hint)."""
    event = inbox_relays_event(SERVER.public_key(), [relay_url], created_at=1).sign(SERVER)
    async with RelayPool() as pool:
        await pool.add_relay(relay_url)
        (await pool.publish(event)).raise_for_failure()


async def _pushed(relay_url: str, processor: TriggerProcessor) -> list[bytes]:
    """Every device token in the server's gift wraps on the relay (new ones only)."""
    async with RelayPool(signer=KeySigner(SERVER)) as pool:
        await pool.add_relay(relay_url)
        wraps = await pool.fetch(
            [Filter(kinds={Kind.GIFT_WRAP}, tags={"p": {SERVER.public_key().hex}})]
        )
    out = []
    for wrap in wraps:
        out += [n.device_token for n in processor.process(wrap, relay_url, int(time.time()))]
    return out


async def _register(client: Client, token: str, relay_url: str) -> PushStatus:
    return await client.session.push.register("fcm", token, SERVER.public_key().hex, relay_url)


async def _member_tokens(client: Client, group_id: str) -> int:
    status = await client.session.push.status()
    return next(g.member_tokens for g in status.groups if g.group_id == group_id)


async def _replies(client: Client) -> tuple[int, int]:
    gossip = client.session.push.gossip
    return gossip.replies_sent, gossip.replies_skipped


async def _send(client: Client, group_id: str, text: str) -> None:
    info = await client.session.messages.send(group_id, text)
    assert (await client.session.messages.wait_sent(info, 10)).status == "sent"
    await client.session.push.settle()
    await client.session.flush(10)


async def test_share_gossip_triggers_and_withdrawal(relay: RelayProcess, tmp_path: Path) -> None:
    await _server_inbox(relay.url)
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    carol = await make_client(tmp_path, relay.url, "carol")
    server = TriggerProcessor(SERVER)
    try:
        await _register(alice, "alice-token", relay.url)
        group = await alice.session.groups.create("Push", [bob.npub], profile="mip")
        await alice.session.push.settle()  # the 447 is queued in the background
        assert (await alice.session.push.status()).groups[0].shared
        await join(bob, group)
        # Bob takes Alice's 447 from the group history; his own goes out on register.
        await eventually(lambda: _member_tokens(bob, group.id), lambda n: n == 1)
        await _register(bob, "bob-token", relay.url)
        await eventually(lambda: _member_tokens(alice, group.id), lambda n: n == 1)

        await _send(alice, group.id, "hello bob")
        assert await eventually(lambda: _pushed(relay.url, server), bool) == [b"bob-token"]
        await _send(bob, group.id, "hi alice")
        assert await eventually(lambda: _pushed(relay.url, server), bool) == [b"alice-token"]

        # Carol joins later and cannot read the old 447s: she learns both by a 448, which
        # Alice sends first; Bob, seeing it, keeps quiet.
        alice.session.push.gossip.delay = lambda: 0.2
        bob.session.push.gossip.delay = lambda: 2.5
        before = {c.name: await _replies(c) for c in (alice, bob)}
        await alice.session.groups.add_members(group.id, [carol.npub])
        await join(carol, group)
        await _register(carol, "carol-token", relay.url)
        await eventually(lambda: _member_tokens(carol, group.id), lambda n: n == 2, 20)
        b_sent, b_skipped = before["bob"]
        await eventually(lambda: _replies(bob), lambda r: r == (b_sent, b_skipped + 1))
        a_sent, a_skipped = before["alice"]
        assert await _replies(alice) == (a_sent + 1, a_skipped)
        await eventually(lambda: _member_tokens(alice, group.id), lambda n: n == 2)
        await _send(carol, group.id, "hi all")
        pushed = await eventually(lambda: _pushed(relay.url, server), lambda t: len(t) >= 2)
        assert sorted(pushed) == [b"alice-token", b"bob-token"]

        # Bob withdraws (449): Alice's next message wakes Carol only.
        await bob.session.push.unregister()
        await bob.session.flush(10)
        await eventually(lambda: _member_tokens(alice, group.id), lambda n: n == 1)
        await _send(alice, group.id, "bob is quiet now")
        assert await eventually(lambda: _pushed(relay.url, server), bool) == [b"carol-token"]
        assert server.stats.invalid_wraps == server.stats.invalid_tokens == 0
        assert alice.of(PushChanged)
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def test_removed_member_is_dropped_and_leaving_withdraws(
    relay: RelayProcess, tmp_path: Path
) -> None:
    await _server_inbox(relay.url)
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    carol = await make_client(tmp_path, relay.url, "carol")
    server = TriggerProcessor(SERVER)
    try:
        group = await alice.session.groups.create("Push", [bob.npub, carol.npub], profile="mip")
        await asyncio.gather(join(bob, group), join(carol, group))
        for client, token in ((alice, "a"), (bob, "b"), (carol, "c")):
            await _register(client, f"{token}-token", relay.url)
        await eventually(lambda: _member_tokens(alice, group.id), lambda n: n == 2)

        await alice.session.groups.remove_members(group.id, [bob.npub])
        stored = await alice.session.groups.store.by_nostr_id(group.id)
        assert stored is not None
        await alice.session.push.settle()
        rows = await alice.session.ctx.db.run(push_repo.tokens, stored.mls_group_id)
        assert bob.pubkey not in {r.pubkey for r in rows}  # dropped after the commit
        await _send(alice, group.id, "without bob")
        assert await eventually(lambda: _pushed(relay.url, server), bool) == [b"c-token"]

        await eventually(lambda: _member_tokens(carol, group.id), lambda n: n == 1)
        await carol.session.groups.leave(group.id)
        shared = await carol.session.ctx.db.run(accounts_repo.get_setting, SHARED, {})
        assert shared == {}
        await eventually(lambda: _member_tokens(alice, group.id), lambda n: n == 0)
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def test_registration_is_checked(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    try:
        push = alice.session.push
        for args in (
            ("gcm", "t", SERVER.public_key().hex, relay.url),
            ("apns", "not-hex", SERVER.public_key().hex, relay.url),
            ("fcm", "", SERVER.public_key().hex, relay.url),
            ("fcm", "t", "npub1nope", relay.url),
            ("fcm", "t", SERVER.public_key().hex, "http://not-a-relay"),
        ):
            with pytest.raises(InvalidInput):
                await push.register(*args)
        status = await push.register("apns", "ab" * 32, SERVER.public_key().to_bech32(), None)
        assert status.registration is not None
        assert status.registration.platform == "apns"
        assert not status.registration.shareable
        assert status.registration.token_hint == "abab…abab"
        reg = await push.registration()
        assert reg is not None and reg.device_token == b"\xab" * 32
        assert (await push.unregister()).registration is None
    finally:
        await alice.close()


async def _commit_order(client: Client, group_id: str) -> tuple[int, str]:
    """When and as which event our commit from the previous epoch went out."""
    group = await client.session.groups.store.by_nostr_id(group_id)
    assert group is not None
    db = client.session.account.db
    snap = await db.run(snapshots_repo.get, group.mls_group_id, group.epoch - 1)
    assert snap is not None
    return snap.commit.created_at, snap.commit.event_id


async def test_a_token_shared_on_a_lost_commit_race_branch_is_shared_again(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Two admins commit in one epoch, and the one whose commit loses shares its token
    before it learns so: that 447 is voided with its branch and must go out again (no
    other 447 comes to draw it out in a 448)."""
    await _server_inbox(relay.url)
    alice, bob, carol = [
        await make_client(tmp_path, relay.url, n, live=False) for n in ("alice", "bob", "carol")
    ]
    clients = (alice, bob, carol)

    async def settle_all() -> None:
        for client in clients:
            await catch_up(client)
            await client.session.push.settle()
            await client.session.flush(10)

    try:
        group = await alice.session.groups.create("Race", [bob.npub, carol.npub], profile="mip")
        await alice.session.flush(10)
        for guest in (bob, carol):
            await catch_up(guest)
            await join(guest, group)
        await settle_all()
        await alice.session.groups.promote(group.id, bob.npub)
        await settle_all()
        await asyncio.gather(
            alice.session.groups.rename(group.id, name="by alice"),
            bob.session.groups.rename(group.id, name="by bob"),
        )
        orders = {c.name: await _commit_order(c, group.id) for c in (alice, bob)}
        loser = alice if orders["alice"] > orders["bob"] else bob
        await _register(loser, "loser-token", relay.url)
        await loser.session.push.settle()
        await loser.session.flush(10)
        for _ in range(3):
            await settle_all()
        assert [c for c in clients if c.of(CommitRaceResolved)] == [loser]
        for client in clients:
            expected = 0 if client is loser else 1
            assert await _member_tokens(client, group.id) == expected, client.name
    finally:
        for client in clients:
            await client.close()
