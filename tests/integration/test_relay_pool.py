"""RelayPool against the real relay (rust-nostr LocalRelay in its own process)."""

from __future__ import annotations

import asyncio
import time

import pytest

from nostr import nip59
from nostr.backoff import Backoff
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.keys import SecretKey
from nostr.kinds import Kind
from nostr.messages import MachineReadablePrefix
from nostr.relay import (
    ClosedByRelay,
    EndOfStoredEvents,
    PoolOptions,
    PublishOutcome,
    ReceivedEvent,
    RelayPool,
    RelayStatus,
    Subscription,
)
from nostr.signer import KeySigner
from tests.helpers.fake_relay import Gate
from tests.helpers.nostr_factories import secret
from tests.helpers.relay import RelayFactory, RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

FAST = PoolOptions(reconnect=Backoff(base=0.05, cap=0.5), publish_timeout=10)


def _note(key: SecretKey, content: str, kind: int = 1) -> Event:
    return UnsignedEvent.create(key.public_key(), int(time.time()), kind, content).sign(key)


async def _events(sub: Subscription, count: int, timeout: float = 10) -> list[ReceivedEvent]:
    got: list[ReceivedEvent] = []
    async with asyncio.timeout(timeout):
        async for item in sub:
            if isinstance(item, ReceivedEvent):
                got.append(item)
                if len(got) == count:
                    return got
    return got


async def test_publish_and_subscribe(relay: RelayProcess) -> None:
    alice = secret("alice")
    async with RelayPool(options=FAST) as pool:
        url = await pool.add_relay(relay.url)
        assert await pool.wait_connected(timeout=5)
        stored = _note(alice, "stored before subscribing")
        assert (await pool.publish(stored)).success
        sub = await pool.subscribe([Filter(authors={alice.public_key().hex}, kinds={1})])
        first = await anext(sub)
        assert first == ReceivedEvent(url, stored)
        assert await anext(sub) == EndOfStoredEvents(url)
        live = [_note(alice, f"live {i}") for i in range(3)]
        results = await asyncio.gather(*(pool.publish(e) for e in live))
        assert all(r.responses[url].outcome is PublishOutcome.ACCEPTED for r in results)
        got = await _events(sub, 3)
        assert sorted(g.event.id for g in got) == sorted(e.id for e in live)
        again = await pool.publish(stored)  # duplicates are accepted ("duplicate:")
        assert again.success
        fetched = await pool.fetch([Filter(authors={alice.public_key().hex})])
        assert {e.id for e in fetched} == {stored.id, *(e.id for e in live)}
        assert pool.stats().invalid_events == 0


async def test_two_relays_are_deduplicated(relay_factory: RelayFactory) -> None:
    one, two = relay_factory(), relay_factory()
    alice = secret("alice")
    async with RelayPool(options=FAST) as writer, RelayPool(options=FAST) as reader:
        for url in (one.url, two.url):
            await writer.add_relay(url)
            await reader.add_relay(url)
        sub = await reader.subscribe([Filter(kinds={1})])
        assert await sub.wait_eose(5)
        event = _note(alice, "to both")
        result = await writer.publish(event, wait_all=True)
        assert result.accepted == (one.url, two.url)
        got = await _events(sub, 1)
        assert got[0].event == event
        async with asyncio.timeout(5):
            while sub.duplicates < 1:  # the second copy arrives and is dropped
                await asyncio.sleep(0.01)
        assert sub.duplicates == 1
        fetched = await reader.fetch([Filter(ids={event.id})])
        assert fetched == [event]


async def test_reconnect_resubscribes_and_catches_up(relay_factory: RelayFactory) -> None:
    """Kill the relay mid-subscription; another client publishes while we are away.

    The pool reaches the relay through a ``Gate`` that stays cut until the others have
    published, so a quick reconnect cannot race them.
    """
    relay = relay_factory(persist=True)
    alice, bob = secret("alice"), secret("bob")
    slow = PoolOptions(reconnect=Backoff(base=0.1, cap=0.5, jitter=0))
    async with (
        Gate(relay.port or 0) as gate,
        RelayPool(options=slow) as pool,
        RelayPool(options=FAST) as other,
    ):
        url = await pool.add_relay(gate.url)
        statuses = pool.status_events()
        sub = await pool.subscribe([Filter(kinds={1})], since_margin=60)
        before = _note(alice, "before the crash")
        assert (await pool.publish(before)).success
        assert (await _events(sub, 1))[0].event == before
        relay.kill()  # the crash reaches the pool through the gate, which then stays shut
        gate.cut()
        async with asyncio.timeout(10):  # wait until a reconnect attempt has been refused
            refused = 0
            async for change in statuses:
                if change.status is RelayStatus.DISCONNECTED and "connect failed" in (
                    change.error or ""
                ):
                    refused += 1
                    if refused == 2:
                        break
        relay.start()  # same port, same LMDB directory
        await other.add_relay(relay.url)
        missed = [_note(bob, f"while you were away {i}") for i in range(2)]
        for event in missed:
            assert (await other.publish(event)).success
        assert pool.status(url) is not RelayStatus.CONNECTED  # published while we were down
        gate.restore()
        got = await _events(sub, 2)
        assert sorted(g.event.id for g in got) == sorted(e.id for e in missed)
        after = _note(alice, "live after reconnect")
        assert (await other.publish(after)).success
        assert (await _events(sub, 1))[0].event == after
        assert sub.duplicates <= 1  # "before" may be replayed once inside the margin
        await statuses.aclose()


async def test_auth_relay_works_through_automatic_auth(auth_relay: RelayProcess) -> None:
    alice, bob = secret("alice"), secret("bob")
    gift_filter = Filter(kinds={Kind.GIFT_WRAP}, tags={"p": {bob.public_key().hex}})
    async with (
        RelayPool(signer=KeySigner(bob), options=FAST) as bob_pool,
        RelayPool(signer=KeySigner(alice), options=FAST) as alice_pool,
    ):
        await bob_pool.add_relay(auth_relay.url)
        await alice_pool.add_relay(auth_relay.url)
        sub = await bob_pool.subscribe([gift_filter], since_margin=nip59.TIMESTAMP_TWEAK + 60)
        assert await sub.wait_eose(5)
        rumor = UnsignedEvent.create(alice.public_key(), int(time.time()), 14, "psst")
        wrap = nip59.gift_wrap(rumor, alice, bob.public_key(), now=int(time.time()))
        result = await alice_pool.publish(wrap)  # refused until alice's pool authenticates
        assert result.success, result
        got = await _events(sub, 1)
        opened = nip59.unwrap(got[0].event, bob)
        assert (opened.sender, opened.rumor.content) == (alice.public_key(), "psst")


async def test_auth_relay_without_a_signer_is_refused(auth_relay: RelayProcess) -> None:
    bob = secret("bob")
    async with RelayPool(options=FAST) as pool:
        url = await pool.add_relay(auth_relay.url)
        sub = await pool.subscribe([Filter(kinds={1})])
        item = await asyncio.wait_for(anext(sub), 5)
        assert isinstance(item, ClosedByRelay)
        assert item.prefix is MachineReadablePrefix.AUTH_REQUIRED
        assert await sub.wait_eose(1)
        result = await pool.publish(_note(bob, "x"), timeout=3)
        assert result.responses[url].outcome is PublishOutcome.REJECTED
        assert result.responses[url].prefix is MachineReadablePrefix.AUTH_REQUIRED


async def test_rate_limited_burst_eventually_succeeds(rate_limited_relay: RelayProcess) -> None:
    """The relay's real limit (60 EVENT/min per connection, refilled about 1/s)."""
    alice = secret("alice")
    options = PoolOptions(rate_limit=Backoff(base=0.6, cap=2, jitter=0.2), publish_timeout=40)
    burst = [_note(alice, f"burst {i}") for i in range(63)]
    async with RelayPool(options=options) as pool:
        url = await pool.add_relay(rate_limited_relay.url)
        results = await asyncio.gather(*(pool.publish(e) for e in burst))
        assert all(r.success for r in results)
        assert pool.stats(url).rate_limited >= 3  # the relay did push back
        fetched = await pool.fetch([Filter(authors={alice.public_key().hex})])
        assert {e.id for e in fetched} == {e.id for e in burst}
