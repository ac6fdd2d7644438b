"""The message aggregate: messages by event id and rumor id, reactions, deletions, edits,
delivery status and read state.

A chat's timeline is ordered by (created_at, seq): the sender's clock first, our arrival
order for ties. Pages are keyset-paged on that pair through the ``messages_timeline`` index,
so the newest page costs the same with 100 or 100,000 messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from storage.repos._json import dump_tags, load_tags
from storage.rows import (
    Deletion,
    DeliveryStatus,
    Message,
    NewMessage,
    PageCursor,
    Reaction,
)
from storage.types import Connection

COLUMNS = (
    "seq, mls_group_id, rumor_id, event_id, kind, author, content, tags, reply_to, created_at,"
    " epoch, status, is_read, received_at, edited_at, deleted_at"
)
_SELECT = f"SELECT {COLUMNS} FROM messages"  # noqa: S608 (constant column list)


def from_row(row: Any) -> Message:
    return Message(
        seq=row[0],
        mls_group_id=row[1],
        rumor_id=row[2],
        event_id=row[3],
        kind=row[4],
        author=row[5],
        content=row[6],
        tags=load_tags(row[7]),
        reply_to=row[8],
        created_at=row[9],
        epoch=row[10],
        status=DeliveryStatus(row[11]),
        is_read=bool(row[12]),
        received_at=row[13],
        edited_at=row[14],
        deleted_at=row[15],
    )


# A message whose deletion arrived first is stored already deleted (content dropped).
_INSERT = (
    "INSERT INTO messages (mls_group_id, rumor_id, event_id, kind, author, content,"
    " tags, reply_to, created_at, epoch, status, is_read, received_at, deleted_at, expires_at)"
    " SELECT :g, :rumor_id, :event_id, :kind, :author,"
    " CASE WHEN d.created_at IS NULL THEN :content ELSE '' END,"
    " CASE WHEN d.created_at IS NULL THEN :tags ELSE '[]' END,"
    " :reply_to, :created_at, :epoch, :status, :is_read, :now, d.created_at, :expires_at"
    " FROM (SELECT 1) LEFT JOIN deletions d ON d.mls_group_id = :g"
    " AND d.target_rumor_id = :rumor_id AND d.author = :author"
    " WHERE true ON CONFLICT DO NOTHING"  # duplicates only: a CHECK failure still raises
)


def insert(conn: Connection, message: NewMessage, *, now: int) -> int | None:
    """Store a message unless its rumor id (in its group) or event id is known.

    Returns the new ``seq``, or None for a duplicate.
    """
    cur = conn.execute(
        _INSERT,
        {
            "g": message.mls_group_id,
            "rumor_id": message.rumor_id,
            "event_id": message.event_id,
            "kind": message.kind,
            "author": message.author,
            "content": message.content,
            "tags": dump_tags(message.tags),
            "reply_to": message.reply_to,
            "created_at": message.created_at,
            "epoch": message.epoch,
            "status": str(message.status),
            "is_read": int(message.is_read),
            "now": now,
            "expires_at": message.expires_at,
        },
    )
    return cur.lastrowid if cur.rowcount > 0 else None


def of_kind(conn: Connection, mls_group_id: bytes, kind: int) -> list[Message]:
    """A group's rows of one local (negative) kind, in arrival order: the app's timeline
    lines (the partial index `messages_local_lines` serves it)."""
    rows = conn.execute(
        _SELECT + " WHERE mls_group_id = ? AND kind = ? AND kind < 0 ORDER BY seq",
        (mls_group_id, kind),
    ).fetchall()
    return [from_row(row) for row in rows]


def wrote_since(conn: Connection, mls_group_id: bytes, author: str, seq: int) -> bool:
    """Whether ``author`` sent anything to the group after row ``seq``."""
    found = conn.execute(
        "SELECT 1 FROM messages WHERE mls_group_id = ? AND author = ? AND kind >= 0"
        " AND seq > ? LIMIT 1",
        (mls_group_id, author, seq),
    ).fetchone()
    return found is not None


def next_expiry(conn: Connection) -> int | None:
    """When the next message of any group is due to disappear."""
    due: int | None = conn.execute("SELECT min(expires_at) FROM messages").fetchone()[0]
    return due


def expiring(conn: Connection, now: int) -> list[Message]:
    """The messages whose end of life has come (what `delete_expired` deletes)."""
    rows = conn.execute(_SELECT + " WHERE expires_at <= ? ORDER BY seq", (now,)).fetchall()
    return [from_row(row) for row in rows]


def delete_expired(conn: Connection, now: int) -> list[tuple[bytes, str]]:
    """Delete every message whose end of life has come, with the reactions to it; the
    (group, rumor id) of each. Run inside the caller's transaction: all or nothing."""
    gone = conn.execute(
        "SELECT mls_group_id, rumor_id FROM messages WHERE expires_at <= ? ORDER BY seq",
        (now,),
    ).fetchall()
    if not gone:
        return []
    conn.execute(
        "DELETE FROM reactions WHERE EXISTS (SELECT 1 FROM messages m"
        " WHERE m.expires_at <= ? AND m.mls_group_id = reactions.mls_group_id"
        " AND m.rumor_id = reactions.target_rumor_id)",
        (now,),
    )
    conn.execute("DELETE FROM messages WHERE expires_at <= ?", (now,))
    return [(row[0], row[1]) for row in gone]


def by_seq(conn: Connection, seq: int) -> Message | None:
    row = conn.execute(_SELECT + " WHERE seq = ?", (seq,)).fetchone()
    return None if row is None else from_row(row)


def by_rumor_id(conn: Connection, mls_group_id: bytes, rumor_id: str) -> Message | None:
    row = conn.execute(
        _SELECT + " WHERE mls_group_id = ? AND rumor_id = ?", (mls_group_id, rumor_id)
    ).fetchone()
    return None if row is None else from_row(row)


def by_event_id(conn: Connection, event_id: str) -> Message | None:
    row = conn.execute(_SELECT + " WHERE event_id = ?", (event_id,)).fetchone()
    return None if row is None else from_row(row)


def page(
    conn: Connection,
    mls_group_id: bytes,
    *,
    before: PageCursor | None = None,
    after: PageCursor | None = None,
    limit: int = 50,
) -> list[Message]:
    """Up to ``limit`` messages in timeline order (oldest first).

    Without a cursor: the newest ones. ``before``: the ones just older than it (scrolling up).
    ``after``: the ones just newer than it (catching up at the bottom).
    """
    if after is not None:
        rows = conn.execute(
            _SELECT + " WHERE mls_group_id = ? AND (created_at, seq) > (?, ?)"
            " ORDER BY created_at, seq LIMIT ?",
            (mls_group_id, after.created_at, after.seq, limit),
        ).fetchall()
        return [from_row(row) for row in rows]
    bound = (before.created_at, before.seq) if before is not None else (2**62, 2**62)
    rows = conn.execute(
        _SELECT + " WHERE mls_group_id = ? AND (created_at, seq) < (?, ?)"
        " ORDER BY created_at DESC, seq DESC LIMIT ?",
        (mls_group_id, *bound, limit),
    ).fetchall()
    return [from_row(row) for row in reversed(rows)]


def latest(conn: Connection, mls_group_id: bytes) -> Message | None:
    """The newest message someone sent: local rows (negative kinds, the app's timeline
    lines) are nobody's message and do not count."""
    row = conn.execute(
        _SELECT + " WHERE mls_group_id = ? AND kind >= 0 ORDER BY created_at DESC, seq DESC"
        " LIMIT 1",
        (mls_group_id,),
    ).fetchone()
    return None if row is None else from_row(row)


def set_status(
    conn: Connection,
    mls_group_id: bytes,
    rumor_id: str,
    status: DeliveryStatus,
    *,
    event_id: str | None = None,
) -> bool:
    """Change delivery status; a given ``event_id`` replaces the carrier (a re-sent message)."""
    cur = conn.execute(
        "UPDATE messages SET status = ?, event_id = coalesce(?, event_id)"
        " WHERE mls_group_id = ? AND rumor_id = ?",
        (str(status), event_id, mls_group_id, rumor_id),
    )
    return cur.rowcount > 0


def mark_read(conn: Connection, mls_group_id: bytes, *, up_to_seq: int | None = None) -> int:
    """Mark the group's messages read (all, or those with seq <= ``up_to_seq``)."""
    bound = 2**62 if up_to_seq is None else up_to_seq
    return conn.execute(
        "UPDATE messages SET is_read = 1 WHERE mls_group_id = ? AND is_read = 0 AND seq <= ?",
        (mls_group_id, bound),
    ).rowcount


def unread_count(conn: Connection, mls_group_id: bytes) -> int:
    count: int = conn.execute(
        "SELECT count(*) FROM messages WHERE mls_group_id = ? AND is_read = 0", (mls_group_id,)
    ).fetchone()[0]
    return count


def unread_counts(conn: Connection) -> dict[bytes, int]:
    """Groups with unread messages and how many."""
    return dict(
        conn.execute(
            "SELECT mls_group_id, count(*) FROM messages WHERE is_read = 0 GROUP BY mls_group_id"
        ).fetchall()
    )


def mark_invalidated(conn: Connection, mls_group_id: bytes, *, after_epoch: int) -> int:
    """Mark messages of epochs after ``after_epoch`` as from a discarded branch (rollback)."""
    return conn.execute(
        "UPDATE messages SET status = 'invalidated' WHERE mls_group_id = ? AND epoch > ?",
        (mls_group_id, after_epoch),
    ).rowcount


def add_reaction(conn: Connection, mls_group_id: bytes, reaction: Reaction) -> bool:
    """Store a kind 7 unless known or already deleted by its author. True when stored."""
    cur = conn.execute(
        "INSERT INTO reactions (mls_group_id, rumor_id, target_rumor_id, author,"
        " content, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE NOT EXISTS (SELECT 1 FROM"
        " deletions WHERE mls_group_id = ?1 AND target_rumor_id = ?2 AND author = ?4)"
        " ON CONFLICT DO NOTHING",
        (
            mls_group_id,
            reaction.rumor_id,
            reaction.target_rumor_id,
            reaction.author,
            reaction.content,
            reaction.created_at,
        ),
    )
    return cur.rowcount > 0


def reactions(
    conn: Connection, mls_group_id: bytes, target_rumor_ids: Sequence[str]
) -> dict[str, list[Reaction]]:
    """Reactions to the given messages, oldest first, keyed by target."""
    found: dict[str, list[Reaction]] = {}
    for start in range(0, len(target_rumor_ids), 500):
        chunk = list(target_rumor_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            "SELECT rumor_id, target_rumor_id, author, content, created_at FROM reactions"  # noqa: S608 (placeholders only)
            f" WHERE mls_group_id = ? AND target_rumor_id IN ({marks})"
            " ORDER BY created_at, rumor_id",
            (mls_group_id, *chunk),
        ):
            found.setdefault(row[1], []).append(Reaction(*row))
    return found


def apply_deletion(conn: Connection, mls_group_id: bytes, deletion: Deletion) -> int:
    """Apply a kind 5 to a message or reaction by the same author; returns rows affected.

    The request is remembered, so a target arriving later is stored deleted; ``deleted_at``
    is the request's created_at. A deleted
    message keeps its row (for ordering and replies) but loses its content and tags, which
    also removes it from the search index.
    """
    conn.execute(
        "INSERT INTO deletions (mls_group_id, target_rumor_id, author, rumor_id, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            mls_group_id,
            deletion.target_rumor_id,
            deletion.author,
            deletion.rumor_id,
            deletion.created_at,
        ),
    )
    hit = conn.execute(
        "UPDATE messages SET content = '', tags = '[]', deleted_at = ?"
        " WHERE mls_group_id = ? AND rumor_id = ? AND author = ? AND deleted_at IS NULL",
        (deletion.created_at, mls_group_id, deletion.target_rumor_id, deletion.author),
    ).rowcount
    hit += conn.execute(
        "DELETE FROM reactions WHERE mls_group_id = ? AND rumor_id = ? AND author = ?",
        (mls_group_id, deletion.target_rumor_id, deletion.author),
    ).rowcount
    return hit


def apply_edit(
    conn: Connection,
    mls_group_id: bytes,
    target_rumor_id: str,
    editor: str,
    content: str,
    *,
    edited_at: int,
) -> bool:
    """Replace a message's text by its own author; an older edit than the applied one loses."""
    cur = conn.execute(
        "UPDATE messages SET content = ?, edited_at = ?"
        " WHERE mls_group_id = ? AND rumor_id = ? AND author = ? AND deleted_at IS NULL"
        " AND (edited_at IS NULL OR edited_at < ?)",
        (content, edited_at, mls_group_id, target_rumor_id, editor, edited_at),
    )
    return cur.rowcount > 0


def count(conn: Connection, mls_group_id: bytes | None = None) -> int:
    if mls_group_id is None:
        total: int = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    else:
        total = conn.execute(
            "SELECT count(*) FROM messages WHERE mls_group_id = ?", (mls_group_id,)
        ).fetchone()[0]
    return total


def insert_many(conn: Connection, new: Iterable[NewMessage], *, now: int) -> int:
    """Insert several messages (duplicates skipped); returns how many were stored."""
    return sum(insert(conn, message, now=now) is not None for message in new)
