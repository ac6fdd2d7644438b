"""Inbound Profile B input in one transaction each (DB thread): a 445 into the group's
branch tree, and our own commit once a relay took it (`app.dm.core` has the rest)."""

from __future__ import annotations

from app.disappearing import expiry
from app.dm.core import (
    Effects,
    Env,
    Opened,
    apply_newest_edit,
    finish,
    open_tree,
    record_timeline,
    store_edit,
)
from app.dm.tree import (
    OwnCommit,
    commit_changes,
    find,
    node_key,
)
from app.message_records import incoming_records
from marmot.profile_b.branches import CommitMeta
from marmot.profile_b.group import group_view
from marmot.profile_b.inbound import (
    AppReceived,
    CommitAdded,
    Dropped,
    NotYet,
    Outcome,
    ProposalKept,
    receive_group_event,
)
from marmot.profile_b.payloads import PayloadKind
from nostr.event import Event
from storage import Connection
from storage.repos import branches as branches_repo
from storage.repos import contacts as contacts_repo
from storage.repos import groups as groups_repo
from storage.repos import messages as messages_repo
from storage.repos import processed as processed_repo
from storage.rows import DeliveryStatus, NewMessage
from storage.rows import Outcome as Mark


def receive(conn: Connection, gid: bytes, event: Event, env: Env) -> Effects:
    fx = Effects()
    if processed_repo.is_done(conn, event.id):
        return fx
    opened = open_tree(conn, gid)
    outcome = receive_group_event(opened.tree, event, now=env.now)
    if isinstance(outcome, NotYet):
        branches_repo.defer(conn, gid, event.id, event.to_json(), event.created_at, now=env.now)
        return fx
    _handle(conn, opened, event, outcome, env=env, fx=fx)
    if isinstance(outcome, CommitAdded | ProposalKept):
        _retry_deferred(conn, opened, env, fx)
    finish(conn, opened, env, fx)
    return fx


def _retry_deferred(conn: Connection, opened: Opened, env: Env, fx: Effects) -> None:
    """Events no state opened before: tried again while any of them changes the tree."""
    progressed = True
    while progressed:
        progressed = False
        for waiting in branches_repo.deferred(conn, opened.gid):
            event = Event.from_json(waiting.event_json)
            outcome = receive_group_event(opened.tree, event, now=env.now)
            if isinstance(outcome, NotYet):
                continue
            branches_repo.undefer(conn, opened.gid, [event.id])
            _handle(conn, opened, event, outcome, env=env, fx=fx)
            progressed = progressed or isinstance(outcome, CommitAdded | ProposalKept)


def _handle(
    conn: Connection, opened: Opened, event: Event, outcome: Outcome, *, env: Env, fx: Effects
) -> None:
    gid = opened.gid
    reason = ""
    if isinstance(outcome, AppReceived):
        _payload(conn, gid, event, outcome, env=env, fx=fx)
    elif isinstance(outcome, CommitAdded):
        parent = outcome.node.parent
        assert parent is not None
        after = None if outcome.summary.removed_self else outcome.node.state
        changes = commit_changes(parent.state, outcome.summary, after)
        record_timeline(conn, gid, outcome.node, changes, at=event.created_at, env=env, fx=fx)
        reason = "commit"
    elif isinstance(outcome, ProposalKept):
        reason = "a member's leave request"
    elif isinstance(outcome, Dropped):
        _mark(conn, gid, event, Mark.FAILED, reason=outcome.reason, env=env)
        return
    _mark(conn, gid, event, Mark.PROCESSED, reason=reason, env=env)


def _mark(
    conn: Connection, gid: bytes, event: Event, outcome: Mark, *, reason: str, env: Env
) -> None:
    processed_repo.mark(
        conn,
        event.id,
        kind=event.kind,
        created_at=event.created_at,
        outcome=outcome,
        now=env.now,
        reason=reason,
        mls_group_id=gid,
    )


def _payload(
    conn: Connection, gid: bytes, event: Event, received: AppReceived, *, env: Env, fx: Effects
) -> None:
    rumor = received.payload
    if contacts_repo.is_blocked(conn, rumor.pubkey):
        return
    if rumor.kind == PayloadKind.GROUP_SYSTEM:
        return  # system rows are derived from commits here, never taken from the wire
    if rumor.kind == PayloadKind.EDIT:
        store_edit(conn, gid, rumor, fx)
        return
    timer = group_view(received.node.state).retention.disappearing_message_secs
    records = incoming_records(
        gid,
        rumor,
        event.id,
        received.node.epoch,
        own=rumor.pubkey == env.me,
        expires_at=expiry(event, timer, rumor.created_at),
    )
    for message in records.messages:
        seq = messages_repo.insert(conn, message, now=env.now) or _revived(conn, gid, message)
        if seq is None:
            continue
        branches_repo.set_branch_seqs(conn, [seq], node_key(received.node))
        apply_newest_edit(conn, gid, message.rumor_id, message.author)
        fx.seqs.append(seq)
    for reaction in records.reactions:
        messages_repo.add_reaction(conn, gid, reaction)
    for deletion in records.deletions:
        messages_repo.apply_deletion(conn, gid, deletion)
    fx.targets += records.targets


def _revived(conn: Connection, gid: bytes, message: NewMessage) -> int | None:
    """A message we hid with a losing branch, sent again by its author on another one:
    it is shown again where it now arrived (None for a plain duplicate)."""
    known = messages_repo.by_rumor_id(conn, gid, message.rumor_id)
    if known is None or known.status is not DeliveryStatus.INVALIDATED:
        return None
    if known.event_id == message.event_id:
        return None
    status = DeliveryStatus.RECEIVED
    messages_repo.set_status(conn, gid, known.rumor_id, status, event_id=message.event_id)
    return known.seq


def merge_commit(conn: Connection, gid: bytes, event: Event, env: Env) -> Effects | None:
    """A relay took our commit: it joins the tree as a child of the node it was built on
    (the canonical one unless a competing commit came first: convergence decides)."""
    stored = groups_repo.pending_commit(conn, gid)
    if stored is None or stored.event_id != event.id:
        return None
    own = OwnCommit.from_bytes(stored.data)
    opened = open_tree(conn, gid)
    base = find(opened.tree, own.base)
    fx = Effects()
    if base is not None and not opened.tree.has_commit(base, own.digest):
        meta = CommitMeta(bytes.fromhex(env.me), own.priority, own.digest)
        child = opened.tree.add_commit(base, own.next_state, meta)
        record_timeline(conn, gid, child, own.changes, at=event.created_at, env=env, fx=fx)
        _retry_deferred(conn, opened, env, fx)
    fx.changed = True
    finish(conn, opened, env, fx, clear=True)
    return fx


def drop_pending(conn: Connection, gid: bytes, event_id: str, now: int) -> bool:
    stored = groups_repo.pending_commit(conn, gid)
    if stored is None or stored.event_id != event_id:
        return False
    groups_repo.set_pending_commit(conn, gid, None, now=now)
    return True
