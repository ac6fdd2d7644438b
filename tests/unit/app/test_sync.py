"""The sync engine over a fake pool: paging past relay caps, order, cursors and retries."""

from __future__ import annotations

import pytest

from app.sync import INBOX_MARGIN, MARGIN, GroupTarget, Incoming, Purpose, SyncEngine
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.keys import SecretKey
from nostr.kinds import Kind
from storage.repos import processed
from storage.repos import relays as relays_repo
from storage.rows import Outcome
from tests.unit.app.conftest import RELAY, START, Harness, seeded_rng

GROUP = "ab" * 32


def _group_event(created_at: int, n: int) -> Event:
    key = SecretKey.generate(seeded_rng(f"g{n}"))
    tags = (("h", GROUP), ("encoding", "base64"))
    return UnsignedEvent(key.public_key().hex, created_at, 445, tags, f"c{n}").sign(key)


def _engine(h: Harness, seen: list[Incoming], *, since: int = START - 86400) -> SyncEngine:
    async def route(item: Incoming) -> None:
        seen.append(item)

    async def groups() -> list[GroupTarget]:
        return [GroupTarget("g:1", GROUP, (RELAY,), since)]

    async def authors() -> list[str]:
        return [h.ctx.pubkey]

    return SyncEngine(h.ctx, h.relays, route, groups=groups, authors=authors)


@pytest.mark.asyncio
async def test_fetch_all_pages_past_the_relay_cap(harness: Harness) -> None:
    harness.pool.cap = 100
    stored = [_group_event(START - 1000 + i // 3, i) for i in range(350)]  # ties on seconds
    harness.pool.stored[RELAY] = {e.id: e for e in stored}
    engine = _engine(harness, [])
    found = await engine.fetch_all(Filter(kinds=[445], tags={"h": [GROUP]}), RELAY)
    assert {e.id for e in found} == {e.id for e in stored}
    assert len(harness.pool.fetches) >= 4  # one page was not enough


@pytest.mark.asyncio
async def test_catch_up_queues_in_order_and_advances_the_cursor(harness: Harness) -> None:
    events = [_group_event(START - 50 + (7 * i) % 40, i) for i in range(20)]
    harness.pool.stored[RELAY] = {e.id: e for e in events}
    seen: list[Incoming] = []
    engine = _engine(harness, seen)
    await engine.start(live=False)
    assert await engine.idle(5)
    groups = [i.event for i in seen if i.purpose is Purpose.GROUPS]
    assert [e.id for e in groups] == [
        e.id for e in sorted(events, key=lambda e: (e.created_at, e.id))
    ]
    assert await harness.ctx.db.run(relays_repo.cursor, "g:1", RELAY) == START
    assert await harness.ctx.db.run(relays_repo.cursor, "inbox", RELAY) == START
    await engine.stop()


@pytest.mark.asyncio
async def test_the_next_catch_up_starts_at_the_cursor_minus_the_margin(harness: Harness) -> None:
    engine = _engine(harness, [])
    await engine.start(live=False)
    assert await engine.idle(5)
    harness.pool.fetches.clear()
    harness.clock.advance(1000)
    await engine.catch_up(RELAY)
    sinces = {flt.kinds and min(flt.kinds): flt.since for _, flt in harness.pool.fetches}
    assert sinces[Kind.MLS_GROUP_MESSAGE] == START - MARGIN
    assert sinces[Kind.GIFT_WRAP] == START - INBOX_MARGIN
    await engine.stop()


@pytest.mark.asyncio
async def test_the_cursor_never_passes_an_event_waiting_for_a_retry(harness: Harness) -> None:
    waiting = _group_event(START - 500, 99)
    await harness.ctx.db.run(
        processed.mark,
        waiting.id,
        kind=445,
        created_at=waiting.created_at,
        outcome=Outcome.RETRYABLE,
        now=START,
        event_json=waiting.to_json(),
    )
    engine = _engine(harness, [])
    await engine.start(live=False)
    assert await engine.idle(5)
    assert await harness.ctx.db.run(relays_repo.cursor, "g:1", RELAY) == START - 500
    await engine.stop()


@pytest.mark.asyncio
async def test_a_failing_event_does_not_stop_the_others(harness: Harness) -> None:
    events = [_group_event(START - 10 + i, i) for i in range(3)]
    harness.pool.stored[RELAY] = {e.id: e for e in events}
    seen: list[str] = []

    async def route(item: Incoming) -> None:
        if item.event.id == events[1].id:
            raise RuntimeError("boom")
        seen.append(item.event.id)

    async def groups() -> list[GroupTarget]:
        return [GroupTarget("g:1", GROUP, (RELAY,), 0)]

    async def authors() -> list[str]:
        return []

    engine = SyncEngine(harness.ctx, harness.relays, route, groups=groups, authors=authors)
    await engine.start(live=False)
    assert await engine.idle(5)
    assert seen == [events[0].id, events[2].id]
    from app.events import ErrorRaised

    assert harness.of(ErrorRaised)
    await engine.stop()


@pytest.mark.asyncio
async def test_live_subscriptions_follow_purposes_per_relay(harness: Harness) -> None:
    engine = _engine(harness, [])
    await engine.resubscribe()
    by_purpose = {
        sub_id.split("-")[0]: sorted(k for f in filters for k in f.kinds or ())
        for sub_id, (filters, relays) in harness.pool.subscriptions.items()
        if relays == (RELAY,)
    }
    assert by_purpose["groups"] == [Kind.MLS_GROUP_MESSAGE]
    assert by_purpose["inbox"] == [Kind.GIFT_WRAP]
    assert Kind.METADATA in by_purpose["discovery"]
    assert Kind.MLS_KEY_PACKAGE in by_purpose["discovery"]
