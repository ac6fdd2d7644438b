"""The Profile B convergence rule as a pure function, rule by rule."""

from __future__ import annotations

import itertools

import pytest

from marmot.profile_b.convergence import (
    POLICY_V1,
    AppWitness,
    BranchCandidate,
    ConvergencePolicy,
    Priority,
    commit_ordering_key,
    select_branch,
)

pytestmark = pytest.mark.darkmatter

A, B, C = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32


def branch(
    name: str,
    *,
    fork: int = 1,
    tip: int = 2,
    priority: Priority = Priority.PRIVILEGED,
    committer: bytes = A,
    digest: bytes = b"\x00" * 32,
    witnesses: tuple[tuple[int, bytes], ...] = (),
) -> BranchCandidate:
    return BranchCandidate(
        name, fork, tip, priority, committer, digest, tuple(AppWitness(e, s) for e, s in witnesses)
    )


def test_policy_v1_constants() -> None:
    assert (POLICY_V1.max_rewind_commits, POLICY_V1.witness_quorum_senders_per_epoch) == (5, 2)
    assert (POLICY_V1.witness_quorum_epochs, POLICY_V1.max_witness_override_depth) == (1, 1)
    with pytest.raises(ValueError, match="must not exceed"):
        ConvergencePolicy(max_rewind_commits=1, max_witness_override_depth=2)


def test_deeper_branch_wins() -> None:
    sel = select_branch(
        3, [branch("short", tip=2, committer=A), branch("long", tip=3, committer=B)]
    )
    assert sel.selected is not None and sel.selected.branch_id == "long"
    assert sel.decisive_rule == "effective_commit_depth"


def test_witness_quorum_boosts_by_one_and_no_more() -> None:
    quorum = ((2, A), (2, B))
    one_deeper = [
        branch("witnessed", tip=2, witnesses=quorum),
        branch("deeper", tip=3, committer=B),
    ]
    sel = select_branch(3, one_deeper)
    # 1 + 1 boost ties 2 commits; then quorum beats no quorum
    assert sel.selected is not None and sel.selected.branch_id == "witnessed"
    assert sel.decisive_rule == "witness_quorum_met"
    two_deeper = [
        branch("witnessed", tip=2, witnesses=quorum),
        branch("deeper", tip=4, committer=B),
    ]
    sel = select_branch(4, two_deeper)
    assert sel.selected is not None and sel.selected.branch_id == "deeper"


def test_witnesses_count_distinct_senders_in_branch_epochs_only() -> None:
    spam = ((2, A), (2, A), (2, A))
    outside = ((1, A), (1, B), (3, A), (3, B))  # the fork epoch and beyond the tip
    sel = select_branch(2, [branch("x", witnesses=spam + outside), branch("y", committer=B)])
    score = sel.scores["x"]
    assert not score.witness_quorum_met and score.app_witness_score == 1
    assert sel.selected is not None and sel.selected.branch_id == "x"
    assert sel.decisive_rule == "app_witness_score"


def test_app_witness_score_caps_each_epoch_at_two() -> None:
    many = ((2, A), (2, B), (2, C))
    sel = select_branch(2, [branch("x", witnesses=many)])
    assert sel.scores["x"].app_witness_score == 2 and sel.decisive_rule is None


def test_privileged_before_ordinary_before_committer() -> None:
    sel = select_branch(
        2,
        [
            branch("update", priority=Priority.ORDINARY, committer=A),
            branch("remove", priority=Priority.PRIVILEGED, committer=C),
        ],
    )
    assert sel.selected is not None and sel.selected.branch_id == "remove"
    assert sel.decisive_rule == "tip_priority"


def test_lower_committer_then_lower_digest() -> None:
    sel = select_branch(2, [branch("bob", committer=B), branch("alice", committer=A)])
    assert sel.selected is not None and sel.selected.branch_id == "alice"
    assert sel.decisive_rule == "tip_committer"
    sel = select_branch(2, [branch("d2", digest=b"\x02" * 32), branch("d1", digest=b"\x01" * 32)])
    assert sel.selected is not None and sel.selected.branch_id == "d1"
    assert sel.decisive_rule == "tip_digest"


def test_branches_beyond_the_rewind_horizon_are_never_selected() -> None:
    old = branch("old", fork=1, tip=9, committer=A)
    recent = branch("recent", fork=6, tip=7, committer=B)
    sel = select_branch(7, [old, recent])
    assert sel.ineligible == ("old",)
    assert sel.selected is not None and sel.selected.branch_id == "recent"
    assert select_branch(20, [old]).selected is None


def test_selection_ignores_input_order() -> None:
    cands = [
        branch("a", committer=B, witnesses=((2, A),)),
        branch("b", committer=A),
        branch("c", committer=C, priority=Priority.ORDINARY),
        branch("d", fork=0, tip=2, committer=C),
    ]
    winners = {select_branch(2, list(p)).selected.branch_id for p in itertools.permutations(cands)}  # type: ignore[union-attr]
    assert winners == {"d"}


def test_same_epoch_ordering_key() -> None:
    admin_remove = commit_ordering_key(4, Priority.PRIVILEGED, C, b"x")
    self_update = commit_ordering_key(4, Priority.ORDINARY, A, b"y")
    assert admin_remove < self_update
    assert commit_ordering_key(4, Priority.PRIVILEGED, A, b"x") < admin_remove


def test_candidates_need_32_byte_committer_and_digest() -> None:
    with pytest.raises(ValueError):
        branch("x", committer=b"\x01")
    with pytest.raises(ValueError):
        branch("x", fork=3, tip=2)
