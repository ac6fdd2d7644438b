"""Per-group bounds on kept 445 events that no key opens."""

from __future__ import annotations

from storage import Connection
from storage.repos import processed, unopened
from storage.rows import Outcome
from tests.helpers.storage_factories import hexid

LIMITS = unopened.Limits(events=3, bytes=10_000)


def _keep(
    conn: Connection, group: bytes, label: str, created_at: int, *, epoch: int = 0, size: int = 100
) -> int:
    return unopened.keep(
        conn,
        hexid(label),
        kind=445,
        created_at=created_at,
        mls_group_id=group,
        epoch=epoch,
        event_json="x" * size,
        limits=LIMITS,
        now=1000,
    )


def _kept(conn: Connection) -> set[str]:
    rows = conn.execute("SELECT event_id FROM processed_events WHERE outcome = 'retryable'")
    return {row[0] for row in rows}


def test_over_the_count_the_oldest_epoch_then_the_oldest_event_goes(
    conn: Connection, group: bytes
) -> None:
    assert _keep(conn, group, "seen-before-a-commit", 500, epoch=0) == 0
    assert _keep(conn, group, "a", 100, epoch=1) == 0
    assert _keep(conn, group, "b", 300, epoch=1) == 0
    assert _keep(conn, group, "c", 200, epoch=1) == 1
    assert _kept(conn) == {hexid("a"), hexid("b"), hexid("c")}
    assert _keep(conn, group, "d", 400, epoch=1) == 1
    assert _kept(conn) == {hexid("b"), hexid("c"), hexid("d")}
    # A dropped event leaves no mark: the database does not grow with the flood.
    assert processed.get(conn, hexid("a")) is None
    assert unopened.counts(conn, group) == unopened.Counts(3, 300, 2, 200)


def test_over_the_bytes_and_a_newcomer_that_does_not_fit_goes_itself(
    conn: Connection, group: bytes
) -> None:
    assert _keep(conn, group, "big", 100, size=9_000) == 0
    assert _keep(conn, group, "older", 50, size=2_000) == 1  # dropped at once
    assert _kept(conn) == {hexid("big")}
    assert _keep(conn, group, "newer", 200, size=2_000) == 1
    assert _kept(conn) == {hexid("newer")}
    assert unopened.counts(conn, group) == unopened.Counts(1, 2_000, 2, 11_000)


def test_unopened_events_do_not_hold_the_sync_cursor_but_others_do(
    conn: Connection, group: bytes
) -> None:
    _keep(conn, group, "junk", 100)
    assert processed.oldest_retryable(conn) is None
    processed.mark(
        conn, hexid("raised"), kind=445, created_at=300, outcome=Outcome.RETRYABLE, now=1000
    )
    assert processed.oldest_retryable(conn) == 300


def test_giving_up_keeps_the_mark_without_the_event(conn: Connection, group: bytes) -> None:
    _keep(conn, group, "old", 100)
    unopened.give_up(conn, hexid("old"), unopened.GIVEN_UP, now=2000)
    record = processed.get(conn, hexid("old"))
    assert record is not None and record.outcome is Outcome.FAILED
    assert record.event_json is None
    assert processed.is_done(conn, hexid("old"))
    assert unopened.counts(conn, group) == unopened.Counts(0, 0, 0, 0)
