"""Receiving kind 445 group events: decrypt, process, store atomically, tell the front ends.

The pipeline for one event (architecture section 4.3):

1. Already final (processed or failed)? Drop it: replays change nothing.
2. Envelope checks (kind, time window, one ``h`` tag, id and signature), then the group.
3. Trial decryption with the keys of the current and five previous epochs. An event no
   key opens may belong to an epoch we have not reached: it is kept as *retryable* (the
   sync cursor does not pass it) and tried again after each commit we apply, until the
   group moved on too far.
4. A commit for an epoch we already left is a commit race (MIP-03): the earlier one
   (``created_at``, then smallest id) wins everywhere. If the newcomer wins we roll back
   to the snapshot taken before the loser, mark the loser's messages invalidated, give
   the failed events another chance and apply the winner.
5. MLS processing plus the admin policy; then one transaction stores the next state, the
   messages it carried and the processed mark.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app import engine
from app.context import Context
from app.events import CommitRaceResolved, MessageReceived, MessageUpdated
from app.group_store import Loaded, state_write
from app.groups import COMMIT, Groups, OwnEvent, commit_key, record_own_event
from app.messages import Messages, incoming_records
from marmot.errors import InvalidGroupEvent, MarmotError
from marmot.group_event import PAST_EPOCHS, check_group_event
from marmot.policy import CommitOrder, ProposalAction, RaceDecision, race_decision
from mls.errors import MlsError
from mls.group import ApplicationMessage, CommitProcessed, GroupState, ProposalReceived
from nostr.event import Event
from storage import Conflict, Connection, IncomingChange, apply_incoming
from storage.repos import groups as groups_repo
from storage.repos import messages as messages_repo
from storage.repos import processed as processed_repo
from storage.repos import snapshots as snapshots_repo
from storage.rows import Group, Outcome, ProcessedEvent
from storage.rows import GroupState as Lifecycle
from storage.rows import PendingCommit as StoredPending

log = logging.getLogger(__name__)

RETRY_EPOCHS = PAST_EPOCHS
"""An undecryptable event is retried until the group moved this many epochs past it."""
MAX_ATTEMPTS = 50
_RETRY_ROUNDS = 20


@dataclass(frozen=True, slots=True)
class _Opened:
    group: Group
    event: Event
    opened: engine.Opened


class GroupInbox:
    def __init__(self, ctx: Context, groups: Groups, messages: Messages) -> None:
        self._ctx = ctx
        self._groups = groups
        self._messages = messages
        self._retry: set[bytes] = set()
        groups.on_merged = self._after_own_merge

    async def receive(self, event: Event) -> None:
        """Process one 445 (and whatever it unblocked)."""
        await self._handle(event)
        await self._drain_retries()

    async def _after_own_merge(self, gid: bytes) -> None:
        self._retry.add(gid)
        await self._drain_retries()

    async def _drain_retries(self) -> None:
        for _ in range(_RETRY_ROUNDS):
            if not self._retry:
                return
            gid = self._retry.pop()
            waiting = await self._ctx.db.run(processed_repo.retryable, mls_group_id=gid, limit=500)
            for record in waiting:
                if record.event_json:
                    await self._handle(Event.from_json(record.event_json), record)

    # --- one event ---------------------------------------------------------------------

    async def _handle(self, event: Event, record: ProcessedEvent | None = None) -> None:
        ctx = self._ctx
        if record is None:
            if await ctx.db.run(processed_repo.is_done, event.id):
                return
            record = await ctx.db.run(processed_repo.get, event.id)
        try:
            nostr_gid = check_group_event(event, now=ctx.now()).hex()
        except InvalidGroupEvent as exc:
            await self._mark(event, Outcome.FAILED, exc.reason)
            return
        group = await self._groups.store.by_nostr_id(nostr_gid)
        if group is None or group.state is not Lifecycle.ACTIVE:
            await self._mark(event, Outcome.FAILED, "not an active group of ours")
            return
        async with self._groups.lock(group.mls_group_id):
            for _ in range(3):
                try:
                    await self._open(group, event, record)
                    return
                except Conflict:  # the state moved under us (another process): reload
                    group = await self._groups.store.get(group.mls_group_id)

    async def _open(self, group: Group, event: Event, record: ProcessedEvent | None) -> None:
        gid = group.mls_group_id
        keys = await self._groups.store.event_keys(gid, group.epoch)
        try:
            opened = engine.open_event(event, keys)
        except InvalidGroupEvent as exc:
            await self._not_yet(group, event, record, exc.reason)
            return
        item = _Opened(group, event, opened)
        if opened.is_commit and opened.epoch < group.epoch:
            await self._race(item)
            return
        if opened.is_commit and group.has_pending_commit and not await self._yield_to(item):
            await self._not_yet(group, event, record, "our own commit for this epoch is pending")
            return
        await self._process(item)

    async def _not_yet(
        self, group: Group, event: Event, record: ProcessedEvent | None, reason: str
    ) -> None:
        first_epoch = record.epoch if record and record.epoch is not None else group.epoch
        attempts = record.attempts if record else 0
        if group.epoch - first_epoch > RETRY_EPOCHS or attempts >= MAX_ATTEMPTS:
            await self._mark(event, Outcome.FAILED, f"undecryptable: {reason}", group.mls_group_id)
            return
        await self._mark(
            event, Outcome.RETRYABLE, reason, group.mls_group_id, epoch=first_epoch, keep=True
        )

    async def _process(self, item: _Opened) -> None:
        ctx = self._ctx
        gid = item.group.mls_group_id
        loaded = await self._groups.store.load(gid)
        try:
            result, next_state = engine.process(loaded.state, item.opened.message, now=ctx.now())
        except (MlsError, MarmotError) as exc:
            reason = exc.reason if isinstance(exc, MarmotError) else str(exc)
            await self._mark(item.event, Outcome.FAILED, reason, gid, keep=True)
            return
        if isinstance(result, ApplicationMessage):
            await self._application(item, loaded, result, next_state)
        elif isinstance(result, ProposalReceived):
            await self._proposal(item, loaded, result, next_state)
        else:
            await self._commit(item, loaded, result, next_state)

    # --- application messages ------------------------------------------------------------

    async def _application(
        self, item: _Opened, loaded: Loaded, result: ApplicationMessage, next_state: GroupState
    ) -> None:
        ctx = self._ctx
        gid = loaded.group.mls_group_id
        try:
            rumor = engine.rumor_of(result)
        except MarmotError as exc:
            await self._mark(item.event, Outcome.FAILED, exc.reason, gid)
            return
        if not await self._sender_still_allowed(item, loaded, int(result.sender), rumor.pubkey):
            await self._mark(item.event, Outcome.FAILED, "the sender had left the group", gid)
            return
        blocked = await self._messages.is_blocked(rumor.pubkey)
        records = incoming_records(
            gid, rumor, item.event.id, result.epoch, own=rumor.pubkey == ctx.pubkey
        )
        change = IncomingChange(
            item.event.id,
            item.event.kind,
            item.event.created_at,
            Outcome.PROCESSED,
            "blocked sender" if blocked else "",
            gid,
            result.epoch,
            state=state_write(gid, loaded.revision, next_state, epoch_changed=False),
            messages=() if blocked else records.messages,
            reactions=() if blocked else records.reactions,
            deletions=() if blocked else records.deletions,
        )
        applied = await ctx.db.transact(apply_incoming, change, now=ctx.now())
        self._groups.store.remember(gid, applied.revision, next_state)
        if blocked or applied.duplicate:
            return
        for seq in applied.message_seqs:
            info = await self._messages.info_by_seq(seq)
            if info is not None and info.kind == 9:
                ctx.emit(MessageReceived(ctx.pubkey, info))
        for target in records.targets:
            info = await self._messages.info_by_rumor(gid, target)
            if info is not None:
                ctx.emit(MessageUpdated(ctx.pubkey, info))

    async def _sender_still_allowed(
        self, item: _Opened, loaded: Loaded, sender_leaf: int, author: str
    ) -> bool:
        """A message of a past epoch counts only if its sender is still that member, or it
        was sent before the commit that ended that epoch (a removed member's late words)."""
        epoch = item.opened.epoch
        if epoch >= loaded.state.epoch:
            return True
        current = engine.identities(loaded.state).get(sender_leaf)
        if current is not None and current.hex() == author:
            return True
        snap = await self._ctx.db.run(snapshots_repo.get, loaded.group.mls_group_id, epoch)
        return snap is not None and item.event.created_at <= snap.commit.created_at

    # --- proposals -----------------------------------------------------------------------

    async def _proposal(
        self, item: _Opened, loaded: Loaded, result: ProposalReceived, next_state: GroupState
    ) -> None:
        ctx = self._ctx
        gid = loaded.group.mls_group_id
        action = engine.proposal_decision(next_state, result, ctx.public_key.data)
        change = IncomingChange(
            item.event.id,
            item.event.kind,
            item.event.created_at,
            Outcome.PROCESSED,
            f"proposal: {action.value}",
            gid,
            result.epoch,
            state=state_write(gid, loaded.revision, next_state, epoch_changed=False),
        )
        applied = await ctx.db.transact(apply_incoming, change, now=ctx.now())
        self._groups.store.remember(gid, applied.revision, next_state)
        if (
            action is ProposalAction.AUTO_COMMIT
            and ctx.public_key.data in engine.group_data(next_state).admins
        ):
            await self._auto_commit(gid)

    async def _auto_commit(self, gid: bytes) -> None:
        """Commit a member's SelfRemove (admins do; the race rule settles duplicates)."""
        ctx = self._ctx
        group = await self._groups.store.get(gid)
        if group.has_pending_commit:
            return
        loaded = await self._groups.store.load(gid)
        try:
            pending = engine.commit_pending(loaded.state, now=ctx.now(), rng=ctx.rng)
        except (MlsError, MarmotError) as exc:
            log.warning("could not commit a pending proposal: %s", exc)
            return
        event = engine.wrap(loaded.state, pending.message, now=ctx.now(), rng=ctx.rng)
        stored = _pending_of(pending, event)
        own = OwnEvent(gid, event, loaded.data.relays, COMMIT, pending=stored)
        await ctx.db.transact(record_own_event, own, ctx.now())
        ctx.outbox.kick()

    # --- commits -------------------------------------------------------------------------

    async def _commit(
        self, item: _Opened, loaded: Loaded, result: CommitProcessed, next_state: GroupState
    ) -> None:
        ctx = self._ctx
        gid = loaded.group.mls_group_id
        await self._groups.observe(gid, loaded.state)
        before_members = [m.pubkey for m in engine.members(loaded.state)]
        lifecycle = Lifecycle.INACTIVE if result.removed_self else None
        write = state_write(
            gid,
            loaded.revision,
            next_state,
            snapshot=None if result.removed_self else commit_key(item.event),
            lifecycle=lifecycle,
            epoch_changed=not result.removed_self,
        )
        change = IncomingChange(
            item.event.id,
            item.event.kind,
            item.event.created_at,
            Outcome.PROCESSED,
            "removed us" if result.removed_self else "",
            gid,
            result.epoch,
            state=write,
        )
        applied = await ctx.db.transact(apply_incoming, change, now=ctx.now())
        self._groups.store.remember(gid, applied.revision, next_state)
        await self._groups.after_merge(gid, loaded.group, before_members)
        self._retry.add(gid)

    async def _yield_to(self, item: _Opened) -> bool:
        """A peer's commit for the epoch of our pending one: the earlier wins (MIP-03).
        True when theirs does (ours is dropped); False keeps theirs waiting."""
        gid = item.group.mls_group_id
        stored = await self._ctx.db.run(groups_repo.pending_commit, gid)
        if stored is None:
            return True
        ours = CommitOrder(stored.created_at, stored.event_id)
        theirs = CommitOrder(item.event.created_at, item.event.id)
        if theirs < ours:
            await self._groups.discard_pending(gid, "another admin's change came first")
            return True
        return False

    async def _race(self, item: _Opened) -> None:
        ctx = self._ctx
        gid = item.group.mls_group_id
        epoch = item.opened.epoch
        snap = await ctx.db.run(snapshots_repo.get, gid, epoch)
        if snap is None:
            await self._mark(
                item.event, Outcome.FAILED, "commit for an epoch we left", gid, keep=True
            )
            return
        incoming = commit_key(item.event)
        decision = race_decision(
            CommitOrder(snap.commit.created_at, snap.commit.event_id),
            snap.commit.content_hash,
            CommitOrder(incoming.created_at, incoming.event_id),
            incoming.content_hash,
        )
        if decision is RaceDecision.KEEP:
            await self._mark(item.event, Outcome.FAILED, "lost the commit race", gid, keep=True)
            return
        if decision is RaceDecision.RELABEL:
            await ctx.db.run(snapshots_repo.update_commit_key, gid, epoch, incoming)
            await self._mark(item.event, Outcome.PROCESSED, "same commit, better wrapper", gid)
            return
        loser = snap.commit.event_id
        await ctx.db.transact(_roll_back, gid, epoch, ctx.now())
        self._groups.store.forget(gid)
        ctx.emit(
            CommitRaceResolved(
                ctx.pubkey, item.group.metadata.nostr_group_id, epoch, item.event.id, loser
            )
        )
        group = await self._groups.store.get(gid)
        await self._open(group, item.event, None)
        await self._messages.resend_invalidated(gid)

    # --- bookkeeping ---------------------------------------------------------------------

    async def _mark(
        self,
        event: Event,
        outcome: Outcome,
        reason: str,
        gid: bytes | None = None,
        *,
        epoch: int | None = None,
        keep: bool = False,
    ) -> None:
        if outcome is not Outcome.PROCESSED:
            log.debug("445 %s %s: %s", event.id[:12], outcome.value, reason)
        await self._ctx.db.run(
            processed_repo.mark,
            event.id,
            kind=event.kind,
            created_at=event.created_at,
            outcome=outcome,
            now=self._ctx.now(),
            reason=reason,
            mls_group_id=gid,
            epoch=epoch,
            event_json=event.to_json() if keep or outcome is Outcome.RETRYABLE else None,
        )


def _pending_of(pending: engine.PendingCommit, event: Event) -> StoredPending:
    return StoredPending(engine.dump(pending.next_state).data, event.id, event.created_at)


def _roll_back(conn: Connection, gid: bytes, epoch: int, now: int) -> None:
    snapshots_repo.rollback(conn, gid, epoch, now=now)
    messages_repo.mark_invalidated(conn, gid, after_epoch=epoch)
    processed_repo.mark_failed_retryable(conn, gid, reason="rolled back", now=now)
