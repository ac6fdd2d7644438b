"""Per-chat preferences of this device: pinned, archived, muted. Never published.

Each change is announced as `GroupUpdated` (the chat list shows the flags).
"""

from __future__ import annotations

from app.context import Context
from app.events import GroupUpdated
from app.groups import Groups
from app.models import GroupInfo
from storage.repos import groups as groups_repo

MUTED_FOREVER = 2**62
"""``muted_until`` of a chat muted until unmuted."""


class ChatFlags:
    def __init__(self, ctx: Context, groups: Groups) -> None:
        self._ctx = ctx
        self._groups = groups

    async def set_pinned(self, ref: str, pinned: bool) -> GroupInfo:
        """Pinned chats sort first, in the order they were pinned."""
        gid = (await self._groups.store.resolve(ref)).mls_group_id
        order = self._ctx.now() if pinned else None
        await self._ctx.db.run(groups_repo.set_pin_order, gid, order, now=self._ctx.now())
        return await self._changed(gid)

    async def set_archived(self, ref: str, archived: bool) -> GroupInfo:
        gid = (await self._groups.store.resolve(ref)).mls_group_id
        await self._ctx.db.run(groups_repo.set_archived, gid, archived, now=self._ctx.now())
        return await self._changed(gid)

    async def set_muted(self, ref: str, muted: bool) -> GroupInfo:
        gid = (await self._groups.store.resolve(ref)).mls_group_id
        until = MUTED_FOREVER if muted else None
        await self._ctx.db.run(groups_repo.set_muted_until, gid, until, now=self._ctx.now())
        return await self._changed(gid)

    async def _changed(self, gid: bytes) -> GroupInfo:
        info = await self._groups.info_of(gid)
        self._ctx.emit(GroupUpdated(self._ctx.pubkey, info))
        return info
