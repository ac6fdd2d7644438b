"""Outbound Profile B input in one transaction each (DB thread): our app payloads, our
leave request, and our commits on the tip (`app.dm.core` has the rest)."""

from __future__ import annotations

from collections.abc import Sequence

from app import timeline
from app.disappearing import expiry
from app.dm.core import (
    MESSAGE,
    PROPOSAL,
    Effects,
    Env,
    ProposeFn,
    open_tree,
    queue_commit,
    save,
    store_edit,
)
from app.dm.tree import (
    metadata,
    node_key,
)
from app.group_records import OwnEvent, record_own_event
from app.message_records import own_deletions, own_reactions, own_rows
from marmot.profile_b.group import group_view
from marmot.profile_b.outbound import handshake_event, send_app_payload
from marmot.profile_b.payloads import PayloadKind
from mls.group import PendingCommit
from nostr.event import UnsignedEvent
from storage import Connection, OutgoingEvent
from storage.repos import branches as branches_repo
from storage.repos import groups as groups_repo
from storage.repos import messages as messages_repo
from storage.rows import DeliveryStatus


def send_payload(
    conn: Connection, gid: bytes, rumor: UnsignedEvent, env: Env, *, again: bool = False
) -> Effects:
    """Our app payload (chat, reaction, deletion, edit) at the canonical tip: the advanced
    state, the message row, the outbox entry, in this transaction."""
    fx = Effects()
    opened = open_tree(conn, gid)
    node = opened.tree.canonical
    event, node.state = send_app_payload(node.state, rumor, rng=env.rng)
    opened.tree.witness(node, bytes.fromhex(env.me))
    new = not again and rumor.kind != PayloadKind.EDIT
    timer = group_view(node.state).retention.disappearing_message_secs
    expires_at = expiry(event, timer, rumor.created_at)
    rows = own_rows(gid, rumor, event.id, node.epoch, None, expires_at=expires_at) if new else ()
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
    if again:
        messages_repo.set_status(conn, gid, rumor.id, DeliveryStatus.SENDING, event_id=event.id)
    if rows or again:
        branches_repo.set_branch(conn, gid, rumor.id, node_key(node))
    if rumor.kind == PayloadKind.EDIT:
        store_edit(conn, gid, rumor, fx)
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
