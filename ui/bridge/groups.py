"""Groups and invites over ``app``: 1:1 chats, new groups, membership, admins, names,
leaving; pending Welcomes."""

from __future__ import annotations

from collections.abc import Sequence

from app.models import GroupInfo
from app.words import protocol_name
from ui.bridge import rows
from ui.bridge.convert import dm_peer, group_details, invite_row
from ui.bridge.core import BridgeCore, translated
from ui.views import ChatRow, GroupDetails, InviteRow


class GroupOps(BridgeCore):
    async def _row(self, info: GroupInfo) -> ChatRow:
        return self._seen(await rows.build_chat_row(self.session(), info))

    @translated
    async def create_dm(self, pubkey: str) -> ChatRow:
        """The 1:1 chat with a person: the existing one, or a new two-member group."""
        groups = self.session().groups
        for info in await groups.list_groups(include_inactive=False):
            if dm_peer(info) == pubkey:
                return await self._row(info)
        return await self._row(await groups.create("", [pubkey]))

    @translated
    async def create_group(
        self, name: str, members: Sequence[str], description: str = ""
    ) -> ChatRow:
        """Create a group with us as admin and invite ``members`` (pubkeys)."""
        info = await self.session().groups.create(name, list(members), description)
        return await self._row(info)

    @translated
    async def group_protocol(self, members: Sequence[str]) -> str:
        """The Marmot version a new group with ``members`` would use, in words ("Marmot v2
        (Dark Matter)"), as their key packages decide; InvalidInput when they cannot be
        in one group, Unavailable when someone's key packages cannot be found."""
        return protocol_name(await self.session().groups.profile_for(list(members)))

    @translated
    async def show_group(self, chat_id: str) -> GroupDetails:
        """Name, description, members with admin flags and devices."""
        return group_details(await self.session().groups.info(chat_id))

    @translated
    async def add_members(self, chat_id: str, pubkeys: Sequence[str]) -> GroupDetails:
        """Invite people (all their devices) into the group; admins only."""
        return group_details(await self.session().groups.add_members(chat_id, list(pubkeys)))

    @translated
    async def remove_members(self, chat_id: str, pubkeys: Sequence[str]) -> GroupDetails:
        """Remove people from the group; admins only."""
        return group_details(await self.session().groups.remove_members(chat_id, list(pubkeys)))

    @translated
    async def promote(self, chat_id: str, pubkey: str) -> GroupDetails:
        """Make a member an admin; admins only."""
        return group_details(await self.session().groups.promote(chat_id, pubkey))

    @translated
    async def demote(self, chat_id: str, pubkey: str) -> GroupDetails:
        """Take admin rights away; admins only."""
        return group_details(await self.session().groups.demote(chat_id, pubkey))

    @translated
    async def rename_group(self, chat_id: str, name: str, description: str) -> GroupDetails:
        """Change the group's name and description; admins only."""
        info = await self.session().groups.rename(chat_id, name=name, description=description)
        return group_details(info)

    @translated
    async def set_disappearing(self, chat_id: str, seconds: int) -> GroupDetails:
        """Admins: new messages disappear ``seconds`` after they are sent (0: they stay)."""
        info = await self.session().groups.set_disappearing(chat_id, seconds)
        await self.emit_chat(chat_id)
        return group_details(info)

    @translated
    async def leave_group(self, chat_id: str) -> None:
        """Leave the group (SelfRemove); the chat stays readable but inactive."""
        await self.session().groups.leave(chat_id)
        await self.emit_chat(chat_id)

    # --- invites ---------------------------------------------------------------------------

    @translated
    async def list_invites(self) -> list[InviteRow]:
        """Welcomes waiting for an answer."""
        return [invite_row(i) for i in await self.session().invites.list_invites()]

    @translated
    async def accept_invite(self, invite_id: str) -> ChatRow:
        """Join the group of a pending Welcome."""
        return await self._row(await self.session().invites.accept(invite_id))

    @translated
    async def decline_invite(self, invite_id: str) -> None:
        """Drop a pending Welcome."""
        await self.session().invites.decline(invite_id)
