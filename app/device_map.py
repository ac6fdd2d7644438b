"""Which of our devices holds which of our leaves, and which of our devices are live.

Each install of our identity is a device with its own key-package slot (the ``d`` tag of
its Profile A 443, of its 30443 in older Burrows). A leaf carries only the identity, so
which device holds it is learned while the leaf still carries the keys of the KeyPackage
it was added from (a self-update replaces them): our own key-package events tell which
slot published a signature key, and every group state is observed before a commit
replaces it. Both maps live in the account settings; a leaf we could not attribute is
``unknown``.

Our *other live devices* are the slots of our published KeyPackages other than this
device's and other than devices we removed: they are added to the groups we create, and
to our groups when we add members there (see `app.groups`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from app.context import Context
from app.key_packages import KeyPackages
from marmot.errors import InvalidKeyPackageEvent
from marmot.group import MarmotGroup
from marmot.key_package_event import MarmotKeyPackage, parse_key_package_event
from nostr.event import Event
from storage.repos import accounts as accounts_repo

SIGNATURE_SLOTS = "device_signature_keys"
"""{leaf signature key hex: device slot} from our own key-package events."""
LEAF_SLOTS = "device_leaves"
"""{mls group id hex: {leaf index: device slot}}."""
REMOVED = "removed_devices"
"""[device slot]: devices we removed, never added to a group again."""
UNKNOWN = "unknown"


class DeviceMap:
    def __init__(self, ctx: Context, key_packages: KeyPackages) -> None:
        self._ctx = ctx
        self._key_packages = key_packages
        self._lock = asyncio.Lock()  # the maps are read, changed and written whole

    async def current(self) -> str:
        return await self._key_packages.device_slot()

    # --- learning ------------------------------------------------------------------------

    async def remember_event(self, event: Event) -> bool:
        """Learn from one of our own Profile A events which slot published a signature key."""
        ctx = self._ctx
        if event.pubkey != ctx.pubkey:
            return False
        try:
            parsed = parse_key_package_event(event, now=ctx.now())
        except InvalidKeyPackageEvent:
            return False
        return await self.remember([parsed])

    async def remember(self, key_packages: Iterable[MarmotKeyPackage]) -> bool:
        """Learn the signature key -> slot of our own KeyPackages; True when anything new."""
        me = self._ctx.public_key
        found = {
            kp.key_package.leaf_node.signature_key.hex(): kp.d_tag
            for kp in key_packages
            if kp.author == me and kp.d_tag is not None
        }
        async with self._lock:
            slots = await self._setting(SIGNATURE_SLOTS)
            if all(slots.get(k) == v for k, v in found.items()):
                return False
            slots.update(found)
            await self._save(SIGNATURE_SLOTS, slots)
        return True

    async def observe(self, gid: bytes, group: MarmotGroup) -> None:
        """Attribute our identity's leaves in ``group`` to devices, where we can tell."""
        if not group.active:
            return
        current = await self.current()
        async with self._lock:
            slots = await self._setting(SIGNATURE_SLOTS)
            leaves = await self._setting(LEAF_SLOTS)
            known: dict[str, str] = leaves.get(gid.hex(), {})
            ours = {}
            for member in group.state.members():
                if member.credential.identity != group.identity:
                    continue
                leaf = str(int(member.leaf_index))
                if member.leaf_index == group.own_leaf:
                    ours[leaf] = current
                else:
                    learned = slots.get(member.signature_key.hex())
                    ours[leaf] = learned or known.get(leaf, UNKNOWN)
            if ours != known:
                leaves[gid.hex()] = ours
                await self._save(LEAF_SLOTS, leaves)

    async def forget_group(self, gid: bytes) -> None:
        async with self._lock:
            leaves = await self._setting(LEAF_SLOTS)
            if leaves.pop(gid.hex(), None) is not None:
                await self._save(LEAF_SLOTS, leaves)

    # --- asking --------------------------------------------------------------------------

    async def leaves(self, gid: bytes) -> dict[int, str]:
        """leaf -> device of our leaves in the group, as last observed."""
        stored = (await self._setting(LEAF_SLOTS)).get(gid.hex(), {})
        return {int(leaf): slot for leaf, slot in stored.items()}

    async def all_leaves(self) -> dict[bytes, dict[int, str]]:
        stored = await self._setting(LEAF_SLOTS)
        return {
            bytes.fromhex(g): {int(leaf): slot for leaf, slot in m.items()}
            for g, m in stored.items()
        }

    async def other_devices(self) -> list[MarmotKeyPackage]:
        """The newest KeyPackage of each of our other live devices (on our relays)."""
        ctx = self._ctx
        current = await self.current()
        removed = set(await self.removed())
        found = await self._key_packages.fetch_published(ctx.pubkey)
        await self.remember(found)
        return [kp for kp in found if kp.d_tag is not None and kp.d_tag not in {current, *removed}]

    async def missing_from(self, gid: bytes, group: MarmotGroup) -> list[MarmotKeyPackage]:
        """Our other live devices without a leaf in ``group``.

        None when one of our other leaves there is unknown: it may be one of them, and a
        device added twice would hold a leaf nobody uses."""
        await self.observe(gid, group)
        held = await self.leaves(gid)
        if any(held.get(leaf, UNKNOWN) == UNKNOWN for leaf in group.other_device_leaves):
            return []
        present = set(held.values())
        return [
            kp
            for kp in await self.other_devices()
            if kp.d_tag not in present and group.leaf_of_key_package(kp) is None
        ]

    async def removed(self) -> list[str]:
        value = await self._ctx.db.run(accounts_repo.get_setting, REMOVED, [])
        return [str(v) for v in value] if isinstance(value, list) else []

    async def mark_removed(self, slot: str) -> None:
        async with self._lock:
            removed = await self.removed()
            if slot not in removed:
                await self._save(REMOVED, [*removed, slot])

    # --- storage -------------------------------------------------------------------------

    async def _setting(self, key: str) -> dict[str, Any]:
        value = await self._ctx.db.run(accounts_repo.get_setting, key, {})
        return value if isinstance(value, dict) else {}

    async def _save(self, key: str, value: object) -> None:
        await self._ctx.db.run(accounts_repo.set_setting, key, value)
