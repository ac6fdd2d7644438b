"""The pool against scripted relays: junk, forgeries, throttling, silence, dropped sockets."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from nostr.backoff import Backoff
from nostr.errors import RelayRejected
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.messages import (
    ClientClose,
    ClientEvent,
    ClientMessage,
    ClientReq,
    MachineReadablePrefix,
    RelayClosed,
    RelayEose,
    RelayEvent,
    RelayOk,
)
from nostr.relay import (
    ClosedByRelay,
    EndOfStoredEvents,
    PoolOptions,
    PublishOutcome,
    ReceivedEvent,
    RelayPool,
    RelayStatus,
    RelayStatusChanged,
    SubscriptionItem,
)
from tests.helpers.fake_relay import FakeConnection, FakeRelay, SilentServer
from tests.helpers.nostr_factories import make_event, secret

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

FAST = PoolOptions(
    reconnect=Backoff(base=0.05, cap=0.2),
    rate_limit=Backoff(base=0.05, cap=0.1),
    max_message_size=2000,
    publish_timeout=5,
)
GOOD = make_event(content="good")
LIVE = make_event(content="live")


async def _hostile(conn: FakeConnection, message: ClientMessage) -> None:
    if not isinstance(message, ClientReq):
        return
    sub = message.subscription_id
    for frame in (
        "this is not json",
        '["NOTICE"]',
        RelayEvent(sub, replace(GOOD, content="forged")).to_json(),
        RelayEvent(sub, make_event(kind=7)).to_json(),
        RelayEvent("someone-else", GOOD).to_json(),
        '["NOTICE","' + "x" * 3000 + '"]',  # over max_message_size
        b'["NOTICE","in a binary frame"]',
        RelayEvent(sub, GOOD).to_json(),
        RelayEose(sub).to_json(),
    ):
        await conn.send_raw(frame)
    await asyncio.sleep(0.05)
    await conn.send_raw(RelayEvent(sub, LIVE).to_json())


async def _collect(pool: RelayPool, url: str, count: int) -> list[object]:
    sub = await pool.subscribe([Filter(kinds={1})], relays=[url])
    items: list[object] = []
    async with asyncio.timeout(5):
        async for item in sub:
            items.append(item)
            if len(items) == count:
                break
    return items


async def test_junk_and_forgeries_are_dropped_without_breaking_the_connection() -> None:
    changes: list[RelayStatusChanged] = []
    async with (
        FakeRelay(_hostile) as fake,
        RelayPool(options=FAST, on_status=changes.append) as pool,
    ):
        await pool.add_relay(fake.url)
        items = await _collect(pool, fake.url, 3)
        assert items == [
            ReceivedEvent(fake.url, GOOD),
            EndOfStoredEvents(fake.url),
            ReceivedEvent(fake.url, LIVE),  # the same connection still delivers
        ]
        stats = pool.stats(fake.url)
        assert (stats.malformed, stats.invalid_events, stats.mismatched) == (2, 1, 1)
        assert (stats.unknown_subscription, stats.oversized, stats.notices) == (1, 1, 1)
        assert fake.connections == 1
        assert [c.status for c in changes] == [RelayStatus.CONNECTING, RelayStatus.CONNECTED]


@pytest.mark.parametrize("fragmented", [False, True])
async def test_an_oversize_message_costs_that_message_not_the_connection(
    fragmented: bool,
) -> None:
    """A stored event far over the cap, in the middle of a catch-up: the events around it
    arrive on the same connection, and it is counted once."""
    huge = RelayEvent("s", make_event(content="x" * 50_000)).to_json()

    async def stored(conn: FakeConnection, message: ClientMessage) -> None:
        if not isinstance(message, ClientReq):
            return
        sub = message.subscription_id
        await conn.send_raw(RelayEvent(sub, GOOD).to_json())
        if fragmented:  # the cap is crossed only in a later fragment
            await conn.ws.send([huge[i : i + 1500] for i in range(0, len(huge), 1500)])
        else:
            await conn.send_raw(huge)
        await conn.send_raw(RelayEvent(sub, LIVE).to_json())
        await conn.send_raw(RelayEose(sub).to_json())

    async with FakeRelay(stored) as fake, RelayPool(options=FAST) as pool:
        await pool.add_relay(fake.url)
        items = await _collect(pool, fake.url, 3)
        assert items[:2] == [ReceivedEvent(fake.url, GOOD), ReceivedEvent(fake.url, LIVE)]
        assert isinstance(items[2], EndOfStoredEvents)
        assert fake.connections == 1
        assert pool.stats(fake.url).oversized == 1


async def test_rate_limited_publish_is_retried_until_accepted() -> None:
    async def throttle(conn: FakeConnection, message: ClientMessage) -> None:
        if isinstance(message, ClientEvent):
            accepted = sum(isinstance(m, ClientEvent) for m in fake.received) > 2
            reason = "" if accepted else "rate-limited: slow down"
            await conn.send_raw(RelayOk(message.event.id, accepted, reason).to_json())

    async with FakeRelay(throttle) as fake, RelayPool(options=FAST) as pool:
        await pool.add_relay(fake.url)
        result = await pool.publish(GOOD)
        assert result.success
        assert result.responses[fake.url].outcome is PublishOutcome.ACCEPTED
        assert pool.stats(fake.url).rate_limited == 2
        assert sum(isinstance(m, ClientEvent) for m in fake.received) == 3


async def test_publish_survives_a_connection_dropped_before_ok() -> None:
    async def flaky(conn: FakeConnection, message: ClientMessage) -> None:
        if isinstance(message, ClientEvent):
            if conn.index == 0:
                await conn.close()
            else:
                await conn.send_raw(RelayOk(message.event.id, True, "").to_json())

    async with FakeRelay(flaky) as fake, RelayPool(options=FAST) as pool:
        await pool.add_relay(fake.url)
        result = await pool.publish(GOOD)
        assert result.success
        assert fake.connections == 2


async def test_per_relay_outcomes() -> None:
    async def refuse(conn: FakeConnection, message: ClientMessage) -> None:
        if isinstance(message, ClientEvent):
            await conn.send_raw(RelayOk(message.event.id, False, "blocked: not you").to_json())

    async def mute(conn: FakeConnection, message: ClientMessage) -> None:
        return

    async with (
        FakeRelay() as ok_relay,
        FakeRelay(refuse) as no_relay,
        FakeRelay(mute) as mute_relay,
        RelayPool(options=FAST) as pool,
    ):
        for relay in (ok_relay, no_relay, mute_relay):
            await pool.add_relay(relay.url)
        result = await pool.publish(GOOD, timeout=0.5, wait_all=True)
        assert result.success
        assert result.accepted == (ok_relay.url,)
        assert result.responses[no_relay.url].outcome is PublishOutcome.REJECTED
        assert result.responses[no_relay.url].message == "blocked: not you"
        assert result.responses[mute_relay.url].outcome is PublishOutcome.TIMED_OUT
        failed = await pool.publish(GOOD, relays=[no_relay.url, mute_relay.url], timeout=0.3)
        assert not failed.success
        with pytest.raises(RelayRejected) as info:
            failed.raise_for_failure()
        assert info.value.prefix == "blocked"
        quick = await pool.publish(LIVE, relays=[ok_relay.url, mute_relay.url], timeout=2)
        assert quick.success
        assert quick.responses[mute_relay.url].outcome is PublishOutcome.PENDING


async def test_connect_timeout_and_keepalive() -> None:
    options = replace(
        FAST, connect_timeout=0.2, ping_interval=0.1, ping_timeout=0.2, close_timeout=0.1
    )
    async with SilentServer(handshake=False) as deaf, RelayPool(options=options) as pool:
        changes = pool.status_events()
        await pool.add_relay(deaf.url)
        async with asyncio.timeout(5):
            async for change in changes:
                if change.status is RelayStatus.DISCONNECTED:
                    break
        assert change.error is not None and "connect failed" in change.error
        assert not pool.stats(deaf.url).messages
    async with SilentServer(handshake=True) as mute, RelayPool(options=options) as pool:
        changes = pool.status_events()
        await pool.add_relay(mute.url)
        seen = []
        async with asyncio.timeout(5):
            async for change in changes:
                seen.append(change.status)
                if change.status is RelayStatus.DISCONNECTED:
                    break
        assert RelayStatus.CONNECTED in seen  # it connected, then pings went unanswered
        await changes.aclose()


async def test_resubscription_resumes_from_the_cursor() -> None:
    old = make_event(content="old", created_at=900)

    async def once(conn: FakeConnection, message: ClientMessage) -> None:
        if isinstance(message, ClientReq) and conn.index == 0:
            await conn.send_raw(RelayEvent(message.subscription_id, old).to_json())
            await conn.send_raw(RelayEose(message.subscription_id).to_json())
            await conn.close()
        elif isinstance(message, ClientReq):
            await conn.send_raw(RelayEose(message.subscription_id).to_json())

    async with FakeRelay(once) as fake, RelayPool(options=FAST, clock=lambda: 1000.0) as pool:
        await pool.add_relay(fake.url)
        sub = await pool.subscribe([Filter(kinds={1}, limit=5)], id="s", since_margin=30)
        async with asyncio.timeout(5):
            while len([m for m in fake.received if isinstance(m, ClientReq)]) < 2:
                await asyncio.sleep(0.01)
        first, second = [m for m in fake.received if isinstance(m, ClientReq)]
        assert first.filters == (Filter(kinds={1}, limit=5),)
        # EOSE came at t=1000 (after the newest event, 900): resume 30 s before it.
        assert second.filters == (Filter(kinds={1}, since=970),)
        assert second.subscription_id == sub.id == "s"


@pytest.mark.parametrize("same_second", [False, True], ids=["ignores-until", "one-second"])
async def test_a_relay_repeating_one_full_page_cannot_make_paging_loop(same_second: bool) -> None:
    """Every REQ, page or not, gets the same full answer: paging must end, not spin."""
    page = [
        make_event(content=f"p{i}", created_at=1000 - (0 if same_second else i)) for i in range(5)
    ]

    async def repeat(conn: FakeConnection, message: ClientMessage) -> None:
        if isinstance(message, ClientReq):
            for event in page:
                await conn.send_raw(RelayEvent(message.subscription_id, event).to_json())
            await conn.send_raw(RelayEose(message.subscription_id).to_json())

    options = replace(FAST, page_threshold=len(page))
    async with FakeRelay(repeat) as fake, RelayPool(options=options) as pool:
        await pool.add_relay(fake.url)
        items: list[object] = []
        sub = await pool.subscribe([Filter(kinds={1})], on_item=items.append)
        assert await sub.wait_eose(5)
        await asyncio.sleep(0.1)  # room for a runaway loop to show itself
        reqs = [m for m in fake.received if isinstance(m, ClientReq)]
        # A page in one second steps one second down; a page the relay ignores ends it.
        untils = [1000, 999] if same_second else [996]
        assert [r.filters for r in reqs] == [
            (Filter(kinds={1}),),
            *((Filter(kinds={1}, until=u),) for u in untils),
        ]
        closed = [m.subscription_id for m in fake.received if isinstance(m, ClientClose)]
        assert closed == [r.subscription_id for r in reqs[1:]]
        assert items == [*(ReceivedEvent(fake.url, e) for e in page), EndOfStoredEvents(fake.url)]
        stats = pool.stats(fake.url)
        # Newer than the page's ``until``: refused; at it: a copy the pool drops.
        assert stats.mismatched == (5 if same_second else 4)
        assert sub.duplicates == (5 if same_second else 1)
        assert stats.pages == len(untils)


class _FailingSigner:
    """A signer that cannot sign (locked), once the test lets it answer."""

    def __init__(self) -> None:
        self.public_key = secret("alice").public_key()
        self.release = asyncio.Event()

    async def sign_event(self, unsigned: UnsignedEvent) -> Event:
        await self.release.wait()
        raise RuntimeError("the signer is locked")


async def test_a_failing_consumer_does_not_cost_the_other_subscriptions_their_items() -> None:
    """AUTH fails and closes two waiting subscriptions; the first one's callback raises."""

    async def demand_auth(conn: FakeConnection, message: ClientMessage) -> None:
        if isinstance(message, ClientReq):
            await conn.send_raw('["AUTH","challenge"]')
            await conn.send_raw(RelayClosed(message.subscription_id, "auth-required: x").to_json())
            await conn.send_raw(f'["NOTICE","{message.subscription_id} refused"]')

    def broken(item: SubscriptionItem) -> None:
        raise RuntimeError("a bug in the first consumer")

    signer = _FailingSigner()
    seen: list[SubscriptionItem] = []
    async with FakeRelay(demand_auth) as fake, RelayPool(signer=signer, options=FAST) as pool:
        await pool.add_relay(fake.url)
        assert await pool.wait_connected(timeout=5)
        await pool.subscribe([Filter(kinds={1})], id="first", on_item=broken)
        await pool.subscribe([Filter(kinds={1})], id="second", on_item=seen.append)
        async with asyncio.timeout(5):  # both refusals are in once both notices are
            while pool.stats(fake.url).notices < 2:
                await asyncio.sleep(0.01)
        signer.release.set()
        async with asyncio.timeout(5):
            while not seen:
                await asyncio.sleep(0.01)
        assert seen == [
            ClosedByRelay(
                fake.url,
                "signer failed: RuntimeError('the signer is locked')",
                MachineReadablePrefix.AUTH_REQUIRED,
            )
        ]
