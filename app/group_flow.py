"""The publish -> OK -> merge flow of our group changes (MIP-02/03), shared by every
operation of `app.groups.Groups`.

A change is a commit built on the current state with the group locked and stored, in one
transaction, as our pending commit with its outbox entry (and the Welcomes queued behind
it); the outbox publishes it and, once a relay accepted it, merges it in the transaction
that marks it sent (`app.group_records.CommitHook`), and only then sends the Welcomes.
A competing commit that comes first makes us drop ours (`discard_pending`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from app import engine, timeline
from app.context import Context
from app.device_map import DeviceMap
from app.errors import AppError, NetworkError, NotAllowed, translate
from app.events import (
    ErrorRaised,
    GroupRemoved,
    GroupUpdated,
    MembersChanged,
    MessageReceived,
    MessageStatusChanged,
)
from app.group_records import (
    CommitHook,
    Leaving,
    OwnEvent,
    ProposalHook,
    discard_pending_commit,
    drop_late_messages,
    member_delta,
    record_own_event,
    replace_envelope,
)
from app.group_store import GroupStore, Loaded
from app.models import GroupInfo
from marmot import operations
from marmot.errors import MarmotError
from marmot.group import MarmotGroup
from marmot.operations import OutgoingCommit
from mls.errors import MlsError
from nostr.event import Event
from nostr.filters import Filter
from nostr.kinds import Kind
from storage import Connection, IncomingChange, OutgoingEvent
from storage.repos import groups as groups_repo
from storage.repos import messages as messages_repo
from storage.rows import Group, OutboxEntry
from storage.rows import GroupState as Lifecycle
from storage.rows import PendingCommit as StoredPending

T = TypeVar("T")
Built = tuple[OutgoingCommit, Sequence[OutgoingEvent]]

log = logging.getLogger(__name__)

COMMIT = "commit"
PROPOSAL = "proposal"


class CommitFlow:
    def __init__(self, ctx: Context, devices: DeviceMap) -> None:
        self._ctx = ctx
        self._devices = devices
        self.store = GroupStore(ctx, devices)
        self.on_targets_changed: Callable[[], Awaitable[None]] | None = None
        self.on_merged: Callable[[bytes], Awaitable[None]] | None = None
        self._locks: dict[bytes, asyncio.Lock] = {}
        ctx.outbox.register(COMMIT, CommitHook(self))
        ctx.outbox.register(PROPOSAL, ProposalHook(self))
        ctx.outbox.renew = self.renew

    async def info_of(self, gid: bytes) -> GroupInfo:
        return await self.store.info(await self.store.get(gid))

    async def observe(self, gid: bytes, group: MarmotGroup) -> None:
        """Called with a state before a commit changes it (which device holds which of
        our leaves is learned while the leaves still carry their KeyPackage's keys)."""
        await self._devices.observe(gid, group)

    def lock(self, gid: bytes) -> asyncio.Lock:
        """Held while a group's state is loaded, changed and written (one writer at a time)."""
        return self._locks.setdefault(gid, asyncio.Lock())

    def spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        self._ctx.spawn(coro, what)

    def kick(self) -> None:
        self._ctx.outbox.kick()

    async def targets_changed(self) -> None:
        if self.on_targets_changed is not None:
            await self.on_targets_changed()

    async def _resolve(self, ref: str | bytes) -> Group:
        return (
            await self.store.get(ref) if isinstance(ref, bytes) else await self.store.resolve(ref)
        )

    async def _for_commit(self, ref: str | bytes, *, admin: str | None = None) -> Loaded:
        group = await self._resolve(ref)
        if group.state is not Lifecycle.ACTIVE:
            raise NotAllowed("this group is not active")
        if group.has_pending_commit:
            raise NotAllowed("a change to this group is still being sent; try again shortly")
        loaded = await self.store.load_to_send(group.mls_group_id)
        if admin is not None and self._ctx.public_key.data not in loaded.data.admins:
            raise NotAllowed(f"only group admins can {admin}")
        return loaded

    async def _change(
        self,
        ref: str | bytes,
        build: Callable[[Loaded], Built],
        *,
        admin: str | None = None,
        welcomes: Callable[[OutgoingCommit], Awaitable[Sequence[OutgoingEvent]]] | None = None,
    ) -> GroupInfo:
        """Build a commit on the current state and queue it with the group locked, so no
        incoming commit can move the group in between; then wait for a relay's OK.

        ``welcomes`` gift-wraps the commit's Welcomes: it seals with the identity key, which
        may be a remote signer, so it is awaited (still under the lock: the commit and its
        Welcomes are queued together or not at all).

        Raises `NetworkError` when no relay accepted it in time (it keeps being retried)
        or it was refused for good (then it is dropped).
        """
        ctx = self._ctx
        gid = (await self._resolve(ref)).mls_group_id
        async with self.lock(gid):
            loaded = await self._for_commit(gid, admin=admin)
            out, followers = call(lambda: build(loaded))
            if welcomes is not None:
                followers = (*followers, *await welcomes(out))
            await self.observe(gid, loaded.marmot)
            entry_id = await self.queue_commit(loaded, out, followers)
        entry = await ctx.outbox.wait(entry_id, ctx.config.timeouts.publish * 2)
        if entry is None:
            raise NetworkError("the change was not accepted by a relay yet; it will be retried")
        if not entry.accepted_by:
            raise NetworkError(f"the change was refused: {entry.last_error or 'no relay took it'}")
        return await self.info_of(gid)

    async def queue_commit(
        self,
        loaded: Loaded,
        out: OutgoingCommit,
        welcomes: Sequence[OutgoingEvent] = (),
        *,
        answers: IncomingChange | None = None,
    ) -> int:
        """Store ``out`` as our pending commit with its outbox entry (and ``answers``, the
        incoming event it settles, in the same transaction); returns the entry id."""
        ctx = self._ctx
        gid = loaded.group.mls_group_id
        event = out.event
        stored = StoredPending(out.group.to_bytes(), event.id, event.created_at)
        own = OwnEvent(
            gid,
            event,
            loaded.data.relays,
            COMMIT,
            pending=stored,
            followers=tuple(welcomes),
            answers=answers,
        )
        entry_id: int = await ctx.db.transact(record_own_event, own, ctx.now())
        if answers is not None:
            self.store.forget(gid)  # the incoming event changed the stored state
        ctx.outbox.kick()
        return entry_id

    async def renew(
        self, entry: OutboxEntry, event: Event, relays: tuple[str, ...]
    ) -> tuple[OutboxEntry, Event] | None:
        """A group event of ours that waited too long (the relays were unreachable) goes
        out in a fresh envelope dated now, so members who synced meanwhile still fetch it
        (commit races then order it by when it really went out).

        Unless a relay already has it: it went out before the process stopped, unrecorded.
        Members have it with its first date, which is the one their commit races use."""
        gid = entry.mls_group_id
        if event.kind != Kind.MLS_GROUP_MESSAGE or gid is None:
            return None
        ctx = self._ctx
        known = [Filter(ids=[event.id])]
        if await ctx.pool.fetch(known, relays=relays, timeout=ctx.config.timeouts.fetch):
            return None
        loaded = await self.store.load(gid)
        fresh = engine.reenvelope(loaded.marmot, event, now=ctx.now(), rng=ctx.rng)
        if fresh is None:
            return None
        await ctx.db.transact(replace_envelope, entry, fresh, ctx.now())
        return replace(entry, event_id=fresh.id, event_json=fresh.to_json()), fresh

    async def after_merge(
        self,
        gid: bytes,
        before: Group | None,
        before_members: Iterable[str],
        commit_at: int,
        committer: str = "",
    ) -> None:
        """Tell the front ends, follow changed relays; drop removed members' late words;
        put what the commit changed in the group's timeline."""
        ctx = self._ctx
        self.store.forget(gid)
        before_members = tuple(before_members)
        info = await self.info_of(gid)
        added, removed = member_delta(before_members, (m.pubkey for m in info.members))
        if removed:
            dropped = await ctx.db.transact(drop_late_messages, gid, removed, commit_at)
            for rumor_id in dropped:
                ctx.emit(MessageStatusChanged(ctx.pubkey, info.id, rumor_id, "invalidated"))
        if added or removed or before is None or before.metadata.admins != info.admins:
            ctx.emit(MembersChanged(ctx.pubkey, info, added, removed))
        ctx.emit(GroupUpdated(ctx.pubkey, info))
        if info.state != str(Lifecycle.ACTIVE):
            ctx.emit(GroupRemoved(ctx.pubkey, info.id, "removed"))
        if before is None or before.metadata.relays != info.relays or info.state != "active":
            await self.targets_changed()
        # Last, so the services above hear of the commit as soon as before.
        commit = (committer, commit_at)
        changed = before is not None and committer
        if changed and await self._record_timeline(gid, before, before_members, info, commit):
            # Who is still only invited may have changed ("Bob joined").
            ctx.emit(GroupUpdated(ctx.pubkey, await self.info_of(gid)))

    async def _record_timeline(
        self,
        gid: bytes,
        before: Group | None,
        before_members: tuple[str, ...],
        info: GroupInfo,
        commit: tuple[str, int],
    ) -> int:
        """Store and announce the commit's changes; how many there were."""
        ctx = self._ctx
        assert before is not None
        committer, commit_at = commit
        old = before.metadata
        prior = timeline.Before(
            old.name, old.description, before_members, engine.disappearing_secs(old)
        )
        new = (await self.store.get(gid)).metadata
        members = tuple(m.pubkey for m in info.members)
        after = timeline.Before(new.name, new.description, members, engine.disappearing_secs(new))

        def write(conn: Connection) -> list[int]:
            waiting, leaving = timeline.invited(conn, gid), timeline.leaving(conn, gid)
            changes = timeline.changes_of(
                prior, after, committer, waiting, me=ctx.pubkey, leaving=leaving
            )
            anchor = f"{info.epoch}:{committer}"
            at = commit_at or ctx.now()
            return timeline.record(conn, gid, changes, anchor, at=at, now=ctx.now())

        seqs = await ctx.db.transact(write)
        await self._tell_timeline(seqs, info.id)
        return len(seqs)

    async def record_leave(self, gid: bytes, who: str, proposal_id: str, at: int) -> None:
        """Someone asked to leave (a SelfRemove): "Carol left", before an admin commits it."""
        ctx = self._ctx
        change = timeline.Change(timeline.LEFT, who)

        def write(conn: Connection) -> list[int]:
            return timeline.record(
                conn, gid, [change], f"leave:{proposal_id}", at=at, now=ctx.now()
            )

        seqs = await ctx.db.transact(write)
        group = await self.store.get(gid)
        await self._tell_timeline(seqs, group.metadata.nostr_group_id)

    async def _tell_timeline(self, seqs: Sequence[int], group_id: str) -> None:
        ctx = self._ctx
        for seq in seqs:
            row = await ctx.db.run(messages_repo.by_seq, seq)
            if row is not None:
                ctx.emit(MessageReceived(ctx.pubkey, timeline.info_of(row, group_id, ctx.pubkey)))

    async def after_own_merge(
        self,
        gid: bytes,
        before: Group | None,
        before_members: Iterable[str],
        commit_at: int,
        leaving: Leaving = (),
    ) -> None:
        await self.after_merge(gid, before, before_members, commit_at, self._ctx.pubkey)
        await self.retry_waiting(gid)  # events that waited for this epoch
        if leaving:
            await self.remove_leavers(gid, leaving)

    async def remove_leavers(self, gid: bytes, leaving: Leaving) -> None:
        """Leave requests that came while our commit was pending (it could not carry
        them, and they lapse with its epoch): an admin removes those members now."""
        ctx = self._ctx

        def build(loaded: Loaded) -> Built:
            group = loaded.marmot
            leaves = [leaf for leaf, who in leaving if group.identity_of(leaf) == who]
            at = loaded.stamp(ctx.now())
            return operations.remove_leaves(group, leaves, now=at, rng=ctx.rng), ()

        loaded = await self.store.load(gid)
        if not loaded.marmot.is_admin or not any(
            loaded.marmot.identity_of(leaf) == who for leaf, who in leaving
        ):
            return
        try:
            await self._change(gid, build, admin="remove members")
        except AppError as exc:  # the member stays until an admin removes them
            log.warning("removing members who asked to leave failed: %s", exc)

    async def retry_waiting(self, gid: bytes) -> None:
        if self.on_merged is not None:
            await self.on_merged(gid)

    async def discard_pending(self, gid: bytes, reason: str) -> None:
        """Drop our unpublished commit (a competing one won): cancel it and its Welcomes."""
        ctx = self._ctx
        stored = await ctx.db.run(groups_repo.pending_commit, gid)
        if stored is None:
            return
        await ctx.db.transact(discard_pending_commit, gid, stored.event_id, reason, ctx.now())
        ctx.emit(ErrorRaised(ctx.pubkey, f"a group change was dropped: {reason}", "groups"))

    async def mark_inactive(self, gid: bytes, reason: str) -> None:
        ctx = self._ctx
        await ctx.db.run(groups_repo.set_state, gid, Lifecycle.INACTIVE, now=ctx.now())
        self.store.forget(gid)
        group = await self.store.get(gid)
        ctx.emit(GroupRemoved(ctx.pubkey, group.metadata.nostr_group_id, reason))
        await self.targets_changed()


def call(op: Callable[[], T]) -> T:
    """Run a Marmot operation; its refusals become `AppError`s."""
    try:
        return op()
    except (MarmotError, MlsError) as exc:
        raise translate(exc) from exc
