"""Switching a group to the branch that won a commit race, and what it owes afterwards.

A switch discards every commit applied since the fork point. When one of them was ours
and removed members the winning branch still has, a removal must stay a removal: we are
the admin who decided it, so we remove them again on the winning branch (settings
``REMOVE_AGAIN``, written in the switch's transaction, so a crash cannot forget it).
Until they are gone, our voided messages are held back (``RESEND_HELD``): they were
written for a group without those members.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from app.messages import RESEND_HELD
from storage import Connection, IncomingChange, apply_incoming
from storage.repos import accounts as accounts_repo
from storage.repos import messages as messages_repo
from storage.repos import outbox as outbox_repo
from storage.repos import processed as processed_repo
from storage.repos import snapshots as snapshots_repo

RESEND = "resend_after_race"
"""Setting: groups whose messages of ours a lost commit race voided await re-sending."""
REMOVE_AGAIN = "remove_again_after_race"
"""Setting: per group, members our discarded commits had removed and the winner has."""


def switch_branch(
    conn: Connection,
    change: IncomingChange,
    *,
    epoch: int,
    now: int,
    readmitted: Sequence[str],
    discarded_commits: Sequence[str],
) -> int:
    """Roll back to ``epoch`` and apply the (already validated) winner: all or nothing.

    ``readmitted``: members the discarded branch had removed and the winner has;
    ``discarded_commits``: event ids of the commits the switch throws away."""
    gid = change.mls_group_id
    assert gid is not None and change.state is not None
    if readmitted:
        _add_to(conn, RESEND_HELD, gid, readmitted)
        if any(outbox_repo.by_event_id(conn, e) is not None for e in discarded_commits):
            _add_to(conn, REMOVE_AGAIN, gid, readmitted)
    revision = snapshots_repo.rollback(conn, gid, epoch, now=now)
    messages_repo.mark_invalidated(conn, gid, after_epoch=epoch)
    processed_repo.mark_failed_retryable(conn, gid, reason="rolled back", now=now)
    resend_noted(conn, gid, True)
    state = replace(change.state, base_revision=revision)
    applied = apply_incoming(conn, replace(change, state=state), now=now)
    assert applied.revision is not None
    return applied.revision


def resend_noted(conn: Connection, gid: bytes, waiting: bool) -> None:
    """Note (or, once done, forget) that our messages the rollback voided await re-sending."""
    noted = set(accounts_repo.get_setting(conn, RESEND, []))
    changed = noted | {gid.hex()} if waiting else noted - {gid.hex()}
    if changed != noted:
        accounts_repo.set_setting(conn, RESEND, sorted(changed) or None)


def removals_owed(conn: Connection) -> dict[bytes, list[str]]:
    owed = accounts_repo.get_setting(conn, REMOVE_AGAIN, {})
    return {bytes.fromhex(g): list(who) for g, who in owed.items()}


def removal_done(conn: Connection, gid: bytes) -> None:
    owed = accounts_repo.get_setting(conn, REMOVE_AGAIN, {})
    if owed.pop(gid.hex(), None) is not None:
        accounts_repo.set_setting(conn, REMOVE_AGAIN, owed or None)


def _add_to(conn: Connection, setting: str, gid: bytes, pubkeys: Sequence[str]) -> None:
    noted = accounts_repo.get_setting(conn, setting, {})
    noted[gid.hex()] = sorted(set(noted.get(gid.hex(), ())) | set(pubkeys))
    accounts_repo.set_setting(conn, setting, noted)
