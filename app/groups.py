"""Groups: create (1:1 chats are two-member groups), add and remove members, promote and
demote admins, rename and describe, leave, self-update; and the group list.

Every change is a commit published the MIP-02/03 way: the commit (kind 445) is stored in
the outbox together with our pending next state, published, and only when a relay accepted
it is the next state merged, in the same transaction that marks the entry sent (a snapshot
of the state it replaces is kept for commit races). Only then do the gift-wrapped Welcomes
(queued behind the commit) go to each invitee's inbox relays. The group creation commit is
the exception: it is merged locally and never published.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from app import engine
from app.contacts import Contacts, parse_person
from app.context import Context
from app.device_map import DeviceMap
from app.errors import AppError, InvalidInput, NetworkError, NotAllowed, NotFound, translate
from app.events import (
    ErrorRaised,
    GroupRemoved,
    GroupUpdated,
    MembersChanged,
    MessageStatusChanged,
)
from app.group_invitees import Invitee, Invitees
from app.group_records import (
    CommitHook,
    OwnEvent,
    ProposalHook,
    commit_key,
    create_group_rows,
    discard_pending_commit,
    drop_late_messages,
    member_delta,
    record_own_event,
    replace_envelope,
)
from app.group_store import GroupStore, Loaded, state_write
from app.key_packages import KeyPackages
from app.models import GroupInfo
from app.relays import Relays
from app.sync import GroupTarget
from marmot import operations
from marmot.errors import MarmotError
from marmot.group import GroupConfig, MarmotGroup, create_group
from marmot.operations import OutgoingCommit
from mls.errors import MlsError
from nostr.event import Event
from nostr.kinds import Kind
from storage import OutgoingEvent
from storage.repos import groups as groups_repo
from storage.repos import relays as relays_repo
from storage.rows import Group, NewGroup, OutboxEntry
from storage.rows import GroupState as Lifecycle
from storage.rows import PendingCommit as StoredPending

__all__ = ["COMMIT", "Groups", "Invitee", "OwnEvent", "commit_key", "record_own_event"]

T = TypeVar("T")
Built = tuple[OutgoingCommit, Sequence[OutgoingEvent]]
log = logging.getLogger(__name__)

COMMIT = "commit"
PROPOSAL = "proposal"
SELF_UPDATE_EVERY = 30 * 24 * 3600
NEW_GROUP_LOOKBACK = 24 * 3600
"""Without a cursor, a group's events are fetched from this long before it was stored."""


class Groups:
    def __init__(
        self,
        ctx: Context,
        relays: Relays,
        contacts: Contacts,
        key_packages: KeyPackages,
        devices: DeviceMap,
    ) -> None:
        self._ctx = ctx
        self._relays = relays
        self._contacts = contacts
        self._devices = devices
        self._invitees = Invitees(ctx, relays, key_packages, devices)
        self.store = GroupStore(ctx, devices)
        self.on_targets_changed: Callable[[], Awaitable[None]] | None = None
        self.on_merged: Callable[[bytes], Awaitable[None]] | None = None
        self.before_leave: Callable[[bytes], Awaitable[None]] | None = None
        """Called before our leave request is built (MIP-05: withdraw our push token)."""
        self._locks: dict[bytes, asyncio.Lock] = {}
        ctx.outbox.register(COMMIT, CommitHook(self))
        ctx.outbox.register(PROPOSAL, ProposalHook(self))
        ctx.outbox.renew = self.renew

    # --- queries ---------------------------------------------------------------------

    async def load(self) -> None:
        self._relays.set_group_relays(await self.all_relays())

    async def list_groups(self, *, include_inactive: bool = True) -> list[GroupInfo]:
        states = None if include_inactive else [Lifecycle.ACTIVE]
        groups = await self._ctx.db.run(groups_repo.list_groups, states=states)
        groups = [g for g in groups if g.state is not Lifecycle.PENDING]
        infos = [await self.store.info(g) for g in groups]
        infos.sort(key=lambda i: (not i.pinned, -(i.last_activity or 0)))
        return infos

    async def info(self, ref: str) -> GroupInfo:
        return await self.store.info(await self.store.resolve(ref))

    async def info_of(self, gid: bytes) -> GroupInfo:
        return await self.store.info(await self.store.get(gid))

    async def sync_targets(self) -> list[GroupTarget]:
        groups = await self._ctx.db.run(groups_repo.list_groups, states=[Lifecycle.ACTIVE])
        return [
            GroupTarget(
                _cursor_key(g.mls_group_id),
                g.metadata.nostr_group_id,
                g.metadata.relays,
                g.created_at - NEW_GROUP_LOOKBACK,
            )
            for g in groups
        ]

    async def all_relays(self) -> list[str]:
        targets = await self.sync_targets()
        return sorted({u for t in targets for u in t.relays})

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

    # --- creating ----------------------------------------------------------------------

    async def create(self, name: str, members: Sequence[str], description: str = "") -> GroupInfo:
        """A group with us as the only admin; ``members`` are npubs/nprofiles (every live
        device of each is added, and our own other devices). One member and no name make
        a 1:1 chat."""
        ctx = self._ctx
        people = [parse_person(m) for m in members]
        if any(p.pubkey == ctx.pubkey for p in people):
            raise InvalidInput("do not list yourself as a member")
        invitees = await self._invitees.people(people)
        invitees += await self._invitees.own_devices()
        config = GroupConfig(name=name.strip(), relays=self._relays.mine, description=description)
        created = _call(
            lambda: create_group(
                ctx.public_key,
                config,
                [i.key_package for i in invitees],
                now=ctx.now(),
                rng=ctx.rng,
            )
        )
        group = created.group
        gid = group.mls_group_id
        new = NewGroup(
            gid,
            engine.metadata(group.data),
            Lifecycle.ACTIVE,
            group.epoch,
            group.own_leaf,
            engine.dump(group),
            engine.members(group),
        )
        welcomes = self._invitees.welcome_events(created.welcomes, invitees)
        await ctx.db.transact(create_group_rows, new, welcomes, ctx.now())
        ctx.outbox.kick()
        self.store.remember(gid, 0, group)
        await self.observe(gid, group)
        await ctx.db.run(groups_repo.set_self_updated, gid, now=ctx.now())
        await self.start_following(gid, ctx.now())
        info = await self.info_of(gid)
        ctx.emit(GroupUpdated(ctx.pubkey, info))
        return info

    async def start_following(self, gid: bytes, since: int) -> None:
        """Set the new group's cursors (so catch-up starts there) and subscribe."""
        group = await self.store.get(gid)
        for url in group.metadata.relays:
            await self._ctx.db.run(
                relays_repo.advance_cursor, _cursor_key(gid), url, since, now=self._ctx.now()
            )
        await self.targets_changed()

    # --- changing ------------------------------------------------------------------------

    async def add_members(self, ref: str, members: Sequence[str]) -> GroupInfo:
        """Add every live device of each person, and our own other devices missing from
        the group."""
        people = [parse_person(m) for m in members]
        check = await self._for_commit(ref, admin="add members")
        present = {m.pubkey for m in engine.members(check.marmot)}
        if already := [p.pubkey[:12] for p in people if p.pubkey in present]:
            raise InvalidInput(f"already members: {', '.join(already)}")
        # The network first, before the group is locked.
        invitees = await self._invitees.people(people)
        gid = check.group.mls_group_id
        invitees += await self._invitees.own_devices((gid, check.marmot))
        ctx = self._ctx
        kps = [i.key_package for i in invitees]

        def build(loaded: Loaded) -> Built:
            out = operations.add_members(loaded.marmot, kps, now=ctx.now(), rng=ctx.rng)
            return out, self._invitees.welcome_events(out.welcomes, invitees)

        return await self._change(ref, build, admin="add members")

    async def remove_members(self, ref: str, members: Sequence[str]) -> GroupInfo:
        ctx = self._ctx
        targets = {parse_person(m).pubkey for m in members}
        if ctx.pubkey in targets:
            raise InvalidInput("to remove yourself, leave the group")

        def build(loaded: Loaded) -> Built:
            present = {m.pubkey for m in engine.members(loaded.marmot)}
            if missing := [t[:12] for t in targets if t not in present]:
                raise NotFound(f"not members: {', '.join(missing)}")
            keys = [bytes.fromhex(t) for t in sorted(targets)]
            return operations.remove_members(loaded.marmot, keys, now=ctx.now(), rng=ctx.rng), ()

        return await self._change(ref, build, admin="remove members")

    async def remove_leaves(self, gid: bytes, leaves: Sequence[int]) -> GroupInfo:
        """Remove particular leaves (a lost device of a member that keeps its others)."""
        ctx = self._ctx

        def build(loaded: Loaded) -> Built:
            return operations.remove_leaves(loaded.marmot, leaves, now=ctx.now(), rng=ctx.rng), ()

        return await self._change(gid, build, admin="remove devices")

    async def promote(self, ref: str, member: str) -> GroupInfo:
        return await self._set_admin(ref, parse_person(member).pubkey, True)

    async def demote(self, ref: str, member: str) -> GroupInfo:
        return await self._set_admin(ref, parse_person(member).pubkey, False)

    async def _set_admin(self, ref: str, pubkey: str, admin: bool) -> GroupInfo:
        ctx = self._ctx
        key = bytes.fromhex(pubkey)

        def build(loaded: Loaded) -> Built:
            if pubkey not in {m.pubkey for m in engine.members(loaded.marmot)}:
                raise NotFound(f"{pubkey[:12]} is not a member")
            admins = loaded.data.admins
            changed = (*admins, key) if admin else tuple(a for a in admins if a != key)
            if not changed:
                raise NotAllowed("a group needs at least one admin")
            return operations.update_group_data(
                loaded.marmot, now=ctx.now(), rng=ctx.rng, admins=changed
            ), ()

        return await self._change(ref, build, admin="change admins")

    async def rename(
        self, ref: str, *, name: str | None = None, description: str | None = None
    ) -> GroupInfo:
        ctx = self._ctx
        changes: dict[str, object] = {}
        if name is not None:
            changes["name"] = name.strip()
        if description is not None:
            changes["description"] = description

        def build(loaded: Loaded) -> Built:
            return operations.update_group_data(
                loaded.marmot, now=ctx.now(), rng=ctx.rng, **changes
            ), ()

        return await self._change(ref, build, admin="rename the group")

    async def self_update(self, ref: str | bytes) -> GroupInfo:
        ctx = self._ctx

        def build(loaded: Loaded) -> Built:
            return operations.self_update(loaded.marmot, now=ctx.now(), rng=ctx.rng), ()

        info = await self._change(ref, build)
        group = await self._resolve(ref)
        await ctx.db.run(groups_repo.set_self_updated, group.mls_group_id, now=ctx.now())
        return info

    async def self_update_due(self) -> int:
        """Self-update where it is due: after joining (if the post-join one failed) and
        every `SELF_UPDATE_EVERY` seconds, so our leaf keys keep rotating."""
        ctx = self._ctx
        due = await ctx.db.run(
            groups_repo.needing_self_update, older_than=ctx.now() - SELF_UPDATE_EVERY
        )
        done = 0
        for gid in due:
            try:
                await self.self_update(gid)
                done += 1
            except AppError as exc:
                log.info("self-update of %s postponed: %s", gid.hex()[:12], exc)
        return done

    async def leave(self, ref: str) -> GroupInfo:
        """Send our SelfRemove proposal (an admin steps down first, if another admin
        remains); the group turns inactive for us once a relay took the proposal."""
        ctx = self._ctx
        loaded = await self._for_commit(ref)
        if loaded.marmot.is_admin:
            others = set(loaded.data.admins) - {ctx.public_key.data}
            if not others & set(loaded.marmot.members().values()):
                raise NotAllowed("you are the only admin: promote someone before leaving")

            def demote(loaded: Loaded) -> Built:
                return operations.self_demote(loaded.marmot, now=ctx.now(), rng=ctx.rng), ()

            await self._change(ref, demote)
        gid = loaded.group.mls_group_id
        if self.before_leave is not None:
            await self.before_leave(gid)
        async with self.lock(gid):
            loaded = await self._for_commit(gid)
            proposal = _call(
                lambda: operations.leave_group(loaded.marmot, now=ctx.now(), rng=ctx.rng)
            )
            write = state_write(gid, loaded.revision, proposal.group, epoch_changed=False)
            own = OwnEvent(gid, proposal.event, loaded.data.relays, PROPOSAL, state=write)
            entry_id = await ctx.db.transact(record_own_event, own, ctx.now())
        ctx.outbox.kick()
        entry = await ctx.outbox.wait(entry_id, ctx.config.timeouts.publish * 2)
        if entry is None or entry.accepted_by == ():
            raise NetworkError(
                "your leave request was not accepted by a relay yet; it will be retried"
            )
        return await self.info_of(gid)

    # --- the publish -> OK -> merge flow -------------------------------------------------

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
        loaded = await self.store.load(group.mls_group_id)
        if admin is not None and self._ctx.public_key.data not in loaded.data.admins:
            raise NotAllowed(f"only group admins can {admin}")
        return loaded

    async def _change(
        self, ref: str | bytes, build: Callable[[Loaded], Built], *, admin: str | None = None
    ) -> GroupInfo:
        """Build a commit on the current state and queue it with the group locked, so no
        incoming commit can move the group in between; then wait for a relay's OK.

        Raises `NetworkError` when no relay accepted it in time (it keeps being retried)
        or it was refused for good (then it is dropped).
        """
        ctx = self._ctx
        gid = (await self._resolve(ref)).mls_group_id
        async with self.lock(gid):
            loaded = await self._for_commit(gid, admin=admin)
            out, welcomes = _call(lambda: build(loaded))
            await self.observe(gid, loaded.marmot)
            entry_id = await self.queue_commit(loaded, out, welcomes)
        entry = await ctx.outbox.wait(entry_id, ctx.config.timeouts.publish * 2)
        if entry is None:
            raise NetworkError("the change was not accepted by a relay yet; it will be retried")
        if not entry.accepted_by:
            raise NetworkError(f"the change was refused: {entry.last_error or 'no relay took it'}")
        return await self.info_of(gid)

    async def queue_commit(
        self, loaded: Loaded, out: OutgoingCommit, welcomes: Sequence[OutgoingEvent] = ()
    ) -> int:
        """Store ``out`` as our pending commit with its outbox entry; returns the entry id."""
        ctx = self._ctx
        gid = loaded.group.mls_group_id
        event = out.event
        stored = StoredPending(out.group.to_bytes(), event.id, event.created_at)
        own = OwnEvent(
            gid, event, loaded.data.relays, COMMIT, pending=stored, followers=tuple(welcomes)
        )
        entry_id: int = await ctx.db.transact(record_own_event, own, ctx.now())
        ctx.outbox.kick()
        return entry_id

    async def renew(self, entry: OutboxEntry, event: Event) -> tuple[OutboxEntry, Event] | None:
        """A group event of ours that waited too long (the relays were unreachable) goes
        out in a fresh envelope dated now, so members who synced meanwhile still fetch it
        (commit races then order it by when it really went out)."""
        gid = entry.mls_group_id
        if event.kind != Kind.MLS_GROUP_MESSAGE or gid is None:
            return None
        ctx = self._ctx
        loaded = await self.store.load(gid)
        fresh = engine.reenvelope(loaded.marmot, event, now=ctx.now(), rng=ctx.rng)
        if fresh is None:
            return None
        await ctx.db.transact(replace_envelope, entry, fresh, ctx.now())
        return replace(entry, event_id=fresh.id, event_json=fresh.to_json()), fresh

    async def after_merge(
        self, gid: bytes, before: Group | None, before_members: Iterable[str], commit_at: int
    ) -> None:
        """Tell the front ends, follow changed relays; drop removed members' late words."""
        ctx = self._ctx
        self.store.forget(gid)
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

    async def after_own_merge(
        self, gid: bytes, before: Group | None, before_members: Iterable[str], commit_at: int
    ) -> None:
        await self.after_merge(gid, before, before_members, commit_at)
        await self.retry_waiting(gid)  # events that waited for this epoch

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


def _cursor_key(gid: bytes) -> str:
    return f"g:{gid.hex()}"


def _call(op: Callable[[], T]) -> T:
    """Run a Marmot operation; its refusals become `AppError`s."""
    try:
        return op()
    except (MarmotError, MlsError) as exc:
        raise translate(exc) from exc
