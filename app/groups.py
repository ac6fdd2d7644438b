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

import logging
from collections.abc import Awaitable, Callable, Sequence

from app import engine, timeline
from app.contacts import Contacts, parse_person
from app.context import Context
from app.device_map import DeviceMap
from app.dm.service import DarkMatter
from app.errors import AppError, InvalidInput, NetworkError, NotAllowed, NotFound
from app.events import GroupUpdated
from app.group_flow import COMMIT, PROPOSAL, Built, CommitFlow, call
from app.group_invitees import Invitee, Invitees
from app.group_records import OwnEvent, commit_key, create_group_rows, record_own_event
from app.group_store import Loaded, state_write
from app.key_packages import KeyPackages
from app.models import GroupInfo, UnopenedEvents
from app.profile_choice import invitee_key_packages
from app.relays import Relays
from app.sync import GroupTarget
from marmot import operations
from marmot.group import GroupConfig, create_group
from marmot.operations import OutgoingCommit
from marmot.profiles import Profile
from storage import Connection, OutgoingEvent
from storage.repos import groups as groups_repo
from storage.repos import relays as relays_repo
from storage.repos import unopened as unopened_repo
from storage.rows import Group, NewGroup
from storage.rows import GroupState as Lifecycle

__all__ = ["COMMIT", "Groups", "Invitee", "OwnEvent", "commit_key", "record_own_event"]

log = logging.getLogger(__name__)

SELF_UPDATE_EVERY = 30 * 24 * 3600
NEW_GROUP_LOOKBACK = 24 * 3600
"""Without a cursor, a group's events are fetched from this long before it was stored."""


class Groups(CommitFlow):
    def __init__(
        self,
        ctx: Context,
        relays: Relays,
        contacts: Contacts,
        key_packages: KeyPackages,
        devices: DeviceMap,
    ) -> None:
        super().__init__(ctx, devices)
        self._relays = relays
        self._contacts = contacts
        self._key_packages = key_packages
        self._invitees = Invitees(ctx, relays, key_packages, devices)
        self.before_leave: Callable[[bytes], Awaitable[None]] | None = None
        """Called before our leave request is built (MIP-05: withdraw our push token)."""
        self.dark_matter: DarkMatter | None = None
        """Profile B groups' operations (`app.dm.service`), set by the session."""

    async def _profile_b(self, ref: str | bytes) -> Group | None:
        """The group when it is a Profile B one (its operations go to `dark_matter`)."""
        group = await self._resolve(ref)
        return group if group.profile == Profile.B.value else None

    async def _not_profile_b(self, ref: str | bytes, what: str) -> None:
        if await self._profile_b(ref) is not None:
            raise NotAllowed(f"{what}: not available in Marmot v2 (Dark Matter) groups yet")

    def _dm(self) -> DarkMatter:
        if self.dark_matter is None:
            raise NotAllowed("Marmot v2 (Dark Matter) groups are not available here")
        return self.dark_matter

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

    async def unopened(self, ref: str) -> UnopenedEvents:
        """How many events of the group no key opened are kept, and how many were dropped."""
        group = await self.store.resolve(ref)
        counts = await self._ctx.db.run(unopened_repo.counts, group.mls_group_id)
        limits = self._ctx.config.unopened
        return UnopenedEvents(
            counts.kept,
            counts.kept_bytes,
            counts.dropped,
            counts.dropped_bytes,
            limits.events,
            limits.bytes,
        )

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

    # --- creating ----------------------------------------------------------------------

    async def profile_for(self, members: Sequence[str]) -> str:
        """The profile a new group with ``members`` would get (``"mip"`` or ``"darkmatter"``),
        as their key packages decide; the refusals of `create` when there is none."""
        people = [parse_person(m) for m in members]
        chosen = await invitee_key_packages(
            self._ctx,
            [p.pubkey for p in people],
            None,
            key_packages=self._key_packages,
            hints={p.pubkey: p.hints for p in people},
        )
        return chosen.profile

    async def create(
        self,
        name: str,
        members: Sequence[str],
        description: str = "",
        *,
        profile: str | None = None,
    ) -> GroupInfo:
        """A group with us as the only admin; ``members`` are npubs/nprofiles (every live
        device of each is added, and our own other devices). One member and no name make
        a 1:1 chat. ``profile`` (``"mip"`` or ``"darkmatter"``) forces the Marmot
        generation; None lets the invitees' key packages choose."""
        _check_profile(profile)
        ctx = self._ctx
        people = [parse_person(m) for m in members]
        if any(p.pubkey == ctx.pubkey for p in people):
            raise InvalidInput("do not list yourself as a member")
        chosen = await invitee_key_packages(
            ctx,
            [p.pubkey for p in people],
            profile,
            key_packages=self._key_packages,
            hints={p.pubkey: p.hints for p in people},
        )
        if chosen.profile == Profile.B.value:
            return await self._dm().create(
                name.strip(), people, description, found=chosen.b_packages
            )
        invitees = await self._invitees.people(people, found=chosen.a_packages)
        invitees += await self._invitees.own_devices()
        config = GroupConfig(name=name.strip(), relays=self._relays.mine, description=description)
        created = call(
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
        size = len({m.pubkey for m in engine.members(group)})
        welcomes = await self._invitees.welcome_events(created.welcomes, invitees, size)
        # Everyone named is invited, not yet joined, until their post-join update comes.
        added = [timeline.Change(timeline.ADDED, ctx.pubkey, p.pubkey) for p in people]

        def store(conn: Connection) -> None:
            create_group_rows(conn, new, welcomes, ctx.now())
            timeline.record(conn, gid, added, f"created:{gid.hex()}", at=ctx.now(), now=ctx.now())

        await ctx.db.transact(store)
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
        if (dm := await self._profile_b(ref)) is not None:
            return await self._dm().add_members(dm, people)
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
            return (
                operations.add_members(
                    loaded.marmot, kps, now=loaded.stamp(ctx.now()), rng=ctx.rng
                ),
                (),
            )

        async def wrap(out: OutgoingCommit) -> Sequence[OutgoingEvent]:
            members = len({m.pubkey for m in engine.members(out.group)})
            return await self._invitees.welcome_events(out.welcomes, invitees, members)

        return await self._change(ref, build, admin="add members", welcomes=wrap)

    async def remove_members(self, ref: str | bytes, members: Sequence[str]) -> GroupInfo:
        ctx = self._ctx
        targets = {parse_person(m).pubkey for m in members}
        if ctx.pubkey in targets:
            raise InvalidInput("to remove yourself, leave the group")
        if (dm := await self._profile_b(ref)) is not None:
            return await self._dm().remove_members(dm, sorted(targets))

        def build(loaded: Loaded) -> Built:
            present = {m.pubkey for m in engine.members(loaded.marmot)}
            if missing := [t[:12] for t in targets if t not in present]:
                raise NotFound(f"not members: {', '.join(missing)}")
            keys = [bytes.fromhex(t) for t in sorted(targets)]
            return operations.remove_members(
                loaded.marmot, keys, now=loaded.stamp(ctx.now()), rng=ctx.rng
            ), ()

        return await self._change(ref, build, admin="remove members")

    async def remove_leaves(self, gid: bytes, leaves: Sequence[int]) -> GroupInfo:
        """Remove particular leaves (a lost device of a member that keeps its others)."""
        ctx = self._ctx
        await self._not_profile_b(gid, "removing single devices")

        def build(loaded: Loaded) -> Built:
            return operations.remove_leaves(
                loaded.marmot, leaves, now=loaded.stamp(ctx.now()), rng=ctx.rng
            ), ()

        return await self._change(gid, build, admin="remove devices")

    async def promote(self, ref: str, member: str) -> GroupInfo:
        return await self._set_admin(ref, parse_person(member).pubkey, True)

    async def demote(self, ref: str, member: str) -> GroupInfo:
        return await self._set_admin(ref, parse_person(member).pubkey, False)

    async def _set_admin(self, ref: str, pubkey: str, admin: bool) -> GroupInfo:
        ctx = self._ctx
        if (dm := await self._profile_b(ref)) is not None:
            return await self._dm().set_admin(dm, pubkey, admin)
        key = bytes.fromhex(pubkey)

        def build(loaded: Loaded) -> Built:
            if pubkey not in {m.pubkey for m in engine.members(loaded.marmot)}:
                raise NotFound(f"{pubkey[:12]} is not a member")
            admins = loaded.data.admins
            changed = (*admins, key) if admin else tuple(a for a in admins if a != key)
            if not changed:
                raise NotAllowed("a group needs at least one admin")
            return operations.update_group_data(
                loaded.marmot, now=loaded.stamp(ctx.now()), rng=ctx.rng, admins=changed
            ), ()

        return await self._change(ref, build, admin="change admins")

    async def rename(
        self, ref: str, *, name: str | None = None, description: str | None = None
    ) -> GroupInfo:
        ctx = self._ctx
        if (dm := await self._profile_b(ref)) is not None:
            return await self._dm().rename(dm, name and name.strip(), description)
        changes: dict[str, object] = {}
        if name is not None:
            changes["name"] = name.strip()
        if description is not None:
            changes["description"] = description

        def build(loaded: Loaded) -> Built:
            return operations.update_group_data(
                loaded.marmot, now=loaded.stamp(ctx.now()), rng=ctx.rng, **changes
            ), ()

        return await self._change(ref, build, admin="rename the group")

    async def set_image_fields(self, ref: str, **fields: object) -> GroupInfo:
        """Admins only: the MIP-01 picture fields (``image_hash=None`` removes the picture)."""
        ctx = self._ctx
        await self._not_profile_b(ref, "group pictures")

        def build(loaded: Loaded) -> Built:
            return operations.update_group_data(
                loaded.marmot, now=loaded.stamp(ctx.now()), rng=ctx.rng, **fields
            ), ()

        return await self._change(ref, build, admin="change the group picture")

    async def set_disappearing(self, ref: str, seconds: int | None) -> GroupInfo:
        """Admins: messages sent from now on disappear ``seconds`` after they were written
        (None or 0: they stay). Other members' clients honour it from the group data."""
        ctx = self._ctx
        if seconds is not None and seconds < 0:
            raise InvalidInput("a disappearing timer is a number of seconds")
        if (dm := await self._profile_b(ref)) is not None:
            return await self._dm().set_retention(dm, seconds or 0)
        secs = seconds or None

        def build(loaded: Loaded) -> Built:
            return operations.update_group_data(
                loaded.marmot,
                now=loaded.stamp(ctx.now()),
                rng=ctx.rng,
                disappearing_message_secs=secs,
            ), ()

        return await self._change(ref, build, admin="change disappearing messages")

    async def self_update(self, ref: str | bytes) -> GroupInfo:
        ctx = self._ctx
        if (dm := await self._profile_b(ref)) is not None:
            return await self.info_of(dm.mls_group_id)  # Profile B joins need none

        def build(loaded: Loaded) -> Built:
            return operations.self_update(
                loaded.marmot, now=loaded.stamp(ctx.now()), rng=ctx.rng
            ), ()

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
        if (dm := await self._profile_b(ref)) is not None:
            return await self._dm().leave(dm)
        loaded = await self._for_commit(ref)
        if loaded.marmot.is_admin:
            others = set(loaded.data.admins) - {ctx.public_key.data}
            if not others & set(loaded.marmot.members().values()):
                raise NotAllowed("you are the only admin: promote someone before leaving")

            def demote(loaded: Loaded) -> Built:
                return operations.self_demote(
                    loaded.marmot, now=loaded.stamp(ctx.now()), rng=ctx.rng
                ), ()

            await self._change(ref, demote)
        gid = loaded.group.mls_group_id
        if self.before_leave is not None:
            await self.before_leave(gid)
        async with self.lock(gid):
            loaded = await self._for_commit(gid)
            proposal = call(
                lambda: operations.leave_group(
                    loaded.marmot, now=loaded.stamp(ctx.now()), rng=ctx.rng
                )
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


def _check_profile(profile: str | None) -> None:
    if profile is None or profile == Profile.A.value:
        return
    if profile == Profile.B.value:
        return
    raise InvalidInput(f"unknown group profile {profile!r}: use 'mip' or 'darkmatter'")


def _cursor_key(gid: bytes) -> str:
    return f"g:{gid.hex()}"
