"""Composer drafts, one per group."""

from __future__ import annotations

from storage.rows import Draft
from storage.types import Connection


def save(
    conn: Connection, mls_group_id: bytes, content: str, *, now: int, reply_to: str | None = None
) -> None:
    """Keep the draft; an empty one (no text, no reply target) is removed instead."""
    if not content and reply_to is None:
        clear(conn, mls_group_id)
        return
    conn.execute(
        "INSERT OR REPLACE INTO drafts (mls_group_id, content, reply_to, updated_at)"
        " VALUES (?, ?, ?, ?)",
        (mls_group_id, content, reply_to, now),
    )


def get(conn: Connection, mls_group_id: bytes) -> Draft | None:
    row = conn.execute(
        "SELECT mls_group_id, content, reply_to, updated_at FROM drafts WHERE mls_group_id = ?",
        (mls_group_id,),
    ).fetchone()
    return None if row is None else Draft(*row)


def clear(conn: Connection, mls_group_id: bytes) -> None:
    conn.execute("DELETE FROM drafts WHERE mls_group_id = ?", (mls_group_id,))


def all_drafts(conn: Connection) -> list[Draft]:
    return [
        Draft(*row)
        for row in conn.execute(
            "SELECT mls_group_id, content, reply_to, updated_at FROM drafts ORDER BY updated_at"
        )
    ]
