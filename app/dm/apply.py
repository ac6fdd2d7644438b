"""What one input does to a Profile B group's storage, in one transaction (DB thread).

Every function here takes the connection of a transaction the caller opened (`Database.
transact`), loads the group's branch tree, changes it, and writes back the tree, the group
row (its canonical state and what the app shows of it), the messages, timeline rows and
outbox entries that belong to the change. The storage thread runs transactions one at a
time, so a group's tree has one writer at a time without further locking.

After each input the tree converges (`BranchTree.converge`) and is pruned; then every
message row of the group's retained nodes is shown or hidden by whether its node is on the
canonical branch (a reorg withdraws what only the losing side carried and delivers what the
winning side did). `Effects` says what the loop must announce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app import timeline
from app.dm.tree import (
    Node,
    OwnCommit,
    Tree,
    commit_changes,
    dump_state,
    find,
    from_rows,
    members,
    metadata,
    node_key,
    to_rows,
)
from app.group_records import OwnEvent, record_own_event
from app.message_records import incoming_records, own_deletions, own_reactions, own_rows
from marmot.profile_b.branches import CommitMeta
from marmot.profile_b.convergence import commit_digest
from marmot.profile_b.group import commit_priority, group_view
from marmot.profile_b.inbound import (
    AppReceived,
    CommitAdded,
    Dropped,
    NotYet,
    Outcome,
    ProposalKept,
    departure_commit,
    receive_group_event,
)
from marmot.profile_b.outbound import handshake_event, send_app_payload
from marmot.profile_b.payloads import PayloadKind
from mls.group import GroupState, PendingCommit
from mls.messages import MLSMessage
from nostr.event import Event, UnsignedEvent
from nostr.keys import Rng
from storage import Connection, OutgoingEvent
from storage.repos import branches as branches_repo
from storage.repos import contacts as contacts_repo
from storage.repos import groups as groups_repo
from storage.repos import messages as messages_repo
from storage.repos import processed as processed_repo
from storage.rows import GroupState as Lifecycle
from storage.rows import Outcome as Mark
from storage.rows import PendingCommit as StoredPending
from storage.rows import StateWrite

DM_COMMIT = "dm_commit"
"""Outbox purpose of our Profile B commits (merged into the tree on the first OK)."""
MESSAGE = "message"
PROPOSAL = "proposal"

ProposeFn = Callable[[GroupState], tuple[MLSMessage, GroupState]]


@dataclass(frozen=True, slots=True)
class Env:
    """What the DB thread needs from the service: who we are, now, randomness."""

    me: str
    now: int
    rng: Rng = field(repr=False)


@dataclass
class Effects:
    """What a transaction changed that the loop announces."""

    seqs: list[int] = field(default_factory=list)  # rows to show as new (chat, timeline)
    targets: list[str] = field(default_factory=list)  # rows whose reactions/text changed
    hidden: list[str] = field(default_factory=list)  # rows withdrawn by a reorg
    changed: bool = False  # the canonical state moved (GroupUpdated, members)
    reorg: bool = False
    queued: bool = False  # an outbox entry waits (kick the outbox)
    entry_id: int | None = None


@dataclass
class Opened:
    gid: bytes
    tree: Tree
    revision: int
    canonical_key: str


def open_tree(conn: Connection, gid: bytes) -> Opened:
    tree = from_rows(branches_repo.load_tree(conn, gid))
    revision = groups_repo.load_state(conn, gid).revision
    return Opened(gid, tree, revision, node_key(tree.canonical))


def save(conn: Connection, opened: Opened, env: Env, *, clear_pending: bool = False) -> None:
    """The tree and the group row (its canonical state) together."""
    state = opened.tree.canonical.state
    view = group_view(state)
    write = StateWrite(
        opened.gid,
        opened.revision,
        dump_state(state),
        state.epoch,
        state.own_leaf if state.active else None,
        metadata=metadata(view),
        members=members(state),
        group_state=None if state.active else Lifecycle.INACTIVE,
        clear_pending_commit=clear_pending,
    )
    opened.revision = groups_repo.write_state(conn, write, now=env.now)
    branches_repo.save_tree(conn, opened.gid, to_rows(opened.tree))


def settle(conn: Connection, opened: Opened, env: Env, fx: Effects) -> None:
    """Converge, prune, and show or hide each retained node's rows by the canonical path."""
    tree = opened.tree
    result = tree.converge()
    tree.prune()
    fx.reorg = fx.reorg or result.reorg is not None
    path = {node_key(n) for n in tree.canonical.path()}
    others = sorted({node_key(n) for n in tree.nodes()} - path)
    fx.hidden += branches_repo.hide_branches(conn, opened.gid, others)
    fx.seqs += branches_repo.show_branches(conn, opened.gid, sorted(path), env.me)
    fx.changed = fx.changed or node_key(tree.canonical) != opened.canonical_key


# --- receiving ----------------------------------------------------------------------------------


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


def finish(conn: Connection, opened: Opened, env: Env, fx: Effects, *, clear: bool = False) -> None:
    settle(conn, opened, env, fx)
    save(conn, opened, env, clear_pending=clear)
    _commit_departures(conn, opened, env, fx)
    fx.seqs = sorted(set(fx.seqs))


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
        _timeline(conn, gid, outcome.node, changes, at=event.created_at, env=env, fx=fx)
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


def _timeline(
    conn: Connection,
    gid: bytes,
    node: Node,
    changes: Sequence[timeline.Change],
    *,
    at: int,
    env: Env,
    fx: Effects,
) -> None:
    key = node_key(node)
    seqs = timeline.record(conn, gid, changes, key, at=at, now=env.now)
    branches_repo.set_branch_seqs(conn, seqs, key)
    fx.seqs += seqs


def _payload(
    conn: Connection, gid: bytes, event: Event, received: AppReceived, *, env: Env, fx: Effects
) -> None:
    rumor = received.payload
    if contacts_repo.is_blocked(conn, rumor.pubkey):
        return
    if rumor.kind == PayloadKind.GROUP_SYSTEM:
        return  # system rows are derived from commits here, never taken from the wire
    if rumor.kind == PayloadKind.EDIT:
        _edit(conn, gid, rumor, fx)
        return
    records = incoming_records(
        gid, rumor, event.id, received.node.epoch, own=rumor.pubkey == env.me
    )
    for message in records.messages:
        seq = messages_repo.insert(conn, message, now=env.now)
        if seq is None:
            continue
        branches_repo.set_branch_seqs(conn, [seq], node_key(received.node))
        _apply_newest_edit(conn, gid, message.rumor_id, message.author)
        fx.seqs.append(seq)
    for reaction in records.reactions:
        messages_repo.add_reaction(conn, gid, reaction)
    for deletion in records.deletions:
        messages_repo.apply_deletion(conn, gid, deletion)
    fx.targets += records.targets


def _edit(conn: Connection, gid: bytes, rumor: UnsignedEvent, fx: Effects) -> None:
    target = rumor.tag_values("e")[0]
    branches_repo.add_edit(
        conn,
        gid,
        rumor_id=rumor.id,
        target_rumor_id=target,
        author=rumor.pubkey,
        content=rumor.content,
        created_at=rumor.created_at,
    )
    if _apply_newest_edit(conn, gid, target, rumor.pubkey):
        fx.targets.append(target)


def _apply_newest_edit(conn: Connection, gid: bytes, target: str, author: str) -> bool:
    """The author's newest edit of ``target`` is its shown text (only its own author's)."""
    newest = branches_repo.newest_edit(conn, gid, target, author)
    if newest is None:
        return False
    content, at = newest
    return branches_repo.show_edit(conn, gid, target, author, content=content, edited_at=at)


# --- our departures' commits --------------------------------------------------------------------


def _commit_departures(conn: Connection, opened: Opened, env: Env, fx: Effects) -> None:
    """A member's leave request waiting at the tip is committed by an admin (MDK lets any
    member; admins only keeps it to about one commit per request)."""
    state = opened.tree.canonical.state
    if not state.active or bytes.fromhex(env.me) not in group_view(state).admins:
        return
    if groups_repo.pending_commit(conn, opened.gid) is not None:
        return
    pending = departure_commit(state, rng=env.rng)
    if pending is None:
        return
    changes = commit_changes(state, pending.summary, pending.next_state)
    fx.entry_id = queue_commit(conn, opened, pending, changes, followers=(), env=env)
    fx.queued = True


# --- sending ----------------------------------------------------------------------------------


def send_payload(
    conn: Connection, gid: bytes, rumor: UnsignedEvent, env: Env, expires_at: int | None
) -> Effects:
    """Our app payload (chat, reaction, deletion, edit) at the canonical tip: the advanced
    state, the message row, the outbox entry, in this transaction."""
    fx = Effects()
    opened = open_tree(conn, gid)
    node = opened.tree.canonical
    event, node.state = send_app_payload(node.state, rumor, rng=env.rng)
    opened.tree.witness(node, bytes.fromhex(env.me))
    rows = (
        ()
        if rumor.kind == PayloadKind.EDIT
        else own_rows(gid, rumor, event.id, node.epoch, None, expires_at=expires_at)
    )
    own = OwnEvent(
        gid,
        event,
        metadata(group_view(node.state)).relays,
        MESSAGE,
        messages=rows,
        reactions=own_reactions(rumor),
        deletions=own_deletions(rumor),
    )
    fx.entry_id = record_own_event(conn, own, env.now)
    for row in rows:
        branches_repo.set_branch(conn, gid, row.rumor_id, node_key(node))
    if rumor.kind == PayloadKind.EDIT:
        _edit(conn, gid, rumor, fx)
    save(conn, opened, env)
    fx.queued = True
    return fx


def send_proposal(conn: Connection, gid: bytes, env: Env, propose: ProposeFn) -> Effects:
    """Our leave request (a SelfRemove) at the tip; we are out once a relay took it."""
    fx = Effects()
    opened = open_tree(conn, gid)
    node = opened.tree.canonical
    message, node.state = propose(node.state)
    event = handshake_event(node.state, message, created_at=env.now, rng=env.rng)
    relays = metadata(group_view(node.state)).relays
    fx.entry_id = record_own_event(conn, OwnEvent(gid, event, relays, PROPOSAL), env.now)
    save(conn, opened, env)
    fx.queued = True
    return fx


def queue_commit(
    conn: Connection,
    opened: Opened,
    pending: PendingCommit,
    changes: Sequence[timeline.Change],
    *,
    followers: Sequence[OutgoingEvent],
    env: Env,
) -> int:
    """Our commit on the canonical tip, stored as the group's pending commit with its
    outbox entry (and the Welcomes behind it); merged by `merge_commit` on a relay's OK."""
    base = opened.tree.canonical
    relays = metadata(group_view(base.state)).relays
    event = handshake_event(base.state, pending.message, created_at=env.now, rng=env.rng)
    own = OwnCommit(
        node_key(base),
        commit_priority(pending.summary),
        commit_digest(pending.message.to_bytes()),
        tuple(changes),
        pending.next_state,
    )
    stored = StoredPending(own.to_bytes(), event.id, event.created_at)
    entry = OwnEvent(
        opened.gid, event, tuple(relays), DM_COMMIT, pending=stored, followers=tuple(followers)
    )
    return record_own_event(conn, entry, env.now)


def queue_change(
    conn: Connection,
    gid: bytes,
    base_key: str,
    pending: PendingCommit,
    *,
    changes: Sequence[timeline.Change],
    followers: Sequence[OutgoingEvent],
    env: Env,
) -> int | None:
    """`queue_commit` if the tip is still ``base_key`` and nothing of ours is pending;
    None otherwise (the caller builds it again)."""
    opened = open_tree(conn, gid)
    if opened.canonical_key != base_key or groups_repo.pending_commit(conn, gid) is not None:
        return None
    return queue_commit(conn, opened, pending, changes, followers=followers, env=env)


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
        _timeline(conn, gid, child, own.changes, at=event.created_at, env=env, fx=fx)
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


__all__ = [
    "DM_COMMIT",
    "Effects",
    "Env",
    "drop_pending",
    "merge_commit",
    "queue_change",
    "receive",
    "send_payload",
    "send_proposal",
]
