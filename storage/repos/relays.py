"""The relays aggregate: relay lists (10002/10050/10051), per-relay status, sync cursors."""

from __future__ import annotations

import json

from storage.repos._json import dumps
from storage.rows import RelayEntry, RelayList, RelayListKind, RelayStatusRecord
from storage.types import Connection


def save_list(conn: Connection, relay_list: RelayList) -> bool:
    """Store a replaceable relay list; an older one than the stored one is ignored.

    Equal ``created_at`` replaces too, so re-saving our own edited list always lands.
    """
    entries = dumps([[e.url, e.marker] for e in relay_list.entries])
    cur = conn.execute(
        "INSERT INTO relay_lists (owner, kind, entries, created_at, event_id, fetched_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (owner, kind) DO UPDATE SET entries = excluded.entries,"
        " created_at = excluded.created_at, event_id = excluded.event_id,"
        " fetched_at = excluded.fetched_at"
        " WHERE excluded.created_at >= relay_lists.created_at",
        (
            relay_list.owner,
            int(relay_list.kind),
            entries,
            relay_list.created_at,
            relay_list.event_id,
            relay_list.fetched_at,
        ),
    )
    return cur.rowcount > 0


def get_list(conn: Connection, owner: str, kind: RelayListKind) -> RelayList | None:
    row = conn.execute(
        "SELECT entries, created_at, event_id, fetched_at FROM relay_lists"
        " WHERE owner = ? AND kind = ?",
        (owner, int(kind)),
    ).fetchone()
    if row is None:
        return None
    entries = tuple(RelayEntry(url, marker) for url, marker in json.loads(row[0]))
    return RelayList(owner, kind, entries, row[1], row[2], row[3])


def urls(conn: Connection, owner: str, kind: RelayListKind) -> list[str]:
    relay_list = get_list(conn, owner, kind)
    return [] if relay_list is None else [e.url for e in relay_list.entries]


def set_status(
    conn: Connection,
    url: str,
    status: str,
    *,
    now: int,
    error: str | None = None,
    connected: bool = False,
) -> None:
    conn.execute(
        "INSERT INTO relay_status (url, status, last_error, last_connected_at, updated_at)"
        " VALUES (?1, ?2, ?3, CASE WHEN ?4 THEN ?5 END, ?5)"
        " ON CONFLICT (url) DO UPDATE SET status = ?2, last_error = ?3,"
        " last_connected_at = CASE WHEN ?4 THEN ?5 ELSE last_connected_at END, updated_at = ?5",
        (url, status, error, int(connected), now),
    )


def statuses(conn: Connection) -> list[RelayStatusRecord]:
    return [
        RelayStatusRecord(*row)
        for row in conn.execute(
            "SELECT url, status, last_error, last_connected_at, updated_at FROM relay_status"
            " ORDER BY url"
        )
    ]


def cursor(conn: Connection, subscription: str, relay_url: str) -> int | None:
    row = conn.execute(
        "SELECT since FROM sync_cursors WHERE subscription = ? AND relay_url = ?",
        (subscription, relay_url),
    ).fetchone()
    return None if row is None else int(row[0])


def cursors(conn: Connection, subscription: str) -> dict[str, int]:
    return dict(
        conn.execute(
            "SELECT relay_url, since FROM sync_cursors WHERE subscription = ?", (subscription,)
        ).fetchall()
    )


def advance_cursor(
    conn: Connection, subscription: str, relay_url: str, since: int, *, now: int
) -> int:
    """Move a cursor forward (never back); returns the stored value.

    The caller passes a value that does not pass any event still waiting for a retry
    (see `processed.oldest_retryable`).
    """
    conn.execute(
        "INSERT INTO sync_cursors (subscription, relay_url, since, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (subscription, relay_url) DO UPDATE SET"
        " since = max(since, excluded.since), updated_at = excluded.updated_at",
        (subscription, relay_url, since, now),
    )
    stored = cursor(conn, subscription, relay_url)
    assert stored is not None
    return stored


def reset_cursor(conn: Connection, subscription: str, relay_url: str | None = None) -> int:
    """Forget cursors (one relay, or the whole subscription) so the next sync starts over."""
    if relay_url is None:
        cur = conn.execute("DELETE FROM sync_cursors WHERE subscription = ?", (subscription,))
    else:
        cur = conn.execute(
            "DELETE FROM sync_cursors WHERE subscription = ? AND relay_url = ?",
            (subscription, relay_url),
        )
    return cur.rowcount
