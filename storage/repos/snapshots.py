"""Commit-race snapshots of the group aggregate (MIP-03 "keep recent states").

Before a commit is applied, the state it replaces is saved under the epoch it was applied
from and the commit's order key (created_at, event id, content hash). When a better commit
for an epoch we already left arrives, `rollback` restores that state in the caller's
transaction; the app then applies the winner. Unlike MDK, the order key survives restarts.
"""

from __future__ import annotations

import json

from storage.errors import NotFound
from storage.repos._json import dumps
from storage.rows import CommitKey, MlsState, Snapshot
from storage.types import Connection

KEEP_PER_GROUP = 5

_ROW_FIELDS = (
    "nostr_group_id",
    "name",
    "description",
    "admins",
    "relays",
    "state",
    "epoch",
    "our_leaf",
)


def take(conn: Connection, mls_group_id: bytes, commit: CommitKey, *, now: int) -> None:
    """Save the group's current state, replacing an older snapshot of the same epoch."""
    row = conn.execute(
        f"SELECT {', '.join(_ROW_FIELDS)}, marmot_data, mls_state, state_format FROM groups"  # noqa: S608 (constant column list)
        " WHERE mls_group_id = ?",
        (mls_group_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no group {mls_group_id.hex()}")
    group_row = dict(zip(_ROW_FIELDS, row[: len(_ROW_FIELDS)], strict=True))
    members = conn.execute(
        "SELECT leaf_index, pubkey FROM group_members WHERE mls_group_id = ? ORDER BY leaf_index",
        (mls_group_id,),
    ).fetchall()
    conn.execute(
        "INSERT OR REPLACE INTO group_snapshots (mls_group_id, epoch, commit_created_at,"
        " commit_event_id, content_hash, group_row, members, marmot_data, mls_state,"
        " state_format, taken_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            mls_group_id,
            group_row["epoch"],
            commit.created_at,
            commit.event_id,
            commit.content_hash,
            dumps(group_row),
            dumps([list(m) for m in members]),
            *row[len(_ROW_FIELDS) :],
            now,
        ),
    )
    conn.execute(
        "DELETE FROM group_snapshots WHERE mls_group_id = ? AND epoch NOT IN"
        " (SELECT epoch FROM group_snapshots WHERE mls_group_id = ? ORDER BY epoch DESC LIMIT ?)",
        (mls_group_id, mls_group_id, KEEP_PER_GROUP),
    )


def _snapshot(row: tuple[bytes, int, int, str, bytes, int]) -> Snapshot:
    return Snapshot(row[0], row[1], CommitKey(row[2], row[3], row[4]), row[5])


_SELECT = (
    "SELECT mls_group_id, epoch, commit_created_at, commit_event_id, content_hash, taken_at"
    " FROM group_snapshots"
)


def get(conn: Connection, mls_group_id: bytes, epoch: int) -> Snapshot | None:
    """The snapshot taken when the commit from ``epoch`` was applied, if kept."""
    row = conn.execute(
        _SELECT + " WHERE mls_group_id = ? AND epoch = ?", (mls_group_id, epoch)
    ).fetchone()
    return None if row is None else _snapshot(row)


def list_snapshots(conn: Connection, mls_group_id: bytes) -> list[Snapshot]:
    return [
        _snapshot(row)
        for row in conn.execute(_SELECT + " WHERE mls_group_id = ? ORDER BY epoch", (mls_group_id,))
    ]


def update_commit_key(conn: Connection, mls_group_id: bytes, epoch: int, commit: CommitKey) -> None:
    """Lower the stored order key (the same commit seen in a better-ordered wrapper event)."""
    cur = conn.execute(
        "UPDATE group_snapshots SET commit_created_at = ?, commit_event_id = ?, content_hash = ?"
        " WHERE mls_group_id = ? AND epoch = ?",
        (commit.created_at, commit.event_id, commit.content_hash, mls_group_id, epoch),
    )
    if cur.rowcount == 0:
        raise NotFound(f"no snapshot of group {mls_group_id.hex()} at epoch {epoch}")


def rollback(conn: Connection, mls_group_id: bytes, epoch: int, *, now: int) -> int:
    """Restore the state saved at ``epoch``; returns the group's new revision.

    Exporter secrets of later epochs and snapshots from ``epoch`` on belong to the discarded
    branch and are deleted; so is a pending commit of ours built on it.
    """
    row = conn.execute(
        "SELECT group_row, members, marmot_data, mls_state, state_format FROM group_snapshots"
        " WHERE mls_group_id = ? AND epoch = ?",
        (mls_group_id, epoch),
    ).fetchone()
    if row is None:
        raise NotFound(f"no snapshot of group {mls_group_id.hex()} at epoch {epoch}")
    saved = json.loads(row[0])
    assignments = ", ".join(f"{name} = ?" for name in _ROW_FIELDS)
    conn.execute(
        f"UPDATE groups SET {assignments}, marmot_data = ?, mls_state = ?, state_format = ?,"  # noqa: S608 (constant column list)
        " revision = revision + 1, updated_at = ?, pending_commit = NULL,"
        " pending_commit_event_id = NULL, pending_commit_created_at = NULL"
        " WHERE mls_group_id = ?",
        (*(saved[name] for name in _ROW_FIELDS), row[2], row[3], row[4], now, mls_group_id),
    )
    conn.execute("DELETE FROM group_members WHERE mls_group_id = ?", (mls_group_id,))
    conn.executemany(
        "INSERT INTO group_members (mls_group_id, leaf_index, pubkey) VALUES (?, ?, ?)",
        [(mls_group_id, leaf, pubkey) for leaf, pubkey in json.loads(row[1])],
    )
    conn.execute(
        "DELETE FROM group_epoch_secrets WHERE mls_group_id = ? AND epoch > ?",
        (mls_group_id, epoch),
    )
    conn.execute(
        "DELETE FROM group_snapshots WHERE mls_group_id = ? AND epoch >= ?", (mls_group_id, epoch)
    )
    revision: int = conn.execute(
        "SELECT revision FROM groups WHERE mls_group_id = ?", (mls_group_id,)
    ).fetchone()[0]
    return revision


def prune(conn: Connection, *, taken_before: int) -> int:
    """Drop snapshots older than the retention TTL (MDK keeps them 7 days)."""
    return conn.execute("DELETE FROM group_snapshots WHERE taken_at < ?", (taken_before,)).rowcount


def state_at(conn: Connection, mls_group_id: bytes, epoch: int) -> MlsState | None:
    """The MLS state saved at ``epoch`` (to validate a competing commit on a copy of it)."""
    row = conn.execute(
        "SELECT state_format, mls_state FROM group_snapshots WHERE mls_group_id = ? AND epoch = ?",
        (mls_group_id, epoch),
    ).fetchone()
    return None if row is None else MlsState(row[0], row[1])
