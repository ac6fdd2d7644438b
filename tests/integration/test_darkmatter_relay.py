"""Profile B over the real relay: two of our Profile B clients find each other's 30443,
found a group through a gift-wrapped 444, and talk and rename through 445 events, every
event going through rust-nostr's relay process on 127.0.0.1 and read back by filter."""

from __future__ import annotations

import random
import time

import pytest

from marmot.profile_b.branches import BranchTree
from marmot.profile_b.components import ComponentId, GroupProfile
from marmot.profile_b.group import GroupSettings, create_group_b, group_view, update_components_b
from marmot.profile_b.inbound import AppReceived, CommitAdded, join_b, receive_group_event
from marmot.profile_b.key_package import create_key_package_b
from marmot.profile_b.key_package_event import key_package_event, select_key_packages_b
from marmot.profile_b.outbound import handshake_event, send_app_payload, welcome_wraps
from marmot.profile_b.payloads import PayloadKind
from marmot.profile_b.transport import parse_welcome_rumor_b
from nostr import nip59
from nostr.backoff import Backoff
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.keys import SecretKey
from nostr.relay import PoolOptions, RelayPool
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.darkmatter, pytest.mark.asyncio]

FAST = PoolOptions(reconnect=Backoff(base=0.05, cap=0.5), publish_timeout=10)
ALICE, BOB = SecretKey(bytes([0x11]) * 32), SecretKey(bytes([0x22]) * 32)


async def publish(pool: RelayPool, event: Event) -> None:
    result = await pool.publish(event)
    assert result.success, result


async def test_two_profile_b_clients_through_the_relay(relay: RelayProcess) -> None:
    now = int(time.time())
    rng = random.Random(16).randbytes
    async with RelayPool(options=FAST) as alice_pool, RelayPool(options=FAST) as bob_pool:
        for pool in (alice_pool, bob_pool):
            await pool.add_relay(relay.url)
            assert await pool.wait_connected(timeout=5)

        # bob's KeyPackage, found and validated by alice
        bundle = create_key_package_b(BOB, now=now, rng=rng)
        kp_event = key_package_event(bundle.key_package, BOB.public_key(), created_at=now, rng=rng)
        await publish(bob_pool, kp_event.sign(BOB, rng=rng))
        found = await alice_pool.fetch([Filter(kinds={30443}, authors={BOB.public_key().hex})])
        (candidate,) = select_key_packages_b(found, now=now)

        # alice founds the group; bob joins from the gift-wrapped welcome
        group_id = bytes(range(32))
        settings = GroupSettings("relay test", "", (), group_id, (relay.url,))
        founding = create_group_b(ALICE, settings, [candidate.key_package], now=now, rng=rng)
        assert founding.pending is not None
        (wrap,) = welcome_wraps(
            ALICE, founding.pending, [(BOB.public_key(), candidate.event_id)], now=now, rng=rng
        )
        await publish(alice_pool, wrap)
        alice = founding.pending.next_state
        wraps = await bob_pool.fetch([Filter(kinds={1059}, tags={"p": {BOB.public_key().hex}})])
        rumor = parse_welcome_rumor_b(nip59.unwrap(wraps[0], BOB).rumor)
        assert rumor.key_package_event_id == kp_event.id and rumor.relays == (relay.url,)
        bob_tree: BranchTree[UnsignedEvent] = BranchTree(join_b(rumor, bundle))
        alice_tree: BranchTree[UnsignedEvent] = BranchTree(alice)

        # a chat each way
        hello = UnsignedEvent.create(ALICE.public_key(), now, PayloadKind.CHAT, "hello bob")
        event, alice_tree.canonical.state = send_app_payload(
            alice_tree.canonical.state, hello, rng=rng
        )
        await publish(alice_pool, event)
        reply = UnsignedEvent.create(BOB.public_key(), now, PayloadKind.CHAT, "hi alice")
        event, bob_tree.canonical.state = send_app_payload(bob_tree.canonical.state, reply, rng=rng)
        await publish(bob_pool, event)
        h = {"h": {group_id.hex()}}
        for tree, pool, want in ((bob_tree, bob_pool, hello), (alice_tree, alice_pool, reply)):
            events = await pool.fetch([Filter(kinds={445}, tags=h)])
            got = [receive_group_event(tree, e, now=now) for e in events]
            received = [g.payload for g in got if isinstance(g, AppReceived)]
            assert received == [want]

        # alice renames: a commit through the relay, applied by bob
        pending = update_components_b(
            alice_tree.canonical.state,
            {ComponentId.GROUP_PROFILE: GroupProfile("renamed").encode()},
            rng=rng,
        )
        await publish(
            alice_pool,
            handshake_event(alice_tree.canonical.state, pending.message, created_at=now, rng=rng),
        )
        events = await bob_pool.fetch([Filter(kinds={445}, tags=h)])
        outcomes = [receive_group_event(bob_tree, e, now=now) for e in events]
        assert sum(isinstance(o, CommitAdded) and o.adopted for o in outcomes) == 1
        assert group_view(bob_tree.canonical.state).profile.name == "renamed"
        assert bob_tree.canonical.epoch == pending.next_state.epoch == 2
