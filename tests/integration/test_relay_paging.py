"""Catch-up past the real relay's cap of 500 stored events per filter, losing nothing.

The LocalRelay answers each REQ filter with its newest 500 stored events and then EOSE
(../shared/docs/relay.md); the pool must page back with ``until`` for the rest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from nostr.backoff import Backoff
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.keys import SecretKey
from nostr.relay import (
    EndOfStoredEvents,
    PoolOptions,
    ReceivedEvent,
    RelayPool,
    RelayStatus,
    SubscriptionItem,
)
from tests.helpers.fake_relay import Gate
from tests.helpers.nostr_factories import secret
from tests.helpers.relay import RelayFactory

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CAP = 500  # the relay's per-filter cap
FAST = PoolOptions(reconnect=Backoff(base=0.05, cap=0.2), publish_timeout=30)


def _notes(key: SecretKey, count: int, start: int, per_second: int, tag: str) -> list[Event]:
    """``count`` notes from ``start`` on, ``per_second`` sharing each second (page edges)."""
    pubkey = key.public_key()
    return [
        UnsignedEvent.create(pubkey, start + i // per_second, 1, f"{tag} {i}").sign(key)
        for i in range(count)
    ]


async def _publish_all(pool: RelayPool, events: list[Event]) -> None:
    results = await asyncio.gather(*(pool.publish(e, wait_all=True) for e in events))
    assert all(len(r.accepted) == len(pool.relays) for r in results)


async def _until(condition: Callable[[], bool], timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def _received(items: list[SubscriptionItem]) -> list[str]:
    return [i.event.id for i in items if isinstance(i, ReceivedEvent)]


async def test_catch_up_with_since_pages_past_the_cap_on_every_relay(
    relay_factory: RelayFactory,
) -> None:
    one, two = relay_factory(), relay_factory()
    alice = secret("alice")
    start = int(time.time()) - 1000
    stored = _notes(alice, 1200, start, per_second=3, tag="stored")
    too_old = _notes(alice, 5, start - 100, per_second=1, tag="too old")
    async with RelayPool(options=FAST) as writer, RelayPool(options=FAST) as reader:
        for relay in (one, two):
            await writer.add_relay(relay.url)
            await reader.add_relay(relay.url)
        await _publish_all(writer, stored + too_old)
        items: list[SubscriptionItem] = []
        flt = Filter(kinds={1}, authors={alice.public_key().hex}, since=start)
        sub = await reader.subscribe([flt], on_item=items.append)
        live = _notes(alice, 1, int(time.time()), per_second=1, tag="live")
        await _publish_all(writer, live)  # while the pages come in
        assert await sub.wait_eose(20)  # EOSE of both relays: after their last page
        assert {e.id for e in stored} <= set(_received(items))
        await _until(lambda: len(_received(items)) == len(stored) + 1)
        got = _received(items)
        assert len(got) == len(set(got)) == len(stored) + 1  # each exactly once
        assert set(got) == {e.id for e in stored + live}  # none lost, none before ``since``
        for url in reader.relays:
            # 1200 events at 500 a REQ: the subscription plus at least two pages per relay.
            assert reader.stats(url).pages >= 2
        assert sub.duplicates >= len(stored)  # the other relay's copies were dropped
        assert reader.stats().invalid_events == 0


async def test_an_outage_with_more_than_the_cap_is_caught_up_across_reconnects(
    relay_factory: RelayFactory,
) -> None:
    relay = relay_factory()
    bob = secret("bob")
    async with (
        Gate(relay.port or 0) as gate,
        RelayPool(options=FAST) as reader,
        RelayPool(options=FAST) as writer,
    ):
        url = await reader.add_relay(gate.url)
        await writer.add_relay(relay.url)
        items: list[SubscriptionItem] = []
        cut_again = asyncio.Event()

        def collect(item: SubscriptionItem) -> None:
            items.append(item)
            # Some 200 events into the first page: drop the network again.
            if len(items) > CAP + 200 and not cut_again.is_set():
                cut_again.set()
                gate.cut()
                asyncio.get_running_loop().call_later(0.2, gate.restore)

        flt = Filter(kinds={1}, authors={bob.public_key().hex})
        sub = await reader.subscribe([flt], since_margin=120, on_item=collect)
        assert await sub.wait_eose(5)
        gate.cut()
        await _until(lambda: reader.status(url) is not RelayStatus.CONNECTED, 5)
        missed = _notes(bob, 1100, int(time.time()) - 60, per_second=20, tag="missed")
        await _publish_all(writer, missed)
        assert reader.status(url) is not RelayStatus.CONNECTED
        gate.restore()
        await _until(lambda: len(set(_received(items))) == len(missed))
        await _until(lambda: isinstance(items[-1], EndOfStoredEvents) and gate.accepted >= 3)
        await asyncio.sleep(0.2)  # let any stray copy arrive
        got = _received(items)
        assert len(got) == len(set(got)) == len(missed)
        assert set(got) == {e.id for e in missed}
        assert cut_again.is_set()
        assert reader.stats(url).pages >= 2
