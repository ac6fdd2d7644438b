"""Processed events (dedupe with outcome) and the durable outbox (ordering, retries)."""

from __future__ import annotations

import pytest

from storage import Connection, NotFound
from storage.repos import groups, outbox, processed
from storage.rows import OutboxState, Outcome
from tests.helpers.storage_factories import hexid


def _mark(
    conn: Connection, label: str, outcome: Outcome, *, created_at: int = 100, **kw: object
) -> str:
    event_id = hexid(label)
    processed.mark(
        conn,
        event_id,
        kind=445,
        created_at=created_at,
        outcome=outcome,
        now=created_at + 1,
        **kw,  # type: ignore[arg-type]
    )
    return event_id


def test_outcomes_and_dedupe(conn: Connection, group: bytes) -> None:
    done = _mark(conn, "a", Outcome.PROCESSED, mls_group_id=group, epoch=2, event_json="{}")
    failed = _mark(conn, "b", Outcome.FAILED, reason="bad tag", event_json='{"b":1}')
    waiting = _mark(conn, "c", Outcome.RETRYABLE, reason="future epoch", event_json='{"c":1}')
    assert processed.is_done(conn, done) and processed.is_done(conn, failed)
    assert not processed.is_done(conn, waiting) and not processed.is_done(conn, hexid("new"))
    record = processed.get(conn, done)
    assert record is not None
    assert (record.outcome, record.mls_group_id, record.epoch, record.event_json) == (
        Outcome.PROCESSED,
        group,
        2,
        None,  # processed events do not keep their JSON
    )
    assert processed.get(conn, failed).event_json == '{"b":1}'  # type: ignore[union-attr]
    # A retry that succeeds: attempts count, JSON dropped, group learned.
    processed.mark(
        conn,
        waiting,
        kind=445,
        created_at=100,
        outcome=Outcome.PROCESSED,
        now=200,
        mls_group_id=group,
    )
    again = processed.get(conn, waiting)
    assert again is not None
    assert (again.outcome, again.attempts, again.event_json, again.mls_group_id) == (
        Outcome.PROCESSED,
        2,
        None,
        group,
    )


def test_retry_queue_and_the_cursor_floor(conn: Connection) -> None:
    assert processed.oldest_retryable(conn) is None
    late = _mark(conn, "late", Outcome.RETRYABLE, created_at=300, event_json="{}")
    early = _mark(conn, "early", Outcome.RETRYABLE, created_at=200, event_json="{}")
    _mark(conn, "done", Outcome.PROCESSED, created_at=100)
    assert [e.event_id for e in processed.retryable(conn)] == [early, late]
    assert processed.oldest_retryable(conn) == 200
    assert processed.retryable(conn, limit=1)[0].event_id == early


def test_rollback_gives_failed_events_another_chance(conn: Connection, group: bytes) -> None:
    failed = _mark(conn, "f", Outcome.FAILED, mls_group_id=group, event_json="{}")
    _mark(conn, "ok", Outcome.PROCESSED, mls_group_id=group)
    _mark(conn, "elsewhere", Outcome.FAILED, event_json="{}")
    assert processed.mark_failed_retryable(conn, group, reason="rolled back", now=500) == 1
    assert [e.event_id for e in processed.retryable(conn, mls_group_id=group)] == [failed]
    assert len(processed.for_group(conn, group)) == 2


def test_marks_outlive_their_group_and_prune_by_age(conn: Connection, group: bytes) -> None:
    event = _mark(conn, "x", Outcome.PROCESSED, mls_group_id=group, created_at=10)
    _mark(conn, "r", Outcome.RETRYABLE, created_at=10, event_json="{}")
    groups.delete(conn, group)
    assert processed.is_done(conn, event)  # a replay after leaving stays a duplicate
    assert processed.prune(conn, processed_before=12) == 1
    assert processed.get(conn, event) is None and len(processed.retryable(conn)) == 1


def _enqueue(conn: Connection, label: str, *, now: int = 100, **kw: object) -> int:
    return outbox.enqueue(
        conn,
        event_id=hexid(label),
        event_json=f'{{"id":"{label}"}}',
        relays=["wss://a", "wss://b"],
        purpose=str(kw.pop("purpose", "message")),
        now=now,
        **kw,  # type: ignore[arg-type]
    )


def test_outbox_retries_until_sent(conn: Connection) -> None:
    entry = _enqueue(conn, "m")
    assert _enqueue(conn, "m") == entry  # idempotent on event id
    assert [e.id for e in outbox.due(conn, now=100)] == [entry]
    assert outbox.next_wakeup(conn) == 100
    outbox.mark_attempt_failed(conn, entry, "timeout", retry_at=130, now=101)
    assert outbox.due(conn, now=129) == [] and outbox.next_wakeup(conn) == 130
    outbox.mark_sent(conn, entry, ["wss://b"], now=131)
    sent = outbox.get(conn, entry)
    assert sent is not None
    assert (sent.state, sent.attempts, sent.accepted_by, sent.last_error) == (
        OutboxState.SENT,
        2,
        ("wss://b",),
        None,
    )
    assert (sent.created_at, sent.updated_at, sent.sent_at) == (100, 131, 131)
    assert outbox.due(conn, now=10**9) == [] and outbox.next_wakeup(conn) is None
    assert outbox.prune_sent(conn, sent_before=132) == 1 and outbox.get(conn, entry) is None
    with pytest.raises(NotFound):
        outbox.mark_sent(conn, entry, [], now=1)


def test_welcomes_wait_for_their_commit(conn: Connection, group: bytes) -> None:
    commit = _enqueue(conn, "commit", purpose="commit", mls_group_id=group)
    welcome = _enqueue(conn, "welcome", purpose="welcome", after_id=commit)
    assert [e.id for e in outbox.due(conn, now=100)] == [commit]
    assert [e.id for e in outbox.pending(conn, mls_group_id=group)] == [commit]
    outbox.mark_sent(conn, commit, ["wss://a"], now=101)
    assert [e.id for e in outbox.due(conn, now=101)] == [welcome]
    outbox.prune_sent(conn, sent_before=102)  # the commit is forgotten; the welcome still goes
    assert [e.id for e in outbox.due(conn, now=101)] == [welcome]


def test_a_failed_commit_takes_its_welcomes_with_it(conn: Connection) -> None:
    commit = _enqueue(conn, "commit", purpose="commit")
    welcome = _enqueue(conn, "welcome", purpose="welcome", after_id=commit)
    after_welcome = _enqueue(conn, "later", after_id=welcome)
    unrelated = _enqueue(conn, "other")
    outbox.mark_attempt_failed(conn, commit, "rejected: blocked", retry_at=None, now=110)
    with pytest.raises(NotFound):
        outbox.mark_attempt_failed(conn, commit, "again", retry_at=None, now=111)
    states = {i: outbox.get(conn, i).state for i in (commit, welcome, after_welcome, unrelated)}  # type: ignore[union-attr]
    assert states == {
        commit: OutboxState.FAILED,
        welcome: OutboxState.FAILED,
        after_welcome: OutboxState.FAILED,
        unrelated: OutboxState.PENDING,
    }
    assert [e.id for e in outbox.due(conn, now=10**9)] == [unrelated]
    outbox.cancel(conn, unrelated, now=112)
    assert outbox.pending(conn) == []
