"""MIP-03 admin policy, proposal handling, commit races and expiration (sections 5.5-5.8)."""

from __future__ import annotations

import pytest

from marmot.errors import NotAdmin, PolicyViolation, UsageError
from marmot.policy import (
    CommitOrder,
    CommitSummary,
    ProposalAction,
    RaceDecision,
    check_can_leave,
    check_commit_allowed,
    check_self_demote,
    expiration_for,
    proposal_action,
    race_decision,
    require_admin,
    winning_commit,
)
from mls.messages import (
    Add,
    GroupContextExtensions,
    PreSharedKey,
    PreSharedKeyID,
    Remove,
    SelfRemove,
    Update,
)
from tests.helpers.marmot_factories import key_package

A, B, C = b"\x0a" * 32, b"\x0b" * 32, b"\x0c" * 32  # alice (admin), bob, carol
MEMBERS = {0: A, 1: B, 2: C}
ADMINS = [A]
ADD = Add(key_package("dave").key_package)
LEAF_B = key_package("bob").key_package.leaf_node  # identity = bob's real key, not B


def _update(identity_leaf_label: str) -> Update:
    return Update(key_package(identity_leaf_label).key_package.leaf_node)


def _check(
    summary: CommitSummary,
    *,
    admins_after: list[bytes] | None = None,
    members_after: dict[int, bytes] | None = None,
    members_before: dict[int, bytes] | None = None,
) -> None:
    check_commit_allowed(
        summary,
        admins_before=ADMINS,
        members_before=members_before or MEMBERS,
        admins_after=ADMINS if admins_after is None else admins_after,
        members_after=MEMBERS if members_after is None else members_after,
    )


def test_admin_may_commit_anything_that_keeps_an_admin() -> None:
    _check(CommitSummary(0, ((0, ADD), (0, Remove(2))), has_path=True, path_identity=A))
    _check(CommitSummary(0, ((0, GroupContextExtensions(())),), has_path=False))


def test_admin_commit_may_not_leave_the_group_without_admins() -> None:
    with pytest.raises(PolicyViolation, match="without an admin"):
        _check(CommitSummary(0, ((0, Remove(1)),), has_path=True, path_identity=A), admins_after=[])
    # an admin list naming only a non-member leaves no active admin either
    with pytest.raises(PolicyViolation, match="without an admin"):
        _check(
            CommitSummary(0, ((0, GroupContextExtensions(())),), has_path=False),
            admins_after=[b"\x0d" * 32],
        )


def test_non_admin_self_update_is_allowed() -> None:
    _check(CommitSummary(1, (), has_path=True, path_identity=B))


def test_non_admin_self_remove_only_commit_is_allowed() -> None:
    after = {0: A, 1: B}
    _check(
        CommitSummary(1, ((2, SelfRemove()),), has_path=True, path_identity=B), members_after=after
    )


@pytest.mark.parametrize(
    "summary",
    [
        CommitSummary(1, ((1, ADD),), has_path=True, path_identity=B),
        CommitSummary(1, ((1, Remove(2)),), has_path=True, path_identity=B),
        CommitSummary(1, ((1, GroupContextExtensions(())),), has_path=False),
        CommitSummary(1, ((2, SelfRemove()), (1, ADD)), has_path=True, path_identity=B),
        CommitSummary(1, (), has_path=False),  # an empty commit is not a self-update
        CommitSummary(
            1,
            ((1, PreSharedKey(PreSharedKeyID.external(b"id", b"n"))),),
            has_path=True,
            path_identity=B,
        ),
    ],
)
def test_non_admin_commits_are_refused(summary: CommitSummary) -> None:
    with pytest.raises(PolicyViolation, match="non-admin"):
        _check(summary)


def test_unknown_committer_is_refused() -> None:
    with pytest.raises(PolicyViolation, match="not a member"):
        _check(CommitSummary(9, (), has_path=True, path_identity=A))


def test_identity_may_not_change() -> None:
    with pytest.raises(PolicyViolation, match="identity"):
        _check(CommitSummary(1, (), has_path=True, path_identity=C))
    with pytest.raises(PolicyViolation, match="identity"):  # even an admin's Update of another leaf
        _check(CommitSummary(0, ((1, Update(LEAF_B)),), has_path=True, path_identity=A))
    real_b = LEAF_B.credential.identity
    members = {0: A, 1: real_b}
    _check(
        CommitSummary(0, ((1, Update(LEAF_B)),), has_path=True, path_identity=A),
        members_before=members,
        members_after=members,
    )


# --- proposals ----------------------------------------------------------------------------


def _action(
    proposal: object, sender: int, *, admin: bool = False, admins: list[bytes] | None = None
) -> ProposalAction:
    return proposal_action(
        proposal,  # type: ignore[arg-type]
        sender,
        receiver_is_admin=admin,
        admins=ADMINS if admins is None else admins,
        members=MEMBERS,
    )


def test_proposal_actions() -> None:
    assert _action(ADD, 1) is ProposalAction.STORE
    assert _action(Remove(2), 1) is ProposalAction.STORE
    assert _action(Remove(1), 1, admin=True) is ProposalAction.AUTO_COMMIT
    assert _action(Remove(1), 1, admin=False) is ProposalAction.STORE
    # A legacy leave follows the SelfRemove rules at an admin (MDK): no admin leaves
    # this way, and no leave may take the last active admin with it.
    assert _action(Remove(0), 0, admin=True) is ProposalAction.IGNORE
    assert _action(Remove(0), 0, admin=False) is ProposalAction.STORE
    assert _action(Remove(1), 1, admin=True, admins=[b"\x0f" * 32]) is ProposalAction.IGNORE
    assert _action(SelfRemove(), 1) is ProposalAction.AUTO_COMMIT
    assert _action(SelfRemove(), 1, admin=True) is ProposalAction.AUTO_COMMIT
    assert _action(SelfRemove(), 0) is ProposalAction.IGNORE  # admins self-demote first
    assert _action(SelfRemove(), 7) is ProposalAction.IGNORE  # not a member
    assert _action(_update("bob"), 1) is ProposalAction.IGNORE
    assert _action(GroupContextExtensions(()), 0) is ProposalAction.IGNORE


def test_self_remove_that_would_leave_no_admin_is_ignored() -> None:
    # carol's second device holds the only admin key besides the leaver's own leaf
    with_device = {1: B, 2: C, 3: C}
    assert (
        proposal_action(SelfRemove(), 2, receiver_is_admin=False, admins=[C], members=with_device)
        is ProposalAction.IGNORE
    )  # carol is an admin
    # the admin key belongs to nobody in the group: removing bob leaves no active admin
    assert (
        proposal_action(SelfRemove(), 1, receiver_is_admin=False, admins=[A], members={1: B, 2: C})
        is ProposalAction.IGNORE
    )


def test_local_guards() -> None:
    require_admin(ADMINS, A, "add members")
    with pytest.raises(NotAdmin, match="add members"):
        require_admin(ADMINS, B, "add members")
    check_self_demote([A, B], MEMBERS, A)
    with pytest.raises(UsageError, match="no other active admin"):
        check_self_demote([A], MEMBERS, A)
    with pytest.raises(UsageError, match="no other active admin"):
        check_self_demote([A, b"\x0f" * 32], MEMBERS, A)  # the other admin left
    with pytest.raises(NotAdmin):
        check_self_demote([A], MEMBERS, B)
    check_can_leave(ADMINS, B)
    with pytest.raises(UsageError, match="self-demote"):
        check_can_leave(ADMINS, A)


# --- races --------------------------------------------------------------------------------


def test_commit_order() -> None:
    early = CommitOrder(100, "ff" * 32)
    late_small_id = CommitOrder(101, "00" * 32)
    tie_small = CommitOrder(100, "0a" * 32)
    assert winning_commit([late_small_id, early]) == early
    assert winning_commit([early, tie_small, late_small_id]) == tie_small
    with pytest.raises(UsageError):
        winning_commit([])


def test_race_decisions() -> None:
    applied = CommitOrder(100, "bb" * 32)
    better, worse = CommitOrder(99, "ff" * 32), CommitOrder(100, "cc" * 32)
    assert race_decision(applied, b"h1", better, b"h2") is RaceDecision.ROLLBACK
    assert race_decision(applied, b"h1", worse, b"h2") is RaceDecision.KEEP
    assert race_decision(applied, b"h1", better, b"h1") is RaceDecision.RELABEL
    assert race_decision(applied, b"h1", worse, b"h1") is RaceDecision.KEEP


def test_expiration() -> None:
    assert expiration_for(1000, None) is None
    assert expiration_for(1000, None, 5000) == 5000
    assert expiration_for(1000, 60) == 1060
    assert expiration_for(1000, 60, 1030) == 1030
    assert expiration_for(1000, 60, 9999) == 1060
