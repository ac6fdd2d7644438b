"""The branch tree of one member: adopting, competing commits, witnesses, reorgs."""

from __future__ import annotations

import random

import pytest

from marmot.profile_b.branches import BranchTree, CommitMeta
from marmot.profile_b.components import ComponentId, GroupProfile
from marmot.profile_b.convergence import commit_digest
from marmot.profile_b.group import (
    CONFIG,
    GroupSettings,
    check_commit_b,
    commit_priority,
    create_group_b,
    update_components_b,
)
from marmot.profile_b.key_package import create_key_package_b
from mls.group import CommitProcessed, GroupState, PendingCommit, join_from_welcome, process
from nostr.keys import SecretKey

pytestmark = pytest.mark.darkmatter

NOW = 1_788_718_800
ALICE, BOB, CAROL = (SecretKey(bytes([i]) * 32) for i in (1, 2, 3))


def three_members() -> tuple[GroupState, GroupState, GroupState]:
    r = random.Random(5).randbytes
    bob_kp = create_key_package_b(BOB, now=NOW, rng=r)
    carol_kp = create_key_package_b(CAROL, now=NOW, rng=r)
    settings = GroupSettings("g", "", (BOB.public_key().data,), b"\x01" * 32, ("wss://a.example",))
    founding = create_group_b(
        ALICE, settings, [bob_kp.key_package, carol_kp.key_package], now=NOW, rng=r
    )
    assert founding.pending is not None and founding.pending.welcome is not None
    welcome = founding.pending.welcome
    return (
        founding.pending.next_state,
        join_from_welcome(welcome, bob_kp, config=CONFIG),
        join_from_welcome(welcome, carol_kp, config=CONFIG),
    )


def rename(state: GroupState, name: str, seed: int) -> PendingCommit:
    data = GroupProfile(name).encode()
    return update_components_b(
        state, {ComponentId.GROUP_PROFILE: data}, rng=random.Random(seed).randbytes
    )


def apply(tree: BranchTree[str], parent_state: GroupState, pending: PendingCommit):  # type: ignore[no-untyped-def]
    parent = next(n for n in tree.nodes() if n.state is parent_state)
    result, state = process(parent.state, pending.message, now=NOW)
    assert isinstance(result, CommitProcessed)
    check_commit_b(parent.state, result)
    meta = CommitMeta(
        result.credential.identity,
        commit_priority(result),
        commit_digest(pending.message.to_bytes()),
    )
    return tree.add_commit(parent, state, meta)


def test_a_commit_on_the_tip_is_adopted_and_decided_alone() -> None:
    alice, _, carol = three_members()
    tree: BranchTree[str] = BranchTree(carol)
    child = apply(tree, carol, rename(alice, "one", 1))
    assert tree.canonical is child
    outcome = tree.converge()
    assert outcome.reorg is None and outcome.selection is not None
    assert outcome.selection.decisive_rule is None and outcome.selection.selected is not None
    assert outcome.selection.selected.tip_epoch == 2


def test_competing_commits_settle_on_the_lower_committer_whatever_the_order() -> None:
    alice, bob, carol = three_members()
    a, b = rename(alice, "alice's", 2), rename(bob, "bob's", 3)
    lower = min((ALICE, a), (BOB, b), key=lambda x: x[0].public_key().data)
    winners = []
    for first, second in ((a, b), (b, a)):
        tree: BranchTree[str] = BranchTree(carol)
        apply(tree, carol, first)
        apply(tree, carol, second)
        outcome = tree.converge()
        assert outcome.selection is not None and outcome.selection.decisive_rule == "tip_committer"
        assert tree.canonical.meta is not None
        winners.append(tree.canonical.meta.committer)
    assert winners == [lower[0].public_key().data] * 2


def test_witness_quorum_keeps_a_branch_and_a_reorg_reports_payloads() -> None:
    alice, bob, carol = three_members()
    a, b = rename(alice, "alice's", 2), rename(bob, "bob's", 3)
    tree: BranchTree[str] = BranchTree(carol)
    node_a = apply(tree, carol, a)
    assert tree.record(node_a, ALICE.public_key().data, "hi from a")
    # a second sender on branch a: quorum; branch a now beats b whatever the committers
    tree.record(node_a, CAROL.public_key().data, "hi from c")
    node_b = apply(tree, carol, b)
    assert not tree.record(node_b, BOB.public_key().data, "on b")  # not canonical
    outcome = tree.converge()
    assert tree.canonical is node_a and outcome.reorg is None
    assert (
        outcome.selection is not None
        and outcome.selection.decisive_rule == "effective_commit_depth"
    )
    # without witnesses the committer rule decides: adopt the loser first, then the
    # winner arrives and the loser's payloads are withdrawn
    alice_wins = ALICE.public_key().data < BOB.public_key().data
    (loser, loser_key), (winner, winner_key) = (
        ((b, BOB), (a, ALICE)) if alice_wins else ((a, ALICE), (b, BOB))
    )
    tree2: BranchTree[str] = BranchTree(carol)
    first = apply(tree2, carol, loser)
    tree2.record(first, loser_key.public_key().data, "on the loser")
    second = apply(tree2, carol, winner)
    tree2.record(second, winner_key.public_key().data, "on the winner")
    outcome2 = tree2.converge()
    assert tree2.canonical is second and outcome2.reorg is not None
    assert outcome2.reorg.old is first and outcome2.reorg.fork is tree2.root
    assert outcome2.reorg.invalidated == ("on the loser",)
    assert outcome2.reorg.delivered == ("on the winner",)
    assert [n.epoch for n in outcome2.reorg.replayed] == [2]


def test_duplicates_are_known() -> None:
    alice, _, carol = three_members()
    tree: BranchTree[str] = BranchTree(carol)
    pending = rename(alice, "x", 4)
    apply(tree, carol, pending)
    assert tree.has_commit(tree.root, commit_digest(pending.message.to_bytes()))
    assert not tree.has_commit(tree.root, b"\x00" * 32)


def test_prune_keeps_the_rewind_horizon_and_drops_older_forks() -> None:
    alice, bob, carol = three_members()
    tree: BranchTree[str] = BranchTree(carol)
    stale = apply(tree, carol, rename(bob, "stale fork", 30))  # epoch 2, bob's branch
    state, parent_state = alice, carol
    for i in range(7):  # alice's chain 1 -> 8 on another branch
        pending = rename(state, f"n{i}", 40 + i)
        node = apply(tree, parent_state, pending)
        state, parent_state = pending.next_state, node.state
    tree.converge()
    assert tree.canonical.epoch == 8 and stale in tree.tips()
    dropped = tree.prune()
    assert tree.root.epoch == 3 and tree.root.parent is None
    assert (
        stale not in list(tree.nodes()) and dropped == 3
    )  # epochs 1 and 2 of the chain + the fork
    assert tree.prune() == 0
