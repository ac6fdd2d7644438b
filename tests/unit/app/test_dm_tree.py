"""The storage forms of a Profile B group (`app.dm.tree`), over real Profile B groups."""

from __future__ import annotations

import random

import pytest

from app import timeline
from app.dm import tree as dm_tree
from marmot.profile_b.branches import BranchTree, CommitMeta
from marmot.profile_b.changes import Change
from marmot.profile_b.components import ComponentId, GroupProfile
from marmot.profile_b.convergence import commit_digest
from marmot.profile_b.group import (
    GroupSettings,
    commit_priority,
    create_group_b,
    update_components_b,
)
from marmot.profile_b.key_package import create_key_package_b
from marmot.profile_b.payloads import SystemType
from mls.group import GroupState, PendingCommit
from mls.snapshot import dump_group
from nostr.event import UnsignedEvent
from nostr.keys import SecretKey
from storage.rows.branches import ROOT_KEY

pytestmark = pytest.mark.darkmatter

NOW = 1_760_000_000
ALICE, BOB = SecretKey(bytes([0x11]) * 32), SecretKey(bytes([0x22]) * 32)


def _group() -> GroupState:
    rng = random.Random(9).randbytes
    bundle = create_key_package_b(BOB, now=NOW, rng=rng)
    settings = GroupSettings("g", "", (), bytes(32), ("wss://relay.example",))
    founding = create_group_b(ALICE, settings, [bundle.key_package], now=NOW, rng=rng)
    assert founding.pending is not None
    return founding.pending.next_state


def _rename(state: GroupState, name: str, seed: int) -> PendingCommit:
    change: dict[int, bytes | None] = {ComponentId.GROUP_PROFILE: GroupProfile(name).encode()}
    return update_components_b(state, change, rng=random.Random(seed).randbytes)


def _meta(pending: PendingCommit) -> CommitMeta:
    digest = commit_digest(pending.message.to_bytes())
    return CommitMeta(ALICE.public_key().data, commit_priority(pending.summary), digest)


def test_a_forked_tree_round_trips_through_rows() -> None:
    root = _group()
    tree: dm_tree.Tree = BranchTree(root)
    first, second = _rename(root, "one", 1), _rename(root, "two", 2)
    a = tree.add_commit(tree.root, first.next_state, _meta(first))
    b = tree.add_commit(tree.root, second.next_state, _meta(second))
    tree.witness(b, BOB.public_key().data)
    back = dm_tree.from_rows(dm_tree.to_rows(tree))
    assert dm_tree.node_key(back.root) == ROOT_KEY
    assert dm_tree.node_key(back.canonical) == dm_tree.node_key(a) == _meta(first).digest.hex()
    twin = dm_tree.find(back, dm_tree.node_key(b))
    assert twin is not None and twin.witnesses == {BOB.public_key().data}
    assert twin.meta == b.meta and twin.parent is back.root
    assert dump_group(twin.state) == dump_group(b.state)
    # Convergence decides the same on the stored copy as on the original.
    original, stored = tree.converge(), back.converge()
    assert dm_tree.node_key(tree.canonical) == dm_tree.node_key(back.canonical)
    assert (original.reorg is None) == (stored.reorg is None)


def test_a_pruned_root_keeps_its_commit_key() -> None:
    state = _group()
    tree: dm_tree.Tree = BranchTree(state)
    node = tree.root
    for n in range(7):
        pending = _rename(node.state, f"name {n}", n)
        node = tree.add_commit(node, pending.next_state, _meta(pending))
    assert tree.prune() > 0
    back = dm_tree.from_rows(dm_tree.to_rows(tree))
    assert dm_tree.node_key(back.root) == dm_tree.node_key(tree.root) != ROOT_KEY
    assert [n.epoch for n in back.canonical.path()] == [n.epoch for n in tree.canonical.path()]


def test_a_tree_without_its_canonical_node_is_refused() -> None:
    rows = [r for r in dm_tree.to_rows(BranchTree[UnsignedEvent](_group())) if not r.canonical]
    with pytest.raises(ValueError, match="canonical"):
        dm_tree.from_rows(rows)


def test_our_pending_commit_round_trips() -> None:
    state = _group()
    pending = _rename(state, "renamed", 3)
    changes = dm_tree.commit_changes(state, pending.summary, pending.next_state)
    own = dm_tree.OwnCommit("root", commit_priority(pending.summary), b"\x01" * 32, tuple(changes),
                            pending.next_state)  # fmt: skip
    back = dm_tree.OwnCommit.from_bytes(own.to_bytes())
    assert (back.base, back.priority, back.digest, back.changes) == (
        own.base, own.priority, own.digest, own.changes,
    )  # fmt: skip
    assert back.changes == (
        timeline.Change(timeline.RENAMED, ALICE.public_key().hex, "", "renamed"),
    )
    assert dump_group(back.next_state) == dump_group(pending.next_state)


def test_system_rows_become_timeline_rows() -> None:
    a, b = ALICE.public_key().data, BOB.public_key().data
    rows = [
        Change(SystemType.MEMBER_ADDED, a, subject=b),
        Change(SystemType.MEMBER_REMOVED, a, subject=b),
        Change(SystemType.MEMBER_LEFT, b, subject=b),
        Change(SystemType.ADMIN_ADDED, a, subject=b),
        Change(SystemType.ADMIN_REMOVED, a, subject=b),
        Change(SystemType.GROUP_RENAMED, a, name="new", old_name="old"),
        Change(SystemType.GROUP_AVATAR_CHANGED, a),
        Change(
            SystemType.DISAPPEARING_TIMER_CHANGED, a, old_retention_secs=0, new_retention_secs=60
        ),
        Change(SystemType.GROUP_DISBANDED, a),
    ]
    got = [
        (c.what, c.actor, c.subject, c.value)
        for c in dm_tree.timeline_changes(rows, _group(), None, actor=b"")
    ]
    ah, bh = a.hex(), b.hex()
    assert got == [
        ("added", ah, bh, ""),
        ("removed", ah, bh, ""),
        ("left", bh, "", ""),
        ("admins", ah, bh, "granted"),
        ("admins", ah, bh, "revoked"),
        ("renamed", ah, "", "new"),
        ("picture", ah, "", ""),
        ("retention", ah, "", "60"),
        ("disbanded", ah, "", ""),
    ]


def test_a_description_change_gets_its_own_row() -> None:
    state = _group()
    change: dict[int, bytes | None] = {
        ComponentId.GROUP_PROFILE: GroupProfile("g", "about us").encode()
    }
    pending = update_components_b(state, change, rng=random.Random(4).randbytes)
    found = dm_tree.commit_changes(state, pending.summary, pending.next_state)
    assert found == [timeline.Change(timeline.DESCRIBED, ALICE.public_key().hex, "", "about us")]
