"""A Profile B group's retained branch tree, the 445 events it defers, the branch each
message arrived at, and message edits (kind 1009).

The tree is written whole (it is small: pruned to the rollback horizon) in the caller's
transaction, together with the group row's canonical state (`storage.repos.groups`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from storage.errors import StorageBug
from storage.repos import messages
from storage.repos._json import dump_strings, load_strings
from storage.rows import DeliveryStatus, Message, MlsState
from storage.rows.branches import BranchNodeRow, DeferredEvent
from storage.types import Connection

MAX_DEFERRED = 500
"""Per group: anyone who knows the ``h`` tag can post events no state opens."""


def save_tree(conn: Connection, gid: bytes, nodes: Sequence[BranchNodeRow]) -> None:
    if sum(n.canonical for n in nodes) != 1:
        raise StorageBug("a branch tree has exactly one canonical node")
    conn.execute("DELETE FROM dm_branch_nodes WHERE mls_group_id = ?", (gid,))
    conn.executemany(
        "INSERT INTO dm_branch_nodes (mls_group_id, node_key, parent_key, epoch, mls_state,"
        " state_format, committer, priority, witnesses, canonical)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                gid,
                n.key,
                n.parent_key,
                n.epoch,
                n.state.data,
                n.state.format,
                n.committer,
                n.priority,
                dump_strings(sorted(n.witnesses)),
                int(n.canonical),
            )
            for n in nodes
        ],
    )


def _node(row: Any) -> BranchNodeRow:
    return BranchNodeRow(
        row[0],
        row[1],
        row[2],
        MlsState(row[4], row[3]),
        row[5],
        row[6],
        load_strings(row[7]),
        bool(row[8]),
    )


def load_tree(conn: Connection, gid: bytes) -> list[BranchNodeRow]:
    """Parents before children (by epoch)."""
    rows = conn.execute(
        "SELECT node_key, parent_key, epoch, mls_state, state_format, committer, priority,"
        " witnesses, canonical FROM dm_branch_nodes WHERE mls_group_id = ?"
        " ORDER BY epoch, node_key",
        (gid,),
    )
    return [_node(row) for row in rows]


# --- deferred input --------------------------------------------------------------------------


def defer(
    conn: Connection, gid: bytes, event_id: str, event_json: str, created_at: int, *, now: int
) -> int:
    """Keep a 445 for a later try; at `MAX_DEFERRED` the longest-kept one goes (events of
    epochs before we joined never open). Returns how many were dropped for it."""
    dropped = 0
    held = conn.execute(
        "SELECT count(*) FROM dm_deferred WHERE mls_group_id = ?", (gid,)
    ).fetchone()[0]
    if held >= MAX_DEFERRED:
        dropped = conn.execute(
            "DELETE FROM dm_deferred WHERE mls_group_id = ? AND event_id IN (SELECT event_id"
            " FROM dm_deferred WHERE mls_group_id = ? ORDER BY received_at, created_at,"
            " event_id LIMIT ?)",
            (gid, gid, held - MAX_DEFERRED + 1),
        ).rowcount
    conn.execute(
        "INSERT INTO dm_deferred (mls_group_id, event_id, event_json, created_at, received_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (gid, event_id, event_json, created_at, now),
    )
    return dropped


def deferred(conn: Connection, gid: bytes) -> list[DeferredEvent]:
    """Oldest first (the order to try them in)."""
    rows = conn.execute(
        "SELECT event_id, event_json, created_at FROM dm_deferred WHERE mls_group_id = ?"
        " ORDER BY created_at, event_id",
        (gid,),
    )
    return [DeferredEvent(*row) for row in rows]


def undefer(conn: Connection, gid: bytes, event_ids: Iterable[str]) -> None:
    conn.executemany(
        "DELETE FROM dm_deferred WHERE mls_group_id = ? AND event_id = ?",
        [(gid, e) for e in event_ids],
    )


# --- messages on branches --------------------------------------------------------------------


def set_branch(conn: Connection, gid: bytes, rumor_id: str, key: str) -> None:
    conn.execute(
        "UPDATE messages SET branch = ? WHERE mls_group_id = ? AND rumor_id = ?",
        (key, gid, rumor_id),
    )


def set_branch_seqs(conn: Connection, seqs: Sequence[int], key: str) -> None:
    conn.executemany("UPDATE messages SET branch = ? WHERE seq = ?", [(key, s) for s in seqs])


def own_withdrawn(conn: Connection, gid: bytes, me: str) -> list[Message]:
    """Our chat messages hidden with a branch that lost (oldest first)."""
    rows = conn.execute(
        f"SELECT {messages.COLUMNS} FROM messages WHERE mls_group_id = ? AND author = ?"  # noqa: S608
        " AND kind = 9 AND status = ? AND branch IS NOT NULL ORDER BY created_at, seq",
        (gid, me, str(DeliveryStatus.INVALIDATED)),
    )
    return [messages.from_row(row) for row in rows]


def hide_branches(conn: Connection, gid: bytes, keys: Sequence[str]) -> list[str]:
    """A reorg left these nodes: what arrived there is withdrawn (rumor ids)."""
    out: list[str] = []
    for key in keys:
        rows = conn.execute(
            "UPDATE messages SET status = ? WHERE mls_group_id = ? AND branch = ?"
            " AND status != ? RETURNING rumor_id",
            (str(DeliveryStatus.INVALIDATED), gid, key, str(DeliveryStatus.INVALIDATED)),
        ).fetchall()
        out += [r[0] for r in rows]
    return out


def show_branches(conn: Connection, gid: bytes, keys: Sequence[str], me: str) -> list[int]:
    """A reorg reached these nodes: what arrived there is delivered (seqs)."""
    out: list[int] = []
    for key in keys:
        rows = conn.execute(
            "UPDATE messages SET status = CASE WHEN author = ? AND kind >= 0 THEN ? ELSE ? END"
            " WHERE mls_group_id = ? AND branch = ? AND status = ? RETURNING seq",
            (
                me,
                str(DeliveryStatus.SENT),
                str(DeliveryStatus.RECEIVED),
                gid,
                key,
                str(DeliveryStatus.INVALIDATED),
            ),
        ).fetchall()
        out += [r[0] for r in rows]
    return sorted(out)


# --- edits -----------------------------------------------------------------------------------


def add_edit(
    conn: Connection,
    gid: bytes,
    *,
    rumor_id: str,
    target_rumor_id: str,
    author: str,
    content: str,
    created_at: int,
) -> bool:
    cur = conn.execute(
        "INSERT INTO message_edits (mls_group_id, rumor_id, target_rumor_id, author, content,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (gid, rumor_id, target_rumor_id, author, content, created_at),
    )
    return cur.rowcount > 0


def newest_edit(
    conn: Connection, gid: bytes, target_rumor_id: str, author: str
) -> tuple[str, int] | None:
    """(content, created_at) of the author's newest edit of the message (ties: larger id)."""
    row = conn.execute(
        "SELECT content, created_at FROM message_edits WHERE mls_group_id = ?"
        " AND target_rumor_id = ? AND author = ? ORDER BY created_at DESC, rumor_id DESC LIMIT 1",
        (gid, target_rumor_id, author),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def show_edit(
    conn: Connection, gid: bytes, target_rumor_id: str, author: str, *, content: str, edited_at: int
) -> bool:
    """The edit's text becomes the message's shown text (its own author's, not deleted)."""
    cur = conn.execute(
        "UPDATE messages SET content = ?, edited_at = ? WHERE mls_group_id = ? AND rumor_id = ?"
        " AND author = ? AND deleted_at IS NULL AND kind >= 0"
        " AND (edited_at IS NULL OR edited_at != ? OR content != ?)",
        (content, edited_at, gid, target_rumor_id, author, edited_at, content),
    )
    return cur.rowcount > 0
