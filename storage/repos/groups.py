"""The group aggregate: MLS state blob, Marmot metadata, members, exporter secrets.

The MLS state is opaque here. Every state write goes through `write_state`, which checks the
revision the caller computed from, bumps it, and stores the members, metadata and exporter
secrets of the new epoch in the caller's transaction (the mls-rs "one write" shape).
Commit-race snapshots and rollback live in `storage.repos.snapshots`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from storage.errors import Conflict, NotFound
from storage.repos import snapshots
from storage.repos._json import dump_strings, load_strings
from storage.rows import (
    ExporterSecret,
    Group,
    GroupMetadata,
    GroupState,
    Member,
    MlsState,
    NewGroup,
    PendingCommit,
    StateWrite,
    StoredState,
)
from storage.types import Connection

_GROUP = (
    "SELECT mls_group_id, nostr_group_id, name, description, admins, relays, marmot_data,"
    " state, epoch, our_leaf, revision, pending_commit IS NOT NULL, pin_order, archived_at,"
    " muted_until, created_at, updated_at, last_self_update_at, profile FROM groups"
)


def _group(row: Any) -> Group:
    metadata = GroupMetadata(
        row[1], row[2], row[3], load_strings(row[4]), load_strings(row[5]), row[6]
    )
    return Group(
        mls_group_id=row[0],
        metadata=metadata,
        state=GroupState(row[7]),
        epoch=row[8],
        our_leaf=row[9],
        revision=row[10],
        has_pending_commit=bool(row[11]),
        pin_order=row[12],
        archived_at=row[13],
        muted_until=row[14],
        created_at=row[15],
        updated_at=row[16],
        last_self_update_at=row[17],
        profile=row[18],
    )


def create(conn: Connection, group: NewGroup, *, now: int) -> Group:
    meta = group.metadata
    conn.execute(
        "INSERT INTO groups (mls_group_id, nostr_group_id, name, description, admins, relays,"
        " marmot_data, state, epoch, our_leaf, mls_state, state_format, created_at, updated_at,"
        " profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            group.mls_group_id,
            meta.nostr_group_id,
            meta.name,
            meta.description,
            dump_strings(meta.admins),
            dump_strings(meta.relays),
            meta.marmot_data,
            str(group.state),
            group.epoch,
            group.our_leaf,
            group.mls_state.data,
            group.mls_state.format,
            now,
            now,
            group.profile,
        ),
    )
    set_members(conn, group.mls_group_id, group.members)
    put_exporter_secrets(conn, group.mls_group_id, group.exporter_secrets)
    return require(conn, group.mls_group_id)


def get(conn: Connection, mls_group_id: bytes) -> Group | None:
    row = conn.execute(_GROUP + " WHERE mls_group_id = ?", (mls_group_id,)).fetchone()
    return None if row is None else _group(row)


def require(conn: Connection, mls_group_id: bytes) -> Group:
    group = get(conn, mls_group_id)
    if group is None:
        raise NotFound(f"no group {mls_group_id.hex()}")
    return group


def by_nostr_group_id(conn: Connection, nostr_group_id: str) -> Group | None:
    row = conn.execute(_GROUP + " WHERE nostr_group_id = ?", (nostr_group_id,)).fetchone()
    return None if row is None else _group(row)


def list_groups(
    conn: Connection, *, states: Iterable[GroupState] | None = None, archived: bool | None = None
) -> list[Group]:
    """Groups, pinned first (by pin order) then by creation; filter by state and archive flag."""
    where, params = [], []
    if states is not None:
        wanted = [str(s) for s in states]
        where.append(f"state IN ({','.join('?' * len(wanted))})")
        params.extend(wanted)
    if archived is not None:
        where.append("archived_at IS NOT NULL" if archived else "archived_at IS NULL")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    order = " ORDER BY pin_order IS NULL, pin_order, created_at, mls_group_id"
    return [_group(row) for row in conn.execute(_GROUP + clause + order, params)]


def load_state(conn: Connection, mls_group_id: bytes) -> StoredState:
    row = conn.execute(
        "SELECT state_format, mls_state, epoch, revision FROM groups WHERE mls_group_id = ?",
        (mls_group_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no group {mls_group_id.hex()}")
    return StoredState(mls_group_id, MlsState(row[0], row[1]), row[2], row[3])


def write_state(conn: Connection, write: StateWrite, *, now: int) -> int:
    """Replace the group's MLS state (see `StateWrite`); returns the new revision."""
    gid = write.mls_group_id
    current = load_state(conn, gid)
    if current.revision != write.base_revision:
        raise Conflict(f"group {gid.hex()}", write.base_revision, current.revision)
    if write.snapshot is not None:
        snapshots.take(conn, gid, write.snapshot, now=now)
    conn.execute(
        "UPDATE groups SET mls_state = ?, state_format = ?, epoch = ?, our_leaf = ?,"
        " revision = revision + 1, state = coalesce(?, state), updated_at = ?,"
        " pending_commit = CASE WHEN ? THEN NULL ELSE pending_commit END,"
        " pending_commit_event_id = CASE WHEN ? THEN NULL ELSE pending_commit_event_id END,"
        " pending_commit_created_at = CASE WHEN ? THEN NULL ELSE pending_commit_created_at END"
        " WHERE mls_group_id = ?",
        (
            write.state.data,
            write.state.format,
            write.epoch,
            write.our_leaf,
            None if write.group_state is None else str(write.group_state),
            now,
            *(int(write.clear_pending_commit),) * 3,
            gid,
        ),
    )
    if write.metadata is not None:
        _set_metadata(conn, gid, write.metadata)
    if write.members is not None:
        set_members(conn, gid, write.members)
    put_exporter_secrets(conn, gid, write.exporter_secrets)
    return current.revision + 1


def _set_metadata(conn: Connection, mls_group_id: bytes, meta: GroupMetadata) -> None:
    conn.execute(
        "UPDATE groups SET nostr_group_id = ?, name = ?, description = ?, admins = ?,"
        " relays = ?, marmot_data = ? WHERE mls_group_id = ?",
        (
            meta.nostr_group_id,
            meta.name,
            meta.description,
            dump_strings(meta.admins),
            dump_strings(meta.relays),
            meta.marmot_data,
            mls_group_id,
        ),
    )


def _set_column(
    conn: Connection, mls_group_id: bytes, column: str, value: object, now: int
) -> None:
    cur = conn.execute(
        f"UPDATE groups SET {column} = ?, updated_at = ? WHERE mls_group_id = ?",  # noqa: S608 (column names are constants)
        (value, now, mls_group_id),
    )
    if cur.rowcount == 0:
        raise NotFound(f"no group {mls_group_id.hex()}")


def set_state(conn: Connection, mls_group_id: bytes, state: GroupState, *, now: int) -> None:
    """Local lifecycle change that needs no new MLS state (e.g. accepting an invite)."""
    _set_column(conn, mls_group_id, "state", str(state), now)


def set_pin_order(conn: Connection, mls_group_id: bytes, order: int | None, *, now: int) -> None:
    _set_column(conn, mls_group_id, "pin_order", order, now)


def set_archived(conn: Connection, mls_group_id: bytes, archived: bool, *, now: int) -> None:
    _set_column(conn, mls_group_id, "archived_at", now if archived else None, now)


def set_muted_until(conn: Connection, mls_group_id: bytes, until: int | None, *, now: int) -> None:
    _set_column(conn, mls_group_id, "muted_until", until, now)


def set_self_updated(conn: Connection, mls_group_id: bytes, *, now: int) -> None:
    _set_column(conn, mls_group_id, "last_self_update_at", now, now)


def needing_self_update(conn: Connection, *, older_than: int) -> list[bytes]:
    """Active Profile A groups never self-updated since joining, or not since
    ``older_than`` (Profile B has no periodic self-update)."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT mls_group_id FROM groups WHERE state = 'active' AND profile = 'mip'"
            " AND (last_self_update_at IS NULL OR last_self_update_at < ?) ORDER BY created_at",
            (older_than,),
        )
    ]


def set_members(conn: Connection, mls_group_id: bytes, members: Iterable[Member]) -> None:
    conn.execute("DELETE FROM group_members WHERE mls_group_id = ?", (mls_group_id,))
    conn.executemany(
        "INSERT INTO group_members (mls_group_id, leaf_index, pubkey) VALUES (?, ?, ?)",
        [(mls_group_id, m.leaf_index, m.pubkey) for m in members],
    )


def members(conn: Connection, mls_group_id: bytes) -> list[Member]:
    return [
        Member(leaf, pubkey)
        for leaf, pubkey in conn.execute(
            "SELECT leaf_index, pubkey FROM group_members WHERE mls_group_id = ?"
            " ORDER BY leaf_index",
            (mls_group_id,),
        )
    ]


def leaves_of(conn: Connection, pubkey: str) -> list[tuple[bytes, int]]:
    """(group, leaf) for every leaf ``pubkey`` holds: one per device per group."""
    return [
        (gid, leaf)
        for gid, leaf in conn.execute(
            "SELECT mls_group_id, leaf_index FROM group_members WHERE pubkey = ?"
            " ORDER BY mls_group_id, leaf_index",
            (pubkey,),
        )
    ]


def put_exporter_secrets(
    conn: Connection, mls_group_id: bytes, secrets: Iterable[ExporterSecret]
) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO group_epoch_secrets (mls_group_id, epoch, label, secret)"
        " VALUES (?, ?, ?, ?)",
        [(mls_group_id, s.epoch, s.label, s.secret) for s in secrets],
    )


def exporter_secrets(
    conn: Connection, mls_group_id: bytes, label: str, *, min_epoch: int = 0
) -> list[ExporterSecret]:
    """The stored secrets with ``label``, newest epoch first (the order to try them in)."""
    return [
        ExporterSecret(epoch, label, secret)
        for epoch, secret in conn.execute(
            "SELECT epoch, secret FROM group_epoch_secrets"
            " WHERE mls_group_id = ? AND label = ? AND epoch >= ? ORDER BY epoch DESC",
            (mls_group_id, label, min_epoch),
        )
    ]


def prune_exporter_secrets(conn: Connection, mls_group_id: bytes, *, keep_from_epoch: int) -> int:
    """Forget secrets of epochs before ``keep_from_epoch`` (out of the retention window)."""
    return conn.execute(
        "DELETE FROM group_epoch_secrets WHERE mls_group_id = ? AND epoch < ?",
        (mls_group_id, keep_from_epoch),
    ).rowcount


def set_pending_commit(
    conn: Connection, mls_group_id: bytes, pending: PendingCommit | None, *, now: int
) -> None:
    """Our own staged commit until the relay OK (then `write_state` with clear) or failure."""
    data, event_id, created_at = (
        (None, None, None)
        if pending is None
        else (pending.data, pending.event_id, pending.created_at)
    )
    cur = conn.execute(
        "UPDATE groups SET pending_commit = ?, pending_commit_event_id = ?,"
        " pending_commit_created_at = ?, updated_at = ? WHERE mls_group_id = ?",
        (data, event_id, created_at, now, mls_group_id),
    )
    if cur.rowcount == 0:
        raise NotFound(f"no group {mls_group_id.hex()}")


def pending_commit(conn: Connection, mls_group_id: bytes) -> PendingCommit | None:
    row = conn.execute(
        "SELECT pending_commit, pending_commit_event_id, pending_commit_created_at FROM groups"
        " WHERE mls_group_id = ? AND pending_commit IS NOT NULL",
        (mls_group_id,),
    ).fetchone()
    return None if row is None else PendingCommit(row[0], row[1] or "", row[2] or 0)


def delete(conn: Connection, mls_group_id: bytes) -> bool:
    """Remove the group and, by cascade, its messages, secrets, snapshots, tokens and drafts."""
    return conn.execute("DELETE FROM groups WHERE mls_group_id = ?", (mls_group_id,)).rowcount > 0
