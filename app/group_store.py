"""Loading and saving groups: the stored row, its MLS state (cached in memory by revision),
the epoch keys for kind 445 events, and the `GroupInfo` view front ends get.

Groups are named by their ``nostr_group_id`` hex; a unique prefix is enough.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app import engine, timeline
from app.contacts import display_name
from app.context import Context
from app.device_map import DeviceMap
from app.dm import tree as dm_tree
from app.errors import Ambiguous, NotFound
from app.models import GroupDevice, GroupInfo, MemberInfo
from marmot.group import MarmotGroup
from marmot.group_data import NostrGroupData
from marmot.profile_b.group import group_view
from marmot.profiles import Profile
from nostr.keys import PublicKey
from storage import Connection
from storage.repos import contacts as contacts_repo
from storage.repos import drafts as drafts_repo
from storage.repos import groups as groups_repo
from storage.repos import messages as messages_repo
from storage.repos import processed as processed_repo
from storage.rows import CommitKey, Group, Member, StateWrite
from storage.rows import GroupState as Lifecycle

MAX_AHEAD = 60
"""How far ahead of our clock an event may be dated to sort after what it follows."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """A stored group row with its protocol value (the row's revision is the base of the
    next write)."""

    group: Group
    marmot: MarmotGroup
    after: int = 0
    """Our next event of this epoch is dated later than this (0: no constraint); set by
    `GroupStore.load_to_send`."""

    def stamp(self, now: int) -> int:
        """The ``created_at`` for our next event of this epoch: ``now``, or one second after
        `after` when that is later (at most `MAX_AHEAD` ahead of ``now``).

        Members who fetch a batch of group events order them by (created_at, id); MDK
        processes them in that order and drops for good an event of an epoch it has not
        reached yet. Dated strictly after every group event we processed or sent (the
        commit it builds on among them), our event sorts after what it follows.
        """
        return stamp_after(now, self.after)

    @property
    def revision(self) -> int:
        return self.group.revision

    @property
    def data(self) -> NostrGroupData:
        return self.marmot.data


def stamp_after(now: int, after: int) -> int:
    """``now``, or ``after + 1`` when that is later, at most `MAX_AHEAD` ahead of ``now``."""
    return max(now, min(after + 1, now + MAX_AHEAD))


def state_write(
    gid: bytes,
    base_revision: int,
    group: MarmotGroup,
    *,
    snapshot: CommitKey | None = None,
    lifecycle: Lifecycle | None = None,
    clear_pending_commit: bool = False,
    epoch_changed: bool = True,
) -> StateWrite:
    """Everything that changes with a new MLS state, for one atomic `write_state`."""
    return StateWrite(
        mls_group_id=gid,
        base_revision=base_revision,
        state=engine.dump(group),
        epoch=group.epoch,
        our_leaf=group.own_leaf,
        metadata=engine.metadata(group.data) if epoch_changed else None,
        members=engine.members(group) if epoch_changed else None,
        group_state=lifecycle,
        snapshot=snapshot,
        clear_pending_commit=clear_pending_commit,
    )


class GroupStore:
    def __init__(self, ctx: Context, devices: DeviceMap) -> None:
        self._ctx = ctx
        self._devices = devices
        self._cache: dict[bytes, tuple[int, MarmotGroup]] = {}

    async def resolve(self, ref: str) -> Group:
        """The group whose ``nostr_group_id`` is (or starts with) ``ref``."""
        ref = ref.strip().lower()
        if not ref:
            raise NotFound("name a group by its id")
        groups = await self._ctx.db.run(groups_repo.list_groups)
        exact = [g for g in groups if g.metadata.nostr_group_id == ref]
        found = exact or [g for g in groups if g.metadata.nostr_group_id.startswith(ref)]
        if not found:
            raise NotFound(f"no group {ref}")
        if len(found) > 1:
            ids = tuple(g.metadata.nostr_group_id for g in found)
            raise Ambiguous(f"{ref} names {len(found)} groups; give more of the id", ids)
        return found[0]

    async def by_nostr_id(self, nostr_group_id: str) -> Group | None:
        return await self._ctx.db.run(groups_repo.by_nostr_group_id, nostr_group_id)

    async def get(self, gid: bytes) -> Group:
        return await self._ctx.db.run(groups_repo.require, gid)

    async def load(self, gid: bytes) -> Loaded:
        group = await self._ctx.db.run(groups_repo.require, gid)
        cached = self._cache.get(gid)
        if cached is not None and cached[0] == group.revision:
            return Loaded(group, cached[1])
        stored = await self._ctx.db.run(groups_repo.load_state, gid)
        marmot = engine.load(stored.state)
        self._cache[gid] = (stored.revision, marmot)
        return Loaded(group if group.revision == stored.revision else await self.get(gid), marmot)

    async def load_to_send(self, gid: bytes) -> Loaded:
        """`load`, with `Loaded.after` set for dating what we send next."""
        loaded = await self.load(gid)
        return replace(loaded, after=await self.latest_event_at(loaded.group))

    async def latest_event_at(self, group: Group) -> int:
        """What our next event of the group must be dated after (`Loaded.after`)."""
        return int(await self._ctx.db.run(_latest_event_at, group))

    def remember(self, gid: bytes, revision: int | None, group: MarmotGroup) -> None:
        if revision is not None:
            self._cache[gid] = (revision, group)

    def forget(self, gid: bytes) -> None:
        self._cache.pop(gid, None)

    async def info(self, group: Group, *, with_members: bool = True) -> GroupInfo:
        ctx = self._ctx
        gid = group.mls_group_id
        summary = await ctx.db.run(_summary, gid)
        members: tuple[MemberInfo, ...] = ()
        devices: tuple[GroupDevice, ...] = ()
        authenticator = image = ""
        invited: tuple[str, ...] = ()
        profile_b = group.profile == Profile.B.value
        timer = engine.disappearing_secs(group.metadata) or 0
        if with_members:
            rows = await ctx.db.run(groups_repo.members, gid)
            members = await self._members(group, rows)
            if profile_b:
                authenticator, timer = await self._canonical_b(gid)
                if group.our_leaf is not None and group.state is Lifecycle.ACTIVE:
                    current = await self._devices.current()  # Profile B: one leaf each
                    devices = (GroupDevice(group.our_leaf, current, True),)
            else:
                marmot = (await self.load(gid)).marmot
                authenticator = marmot.state.epoch_authenticator.hex()
                devices = await self._my_devices(gid, marmot)
                image = marmot.data.image_hash.hex() if marmot.data.image_hash else ""
            waiting = await ctx.db.run(timeline.invited, gid)
            present = {m.pubkey for m in members}
            invited = tuple(sorted(p for p in waiting if p in present and p != ctx.pubkey))
        meta = group.metadata
        admin = ctx.pubkey in meta.admins
        return GroupInfo(
            id=meta.nostr_group_id,
            name=meta.name,
            description=meta.description,
            state=str(group.state),
            epoch=group.epoch,
            admins=meta.admins,
            relays=meta.relays,
            members=members,
            epoch_authenticator=authenticator,
            is_dm=meta.name == "" and len({m.pubkey for m in members}) <= 2,
            i_am_admin=admin,
            unread=summary.unread,
            last_message=summary.preview,
            last_activity=summary.last_activity,
            pinned=group.pin_order is not None,
            archived=group.archived_at is not None,
            muted=group.muted_until is not None and group.muted_until > ctx.now(),
            draft=summary.draft,
            my_devices=devices,
            image=image,
            invited=invited,
            disappearing_secs=timer,
            profile=group.profile,
            can_edit=profile_b,
        )

    async def _canonical_b(self, gid: bytes) -> tuple[str, int]:
        """Epoch authenticator and retention of a Profile B group's canonical state (the
        group row keeps it)."""
        stored = await self._ctx.db.run(groups_repo.load_state, gid)
        state = dm_tree.load_state(stored.state)
        timer = group_view(state).retention.disappearing_message_secs
        return state.epoch_authenticator.hex(), timer

    async def _my_devices(self, gid: bytes, group: MarmotGroup) -> tuple[GroupDevice, ...]:
        if not group.active:
            return ()
        ours = group.leaves_of(group.identity)
        held = await self._devices.leaves(gid)
        if set(held) != set(ours):  # not observed since the last change
            await self._devices.observe(gid, group)
            held = await self._devices.leaves(gid)
        current = group.own_leaf
        return tuple(
            GroupDevice(leaf, held.get(leaf, "unknown"), leaf == current)
            for leaf in sorted(ours, key=lambda x: (x != current, x))
        )

    async def _members(self, group: Group, rows: list[Member]) -> tuple[MemberInfo, ...]:
        ctx = self._ctx
        leaves: dict[str, list[int]] = {}
        for row in rows:
            leaves.setdefault(row.pubkey, []).append(row.leaf_index)
        profiles = await ctx.db.run(contacts_repo.profiles, list(leaves))
        contacts = {
            c.pubkey: c for c in await ctx.db.run(contacts_repo.list_contacts, include_blocked=True)
        }
        out = []
        for pubkey, indices in leaves.items():
            petname = contacts[pubkey].petname if pubkey in contacts else None
            out.append(
                MemberInfo(
                    pubkey,
                    PublicKey.from_hex(pubkey).to_bech32(),
                    display_name(pubkey, profiles.get(pubkey), petname),
                    pubkey in group.metadata.admins,
                    tuple(indices),
                    pubkey == ctx.pubkey,
                )
            )
        return tuple(out)


@dataclass(frozen=True, slots=True)
class _Summary:
    unread: int
    preview: str
    last_activity: int | None
    draft: str


def _summary(conn: Connection, gid: bytes) -> _Summary:
    latest = messages_repo.page(conn, gid, limit=20)
    chat = [m for m in latest if m.kind == 9]
    last = chat[-1] if chat else None
    draft = drafts_repo.get(conn, gid)
    return _Summary(
        messages_repo.unread_count(conn, gid),
        "" if last is None or last.deleted_at else last.content[:120],
        last.created_at if last else None,
        draft.content if draft else "",
    )


def _latest_event_at(conn: Connection, group: Group) -> int:
    """The newest group event we applied or sent (every member's commits and messages);
    at least when the group row was made: the commit that added us went out before its
    Welcome reached us, and we never see that commit in our epochs."""
    newest = processed_repo.newest_processed(conn, group.mls_group_id)
    return group.created_at if newest is None else max(group.created_at, newest)
