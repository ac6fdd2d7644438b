"""Receiving kind 445 group events: decrypt, process, store atomically, tell the front ends.

The pipeline for one event (architecture section 4.3):

1. Already final (processed or failed)? Drop it: replays change nothing.
2. Envelope checks (kind, time window, one ``h`` tag, id and signature), then the group.
3. Trial decryption with the keys of the current and five previous epochs. An event no
   key opens may belong to an epoch we have not reached: it is kept as *retryable* and
   tried again from storage after each commit we apply, until the group moved on too far.
   Anyone who knows the ``h`` tag can post such events, so each group keeps a bounded
   number (and size) of them (`storage.repos.unopened`): dropped ones are counted.
4. A commit for an epoch we already left is a commit race (MIP-03): the earlier one
   (``created_at``, then smallest id) wins everywhere. If the newcomer wins we roll back
   to the snapshot taken before the loser, mark the loser's messages invalidated, give
   the failed events another chance and apply the winner. The newcomer is first validated
   in full on a copy of that epoch's state; see docs/fork-choice.md for the rule.
5. MLS processing plus the admin policy; then one transaction stores the next state, the
   messages it carried and the processed mark.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from app import engine
from app.branch_switch import RESEND, removal_done, removals_owed, resend_noted, switch_branch
from app.context import Context
from app.disappearing import expiry
from app.errors import AppError
from app.events import CommitRaceResolved, ErrorRaised, MessageReceived, MessageUpdated
from app.group_store import Loaded, state_write
from app.groups import Groups
from app.media_fetch import keep_epoch_key
from app.message_records import Records, apply_reviving, incoming_records
from app.messages import Messages
from marmot.errors import InvalidGroupEvent, MarmotError
from marmot.fork_choice import decide, unpack
from marmot.group_event import PAST_EPOCHS, check_group_event
from marmot.inbound import (
    ApplicationReceived,
    CommitApplied,
    CommitWaiting,
    ProposalHandled,
    Rejected,
    StaleCommit,
    StaleProposal,
    process_event,
    process_past_commit,
    process_past_proposal,
)
from marmot.policy import CommitOrder, RaceDecision
from marmot.profiles import Profile
from mls.messages.proposals import Remove, SelfRemove
from nostr.event import Event
from storage import Conflict, IncomingChange, apply_incoming
from storage.repos import accounts as accounts_repo
from storage.repos import groups as groups_repo
from storage.repos import processed as processed_repo
from storage.repos import snapshots as snapshots_repo
from storage.repos import unopened as unopened_repo
from storage.rows import CommitKey, Group, Outcome, ProcessedEvent
from storage.rows import GroupState as Lifecycle

log = logging.getLogger(__name__)

ControlHandler = Callable[[bytes, ApplicationReceived], Awaitable[None]]

RETRY_EPOCHS = PAST_EPOCHS
"""An undecryptable event is retried until the group moved this many epochs past it."""
MAX_ATTEMPTS = 50
_RETRY_ROUNDS = 20


class GroupInbox:
    def __init__(self, ctx: Context, groups: Groups, messages: Messages) -> None:
        self._ctx = ctx
        self._groups = groups
        self._messages = messages
        self._retry: set[bytes] = set()
        self._invalidated: set[bytes] = set()
        self._removing: set[bytes] = set()
        self._maybe_owed = True
        """Removals may be owed (`app.branch_switch`): look in storage at the next settle.
        Set at start, after a branch switch and after a removal that has to wait."""
        self.control: dict[int, ControlHandler] = {}
        """Rumor kinds handled by another service instead of being stored as messages
        (MIP-05 447/448/449): called with the group id after the event is recorded."""
        groups.on_merged = self._after_own_merge

    async def receive(self, event: Event) -> None:
        """Process one 445 (and whatever it unblocked); a Profile B group's go to
        `app.dm.service.DarkMatter`."""
        group = await self._profile_b(event)
        if group is not None and self._groups.dark_matter is not None:
            await self._groups.dark_matter.receive(group, event)
            return
        await self._handle(event)
        await self._settle()

    async def _profile_b(self, event: Event) -> Group | None:
        h = [t[1] for t in event.tags if len(t) > 1 and t[0] == "h"]
        if len(h) != 1:
            return None
        group = await self._groups.store.by_nostr_id(h[0].lower())
        return group if group is not None and group.profile == Profile.B.value else None

    async def _after_own_merge(self, gid: bytes) -> None:
        self._retry.add(gid)
        await self._look_at_held(gid)
        await self._settle()

    async def _look_at_held(self, gid: bytes) -> None:
        if gid.hex() in await self._ctx.db.run(accounts_repo.get_setting, RESEND, []):
            self._invalidated.add(gid)  # held back by a readmitted member: look again

    async def resume(self) -> None:
        """At start: our messages a lost race voided that did not go out again (the
        process stopped first, or re-sending failed) are sent on the winning branch."""
        waiting = await self._ctx.db.run(accounts_repo.get_setting, RESEND, [])
        self._invalidated.update(bytes.fromhex(h) for h in waiting if isinstance(h, str))
        await self._settle()

    async def _settle(self) -> None:
        """Process what the last event unblocked, then resend what a lost race voided."""
        await self._drain_waiting()
        owed = await self._ctx.db.run(removals_owed) if self._maybe_owed else {}
        self._maybe_owed = False
        for gid, who in owed.items():
            if gid not in self._removing:
                self._removing.add(gid)
                self._ctx.spawn(self._remove_again(gid, who), "removing readmitted members")
        # Sending takes the group's lock, so a lost race's messages go out only here,
        # after the event that rolled the group back released it.
        while self._invalidated:
            gid = self._invalidated.pop()
            try:
                if await self._messages.resend_invalidated(gid) is None:
                    continue  # held: a readmitted member; the next commit tries again
                await self._ctx.db.run(resend_noted, gid, False)
            except AppError as exc:  # they stay invalidated: `resume` tries again
                log.warning("re-sending the messages of a lost commit race failed: %s", exc)
                self._ctx.emit(ErrorRaised(self._ctx.pubkey, f"re-sending failed: {exc}", "sync"))

    async def _remove_again(self, gid: bytes, who: list[str]) -> None:
        """Our removal that a lost race discarded, made again on the winning branch
        (``app.branch_switch``); kept owed while a change of ours is still going out."""
        try:
            group = await self._groups.store.get(gid)
            if group.state is Lifecycle.ACTIVE:
                loaded = await self._groups.store.load(gid)
                present = {m.pubkey for m in engine.members(loaded.marmot)} & set(who)
                if present and loaded.marmot.is_admin:
                    await self._groups.remove_members(gid, sorted(present))
            await self._ctx.db.run(removal_done, gid)
        except AppError as exc:
            log.info("removing readmitted members again waits: %s", exc)
            self._maybe_owed = True
        finally:
            self._removing.discard(gid)

    async def _drain_waiting(self) -> None:
        for _ in range(_RETRY_ROUNDS):
            if not self._retry:
                return
            gid = self._retry.pop()
            waiting = await self._ctx.db.run(processed_repo.retryable, mls_group_id=gid, limit=500)
            for record in waiting:
                if record.event_json:
                    await self._handle(Event.from_json(record.event_json), waiting=True)

    # --- one event ---------------------------------------------------------------------

    async def _handle(self, event: Event, *, waiting: bool = False) -> None:
        """``waiting``: a stored event given another chance (known not to be final)."""
        ctx = self._ctx
        if not waiting and await ctx.db.run(processed_repo.is_done, event.id):
            return
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
            # Final by now if another drain (or a replay) processed it while we waited.
            record = await ctx.db.run(processed_repo.get, event.id)
            if record is not None and record.outcome is not Outcome.RETRYABLE:
                return
            for attempt in range(3):
                try:
                    await self._open(group, event, record)
                    return
                except Conflict:  # the state moved under us (another process): reload
                    if attempt == 2:
                        raise  # the sync engine keeps the event for a later try
                    group = await self._groups.store.get(group.mls_group_id)

    async def _open(self, group: Group, event: Event, record: ProcessedEvent | None) -> None:
        ctx = self._ctx
        loaded = await self._groups.store.load(group.mls_group_id)
        if not engine.can_open(loaded.marmot, event):
            await self._unopened(group, event, record)
            return
        outcome = process_event(loaded.marmot, event, now=ctx.now(), rng=ctx.rng)
        if isinstance(outcome, ApplicationReceived):
            await self._application(loaded, event, outcome)
        elif isinstance(outcome, ProposalHandled):
            await self._proposal(loaded, event, outcome)
        elif isinstance(outcome, CommitApplied):
            if loaded.group.has_pending_commit and not await self._yield_to(loaded, outcome):
                await self._not_yet(
                    group, event, record, "our own commit for this epoch is pending"
                )
                return
            await self._commit(loaded, event, outcome)
        elif isinstance(outcome, StaleCommit):
            await self._race(loaded, event, outcome)
        elif isinstance(outcome, StaleProposal):
            await self._late_proposal(loaded, event, outcome)
        elif isinstance(outcome, CommitWaiting):
            await self._not_yet(group, event, record, outcome.reason)
        else:
            await self._rejected(loaded, event, outcome)

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

    async def _unopened(self, group: Group, event: Event, record: ProcessedEvent | None) -> None:
        """No key opens it: perhaps a message that overtook its commit, perhaps a stranger's
        junk. Kept (within the group's limits) until the group moved `RETRY_EPOCHS` on."""
        ctx = self._ctx
        gid = group.mls_group_id
        first_epoch = record.epoch if record and record.epoch is not None else group.epoch
        attempts = record.attempts if record else 0
        if group.epoch - first_epoch > RETRY_EPOCHS or attempts >= MAX_ATTEMPTS:
            log.debug("445 %s given up: no key opened it", event.id[:12])
            await ctx.db.run(unopened_repo.give_up, event.id, unopened_repo.GIVEN_UP, now=ctx.now())
            return
        dropped = await ctx.db.transact(
            unopened_repo.keep,
            event.id,
            kind=event.kind,
            created_at=event.created_at,
            mls_group_id=gid,
            epoch=first_epoch,
            event_json=event.to_json(),
            limits=ctx.config.unopened,
            now=ctx.now(),
        )
        if dropped:
            log.info("group %s: dropped %d unopened events over its limit", gid.hex()[:12], dropped)

    async def _rejected(self, loaded: Loaded, event: Event, outcome: Rejected) -> None:
        """Refused; if MLS moved its ratchets on the way, that state is kept."""
        gid = loaded.group.mls_group_id
        reason = outcome.error.reason
        if outcome.group is None:
            await self._mark(event, Outcome.FAILED, reason, gid, keep=True)
            return
        change = IncomingChange(
            event.id,
            event.kind,
            event.created_at,
            Outcome.FAILED,
            reason,
            gid,
            loaded.marmot.epoch,
            state=state_write(gid, loaded.revision, outcome.group, epoch_changed=False),
        )
        applied = await self._ctx.db.transact(apply_incoming, change, now=self._ctx.now())
        self._groups.store.remember(gid, applied.revision, outcome.group)

    # --- application messages ------------------------------------------------------------

    async def _application(
        self, loaded: Loaded, event: Event, outcome: ApplicationReceived
    ) -> None:
        ctx = self._ctx
        gid = loaded.group.mls_group_id
        rumor = outcome.rumor
        blocked = await self._messages.is_blocked(rumor.pubkey)
        handler = self.control.get(rumor.kind)
        records = (
            Records()
            if handler is not None
            else incoming_records(
                gid,
                rumor,
                event.id,
                outcome.epoch,
                own=rumor.pubkey == ctx.pubkey,
                expires_at=expiry(event, _timer_for(loaded, outcome.epoch), rumor.created_at),
            )
        )
        change = IncomingChange(
            event.id,
            event.kind,
            event.created_at,
            Outcome.PROCESSED,
            "blocked sender" if blocked else "",
            gid,
            outcome.epoch,
            state=state_write(gid, loaded.revision, outcome.group, epoch_changed=False),
            messages=() if blocked else records.messages,
            reactions=() if blocked else records.reactions,
            deletions=() if blocked else records.deletions,
        )
        applied = await ctx.db.transact(apply_reviving, change, ctx.now())
        self._groups.store.remember(gid, applied.revision, outcome.group)
        if blocked or applied.duplicate:
            return
        if any(t and t[0] == "imeta" for t in rumor.tags):  # its files stay readable later
            await ctx.db.run(keep_epoch_key, gid, outcome.group, outcome.epoch)
        if handler is not None:
            try:
                await handler(gid, outcome)
            except Exception:  # another service's failure must not stop the inbox
                log.exception("handling a kind %d rumor failed", rumor.kind)
            return
        await self._announce(gid, applied.message_seqs, records.targets)

    async def _announce(self, gid: bytes, seqs: Iterable[int], targets: Iterable[str]) -> None:
        """New chat messages, and messages whose reactions or deletion changed."""
        ctx = self._ctx
        for seq in seqs:
            info = await self._messages.info_by_seq(seq)
            if info is not None and info.kind == 9:
                ctx.emit(MessageReceived(ctx.pubkey, info))
        for target in targets:
            info = await self._messages.info_by_rumor(gid, target)
            if info is not None:
                ctx.emit(MessageUpdated(ctx.pubkey, info))

    # --- proposals -----------------------------------------------------------------------

    async def _proposal(self, loaded: Loaded, event: Event, outcome: ProposalHandled) -> None:
        """Keep the proposal in our state; an admin commits a member's leave at once."""
        ctx = self._ctx
        gid = loaded.group.mls_group_id
        self._retry.add(gid)  # a commit covering it may have come first
        change = IncomingChange(
            event.id,
            event.kind,
            event.created_at,
            Outcome.PROCESSED,
            f"proposal: {outcome.action.value}",
            gid,
            outcome.group.epoch,
            state=state_write(gid, loaded.revision, outcome.group, epoch_changed=False),
        )
        if _asks_to_leave(outcome):
            await self._groups.record_leave(gid, outcome.sender.hex(), event.id, event.created_at)
        commit = outcome.auto_commit
        # MDK lets any member commit a SelfRemove; we leave it to admins, so one commit
        # (not one per member) usually settles it.
        if commit is not None and outcome.group.is_admin and not loaded.group.has_pending_commit:
            # Stored together: a proposal marked processed whose commit was never stored
            # would leave the member in the group for good.
            settled = Loaded(loaded.group, outcome.group)
            await self._groups.queue_commit(settled, commit, answers=change)
            return
        applied = await ctx.db.transact(apply_incoming, change, now=ctx.now())
        self._groups.store.remember(gid, applied.revision, outcome.group)

    async def _late_proposal(self, loaded: Loaded, event: Event, outcome: StaleProposal) -> None:
        """A proposal of an epoch we left: its sender had not seen the last commit yet. A
        leave request in it still counts: validated on that epoch's kept state, an admin
        removes the member (still at that leaf) at once, or they would stay for good."""
        ctx = self._ctx
        gid = loaded.group.mls_group_id
        stored = await ctx.db.run(snapshots_repo.state_at, gid, outcome.epoch)
        if stored is None:
            await self._mark(event, Outcome.FAILED, "a proposal of an epoch we left", gid)
            return
        try:
            handled = process_past_proposal(engine.load(stored), event, now=ctx.now())
        except MarmotError as exc:
            await self._mark(event, Outcome.FAILED, exc.reason, gid)
            return
        leaf, who = handled.sender_leaf, handled.sender
        if _asks_to_leave(handled) and loaded.marmot.identity_of(leaf) == who:
            await self._groups.record_leave(gid, who.hex(), event.id, event.created_at)
            if loaded.marmot.is_admin:
                ctx.spawn(self._groups.remove_leavers(gid, ((leaf, who),)), "removing a leaver")
        await self._mark(event, Outcome.PROCESSED, "a proposal of an epoch we left", gid)

    # --- commits -------------------------------------------------------------------------

    async def _commit(self, loaded: Loaded, event: Event, outcome: CommitApplied) -> None:
        ctx = self._ctx
        gid = loaded.group.mls_group_id
        await self._groups.observe(gid, loaded.marmot)
        before_members = [m.pubkey for m in engine.members(loaded.marmot)]
        change = _commit_change(gid, loaded.revision, event, outcome)
        applied = await ctx.db.transact(apply_incoming, change, now=ctx.now())
        self._groups.store.remember(gid, applied.revision, outcome.group)
        await self._groups.after_merge(
            gid, loaded.group, before_members, outcome.order.created_at, outcome.committer.hex()
        )
        self._retry.add(gid)
        await self._look_at_held(gid)

    async def _yield_to(self, loaded: Loaded, outcome: CommitApplied) -> bool:
        """A peer's commit for the epoch of our pending one: the earlier wins (MIP-03).
        True when theirs does (ours is dropped); False keeps theirs waiting."""
        gid = loaded.group.mls_group_id
        stored = await self._ctx.db.run(groups_repo.pending_commit, gid)
        if stored is None:
            return True
        if outcome.order < CommitOrder(stored.created_at, stored.event_id):
            await self._groups.discard_pending(gid, "another admin's change came first")
            return True
        return False

    async def _race(self, loaded: Loaded, event: Event, outcome: StaleCommit) -> None:
        """A commit for an epoch we left: validated in full on a copy of that epoch's kept
        state before anything is compared; the winner's branch is built, then swapped in
        with the rollback in one transaction (docs/fork-choice.md)."""
        ctx = self._ctx
        gid = loaded.group.mls_group_id
        snap = await ctx.db.run(snapshots_repo.get, gid, outcome.epoch)
        stored = await ctx.db.run(snapshots_repo.state_at, gid, outcome.epoch)
        if snap is None or stored is None:
            await self._mark(event, Outcome.FAILED, "commit for an epoch we left", gid, keep=True)
            return
        past = engine.load(stored)
        try:
            winner = process_past_commit(past, event, now=ctx.now())
        except MarmotError as exc:  # forged or invalid: refused for good, never retried
            await self._mark(event, Outcome.FAILED, exc.reason, gid, keep=True)
            return
        kept = await ctx.db.run(snapshots_repo.list_snapshots, gid)
        branch = [s.commit for s in kept if s.epoch >= outcome.epoch]
        discarded = [unpack(CommitOrder(c.created_at, c.event_id), c.content_hash) for c in branch]
        decision = decide(discarded, unpack(winner.order, winner.content_hash))
        if decision is RaceDecision.KEEP:
            await self._mark(event, Outcome.FAILED, "lost the commit race", gid, keep=True)
            return
        if decision is RaceDecision.RELABEL:
            key = CommitKey(winner.order.created_at, winner.order.event_id, winner.content_hash)
            await ctx.db.run(snapshots_repo.update_commit_key, gid, outcome.epoch, key)
            await self._mark(event, Outcome.PROCESSED, "same commit, better wrapper", gid)
            return
        await self._groups.observe(gid, past)
        change = _commit_change(gid, 0, event, winner)
        # Members the discarded branch had removed and the winner readmits.
        removed = set(past.members().values()) - set(loaded.marmot.members().values())
        back = sorted(i.hex() for i in removed & set(winner.group.members().values()))
        dropped = [c.event_id for c in branch]
        revision = await ctx.db.transact(
            switch_branch,
            change,
            epoch=outcome.epoch,
            now=ctx.now(),
            readmitted=back,
            discarded_commits=dropped,
        )
        self._groups.store.remember(gid, revision, winner.group)
        nostr_id = loaded.group.metadata.nostr_group_id
        ctx.emit(
            CommitRaceResolved(ctx.pubkey, nostr_id, outcome.epoch, event.id, snap.commit.event_id)
        )
        self._invalidated.add(gid)
        self._maybe_owed = True
        before = [m.pubkey for m in engine.members(loaded.marmot)]
        await self._groups.after_merge(
            gid, loaded.group, before, winner.order.created_at, winner.committer.hex()
        )
        self._retry.add(gid)

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
        await self._ctx.mark(event, outcome, reason, gid=gid, epoch=epoch, keep=keep)


def _timer_for(loaded: Loaded, epoch: int) -> int | None:
    """The group's timer for a message of ``epoch``: one from an older epoch was written
    before the latest change (which may be the one that set the timer), so only its own
    NIP-40 tag counts for it."""
    if epoch < loaded.marmot.epoch:
        return None
    return engine.disappearing_secs(loaded.group.metadata)


def _asks_to_leave(outcome: ProposalHandled) -> bool:
    """A SelfRemove, or a (legacy) Remove of the sender's own leaf."""
    proposal = outcome.proposal
    if isinstance(proposal, SelfRemove):
        return True
    return isinstance(proposal, Remove) and proposal.removed == outcome.sender_leaf


def _commit_change(
    gid: bytes, revision: int, event: Event, outcome: CommitApplied
) -> IncomingChange:
    key = CommitKey(outcome.order.created_at, outcome.order.event_id, outcome.content_hash)
    write = state_write(
        gid,
        revision,
        outcome.group,
        snapshot=None if outcome.evicted else key,
        lifecycle=Lifecycle.INACTIVE if outcome.evicted else None,
        epoch_changed=not outcome.evicted,
    )
    return IncomingChange(
        event.id,
        event.kind,
        event.created_at,
        Outcome.PROCESSED,
        "removed us" if outcome.evicted else "",
        gid,
        outcome.epoch,
        state=write,
    )
