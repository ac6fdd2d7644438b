"""Devices: each install of our identity has its own key-package slot and its own leaves.

`list_devices` shows this device first, then every other one seen in our published key
packages or holding one of our leaves (``unknown`` collects leaves we could not
attribute; see `app.device_map`). Removing a lost device removes its leaves from the
groups where we are admin, deletes its key-package slot from the relays and keeps it out
of the groups we create or add members to from then on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.context import Context
from app.device_map import UNKNOWN, DeviceMap
from app.errors import AppError, InvalidInput, NotAllowed, NotFound
from app.groups import Groups
from app.key_packages import DELETE_PURPOSE, KeyPackages
from app.models import DeviceInfo
from app.relays import Relays
from nostr.filters import Filter
from nostr.kinds import Kind
from nostr.nip09 import coordinate, deletion_event
from storage.repos import groups as groups_repo
from storage.repos import key_packages as kp_repo
from storage.rows import GroupState as Lifecycle

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Leaf:
    device: str
    mls_group_id: bytes
    nostr_group_id: str
    leaf: int


class Devices:
    def __init__(
        self,
        ctx: Context,
        relays: Relays,
        key_packages: KeyPackages,
        groups: Groups,
        device_map: DeviceMap,
    ) -> None:
        self._ctx = ctx
        self._relays = relays
        self._key_packages = key_packages
        self._groups = groups
        self.map = device_map

    async def list_devices(self, *, fetch: bool = True) -> list[DeviceInfo]:
        """This device first, then the others seen in key packages and group leaves
        (``fetch``: our key packages are looked up on the relays first)."""
        ctx = self._ctx
        current = await self.map.current()
        published: dict[str, int] = {}
        if fetch:
            found = await self._key_packages.fetch_published(ctx.pubkey)
            await self.map.remember(found)
            published = {kp.d_tag: 1 for kp in found if kp.d_tag is not None}
        leaves = await self._leaves()
        removed = set(await self.map.removed())
        local_live = len(await ctx.db.run(kp_repo.live, current))
        slots = dict.fromkeys([current, *published, *(leaf.device for leaf in leaves)])
        out = []
        for slot in slots:
            held = tuple((x.nostr_group_id, x.leaf) for x in leaves if x.device == slot)
            count = local_live if slot == current else published.get(slot, 0)
            groups = len({g for g, _ in held})
            out.append(
                DeviceInfo(slot, slot == current, count, groups, held, removed=slot in removed)
            )
        return out

    async def _leaves(self) -> list[_Leaf]:
        """Our leaves in the active groups, with the device holding each."""
        ctx = self._ctx
        groups = await ctx.db.run(groups_repo.list_groups, states=[Lifecycle.ACTIVE])
        out = []
        for group in groups:
            if group.profile != "mip":
                continue  # Profile B leaves carry no device slot here (one device each)
            gid = group.mls_group_id
            await self.map.observe(gid, (await self._groups.store.load(gid)).marmot)
            for leaf, slot in sorted((await self.map.leaves(gid)).items()):
                out.append(_Leaf(slot, gid, group.metadata.nostr_group_id, leaf))
        return out

    async def remove(self, device: str) -> DeviceInfo:
        """Remove a lost device: its leaves where we are admin, and its key packages; it
        is never added to a group again. Returns what it still holds (leaves in groups
        where we are not admin, or whose removal is still being sent)."""
        current = await self.map.current()
        if device in (current, UNKNOWN):
            raise NotAllowed("this device (or an unknown one) cannot be removed this way")
        known = [d.id for d in await self.list_devices()]
        found = [d for d in known if d.startswith(device.strip().lower())]
        if len(found) != 1 or found[0] in (current, UNKNOWN):
            raise NotFound(f"no (single) device {device}")
        slot = found[0]
        if len(slot) != 64:
            raise InvalidInput("not a device id")
        await self.map.mark_removed(slot)
        by_group: dict[bytes, list[int]] = {}
        for leaf in await self._leaves():
            if leaf.device == slot:
                by_group.setdefault(leaf.mls_group_id, []).append(leaf.leaf)
        for gid, leaves in by_group.items():
            await self._remove_leaves(gid, leaves)
        await self._delete_slot(slot)
        after = {d.id: d for d in await self.list_devices(fetch=False)}
        return after.get(slot) or DeviceInfo(slot, False, 0, 0, removed=True)

    async def _remove_leaves(self, gid: bytes, leaves: list[int]) -> None:
        loaded = await self._groups.store.load(gid)
        if not loaded.marmot.is_admin:
            return  # only admins may remove; the other admins can do it
        try:
            await self._groups.remove_leaves(gid, leaves)
        except AppError as exc:  # queued and retried, or refused: the other groups go on
            log.warning("removing a device from %s: %s", gid.hex()[:12], exc)

    async def _delete_slot(self, slot: str) -> None:
        ctx = self._ctx
        # The slot's events by id, and the address: a deletion by address covers only
        # versions not newer than itself, and that device's clock may run ahead of ours.
        events = await self._relays.fetch(
            [Filter(authors=[ctx.pubkey], kinds=[Kind.MLS_KEY_PACKAGE])],
            self._relays.key_package_relays,
        )
        events = [e for e in events if e.first_tag_value("d") == slot]
        newest = max((e.created_at for e in events), default=0)
        unsigned = deletion_event(
            ctx.pubkey,
            created_at=max(ctx.now(), newest),
            event_ids=[e.id for e in events],
            coordinates=[coordinate(Kind.MLS_KEY_PACKAGE, ctx.pubkey, slot)],
            kinds=[Kind.MLS_KEY_PACKAGE],
        )
        await ctx.enqueue(
            await ctx.prepare(unsigned), self._relays.key_package_relays, DELETE_PURPOSE
        )
