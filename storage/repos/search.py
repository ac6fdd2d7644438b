"""Full-text search over chat messages (FTS5 inside the encrypted file), with paging.

User input never reaches FTS5's query syntax: every word becomes a quoted string, so any
text is a valid query. Words must all match (AND); the last one also matches as a prefix, so
results follow the user's typing. Results come newest-arrived first, which FTS5 serves
straight from its index without sorting all matches; page with ``before_seq``.
"""

from __future__ import annotations

import re

from storage.repos.messages import COLUMNS, from_row
from storage.rows import SearchHit
from storage.types import Connection

_WORD = re.compile(r"\w+", re.UNICODE)
_QUALIFIED = ", ".join(f"m.{column.strip()}" for column in COLUMNS.split(","))


def fts_query(text: str, *, prefix_last: bool = True) -> str | None:
    """The FTS5 query for what the user typed, or None when it has no searchable word."""
    words = _WORD.findall(text)
    if not words:
        return None
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    if prefix_last:
        quoted[-1] += " *"
    return " ".join(quoted)


def search(
    conn: Connection,
    text: str,
    *,
    mls_group_id: bytes | None = None,
    before_seq: int | None = None,
    limit: int = 20,
    highlight: tuple[str, str] = ("\x02", "\x03"),
) -> list[SearchHit]:
    """Messages matching ``text`` (optionally in one group), newest-arrived first.

    The snippet marks matches with ``highlight`` (control characters by default, which never
    occur in typed text, so the UI can style them safely). For the next page pass the last
    hit's ``message.seq`` as ``before_seq``.
    """
    query = fts_query(text)
    if query is None or limit <= 0:
        return []
    group_clause = "" if mls_group_id is None else " AND m.mls_group_id = :g"
    rows = conn.execute(
        f"SELECT {_QUALIFIED}, snippet(messages_fts, 0, :open, :close, '…', 12)"  # noqa: S608 (constant columns and clause)
        " FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid"
        " WHERE messages_fts MATCH :query AND messages_fts.rowid < :before"
        f"{group_clause} ORDER BY messages_fts.rowid DESC LIMIT :limit",
        {
            "query": query,
            "before": 2**62 if before_seq is None else before_seq,
            "g": mls_group_id,
            "limit": limit,
            "open": highlight[0],
            "close": highlight[1],
        },
    ).fetchall()
    return [SearchHit(from_row(row), row[-1]) for row in rows]
