"""Processed events: dedupe of every incoming event by id, with its outcome.

``processed`` and ``failed`` are final: the event is a duplicate from then on. ``retryable``
keeps the event JSON so it can be retried without a relay, and holds the sync cursor back.
A failed event keeps its JSON too, for a re-run after a commit-race rollback.
"""

from __future__ import annotations

from typing import Any

from storage.rows import Outcome, ProcessedEvent
from storage.types import Connection

UNOPENED = "no key of ours opens it (yet)"
"""Why a 445 no key of ours opens is retryable. Its JSON is kept for the retry, so it needs
no relay again and does not hold the sync cursor (see `storage.repos.unopened`)."""

_SELECT = (
    "SELECT event_id, kind, created_at, outcome, reason, attempts, processed_at, mls_group_id,"
    " epoch, event_json FROM processed_events"
)


def _event(row: Any) -> ProcessedEvent:
    return ProcessedEvent(
        event_id=row[0],
        kind=row[1],
        created_at=row[2],
        outcome=Outcome(row[3]),
        reason=row[4],
        attempts=row[5],
        processed_at=row[6],
        mls_group_id=row[7],
        epoch=row[8],
        event_json=row[9],
    )


def get(conn: Connection, event_id: str) -> ProcessedEvent | None:
    row = conn.execute(_SELECT + " WHERE event_id = ?", (event_id,)).fetchone()
    return None if row is None else _event(row)


def is_done(conn: Connection, event_id: str) -> bool:
    """True when the event was processed or failed for good (skip it)."""
    row = conn.execute(
        "SELECT outcome FROM processed_events WHERE event_id = ?", (event_id,)
    ).fetchone()
    return row is not None and row[0] != Outcome.RETRYABLE


def mark(
    conn: Connection,
    event_id: str,
    *,
    kind: int,
    created_at: int,
    outcome: Outcome,
    now: int,
    reason: str = "",
    mls_group_id: bytes | None = None,
    epoch: int | None = None,
    event_json: str | None = None,
) -> None:
    """Record (or update) an event's outcome.

    The JSON is kept unless the outcome is ``processed``: a retryable event is replayed from
    it, and a failed one can be re-run after a commit-race rollback.
    """
    kept = None if outcome is Outcome.PROCESSED else event_json
    conn.execute(
        "INSERT INTO processed_events (event_id, kind, created_at, mls_group_id, epoch, outcome,"
        " reason, event_json, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (event_id) DO UPDATE SET outcome = excluded.outcome,"
        " reason = excluded.reason, attempts = attempts + 1,"
        " mls_group_id = coalesce(excluded.mls_group_id, mls_group_id),"
        " epoch = coalesce(excluded.epoch, epoch),"
        " event_json = CASE WHEN excluded.outcome != 'processed'"
        " THEN coalesce(excluded.event_json, event_json) END,"
        " processed_at = excluded.processed_at",
        (event_id, kind, created_at, mls_group_id, epoch, str(outcome), reason, kept, now),
    )


def retryable(
    conn: Connection, *, mls_group_id: bytes | None = None, limit: int = 100
) -> list[ProcessedEvent]:
    """Events waiting for a retry, oldest first (the order to replay them in)."""
    if mls_group_id is None:
        rows = conn.execute(
            _SELECT + " WHERE outcome = 'retryable' ORDER BY created_at, event_id LIMIT ?",
            (limit,),
        )
    else:
        rows = conn.execute(
            _SELECT + " WHERE outcome = 'retryable' AND mls_group_id = ?"
            " ORDER BY created_at, event_id LIMIT ?",
            (mls_group_id, limit),
        )
    return [_event(row) for row in rows]


def oldest_retryable(conn: Connection) -> int | None:
    """created_at of the oldest event waiting for a retry from a relay: a sync cursor must
    not pass it. Unopened events are retried from their stored JSON after each commit (a
    stranger's junk must not pin every cursor, so that each catch-up fetches it all again)."""
    value: int | None = conn.execute(
        "SELECT min(created_at) FROM processed_events WHERE outcome = 'retryable' AND reason != ?",
        (UNOPENED,),
    ).fetchone()[0]
    return value


def mark_failed_retryable(conn: Connection, mls_group_id: bytes, *, reason: str, now: int) -> int:
    """After a commit-race rollback: the group's failed events get another chance (MDK does
    the same), since they may belong to the branch that now wins."""
    return conn.execute(
        "UPDATE processed_events SET outcome = 'retryable', reason = ?, processed_at = ?"
        " WHERE mls_group_id = ? AND outcome = 'failed' AND event_json IS NOT NULL",
        (reason, now, mls_group_id),
    ).rowcount


def newest_processed(conn: Connection, mls_group_id: bytes) -> int | None:
    """created_at of the newest event of the group that was processed (ours included)."""
    value: int | None = conn.execute(
        "SELECT max(created_at) FROM processed_events"
        " WHERE mls_group_id = ? AND outcome = 'processed'",
        (mls_group_id,),
    ).fetchone()[0]
    return value


def for_group(conn: Connection, mls_group_id: bytes) -> list[ProcessedEvent]:
    return [
        _event(row)
        for row in conn.execute(
            _SELECT + " WHERE mls_group_id = ? ORDER BY created_at, event_id", (mls_group_id,)
        )
    ]


def prune(conn: Connection, *, processed_before: int) -> int:
    """Forget final marks older than the relays' retention window (replays are then too old)."""
    return conn.execute(
        "DELETE FROM processed_events WHERE outcome != 'retryable' AND processed_at < ?",
        (processed_before,),
    ).rowcount
