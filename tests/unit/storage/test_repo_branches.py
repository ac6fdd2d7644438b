"""A Profile B group's branch tree rows, deferred 445s, messages on branches, and edits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from storage import Connection, StorageBug
from storage.repos import branches, groups, messages
from storage.rows import DeliveryStatus, MlsState
from storage.rows.branches import ROOT_KEY, BranchNodeRow
from tests.helpers.storage_factories import ALICE, BOB, chat, rumor

pytestmark = pytest.mark.darkmatter

A, B, C = "a" * 64, "b" * 64, "c" * 64


def _tree() -> list[BranchNodeRow]:
    """root -> A (canonical) and root -> B: a fork at epoch 1."""
    return [
        BranchNodeRow(ROOT_KEY, None, 1, MlsState(3, b"root")),
        BranchNodeRow(A, ROOT_KEY, 2, MlsState(3, b"a"), ALICE, 0, (BOB, ALICE), canonical=True),
        BranchNodeRow(B, ROOT_KEY, 2, MlsState(3, b"b"), BOB, 1),
    ]


def test_the_tree_round_trips_and_is_replaced_whole(conn: Connection, group: bytes) -> None:
    branches.save_tree(conn, group, _tree())
    loaded = branches.load_tree(conn, group)
    assert loaded[0].key == ROOT_KEY  # parents first
    expected = _tree()
    expected[1] = replace(expected[1], witnesses=tuple(sorted(expected[1].witnesses)))
    assert sorted(loaded, key=lambda n: n.key) == sorted(expected, key=lambda n: n.key)
    pruned = [BranchNodeRow(A, None, 2, MlsState(3, b"a2"), ALICE, 0, (), canonical=True)]
    branches.save_tree(conn, group, pruned)
    assert branches.load_tree(conn, group) == pruned


def test_a_tree_has_exactly_one_canonical_node(conn: Connection, group: bytes) -> None:
    none = [BranchNodeRow(ROOT_KEY, None, 1, MlsState(3, b"root"))]
    with pytest.raises(StorageBug):
        branches.save_tree(conn, group, none)
    two = [*_tree()[:2], BranchNodeRow(B, ROOT_KEY, 2, MlsState(3, b"b"), canonical=True)]
    with pytest.raises(StorageBug):
        branches.save_tree(conn, group, two)


def test_the_tree_goes_with_its_group(conn: Connection, group: bytes) -> None:
    branches.save_tree(conn, group, _tree())
    branches.defer(conn, group, C, "{}", 5, now=10)
    groups.delete(conn, group)
    assert branches.load_tree(conn, group) == []
    assert branches.deferred(conn, group) == []


def test_deferred_events_are_kept_once_oldest_first_and_bounded(
    conn: Connection, group: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert branches.defer(conn, group, B, '{"b":1}', 20, now=30) == 0
    branches.defer(conn, group, A, '{"a":1}', 10, now=31)
    branches.defer(conn, group, A, '{"a":2}', 10, now=32)  # a copy changes nothing
    found = branches.deferred(conn, group)
    assert [(d.event_id, d.event_json) for d in found] == [(A, '{"a":1}'), (B, '{"b":1}')]
    monkeypatch.setattr(branches, "MAX_DEFERRED", 2)
    assert branches.defer(conn, group, C, "{}", 5, now=33) == 1  # B was kept longest
    assert [d.event_id for d in branches.deferred(conn, group)] == [C, A]
    branches.undefer(conn, group, [A])
    assert [d.event_id for d in branches.deferred(conn, group)] == [C]


def test_a_reorg_hides_and_shows_messages_by_branch(conn: Connection, group: bytes) -> None:
    mine = messages.insert(conn, chat(group, 1, author=ALICE, status=DeliveryStatus.SENT), now=1)
    theirs = messages.insert(conn, chat(group, 2), now=1)
    other = messages.insert(conn, chat(group, 3), now=1)
    assert mine and theirs and other
    branches.set_branch_seqs(conn, [mine, theirs], A)
    branches.set_branch(conn, group, rumor(group, 3), B)
    assert sorted(branches.hide_branches(conn, group, [A])) == sorted(
        [rumor(group, 1), rumor(group, 2)]
    )
    assert branches.hide_branches(conn, group, [A]) == []  # already hidden
    assert branches.show_branches(conn, group, [A, B], ALICE) == [mine, theirs]
    statuses = [m.status for m in messages.page(conn, group)]
    assert statuses == [DeliveryStatus.SENT, DeliveryStatus.RECEIVED, DeliveryStatus.RECEIVED]


def test_the_authors_newest_edit_is_shown(conn: Connection, group: bytes) -> None:
    messages.insert(conn, chat(group, 1, author=BOB, content="frist"), now=1)
    target = rumor(group, 1)
    for rumor_id, content, at in ((A, "first", 20), (B, "first!", 30), (C, "fir", 25)):
        branches.add_edit(
            conn, group, rumor_id=rumor_id, target_rumor_id=target, author=BOB,
            content=content, created_at=at,
        )  # fmt: skip
    assert branches.newest_edit(conn, group, target, BOB) == ("first!", 30)
    assert branches.newest_edit(conn, group, target, ALICE) is None
    assert not branches.show_edit(conn, group, target, ALICE, content="hijack", edited_at=40)
    assert branches.show_edit(conn, group, target, BOB, content="first!", edited_at=30)
    assert not branches.show_edit(conn, group, target, BOB, content="first!", edited_at=30)
    shown = messages.by_rumor_id(conn, group, target)
    assert shown is not None and (shown.content, shown.edited_at) == ("first!", 30)


def test_groups_keep_their_profile(conn: Connection, group: bytes) -> None:
    assert groups.require(conn, group).profile == "mip"
    assert groups.needing_self_update(conn, older_than=10**9) == [group]
    conn.execute("UPDATE groups SET profile = 'darkmatter' WHERE mls_group_id = ?", (group,))
    assert groups.require(conn, group).profile == "darkmatter"
    assert groups.needing_self_update(conn, older_than=10**9) == []  # no periodic update in B
