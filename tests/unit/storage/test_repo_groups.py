"""Groups: state writes with optimistic revisions, metadata, members, secrets, local flags."""

from __future__ import annotations

import pytest

from storage import Conflict, Connection, NotFound
from storage.repos import groups, messages
from storage.rows import (
    ExporterSecret,
    GroupMetadata,
    GroupState,
    Member,
    MlsState,
    PendingCommit,
    StateWrite,
)
from tests.helpers.storage_factories import ALICE, BOB, CAROL, chat, gid, hexid, new_group


def test_create_and_read_back(conn: Connection, group: bytes) -> None:
    stored = groups.require(conn, group)
    expected = new_group()
    assert stored.metadata == expected.metadata
    assert (stored.state, stored.epoch, stored.our_leaf, stored.revision) == (
        GroupState.ACTIVE,
        0,
        0,
        0,
    )
    assert not stored.has_pending_commit and stored.last_self_update_at is None
    assert repr(expected.metadata.marmot_data) not in repr(stored)  # holds the image key
    assert groups.by_nostr_group_id(conn, expected.metadata.nostr_group_id) == stored
    assert groups.by_nostr_group_id(conn, "00" * 32) is None
    state = groups.load_state(conn, group)
    assert (state.state, state.epoch, state.revision) == (MlsState(1, b"state-0"), 0, 0)
    assert "state-0" not in repr(state)
    assert groups.members(conn, group) == [Member(0, ALICE), Member(1, BOB)]
    assert groups.exporter_secrets(conn, group, "group-event") == [
        ExporterSecret(0, "group-event", b"s" * 32)
    ]
    with pytest.raises(NotFound):
        groups.load_state(conn, gid("nope"))
    with pytest.raises(NotFound):
        groups.require(conn, gid("nope"))


def _commit(group: bytes, revision: int, epoch: int, **changes: object) -> StateWrite:
    return StateWrite(
        mls_group_id=group,
        base_revision=revision,
        state=MlsState(1, b"state-%d" % epoch),
        epoch=epoch,
        our_leaf=0,
        **changes,  # type: ignore[arg-type]
    )


def test_write_state_replaces_everything_named_and_keeps_the_rest(
    conn: Connection, group: bytes
) -> None:
    renamed = GroupMetadata(
        hexid("rotated"), "Renamed", "", (ALICE, CAROL), ("wss://new",), b"\xf2\xee2"
    )
    write = _commit(
        group,
        0,
        1,
        metadata=renamed,
        members=(Member(0, ALICE), Member(2, CAROL)),
        exporter_secrets=(ExporterSecret(1, "group-event", b"t" * 32),),
    )
    assert groups.write_state(conn, write, now=200) == 1
    stored = groups.require(conn, group)
    assert (stored.metadata, stored.epoch, stored.revision, stored.updated_at) == (
        renamed,
        1,
        1,
        200,
    )
    assert groups.by_nostr_group_id(conn, hexid("rotated")) == stored
    assert groups.members(conn, group) == [Member(0, ALICE), Member(2, CAROL)]
    assert [s.epoch for s in groups.exporter_secrets(conn, group, "group-event")] == [1, 0]
    # An application message: new blob, same epoch, nothing else touched.
    assert groups.write_state(conn, _commit(group, 1, 1), now=201) == 2
    assert groups.require(conn, group).metadata == renamed
    assert groups.load_state(conn, group).state.data == b"state-1"


def test_a_stale_revision_is_a_conflict_and_writes_nothing(conn: Connection, group: bytes) -> None:
    groups.write_state(conn, _commit(group, 0, 1), now=1)
    with pytest.raises(Conflict) as info:
        groups.write_state(conn, _commit(group, 0, 7), now=2)
    assert (info.value.expected, info.value.found) == (0, 1)
    assert groups.load_state(conn, group).epoch == 1
    with pytest.raises(NotFound):
        groups.write_state(conn, _commit(gid("nope"), 0, 1), now=1)


def test_leaving_sets_state_and_our_leaf(conn: Connection, group: bytes) -> None:
    removed = StateWrite(group, 0, MlsState(1, b"gone"), 2, None, group_state=GroupState.INACTIVE)
    groups.write_state(conn, removed, now=5)
    stored = groups.require(conn, group)
    assert (stored.state, stored.our_leaf) == (GroupState.INACTIVE, None)


def test_pending_commit_lives_until_merged(conn: Connection, group: bytes) -> None:
    assert groups.pending_commit(conn, group) is None
    pending = PendingCommit(b"staged", "e9" * 32, 1234)
    groups.set_pending_commit(conn, group, pending, now=1)
    assert groups.pending_commit(conn, group) == pending
    assert groups.require(conn, group).has_pending_commit
    groups.write_state(conn, _commit(group, 0, 1), now=2)  # an unrelated write keeps it
    assert groups.pending_commit(conn, group) == pending
    groups.write_state(conn, _commit(group, 1, 2, clear_pending_commit=True), now=3)
    assert groups.pending_commit(conn, group) is None
    groups.set_pending_commit(conn, group, pending, now=4)
    groups.set_pending_commit(conn, group, None, now=5)  # publish failed: discarded
    assert groups.pending_commit(conn, group) is None
    with pytest.raises(NotFound):
        groups.set_pending_commit(conn, gid("nope"), None, now=1)


def test_exporter_secret_window(conn: Connection, group: bytes) -> None:
    secrets = tuple(ExporterSecret(e, "group-event", bytes([e]) * 32) for e in range(1, 9))
    groups.put_exporter_secrets(conn, group, (*secrets, ExporterSecret(8, "legacy", b"l" * 32)))
    assert groups.prune_exporter_secrets(conn, group, keep_from_epoch=3) == 3  # epochs 0, 1, 2
    kept = groups.exporter_secrets(conn, group, "group-event")
    assert [s.epoch for s in kept] == [8, 7, 6, 5, 4, 3]
    assert [s.epoch for s in groups.exporter_secrets(conn, group, "group-event", min_epoch=7)] == [
        8,
        7,
    ]
    assert groups.exporter_secrets(conn, group, "legacy")[0].secret == b"l" * 32


def test_local_flags_and_listing(conn: Connection, group: bytes) -> None:
    second = new_group("second")
    groups.create(conn, second, now=50)
    pending = new_group("pending")
    groups.create(conn, pending, now=60)
    groups.set_state(conn, pending.mls_group_id, GroupState.PENDING, now=61)
    groups.set_pin_order(conn, second.mls_group_id, 1, now=70)
    groups.set_archived(conn, group, True, now=71)
    groups.set_muted_until(conn, group, 999, now=72)
    listed = groups.list_groups(conn)
    assert [g.metadata.name for g in listed] == ["Group second", "Group pending", "Group g"]
    assert [g.metadata.name for g in groups.list_groups(conn, archived=False)] == [
        "Group second",
        "Group pending",
    ]
    assert [g.metadata.name for g in groups.list_groups(conn, states=[GroupState.PENDING])] == [
        "Group pending"
    ]
    stored = groups.require(conn, group)
    assert (stored.archived_at, stored.muted_until) == (71, 999)
    groups.set_archived(conn, group, False, now=80)
    assert groups.require(conn, group).archived_at is None
    with pytest.raises(NotFound):
        groups.set_pin_order(conn, gid("nope"), 1, now=1)


def test_self_update_bookkeeping(conn: Connection, group: bytes) -> None:
    assert groups.needing_self_update(conn, older_than=0) == [group]  # never self-updated
    groups.set_self_updated(conn, group, now=100)
    assert groups.needing_self_update(conn, older_than=100) == []
    assert groups.needing_self_update(conn, older_than=101) == [group]


def test_leaves_of_an_identity_across_groups(conn: Connection, group: bytes) -> None:
    other = new_group("other")
    groups.create(conn, other, now=1)
    groups.set_members(conn, other.mls_group_id, [Member(0, ALICE), Member(3, BOB), Member(4, BOB)])
    assert groups.leaves_of(conn, BOB) == sorted(
        [(group, 1), (other.mls_group_id, 3), (other.mls_group_id, 4)]
    )


def test_deleting_a_group_cascades(conn: Connection, group: bytes) -> None:
    messages.insert(conn, chat(group, 1), now=1)
    assert groups.delete(conn, group)
    assert not groups.delete(conn, group)
    assert messages.count(conn) == 0
    for table in ("group_members", "group_epoch_secrets", "messages", "messages_fts"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
