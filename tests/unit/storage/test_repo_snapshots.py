"""Commit-race snapshots: taken before a commit, restored by rollback, bounded retention."""

from __future__ import annotations

import pytest

from storage import Connection, NotFound
from storage.repos import groups, snapshots
from storage.rows import (
    CommitKey,
    ExporterSecret,
    GroupMetadata,
    GroupState,
    Member,
    MlsState,
    PendingCommit,
    StateWrite,
)
from tests.helpers.storage_factories import ALICE, CAROL, hexid, new_group


def _apply_commit(
    conn: Connection, group: bytes, epoch: int, *, now: int = 10, **changes: object
) -> int:
    base = groups.load_state(conn, group).revision
    key = CommitKey(1000 + epoch, hexid(f"commit {epoch}"), b"h%d" % epoch)
    write = StateWrite(
        mls_group_id=group,
        base_revision=base,
        state=MlsState(1, b"state-%d" % (epoch + 1)),
        epoch=epoch + 1,
        our_leaf=0,
        exporter_secrets=(ExporterSecret(epoch + 1, "group-event", bytes([epoch + 1]) * 32),),
        snapshot=key,
        **changes,  # type: ignore[arg-type]
    )
    return groups.write_state(conn, write, now=now)


def test_rollback_restores_the_state_before_the_losing_commit(
    conn: Connection, group: bytes
) -> None:
    before = groups.require(conn, group)
    _apply_commit(conn, group, 0)
    _apply_commit(
        conn,
        group,
        1,
        metadata=GroupMetadata(hexid("rotated"), "Hijacked", "", (CAROL,), (), b"x"),
        members=(Member(0, ALICE), Member(5, CAROL)),
        group_state=GroupState.INACTIVE,
    )
    assert [s.epoch for s in snapshots.list_snapshots(conn, group)] == [0, 1]
    snap = snapshots.get(conn, group, 1)
    assert snap is not None and snap.commit == CommitKey(1001, hexid("commit 1"), b"h1")
    groups.set_pending_commit(conn, group, None, now=11)

    revision = snapshots.rollback(conn, group, 1, now=20)
    restored = groups.require(conn, group)
    assert restored.revision == revision == 3
    assert (restored.epoch, restored.state, restored.metadata) == (
        1,
        GroupState.ACTIVE,
        before.metadata,
    )
    assert groups.load_state(conn, group).state.data == b"state-1"
    assert groups.members(conn, group) == list(new_group().members)
    assert [s.epoch for s in groups.exporter_secrets(conn, group, "group-event")] == [1, 0]
    assert [s.epoch for s in snapshots.list_snapshots(conn, group)] == [0]  # the branch is gone


def test_rollback_needs_a_snapshot(conn: Connection, group: bytes) -> None:
    with pytest.raises(NotFound):
        snapshots.rollback(conn, group, 0, now=1)
    with pytest.raises(NotFound):
        snapshots.update_commit_key(conn, group, 0, CommitKey(1, "a", b""))


def test_retention_keeps_the_newest_per_group_and_a_ttl(conn: Connection, group: bytes) -> None:
    for epoch in range(8):
        _apply_commit(conn, group, epoch, now=100 + epoch)
    kept = snapshots.list_snapshots(conn, group)
    assert [s.epoch for s in kept] == [3, 4, 5, 6, 7]
    assert snapshots.prune(conn, taken_before=105) == 2
    assert [s.epoch for s in snapshots.list_snapshots(conn, group)] == [5, 6, 7]


def test_a_better_wrapper_lowers_the_order_key(conn: Connection, group: bytes) -> None:
    _apply_commit(conn, group, 0)
    better = CommitKey(900, hexid("rewrapped"), b"h0")
    snapshots.update_commit_key(conn, group, 0, better)
    assert snapshots.get(conn, group, 0).commit == better  # type: ignore[union-attr]


def test_rollback_drops_a_pending_commit_built_on_the_lost_branch(
    conn: Connection, group: bytes
) -> None:
    _apply_commit(conn, group, 0)
    groups.set_pending_commit(conn, group, PendingCommit(b"ours", "ee" * 32, 5), now=12)
    snapshots.rollback(conn, group, 0, now=13)
    assert groups.pending_commit(conn, group) is None
    assert groups.require(conn, group).epoch == new_group().epoch
