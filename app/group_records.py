"""What group changes write to storage, in one transaction each, and the outbox hooks
that merge our commit once a relay accepted it (MIP-02/03: publish, OK, merge, Welcomes).

The hooks see the group service only through `GroupEvents`: what must happen on the
loop after their transaction committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from app import engine
from app.group_store import state_write
from app.outbox import Attempt
from marmot.fork_choice import digest_between as fork_digest
from marmot.group import MarmotGroup
from mls.messages import SelfRemove
from nostr.event import Event
from storage import Connection, IncomingChange, OutgoingEvent, apply_incoming, record_outgoing
from storage.repos import groups as groups_repo
from storage.repos import messages as messages_repo
from storage.repos import outbox as outbox_repo
from storage.repos import processed as processed_repo
from storage.rows import (
    CommitKey,
    Deletion,
    DeliveryStatus,
    Group,
    MlsState,
    NewGroup,
    NewMessage,
    OutboxEntry,
    Outcome,
    Reaction,
    StateWrite,
)
from storage.rows import GroupState as Lifecycle
from storage.rows import PendingCommit as StoredPending


class GroupEvents(Protocol):
    """The follow-ups the outbox hooks start on the loop (implemented by `Groups`)."""

    def spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None: ...

    def kick(self) -> None: ...

    async def retry_waiting(self, gid: bytes) -> None: ...

    async def after_own_merge(
        self,
        gid: bytes,
        before: Group | None,
        before_members: Iterable[str],
        commit_at: int,
        leaving: Leaving = (),
    ) -> None: ...

    async def mark_inactive(self, gid: bytes, reason: str) -> None: ...


Leaving = tuple[tuple[int, bytes], ...]
"""(leaf, identity) of members whose leave request (SelfRemove) waits in a group's state."""


def leaving_members(conn: Connection, gid: bytes) -> Leaving:
    """The leave requests our merging commit drops (it was built before they came)."""
    group = engine.load(groups_repo.load_state(conn, gid).state)
    found = []
    for cached in group.state.proposals:
        leaf = cached.sender.leaf_index
        who = None if leaf is None else group.identity_of(leaf)
        if isinstance(cached.proposal, SelfRemove) and leaf is not None and who is not None:
            found.append((leaf, who))
    return tuple(found)


def commit_key(event: Event) -> CommitKey:
    """A commit's MIP-03 order key: (created_at, event id) plus a hash of its content."""
    return CommitKey(event.created_at, event.id, hashlib.sha256(event.content.encode()).digest())


def own_commit_key(event: Event, current: MlsState, nxt: MarmotGroup) -> CommitKey:
    """Our own commit's race key (docs/fork-choice.md), from the states around it."""
    digest = fork_digest(engine.load(current), nxt)
    return CommitKey(event.created_at, event.id, digest)


def member_delta(
    before: Iterable[str], after: Iterable[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(added, removed) identities between two member lists."""
    old, new = set(before), set(after)
    return tuple(sorted(new - old)), tuple(sorted(old - new))


def create_group_rows(
    conn: Connection, new: NewGroup, welcomes: tuple[OutgoingEvent, ...], now: int
) -> None:
    groups_repo.create(conn, new, now=now)
    if welcomes:
        record_outgoing(conn, welcomes, now=now, mls_group_id=new.mls_group_id)


@dataclass(frozen=True, slots=True)
class OwnEvent:
    """One 445 of ours to store with what it changes (see `record_own_event`)."""

    gid: bytes
    event: Event
    relays: tuple[str, ...]
    purpose: str
    state: StateWrite | None = None
    messages: tuple[NewMessage, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    deletions: tuple[Deletion, ...] = ()
    pending: StoredPending | None = None
    followers: tuple[OutgoingEvent, ...] = ()
    answers: IncomingChange | None = None
    """The incoming event this one settles (a member's leave request), stored with it."""


def record_own_event(conn: Connection, own: OwnEvent, now: int) -> int:
    """Store our 445 in the outbox with the state and messages it produced, our pending
    commit and the events that must follow it; returns the 445's outbox entry id."""
    if own.answers is not None:
        apply_incoming(conn, own.answers, now=now)
    if own.pending is not None:
        groups_repo.set_pending_commit(conn, own.gid, own.pending, now=now)
    outgoing = OutgoingEvent(own.event.id, own.event.to_json(), own.relays, own.purpose)
    recorded = record_outgoing(
        conn,
        (outgoing,),
        now=now,
        state=own.state,
        new_messages=own.messages,
        mls_group_id=own.gid,
    )
    entry_id = recorded.outbox_ids[0]
    follow = tuple(
        OutgoingEvent(w.event_id, w.event_json, w.relays, w.purpose, entry_id)
        for w in own.followers
    )
    if follow:
        record_outgoing(conn, follow, now=now, mls_group_id=own.gid)
    for reaction in own.reactions:
        messages_repo.add_reaction(conn, own.gid, reaction)
    for deletion in own.deletions:
        messages_repo.apply_deletion(conn, own.gid, deletion)
    mark_own(conn, own.event, own.gid, now)
    return entry_id


def mark_own(conn: Connection, event: Event, gid: bytes, now: int) -> None:
    # Our own 445 comes back from the relays; MLS cannot (and must not) process it.
    processed_repo.mark(
        conn,
        event.id,
        kind=event.kind,
        created_at=event.created_at,
        outcome=Outcome.PROCESSED,
        now=now,
        reason="own event",
        mls_group_id=gid,
    )


def replace_envelope(conn: Connection, entry: OutboxEntry, fresh: Event, now: int) -> None:
    """Our pending 445 goes out in ``fresh`` instead: the outbox entry, the message row
    or pending commit it carries, and the mark that skips our own echo follow it."""
    outbox_repo.replace_event(conn, entry.id, fresh.id, fresh.to_json(), now=now)
    gid = entry.mls_group_id
    if gid is None:
        return
    mark_own(conn, fresh, gid, now)
    message = messages_repo.by_event_id(conn, entry.event_id)
    if message is not None:
        messages_repo.set_status(conn, gid, message.rumor_id, message.status, event_id=fresh.id)
    pending = groups_repo.pending_commit(conn, gid)
    if pending is not None and pending.event_id == entry.event_id:
        renewed = StoredPending(pending.data, fresh.id, fresh.created_at)
        groups_repo.set_pending_commit(conn, gid, renewed, now=now)


def drop_late_messages(
    conn: Connection, gid: bytes, removed: Iterable[str], commit_at: int
) -> list[str]:
    """Messages a removed member timestamped at or after the commit that removed them
    were accepted only because they arrived first: they are invalidated (hidden)."""
    authors = set(removed)
    late = [
        m
        for m in messages_repo.page(conn, gid, limit=500)
        if m.author in authors
        and m.kind >= 0  # not the group's own timeline lines ("Carol left")
        and m.created_at >= commit_at
        and m.status is DeliveryStatus.RECEIVED
    ]
    for message in late:
        messages_repo.set_status(conn, gid, message.rumor_id, DeliveryStatus.INVALIDATED)
    return [m.rumor_id for m in late]


def discard_pending_commit(
    conn: Connection, gid: bytes, event_id: str, reason: str, now: int
) -> None:
    groups_repo.set_pending_commit(conn, gid, None, now=now)
    for entry in outbox_repo.pending(conn, mls_group_id=gid):
        if entry.event_id == event_id:
            outbox_repo.cancel(conn, entry.id, now=now, reason=reason)


def merge_pending(conn: Connection, entry: OutboxEntry, now: int) -> MarmotGroup | None:
    """The commit ``entry`` was accepted: adopt its pending state (DB thread)."""
    gid = entry.mls_group_id
    if gid is None:
        return None
    stored = groups_repo.pending_commit(conn, gid)
    if stored is None or stored.event_id != entry.event_id:
        return None  # discarded meanwhile (a competing commit won)
    current = groups_repo.load_state(conn, gid)
    nxt = MarmotGroup.from_bytes(stored.data)
    if nxt.epoch != current.epoch + 1:
        groups_repo.set_pending_commit(conn, gid, None, now=now)
        return None
    write = state_write(
        gid,
        current.revision,
        nxt,
        snapshot=own_commit_key(Event.from_json(entry.event_json), current.state, nxt),
        lifecycle=None if nxt.active else Lifecycle.INACTIVE,
        clear_pending_commit=True,
    )
    groups_repo.write_state(conn, write, now=now)
    return nxt


def is_pending_commit(conn: Connection, entry: OutboxEntry) -> bool:
    """Only the commit that is still our pending one goes out (never a dropped one)."""
    if entry.mls_group_id is None:
        return False
    stored = groups_repo.pending_commit(conn, entry.mls_group_id)
    return stored is not None and stored.event_id == entry.event_id


class CommitHook:
    def __init__(self, groups: GroupEvents) -> None:
        self._groups = groups

    def should_send(self, conn: Connection, entry: OutboxEntry) -> bool:
        return is_pending_commit(conn, entry)

    def on_sent(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        gid = entry.mls_group_id
        if gid is None:
            return None
        before = groups_repo.get(conn, gid)
        members = [m.pubkey for m in groups_repo.members(conn, gid)]
        leaving = leaving_members(conn, gid)
        merged = merge_pending(conn, entry, now)
        return None if merged is None else (gid, before, members, leaving)

    def on_failed(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        gid = entry.mls_group_id
        if attempt.final and gid is not None and is_pending_commit(conn, entry):
            groups_repo.set_pending_commit(conn, gid, None, now=now)
            return gid
        return None

    def after(self, entry: OutboxEntry, attempt: Attempt, result: Any) -> None:
        if isinstance(result, bytes):  # our commit was dropped: what waited on it goes on
            self._groups.spawn(self._groups.retry_waiting(result), "retrying group events")
            return
        if result is None:
            return
        gid, before, members, leaving = result
        self._groups.kick()  # the Welcomes behind it are due now
        commit_at = Event.from_json(entry.event_json).created_at
        self._groups.spawn(
            self._groups.after_own_merge(gid, before, members, commit_at, leaving),
            "after a commit",
        )


class ProposalHook:
    """Our SelfRemove was accepted: we are out, as far as this device is concerned."""

    def __init__(self, groups: GroupEvents) -> None:
        self._groups = groups

    def on_sent(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        return entry.mls_group_id

    def on_failed(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        return None

    def after(self, entry: OutboxEntry, attempt: Attempt, result: Any) -> None:
        if isinstance(result, bytes):
            self._groups.spawn(self._groups.mark_inactive(result, "left"), "leaving")
