"""Kind 445 events no key of ours opens (yet), kept for a retry within per-group bounds.

Such an event may belong to an epoch we have not reached (a message that overtook its
commit), or be junk: anyone who knows a group's ``h`` tag can post any number of them.
`keep` stores one as *retryable* and then trims the group's kept ones to the limits, by
count and by bytes of JSON. A dropped event leaves nothing but a count in
``unopened_drops``: not even its dedupe mark, so the database stays the same size however
many arrive (10,000 random-keyed marks would cost megabytes). A copy a relay sends again
is simply treated as new; catch-up re-fetches only a short margin, as the sync cursor does
not wait for unopened events. Dropped first: the rows first seen in the oldest epoch
(commits came since and none opened them), then the oldest ``created_at``.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.repos import processed
from storage.rows import Outcome
from storage.types import Connection

REASON = processed.UNOPENED
"""The reason of every retryable row this module bounds."""
GIVEN_UP = "undecryptable: no key of ours opened it"


@dataclass(frozen=True, slots=True)
class Limits:
    events: int = 100
    bytes: int = 1 << 20
    """JSON characters of the kept events (a legitimate 445 is rarely above a few KiB)."""


@dataclass(frozen=True, slots=True)
class Counts:
    kept: int
    kept_bytes: int
    dropped: int
    dropped_bytes: int


def keep(
    conn: Connection,
    event_id: str,
    *,
    kind: int,
    created_at: int,
    mls_group_id: bytes,
    epoch: int,
    event_json: str,
    limits: Limits,
    now: int,
) -> int:
    """Keep the event for a retry, then trim the group to ``limits``; returns how many kept
    events were dropped (possibly this one)."""
    processed.mark(
        conn,
        event_id,
        kind=kind,
        created_at=created_at,
        outcome=Outcome.RETRYABLE,
        now=now,
        reason=REASON,
        mls_group_id=mls_group_id,
        epoch=epoch,
        event_json=event_json,
    )
    rows = conn.execute(
        "SELECT event_id, length(event_json) FROM processed_events"
        " WHERE mls_group_id = ? AND outcome = 'retryable' AND reason = ?"
        " ORDER BY epoch DESC, created_at DESC, event_id DESC",
        (mls_group_id, REASON),
    ).fetchall()
    total, doomed, freed = 0, [], 0
    for index, (row_id, size) in enumerate(rows):
        total += size or 0
        if index >= limits.events or total > limits.bytes:
            doomed.append(row_id)
            freed += size or 0
    conn.executemany("DELETE FROM processed_events WHERE event_id = ?", [(d,) for d in doomed])
    if doomed:
        conn.execute(
            "INSERT INTO unopened_drops (mls_group_id, events, bytes) VALUES (?, ?, ?)"
            " ON CONFLICT (mls_group_id) DO UPDATE SET events = events + excluded.events,"
            " bytes = bytes + excluded.bytes",
            (mls_group_id, len(doomed), freed),
        )
    return len(doomed)


def give_up(conn: Connection, event_id: str, reason: str, *, now: int) -> None:
    """No key opened it while the group moved on: the mark stays (copies are duplicates),
    the event itself goes."""
    conn.execute(
        "UPDATE processed_events SET outcome = 'failed', reason = ?, event_json = NULL,"
        " processed_at = ? WHERE event_id = ?",
        (reason, now, event_id),
    )


def counts(conn: Connection, mls_group_id: bytes) -> Counts:
    kept, kept_bytes = conn.execute(
        "SELECT count(*), coalesce(sum(length(event_json)), 0) FROM processed_events"
        " WHERE mls_group_id = ? AND outcome = 'retryable' AND reason = ?",
        (mls_group_id, REASON),
    ).fetchone()
    row = conn.execute(
        "SELECT events, bytes FROM unopened_drops WHERE mls_group_id = ?", (mls_group_id,)
    ).fetchone()
    dropped, dropped_bytes = row if row is not None else (0, 0)
    return Counts(kept, kept_bytes, dropped, dropped_bytes)
