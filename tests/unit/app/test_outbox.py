"""The durable outbox over a fake pool: store first, retry with backoff, chains, hooks."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.outbox import MAX_AGE, STALE_AFTER, Attempt, Outbox
from nostr.event import Event, UnsignedEvent
from storage import Connection
from storage.repos import outbox as outbox_repo
from storage.rows import OutboxEntry, OutboxState
from tests.unit.app.conftest import RELAY, Harness
from tests.unit.app.fakes import accept, reject_invalid, time_out


async def _note(h: Harness, text: str) -> Event:
    unsigned = UnsignedEvent.create(h.ctx.pubkey, h.clock.now(), 1, text)
    return await h.ctx.sign(unsigned)


class RecordingHook:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.failed: list[tuple[str, bool]] = []
        self.after_calls: list[tuple[str, Any]] = []

    def on_sent(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        assert conn.in_transaction  # runs inside the transaction that marks it sent
        self.sent.append(entry.event_id)
        return "merged"

    def on_failed(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        self.failed.append((entry.event_id, attempt.final))
        return "failed"

    def after(self, entry: OutboxEntry, attempt: Attempt, result: Any) -> None:
        self.after_calls.append((entry.event_id, result))


@pytest.mark.asyncio
async def test_an_enqueued_event_is_published_once_and_marked_sent(harness: Harness) -> None:
    hook = RecordingHook()
    harness.ctx.outbox.register("note", hook)
    event = await _note(harness, "hello")
    entry_id = await harness.ctx.enqueue(event, [RELAY], "note")
    assert await harness.ctx.outbox.flush() == 1
    assert [e.id for _, e in harness.pool.published] == [event.id]
    entry = await harness.ctx.db.run(outbox_repo.get, entry_id)
    assert entry is not None and entry.state is OutboxState.SENT
    assert entry.accepted_by == (RELAY,)
    assert hook.sent == [event.id] and hook.after_calls == [(event.id, "merged")]
    assert await harness.ctx.outbox.flush() == 0  # nothing left, nothing re-sent
    assert len(harness.pool.published) == 1


@pytest.mark.asyncio
async def test_a_timeout_is_retried_later_with_backoff(harness: Harness) -> None:
    hook = RecordingHook()
    harness.ctx.outbox.register("note", hook)
    harness.pool.answer = time_out
    entry_id = await harness.ctx.enqueue(await _note(harness, "x"), [RELAY], "note")
    assert await harness.ctx.outbox.flush() == 0
    entry = await harness.ctx.db.run(outbox_repo.get, entry_id)
    assert entry is not None and entry.state is OutboxState.PENDING
    assert entry.attempts == 1 and entry.next_attempt_at > harness.clock.now()
    assert hook.failed == [(entry.event_id, False)]
    # Not due yet: a normal flush leaves it alone.
    assert await harness.ctx.outbox.flush() == 0
    assert harness.ctx.outbox.attempts == 1
    harness.pool.answer = accept
    harness.clock.advance(3600)
    assert await harness.ctx.outbox.flush() == 1
    entry = await harness.ctx.db.run(outbox_repo.get, entry_id)
    assert entry is not None and entry.state is OutboxState.SENT and entry.attempts == 2


@pytest.mark.asyncio
async def test_backoff_grows_with_each_failed_attempt(harness: Harness) -> None:
    harness.pool.answer = time_out
    entry_id = await harness.ctx.enqueue(await _note(harness, "y"), [RELAY], "note")
    delays = []
    for _ in range(5):
        before = harness.clock.now()
        await harness.ctx.outbox.flush(force=True)
        entry = await harness.ctx.db.run(outbox_repo.get, entry_id)
        assert entry is not None
        delays.append(entry.next_attempt_at - before)
    assert delays == sorted(delays) and delays[-1] > delays[0]


@pytest.mark.asyncio
async def test_an_invalid_rejection_is_final_and_fails_the_followers(harness: Harness) -> None:
    hook = RecordingHook()
    harness.ctx.outbox.register("note", hook)
    harness.pool.answer = reject_invalid
    first = await harness.ctx.enqueue(await _note(harness, "commit"), [RELAY], "note")
    second = await harness.ctx.enqueue(
        await _note(harness, "welcome"), [RELAY], "note", after_id=first
    )
    await harness.ctx.outbox.flush(force=True)
    a = await harness.ctx.db.run(outbox_repo.get, first)
    b = await harness.ctx.db.run(outbox_repo.get, second)
    assert a is not None and a.state is OutboxState.FAILED
    assert b is not None and b.state is OutboxState.FAILED
    assert harness.pool.published == []
    assert hook.failed == [(a.event_id, True)]


@pytest.mark.asyncio
async def test_a_follower_waits_for_its_predecessor(harness: Harness) -> None:
    harness.pool.answer = time_out
    commit = await _note(harness, "commit")
    welcome = await _note(harness, "welcome")
    first = await harness.ctx.enqueue(commit, [RELAY], "note")
    await harness.ctx.enqueue(welcome, [RELAY], "note", after_id=first)
    await harness.ctx.outbox.flush(force=True)
    assert harness.pool.published == []  # the welcome was never tried before the commit
    harness.pool.answer = accept
    assert await harness.ctx.outbox.flush(force=True) == 2
    assert [e.id for _, e in harness.pool.published] == [commit.id, welcome.id]


@pytest.mark.asyncio
async def test_pending_entries_survive_a_new_outbox(harness: Harness) -> None:
    harness.pool.answer = time_out
    event = await _note(harness, "later")
    await harness.ctx.enqueue(event, [RELAY], "note")
    await harness.ctx.outbox.flush()
    harness.pool.answer = accept
    fresh = Outbox(
        harness.ctx.db,
        harness.ctx.pool,
        harness.clock,
        publish_timeout=1.0,
        hold=harness.relays.hold,
        release=harness.relays.release,
    )
    assert await fresh.flush(force=True) == 1
    assert [e.id for _, e in harness.pool.published] == [event.id]


@pytest.mark.asyncio
async def test_wait_returns_once_sent(harness: Harness) -> None:
    entry_id = await harness.ctx.enqueue(await _note(harness, "w"), [RELAY], "note")
    await harness.ctx.outbox.flush()
    entry = await harness.ctx.outbox.wait(entry_id, 1.0)
    assert entry is not None and entry.state is OutboxState.SENT


@pytest.mark.asyncio
async def test_an_entry_older_than_a_week_is_given_up(harness: Harness) -> None:
    harness.pool.answer = time_out
    entry_id = await harness.ctx.enqueue(await _note(harness, "old"), [RELAY], "note")
    harness.clock.advance(MAX_AGE + 1)
    await harness.ctx.outbox.flush(force=True)
    entry = await harness.ctx.db.run(outbox_repo.get, entry_id)
    assert entry is not None and entry.state is OutboxState.FAILED


@pytest.mark.asyncio
async def test_an_event_that_waited_too_long_goes_out_renewed(harness: Harness) -> None:
    """A stale event is offered to ``renew``; its replacement is stored in the entry,
    published, and is what the hooks see. A fresh one is published as it is."""
    hook = RecordingHook()
    outbox = harness.ctx.outbox
    outbox.register("note", hook)
    offered: list[str] = []

    async def renew(
        entry: OutboxEntry, event: Event, relays: tuple[str, ...]
    ) -> tuple[OutboxEntry, Event] | None:
        assert relays == (RELAY,)
        offered.append(event.id)
        fresh = await _note(harness, "renewed")
        await harness.ctx.db.run(
            outbox_repo.replace_event, entry.id, fresh.id, fresh.to_json(), now=fresh.created_at
        )
        return replace(entry, event_id=fresh.id, event_json=fresh.to_json()), fresh

    outbox.renew = renew
    harness.pool.answer = time_out
    old = await _note(harness, "old")
    entry_id = await harness.ctx.enqueue(old, [RELAY], "note")
    assert await outbox.flush() == 0 and offered == []  # just made: never renewed
    harness.pool.answer = accept
    harness.clock.advance(STALE_AFTER + 1)
    assert await outbox.flush(force=True) == 1
    [(_, published)] = harness.pool.published
    assert offered == [old.id] and published.content == "renewed"
    entry = await harness.ctx.db.run(outbox_repo.get, entry_id)
    assert entry is not None and entry.event_id == published.id
    assert entry.state is OutboxState.SENT and hook.sent == [published.id]
