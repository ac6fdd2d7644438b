"""The durable outbox: every event to publish is stored before the first attempt.

An entry may name another one it must follow (``after_id``): a Welcome goes out only once
the commit that added its invitee is accepted (MIP-02 "welcome after the relay OK"). If that
commit fails for good, its followers fail with it and never go out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.errors import NotFound
from storage.repos._json import dump_strings, load_strings
from storage.rows import OutboxEntry, OutboxState
from storage.types import Connection

_SELECT = (
    "SELECT o.id, o.event_id, o.event_json, o.relays, o.purpose, o.mls_group_id, o.after_id,"
    " o.state, o.attempts, o.next_attempt_at, o.last_error, o.accepted_by, o.created_at,"
    " o.updated_at, o.sent_at FROM outbox o"
)


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=row[0],
        event_id=row[1],
        event_json=row[2],
        relays=load_strings(row[3]),
        purpose=row[4],
        mls_group_id=row[5],
        after_id=row[6],
        state=OutboxState(row[7]),
        attempts=row[8],
        next_attempt_at=row[9],
        last_error=row[10],
        accepted_by=load_strings(row[11]),
        created_at=row[12],
        updated_at=row[13],
        sent_at=row[14],
    )


def enqueue(
    conn: Connection,
    *,
    event_id: str,
    event_json: str,
    relays: Sequence[str],
    purpose: str,
    now: int,
    mls_group_id: bytes | None = None,
    after_id: int | None = None,
) -> int:
    """Store an event to publish (idempotent on event id); returns the entry id."""
    conn.execute(
        "INSERT INTO outbox (event_id, event_json, relays, purpose, mls_group_id,"
        " after_id, state, next_attempt_at, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
        (
            event_id,
            event_json,
            dump_strings(relays),
            purpose,
            mls_group_id,
            after_id,
            now,
            now,
            now,
        ),
    )
    entry_id: int = conn.execute(
        "SELECT id FROM outbox WHERE event_id = ?", (event_id,)
    ).fetchone()[0]
    return entry_id


def get(conn: Connection, entry_id: int) -> OutboxEntry | None:
    row = conn.execute(_SELECT + " WHERE o.id = ?", (entry_id,)).fetchone()
    return None if row is None else _entry(row)


def by_event_id(conn: Connection, event_id: str) -> OutboxEntry | None:
    """The entry that publishes ``event_id`` (to queue events behind it)."""
    row = conn.execute(_SELECT + " WHERE o.event_id = ?", (event_id,)).fetchone()
    return None if row is None else _entry(row)


def due(conn: Connection, *, now: int, limit: int = 100) -> list[OutboxEntry]:
    """Pending entries whose time has come and whose predecessor (if any) was sent."""
    rows = conn.execute(
        _SELECT + " LEFT JOIN outbox a ON a.id = o.after_id"
        " WHERE o.state = 'pending' AND o.next_attempt_at <= ?"
        " AND (o.after_id IS NULL OR a.state = 'sent')"
        " ORDER BY o.next_attempt_at, o.id LIMIT ?",
        (now, limit),
    )
    return [_entry(row) for row in rows]


def next_wakeup(conn: Connection) -> int | None:
    """The earliest next attempt time among pending entries (when to wake the sender)."""
    value: int | None = conn.execute(
        "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'"
    ).fetchone()[0]
    return value


def pending(conn: Connection, *, mls_group_id: bytes | None = None) -> list[OutboxEntry]:
    if mls_group_id is None:
        rows = conn.execute(_SELECT + " WHERE o.state = 'pending' ORDER BY o.id")
    else:
        rows = conn.execute(
            _SELECT + " WHERE o.state = 'pending' AND o.mls_group_id = ? ORDER BY o.id",
            (mls_group_id,),
        )
    return [_entry(row) for row in rows]


def replace_event(
    conn: Connection, entry_id: int, event_id: str, event_json: str, *, now: int
) -> None:
    """A pending entry publishes another event from now on (the same content in a fresh
    envelope, when the first one waited too long to go out)."""
    cur = conn.execute(
        "UPDATE outbox SET event_id = ?, event_json = ?, updated_at = ?"
        " WHERE id = ? AND state = 'pending'",
        (event_id, event_json, now, entry_id),
    )
    if cur.rowcount == 0:
        raise NotFound(f"no pending outbox entry {entry_id}")


def mark_sent(conn: Connection, entry_id: int, accepted_by: Sequence[str], *, now: int) -> None:
    cur = conn.execute(
        "UPDATE outbox SET state = 'sent', attempts = attempts + 1, accepted_by = ?,"
        " sent_at = ?, updated_at = ?, last_error = NULL WHERE id = ?",
        (dump_strings(accepted_by), now, now, entry_id),
    )
    if cur.rowcount == 0:
        raise NotFound(f"no outbox entry {entry_id}")


def mark_attempt_failed(
    conn: Connection, entry_id: int, error: str, *, retry_at: int | None, now: int
) -> None:
    """Record a failed attempt: retry at ``retry_at``, or (None) give up on the entry and
    every entry that follows it."""
    if retry_at is not None:
        cur = conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
            " updated_at = ? WHERE id = ? AND state = 'pending'",
            (error, retry_at, now, entry_id),
        )
    else:
        cur = conn.execute(
            "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?,"
            " updated_at = ? WHERE id = ? AND state = 'pending'",
            (error, now, entry_id),
        )
        _fail_followers(conn, entry_id, now=now)
    if cur.rowcount == 0:
        raise NotFound(f"no pending outbox entry {entry_id}")


def cancel(conn: Connection, entry_id: int, *, now: int, reason: str = "cancelled") -> None:
    """Give up on a pending entry (e.g. a commit discarded locally); followers fail too."""
    conn.execute(
        "UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ?"
        " WHERE id = ? AND state = 'pending'",
        (reason, now, entry_id),
    )
    _fail_followers(conn, entry_id, now=now)


def _fail_followers(conn: Connection, entry_id: int, *, now: int) -> None:
    conn.execute(
        "WITH RECURSIVE chain(id) AS (SELECT id FROM outbox WHERE after_id = ?"
        " UNION SELECT o.id FROM outbox o JOIN chain c ON o.after_id = c.id)"
        " UPDATE outbox SET state = 'failed', last_error = 'an earlier event failed',"
        " updated_at = ? WHERE id IN (SELECT id FROM chain) AND state = 'pending'",
        (entry_id, now),
    )


def prune_sent(conn: Connection, *, sent_before: int) -> int:
    """Forget entries sent before the cutoff (their followers stay, now unblocked)."""
    return conn.execute(
        "DELETE FROM outbox WHERE state = 'sent' AND sent_at < ?", (sent_before,)
    ).rowcount
