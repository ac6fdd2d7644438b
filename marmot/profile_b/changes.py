"""What an applied commit changed, as the group system rows (kind 1210) clients show.

Rows are derived from MLS-authenticated state, never trusted from the wire (spec
foundation/application-messages.md): two members applying the same commit derive the
same rows with the same ids (:func:`marmot.profile_b.payloads.system_row`). Following
MDK's ``group_state_changes``: members added, then removed or left (an account whose
last leaf went; another device of a present account is no row), admins granted then
revoked (the admin policy's diff), a rename (with the old name unless it was empty), an
avatar change (the 0x8002 or 0x8007 bytes differ), a retention change (absent = 0), and
a disband. The actor is the committer as authenticated in the prior epoch; a departure
is the leaver's own act.

::

    rows = system_rows(prior_state, summary)     # after the commit was accepted
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from marmot.profile_b.components import ComponentId, GroupLifecycle
from marmot.profile_b.group import GroupView, group_view, member_accounts, view_of_extensions
from marmot.profile_b.payloads import SystemRow, SystemType, system_row
from mls.app_data import app_data_dictionary
from mls.group import CommitProcessed, GroupState
from mls.messages import Extension

__all__ = ["Change", "group_changes", "system_rows"]


@dataclass(frozen=True, slots=True)
class Change:
    system_type: SystemType
    actor: bytes | None
    subject: bytes | None = None
    name: str | None = None
    old_name: str | None = None
    old_retention_secs: int | None = None
    new_retention_secs: int | None = None


def _avatar(extensions: Sequence[Extension]) -> tuple[bytes | None, bytes | None]:
    dictionary = app_data_dictionary(extensions)
    if dictionary is None:
        return None, None
    return dictionary.get(ComponentId.GROUP_BLOSSOM_IMAGE), dictionary.get(
        ComponentId.GROUP_AVATAR_URL
    )


def _membership(prior: GroupState, summary: CommitProcessed, actor: bytes) -> list[Change]:
    before = member_accounts(prior)
    removed = {r.leaf_node.credential.identity for r in summary.removes}
    left = {r.leaf_node.credential.identity for r in summary.removes if r.self_remove}
    kept_leaves = [
        m.credential.identity
        for m in prior.members()
        if m.leaf_index not in {r.leaf_index for r in summary.removes}
    ]
    added: list[bytes] = []
    for a in summary.adds:
        account = a.key_package.leaf_node.credential.identity
        if account not in before and account not in added:
            added.append(account)
    changes = [Change(SystemType.MEMBER_ADDED, actor, subject=a) for a in added]
    for account in sorted(removed - set(kept_leaves) - set(added)):
        if account in left:
            changes.append(Change(SystemType.MEMBER_LEFT, account, subject=account))
        else:
            changes.append(Change(SystemType.MEMBER_REMOVED, actor, subject=account))
    return changes


def _admins(old: GroupView, new: GroupView, actor: bytes) -> list[Change]:
    granted = [
        Change(SystemType.ADMIN_ADDED, actor, subject=a) for a in new.admins if a not in old.admins
    ]
    revoked = [
        Change(SystemType.ADMIN_REMOVED, actor, subject=a)
        for a in old.admins
        if a not in new.admins
    ]
    return granted + revoked


def _state(
    prior: GroupState, old: GroupView, new: GroupView, summary: CommitProcessed, actor: bytes
) -> list[Change]:
    changes: list[Change] = []
    if old.profile.name != new.profile.name:
        changes.append(
            Change(
                SystemType.GROUP_RENAMED,
                actor,
                name=new.profile.name,
                old_name=old.profile.name or None,
            )
        )
    assert summary.extensions is not None
    if _avatar(prior.extensions) != _avatar(summary.extensions):
        changes.append(Change(SystemType.GROUP_AVATAR_CHANGED, actor))
    before, after = old.retention.disappearing_message_secs, new.retention.disappearing_message_secs
    if before != after:
        changes.append(
            Change(
                SystemType.DISAPPEARING_TIMER_CHANGED,
                actor,
                old_retention_secs=before,
                new_retention_secs=after,
            )
        )
    if old.lifecycle is not GroupLifecycle.DISBANDED and new.lifecycle is GroupLifecycle.DISBANDED:
        changes.append(Change(SystemType.GROUP_DISBANDED, actor))
    return changes


def group_changes(prior: GroupState, summary: CommitProcessed) -> list[Change]:
    """The changes of a commit already accepted at ``prior`` (``check_commit_b``)."""
    committer = prior.member(summary.sender_leaf)
    assert committer is not None
    actor = committer.credential.identity
    changes = _membership(prior, summary, actor)
    if summary.extensions is not None:
        old, new = group_view(prior), view_of_extensions(summary.extensions)
        changes += _admins(old, new, actor) + _state(prior, old, new, summary, actor)
    return changes


def system_rows(prior: GroupState, summary: CommitProcessed) -> list[SystemRow]:
    """The kind-1210 rows of the commit, anchored at the epoch it reached."""
    return [
        system_row(
            prior.group_id,
            summary.epoch,
            c.actor,
            c.system_type,
            subject=c.subject,
            name=c.name,
            old_name=c.old_name,
            old_retention_secs=c.old_retention_secs,
            new_retention_secs=c.new_retention_secs,
        )
        for c in group_changes(prior, summary)
    ]
