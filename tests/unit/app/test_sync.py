"""The sync engine over a fake pool: paging past relay caps, order, cursors and retries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from app.events import ErrorRaised
from app.sync import (
    INBOX_MARGIN,
    MARGIN,
    MAX_FAILURES,
    GroupTarget,
    Incoming,
    Purpose,
    SyncEngine,
)
from app.sync_plan import fetch_all
from nostr.backoff import Backoff
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
    found = await fetch_all(harness.ctx, Filter(kinds=[445], tags={"h": [GROUP]}), RELAY)
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
async def test_a_failing_event_does_not_stop_the_others_and_holds_the_cursor(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.sync.RETRY", Backoff(base=0.01, cap=0.01))
    events = [_group_event(START - 10 + i, i) for i in range(3)]
    harness.pool.stored[RELAY] = {e.id: e for e in events}
    seen: list[str] = []
    broken = {events[1].id}
    db = harness.ctx.db

    async def route(item: Incoming) -> None:
        if item.event.id in broken:
            raise RuntimeError("boom")
        seen.append(item.event.id)
        await db.run(
            processed.mark,
            item.event.id,
            kind=445,
            created_at=item.event.created_at,
            outcome=Outcome.PROCESSED,
            now=START,
        )

    async def groups() -> list[GroupTarget]:
        return [GroupTarget("g:1", GROUP, (RELAY,), 0)]

    async def authors() -> list[str]:
        return []

    engine = SyncEngine(harness.ctx, harness.relays, route, groups=groups, authors=authors)
    await engine.start(live=False)
    assert await engine.idle(5)
    assert seen == [events[0].id, events[2].id]
    assert harness.of(ErrorRaised)
    mark = await db.run(processed.get, events[1].id)
    assert mark is not None and mark.outcome is Outcome.RETRYABLE and mark.event_json
    # The cursor waits for the event that could not be processed ...
    assert await db.run(relays_repo.cursor, "g:1", RELAY) == events[1].created_at
    # ... which is tried again, and once it went through the cursor moves on.
    broken.clear()
    await _until(lambda: events[1].id in seen)
    await engine.catch_up(RELAY)
    assert await db.run(relays_repo.cursor, "g:1", RELAY) == START
    await engine.stop()


@pytest.mark.asyncio
async def test_an_event_that_keeps_failing_is_given_up(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.sync.RETRY", Backoff(base=0.01, cap=0.01))
    event = _group_event(START - 10, 1)
    harness.pool.stored[RELAY] = {event.id: event}
    calls: list[str] = []

    async def route(item: Incoming) -> None:
        calls.append(item.event.id)
        raise RuntimeError("always")

    async def groups() -> list[GroupTarget]:
        return [GroupTarget("g:1", GROUP, (RELAY,), 0)]

    async def authors() -> list[str]:
        return []

    engine = SyncEngine(harness.ctx, harness.relays, route, groups=groups, authors=authors)
    await engine.start(live=False)

    async def given_up() -> bool:
        mark = await harness.ctx.db.run(processed.get, event.id)
        return mark is not None and mark.outcome is Outcome.FAILED

    await _until_async(given_up)
    assert len(calls) == MAX_FAILURES
    await engine.catch_up(RELAY)  # a final failure no longer holds the cursor
    assert await harness.ctx.db.run(relays_repo.cursor, "g:1", RELAY) == START
    await engine.stop()


@pytest.mark.asyncio
async def test_a_relay_that_does_not_answer_in_full_moves_no_cursor(harness: Harness) -> None:
    events = [_group_event(START - 10 + i, i) for i in range(3)]
    harness.pool.stored[RELAY] = {e.id: e for e in events}
    harness.pool.no_eose.add(RELAY)  # a timeout, a CLOSED or a dropped connection
    seen: list[Incoming] = []
    engine = _engine(harness, seen)
    await engine.start(live=False)
    assert not await engine.idle(5)  # reported as not caught up
    assert await harness.ctx.db.run(relays_repo.cursor, "g:1", RELAY) is None
    assert seen == []  # a partial answer is not processed as if it were the whole
    harness.pool.no_eose.clear()
    assert await engine.catch_up(RELAY) == 3
    assert await engine.idle(5)
    assert await harness.ctx.db.run(relays_repo.cursor, "g:1", RELAY) == START
    await engine.stop()


@pytest.mark.asyncio
async def test_a_request_not_answered_in_full_holds_only_its_own_cursor(harness: Harness) -> None:
    """The relay refuses the gift-wrap request: the group's events are still processed
    and its cursor moves; the inbox cursor stays for the retry."""
    events = [_group_event(START - 10 + i, i) for i in range(3)]
    harness.pool.stored[RELAY] = {e.id: e for e in events}
    harness.pool.no_eose_kinds.add(Kind.GIFT_WRAP)
    seen: list[Incoming] = []
    engine = _engine(harness, seen)
    await engine.start(live=False)
    assert not await engine.idle(5)
    assert {i.event.id for i in seen if i.purpose is Purpose.GROUPS} == {e.id for e in events}
    assert await harness.ctx.db.run(relays_repo.cursor, "g:1", RELAY) == START
    assert await harness.ctx.db.run(relays_repo.cursor, "inbox", RELAY) is None
    await engine.stop()


@pytest.mark.asyncio
async def test_a_group_joined_during_a_catch_up_keeps_its_own_cursor(harness: Harness) -> None:
    """Only the cursors a catch-up fetched for may move: a group added meanwhile (an
    invite accepted) is fetched from where it starts, by its own catch-up."""
    event = _group_event(START - 10, 1)
    harness.pool.stored[RELAY] = {event.id: event}
    targets = [GroupTarget("g:1", GROUP, (RELAY,), 0)]

    async def route(item: Incoming) -> None:
        targets.append(GroupTarget("g:2", "cd" * 32, (RELAY,), START - 5000))

    async def groups() -> list[GroupTarget]:
        return list(targets)

    async def authors() -> list[str]:
        return []

    engine = SyncEngine(harness.ctx, harness.relays, route, groups=groups, authors=authors)
    await engine.start(live=False)
    assert await engine.idle(5)
    assert await harness.ctx.db.run(relays_repo.cursor, "g:1", RELAY) == START
    assert await harness.ctx.db.run(relays_repo.cursor, "g:2", RELAY) is None
    await engine.stop()


async def _until(ok: Callable[[], bool]) -> None:
    async def probe() -> bool:
        return ok()

    await _until_async(probe)


async def _until_async(ok: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(500):
        if await ok():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not reached")


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
    assert Kind.MLS_KEY_PACKAGE_LEGACY in by_purpose["discovery"]  # our Profile A devices
