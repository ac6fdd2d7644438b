"""The shared core of Profile B's transactions (DB thread): a group's tree opened and
saved with its group row, the convergence pass after each input, and what every input
may lead to (timeline rows, edits shown, our departures' commits, our withdrawn messages
sent again, our own commits queued).

Every function takes the connection of a transaction the caller opened (`Database.
transact`). The storage thread runs transactions one at a time, so a group's tree has one
writer at a time without further locking. After each input the tree converges
(`BranchTree.converge`) and is pruned; then every message row of the group's retained
nodes is shown or hidden by whether its node is on the canonical branch (a reorg
withdraws what only the losing side carried and delivers what the winning side did).
`Effects` says what the loop must announce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app import timeline
from app.dm import media as dm_media
from app.dm.tree import (
    Node,
    OwnCommit,
    Tree,
    commit_changes,
    dump_state,
    from_rows,
    members,
    metadata,
    node_key,
    to_rows,
)
from app.group_records import OwnEvent, mark_own, record_own_event
from app.group_store import stamp_after
from marmot.profile_b.convergence import commit_digest
from marmot.profile_b.group import commit_priority, group_view, remove_b
from marmot.profile_b.inbound import departure_commit
from marmot.profile_b.outbound import handshake_event, send_app_payload
from mls.group import GroupState, PendingCommit
from mls.messages import MLSMessage, SelfRemove
from nostr.event import UnsignedEvent
from nostr.keys import Rng
from storage import Connection, OutgoingEvent, record_outgoing
from storage.repos import branches as branches_repo
from storage.repos import groups as groups_repo
from storage.repos import messages as messages_repo
from storage.repos import processed as processed_repo
from storage.rows import DeliveryStatus, StateWrite
from storage.rows import GroupState as Lifecycle
from storage.rows import PendingCommit as StoredPending

DM_COMMIT = "dm_commit"
"""Outbox purpose of our Profile B commits (merged into the tree on the first OK)."""
MESSAGE = "message"  # the purposes whose outbox hooks Profile A registered: they
PROPOSAL = "proposal"  # work by event id (message sent / we left), whatever the profile

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


def finish(conn: Connection, opened: Opened, env: Env, fx: Effects, *, clear: bool = False) -> None:
    settle(conn, opened, env, fx)
    save(conn, opened, env, clear_pending=clear)
    commit_departures(conn, opened, env, fx)
    fx.seqs = sorted(set(fx.seqs))


def record_timeline(
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


def store_edit(conn: Connection, gid: bytes, rumor: UnsignedEvent, fx: Effects) -> None:
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
    if apply_newest_edit(conn, gid, target, rumor.pubkey):
        fx.targets.append(target)


def apply_newest_edit(conn: Connection, gid: bytes, target: str, author: str) -> bool:
    """The author's newest edit of ``target`` is its shown text (only its own author's)."""
    newest = branches_repo.newest_edit(conn, gid, target, author)
    if newest is None:
        return False
    content, at = newest
    return branches_repo.show_edit(conn, gid, target, author, content=content, edited_at=at)


# --- our departures' commits --------------------------------------------------------------------


def commit_departures(conn: Connection, opened: Opened, env: Env, fx: Effects) -> None:
    """A member's leave request waiting at the tip is committed by an admin (MDK lets any
    member; admins only keeps it to about one commit per request)."""
    state = opened.tree.canonical.state
    if not state.active or bytes.fromhex(env.me) not in group_view(state).admins:
        return
    if groups_repo.pending_commit(conn, opened.gid) is not None:
        return
    pending = departure_commit(state, rng=env.rng)
    if pending is None:
        late = late_leavers(opened.tree, bytes.fromhex(env.me))
        pending = remove_b(state, sorted(late), rng=env.rng) if late else None
    if pending is None:
        return
    changes = commit_changes(state, pending.summary, pending.next_state)
    fx.entry_id = queue_commit(conn, opened, pending, changes, followers=(), env=env)
    fx.queued = True


def resend_withdrawn(conn: Connection, gid: bytes, env: Env) -> Effects:
    """Our chat messages a reorg withdrew go out again on the canonical branch (the same
    rumor, a new 445), so nothing we wrote is lost with the losing side. Called once the
    group is quiet (`app.dm.service`): sent at once, they would witness a branch that
    is only winning until the rest of a batch arrives, and so keep it winning."""
    fx = Effects()
    opened = open_tree(conn, gid)
    node = opened.tree.canonical
    if not node.state.active:
        return fx
    relays = metadata(group_view(node.state)).relays
    for row in branches_repo.own_withdrawn(conn, gid, env.me):
        rumor_id = row.rumor_id
        rumor = UnsignedEvent(row.author, row.created_at, row.kind, row.tags, row.content)
        if rumor.id != rumor_id:
            continue  # edited or deleted since: not the rumor it was
        if dm_media.requeue_attachments(conn, gid, row, env.now, env.rng):
            continue  # withdrawn for good: its files go out anew, sealed for this tip
        event, node.state = send_app_payload(node.state, rumor, rng=env.rng)
        opened.tree.witness(node, bytes.fromhex(env.me))
        outgoing = OutgoingEvent(event.id, event.to_json(), relays, MESSAGE)
        record_outgoing(conn, (outgoing,), now=env.now, mls_group_id=gid)
        mark_own(conn, event, gid, env.now)
        messages_repo.set_status(conn, gid, rumor_id, DeliveryStatus.SENDING, event_id=event.id)
        branches_repo.set_branch(conn, gid, rumor_id, node_key(node))
        fx.targets.append(rumor_id)
        fx.queued = True
    if fx.queued:
        save(conn, opened, env)
    return fx


def late_leavers(tree: Tree, me: bytes) -> set[bytes]:
    """Members whose leave request waited at an earlier canonical state that moved on
    without it (our own commit was in flight): they are removed instead."""
    present = {m.credential.identity for m in tree.canonical.state.members()}
    out: set[bytes] = set()
    for node in tree.canonical.path()[:-1]:
        for cached in node.state.proposals:
            leaf = cached.sender.leaf_index
            member = None if leaf is None else node.state.member(leaf)
            if isinstance(cached.proposal, SelfRemove) and member is not None:
                out.add(member.credential.identity)
    return (out & present) - {me}


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
    # Dated after every event of the group we sent or processed (as Profile A's commits):
    # a member catching up sorts by created_at, and a message that sorted behind more
    # commits than the rewind horizon would no longer open.
    stamp = stamp_after(env.now, processed_repo.newest_processed(conn, opened.gid) or 0)
    event = handshake_event(base.state, pending.message, created_at=stamp, rng=env.rng)
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
