"""Devices: each install of our identity has its own key-package slot and its own leaves.

Leaves carry only the identity, so which device holds a leaf is learned when it joins: a
leaf added from a KeyPackage still carries that package's signature key, and our own
key-package events (seen on the relays) tell which slot published that key. Both maps are
kept in the account settings. Removing a lost device removes its leaves from the groups
where we are admin and deletes its key-package slot from the relays.
"""

from __future__ import annotations

from typing import Any

from app.context import Context
from app.errors import InvalidInput, NotAllowed, NotFound
from app.groups import Groups
from app.key_packages import DELETE_PURPOSE, KeyPackages
from app.models import DeviceInfo
from app.relays import Relays
from marmot.errors import InvalidKeyPackageEvent
from marmot.group import MarmotGroup
from marmot.key_package_event import parse_key_package_event
from nostr.event import Event
from nostr.filters import Filter
from nostr.kinds import Kind
from nostr.nip09 import coordinate, deletion_event
from storage.repos import accounts as accounts_repo
from storage.repos import groups as groups_repo
from storage.repos import key_packages as kp_repo
from storage.rows import GroupState as Lifecycle

SIGNATURE_SLOTS = "device_signature_keys"
"""{leaf signature key hex: device slot} from our own key-package events."""
LEAF_SLOTS = "device_leaves"
"""{group id hex: {leaf index: device slot}}."""
UNKNOWN = "unknown"


class Devices:
    def __init__(
        self, ctx: Context, relays: Relays, key_packages: KeyPackages, groups: Groups
    ) -> None:
        self._ctx = ctx
        self._relays = relays
        self._key_packages = key_packages
        self._groups = groups

    async def remember_key_package(self, event: Event) -> bool:
        """Learn which slot published a signature key (our own 30443 events only)."""
        ctx = self._ctx
        if event.pubkey != ctx.pubkey:
            return False
        try:
            parsed = parse_key_package_event(event, now=ctx.now())
        except InvalidKeyPackageEvent:
            return False
        if parsed.d_tag is None:
            return False
        key = parsed.key_package.leaf_node.signature_key.hex()
        slots = await self._setting(SIGNATURE_SLOTS)
        if slots.get(key) == parsed.d_tag:
            return False
        slots[key] = parsed.d_tag
        await ctx.db.run(accounts_repo.set_setting, SIGNATURE_SLOTS, slots)
        return True

    async def observe(self, gid: bytes, group: MarmotGroup) -> None:
        """Attribute our identity's leaves in ``group`` to devices, where we can tell."""
        state = group.state
        ctx = self._ctx
        me = ctx.public_key.data
        slots = await self._setting(SIGNATURE_SLOTS)
        leaves = await self._setting(LEAF_SLOTS)
        known: dict[str, str] = leaves.setdefault(gid.hex(), {})
        changed = False
        for member in state.members():
            if member.credential.identity != me:
                continue
            leaf = str(int(member.leaf_index))
            if member.leaf_index == state.own_leaf:
                slot = await self._key_packages.device_slot()
            else:
                slot = slots.get(member.signature_key.hex(), known.get(leaf, UNKNOWN))
            if known.get(leaf) != slot and (slot != UNKNOWN or leaf not in known):
                known[leaf] = slot
                changed = True
        present = {str(int(m.leaf_index)) for m in state.members() if m.credential.identity == me}
        for leaf in [k for k in known if k not in present]:
            del known[leaf]
            changed = True
        if changed:
            await ctx.db.run(accounts_repo.set_setting, LEAF_SLOTS, leaves)

    async def list_devices(self, *, fetch: bool = True) -> list[DeviceInfo]:
        """This device first, then the others seen in key packages and group leaves."""
        ctx = self._ctx
        current = await self._key_packages.device_slot()
        published: dict[str, int] = {}
        if fetch:
            for kp in await self._key_packages.fetch_published(ctx.pubkey):
                if kp.d_tag is not None:
                    published[kp.d_tag] = published.get(kp.d_tag, 0) + 1
        for event in await self._own_key_package_events() if fetch else []:
            await self.remember_key_package(event)
        leaf_map = await self._leaf_map()
        local_live = len(await ctx.db.run(kp_repo.live, current))
        slots = dict.fromkeys([current, *published, *(s for s, _ in leaf_map.values())])
        out = []
        for slot in slots:
            leaves = tuple((g, leaf) for (g, leaf), (s, _) in leaf_map.items() if s == slot)
            count = local_live if slot == current else published.get(slot, 0)
            out.append(
                DeviceInfo(slot, slot == current, count, len({g for g, _ in leaves}), leaves)
            )
        return out

    async def _own_key_package_events(self) -> list[Event]:
        ctx = self._ctx
        return await self._relays.fetch(
            [Filter(authors=[ctx.pubkey], kinds=[Kind.MLS_KEY_PACKAGE])],
            self._relays.key_package_relays,
        )

    async def _leaf_map(self) -> dict[tuple[str, int], tuple[str, bytes]]:
        """(group id, leaf) -> (device slot, mls group id) for our leaves in active groups."""
        ctx = self._ctx
        groups = await ctx.db.run(groups_repo.list_groups, states=[Lifecycle.ACTIVE])
        for group in groups:
            loaded = await self._groups.store.load(group.mls_group_id)
            await self.observe(group.mls_group_id, loaded.marmot)
        leaves = await self._setting(LEAF_SLOTS)
        out = {}
        for group in groups:
            for leaf, slot in leaves.get(group.mls_group_id.hex(), {}).items():
                out[(group.metadata.nostr_group_id, int(leaf))] = (slot, group.mls_group_id)
        return out

    async def remove(self, device: str) -> DeviceInfo:
        """Remove a lost device: its leaves where we are admin, and its key packages."""
        current = await self._key_packages.device_slot()
        if device in (current, UNKNOWN):
            raise NotAllowed("this device (or an unknown one) cannot be removed this way")
        known = {d.id: d for d in await self.list_devices()}
        found = [d for d in known if d.startswith(device.lower())]
        if len(found) != 1:
            raise NotFound(f"no (single) device {device}")
        info = known[found[0]]
        leaf_map = await self._leaf_map()
        by_group: dict[bytes, list[int]] = {}
        for (_, leaf), (slot, gid) in leaf_map.items():
            if slot == info.id:
                by_group.setdefault(gid, []).append(leaf)
        for gid, leaves in by_group.items():
            await self._remove_leaves(gid, leaves)
        await self._delete_slot(info.id)
        return info

    async def _remove_leaves(self, gid: bytes, leaves: list[int]) -> None:
        loaded = await self._groups.store.load(gid)
        if not loaded.marmot.is_admin:
            return  # only admins may remove; the other admins can do it
        await self._groups.remove_leaves(gid, leaves)

    async def _delete_slot(self, slot: str) -> None:
        ctx = self._ctx
        if len(slot) != 64:
            raise InvalidInput("not a device id")
        # The slot's events by id, and the address: a deletion by address covers only
        # versions not newer than itself, and that device's clock may run ahead of ours.
        events = [e for e in await self._own_key_package_events() if e.first_tag_value("d") == slot]
        newest = max((e.created_at for e in events), default=0)
        unsigned = deletion_event(
            ctx.pubkey,
            created_at=max(ctx.now(), newest),
            event_ids=[e.id for e in events],
            coordinates=[coordinate(Kind.MLS_KEY_PACKAGE, ctx.pubkey, slot)],
            kinds=[Kind.MLS_KEY_PACKAGE],
        )
        await ctx.enqueue(ctx.sign(unsigned), self._relays.key_package_relays, DELETE_PURPOSE)

    async def _setting(self, key: str) -> dict[str, Any]:
        value = await self._ctx.db.run(accounts_repo.get_setting, key, {})
        return value if isinstance(value, dict) else {}
