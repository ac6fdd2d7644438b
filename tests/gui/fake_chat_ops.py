"""Chat, message, group and invite operations of the in-memory backend."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from typing import Any

from tests.gui.fake_chats import FakeChat
from tests.gui.fake_core import FakeCore
from ui.errors import InvalidInput, NotAllowed, NotFound
from ui.views import (
    ChatRemoved,
    ChatRow,
    ChatUpdated,
    GroupDetails,
    InviteRemoved,
    InviteRow,
    MemberRow,
    MessageAdded,
    MessageRow,
    MessageStatus,
    MessageUpdated,
    SearchHit,
)

V1, V2 = "Marmot v1", "Marmot v2 (Dark Matter)"


class ChatOps(FakeCore):
    _tasks: set[asyncio.Task[None]]

    async def list_chats(self) -> list[ChatRow]:
        await self._enter("list_chats")
        return [c.row() for c in self.me.chats.values()]

    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        await self._enter("search", query)
        needle = query.casefold()
        hits = [
            SearchHit(c.id, c.title, c.row().preview, None, c.row().time, c.avatar_seed)
            for c in self.me.chats.values()
            if needle in c.title.casefold()
        ]
        found = [
            (m, c)
            for c in self.me.chats.values()
            for m in c.messages
            if not m.deleted and needle in m.text.casefold()
        ]
        found.sort(key=lambda mc: -mc[0].created_at)
        hits += [
            SearchHit(c.id, c.title, m.text, m.id, m.created_at, c.avatar_seed) for m, c in found
        ]
        return hits[:limit]

    async def _flag(self, name: str, chat_id: str, value: bool) -> None:
        await self._enter(f"set_{name}", chat_id, value)
        chat = self._chat(chat_id)
        setattr(chat, name, value)
        self.emit(ChatUpdated(chat.row()))

    async def set_pinned(self, chat_id: str, pinned: bool) -> None:
        await self._flag("pinned", chat_id, pinned)

    async def set_archived(self, chat_id: str, archived: bool) -> None:
        await self._flag("archived", chat_id, archived)

    async def set_muted(self, chat_id: str, muted: bool) -> None:
        await self._flag("muted", chat_id, muted)

    async def mark_read(self, chat_id: str) -> None:
        await self._enter("mark_read", chat_id)
        chat = self._chat(chat_id)
        if chat.unread:
            chat.unread = 0
            self.emit(ChatUpdated(chat.row()))

    async def save_draft(self, chat_id: str, text: str) -> None:
        await self._enter("save_draft", chat_id, text)
        chat = self._chat(chat_id)
        if chat.draft != text:
            chat.draft = text
            self.emit(ChatUpdated(chat.row()))

    # --- messages ---

    async def messages(
        self, chat_id: str, before: str | None = None, limit: int = 50
    ) -> list[MessageRow]:
        await self._enter("messages", chat_id, before, limit)
        page = self._chat(chat_id).page(before, limit)
        self.fetched_rows += len(page)
        return page

    async def send(self, chat_id: str, text: str, reply_to: str | None = None) -> MessageRow:
        await self._enter("send", chat_id, text, reply_to)
        chat = self._chat(chat_id)
        if not chat.active:
            raise NotAllowed("You are no longer a member of this chat.")
        if not text.strip():
            raise InvalidInput("Type a message first.", "text")
        me = self.me
        row = self._message(
            chat,
            me.pubkey,
            me.name,
            text,
            at=None,
            reply_to=reply_to,
            own=True,
            status=MessageStatus.SENDING,
        )
        self.emit(MessageAdded(row))
        self.emit(ChatUpdated(chat.row()))
        if self.auto_deliver:
            self._spawn(self._deliver(chat, row.id))
        return row

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        if not hasattr(self, "_tasks"):
            self._tasks = set()
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _found(self, chat: FakeChat, message_id: str) -> MessageRow:
        row = chat.find(message_id)
        if row is None:
            raise NotFound("That message no longer exists.")
        return row

    async def _deliver(self, chat: FakeChat, message_id: str) -> None:
        await asyncio.sleep(self.latency)
        status = MessageStatus.FAILED if self.fail_sends else MessageStatus.SENT
        row = replace(self._found(chat, message_id), status=status)
        chat.store(row)
        self.emit(MessageUpdated(row))

    async def react(self, chat_id: str, message_id: str, emoji: str) -> None:
        await self._enter("react", chat_id, message_id, emoji)
        chat = self._chat(chat_id)
        chat.reactions.setdefault(message_id, {}).setdefault(emoji, set()).add(self.me.pubkey)
        self.emit(MessageUpdated(self._refresh(chat, message_id)))

    async def unreact(self, chat_id: str, message_id: str, emoji: str) -> None:
        await self._enter("unreact", chat_id, message_id, emoji)
        chat = self._chat(chat_id)
        chat.reactions.get(message_id, {}).get(emoji, set()).discard(self.me.pubkey)
        self.emit(MessageUpdated(self._refresh(chat, message_id)))

    async def delete(self, chat_id: str, message_id: str) -> None:
        await self._enter("delete", chat_id, message_id)
        chat = self._chat(chat_id)
        row = self._found(chat, message_id)
        if not row.own:
            raise NotAllowed("You can only delete your own messages.")
        row = replace(row, deleted=True, text="", reactions=())
        chat.store(row)
        self.emit(MessageUpdated(row))
        self.emit(ChatUpdated(chat.row()))

    async def edit(self, chat_id: str, message_id: str, text: str) -> MessageRow:
        await self._enter("edit", chat_id, message_id, text)
        chat = self._chat(chat_id)
        row = self._found(chat, message_id)
        if not chat.can_edit:
            raise NotAllowed("Messages in this group cannot be edited.")
        if not row.own or row.deleted:
            raise NotAllowed("You can only edit your own messages.")
        if not text.strip():
            raise InvalidInput("Type a message first.", "text")
        row = replace(row, text=text, edited=True)
        chat.store(row)
        self.emit(MessageUpdated(row))
        self.emit(ChatUpdated(chat.row()))
        return row

    async def retry(self, chat_id: str, message_id: str) -> None:
        await self._enter("retry", chat_id, message_id)
        chat = self._chat(chat_id)
        row = replace(self._found(chat, message_id), status=MessageStatus.SENDING)
        chat.store(row)
        self.emit(MessageUpdated(row))
        self._spawn(self._deliver(chat, message_id))

    # --- groups ---

    async def create_dm(self, pubkey: str) -> ChatRow:
        await self._enter("create_dm", pubkey)
        for chat in self.me.chats.values():
            if chat.is_dm and pubkey in chat.members:
                return chat.row()
        contact = self.me.contacts.get(pubkey)
        if contact is None:
            raise NotFound("Add this person as a contact first.")
        chat = self.make_chat(contact.name, [contact.name], is_dm=True)
        self.emit(ChatUpdated(chat.row()))
        return chat.row()

    async def create_group(
        self, name: str, members: Sequence[str], description: str = ""
    ) -> ChatRow:
        await self._enter("create_group", name, tuple(members), description)
        if not name.strip():
            raise InvalidInput("Give the group a name.", "name")
        names = [self.me.contacts[p].name for p in members]
        protocol = self._protocol_of(members)
        chat = self.make_chat(name.strip(), names)
        chat.description = description
        chat.protocol, chat.can_edit = protocol, protocol == V2
        self.emit(ChatUpdated(chat.row()))
        return chat.row()

    async def group_protocol(self, members: Sequence[str]) -> str:
        await self._enter("group_protocol", tuple(members))
        return self._protocol_of(members)

    def _protocol_of(self, members: Sequence[str]) -> str:
        reach = [self.speaks.get(p, (V1,)) for p in members]
        for version in (V2, V1):  # the newer one when everyone has it (as the app)
            if all(version in r for r in reach):
                return version
        raise InvalidInput("These people cannot be in one group: make a group for each.")

    async def show_group(self, chat_id: str) -> GroupDetails:
        await self._enter("show_group", chat_id)
        return self._details(self._chat(chat_id))

    async def add_members(self, chat_id: str, pubkeys: Sequence[str]) -> GroupDetails:
        await self._enter("add_members", chat_id, tuple(pubkeys))
        chat = self._chat(chat_id)
        self._require_admin(chat)
        for pubkey in pubkeys:
            contact = self.me.contacts[pubkey]
            chat.members[pubkey] = MemberRow(pubkey, contact.name, False)
        return self._membership_changed(chat)

    async def remove_members(self, chat_id: str, pubkeys: Sequence[str]) -> GroupDetails:
        await self._enter("remove_members", chat_id, tuple(pubkeys))
        chat = self._chat(chat_id)
        self._require_admin(chat)
        for pubkey in pubkeys:
            chat.members.pop(pubkey, None)
        return self._membership_changed(chat)

    async def _set_admin(self, chat_id: str, pubkey: str, admin: bool) -> GroupDetails:
        chat = self._chat(chat_id)
        self._require_admin(chat)
        chat.members[pubkey] = replace(chat.members[pubkey], admin=admin)
        return self._membership_changed(chat)

    async def promote(self, chat_id: str, pubkey: str) -> GroupDetails:
        await self._enter("promote", chat_id, pubkey)
        return await self._set_admin(chat_id, pubkey, True)

    async def demote(self, chat_id: str, pubkey: str) -> GroupDetails:
        await self._enter("demote", chat_id, pubkey)
        return await self._set_admin(chat_id, pubkey, False)

    async def rename_group(self, chat_id: str, name: str, description: str) -> GroupDetails:
        await self._enter("rename_group", chat_id, name, description)
        chat = self._chat(chat_id)
        self._require_admin(chat)
        if not name.strip():
            raise InvalidInput("Give the group a name.", "name")
        chat.title, chat.description = name.strip(), description
        return self._membership_changed(chat)

    async def set_disappearing(self, chat_id: str, seconds: int) -> GroupDetails:
        await self._enter("set_disappearing", chat_id, seconds)
        chat = self._chat(chat_id)
        self._require_admin(chat)
        chat.disappearing_secs = seconds
        return self._membership_changed(chat)

    async def leave_group(self, chat_id: str) -> None:
        await self._enter("leave_group", chat_id)
        chat = self._chat(chat_id)
        chat.members.pop(self.me.pubkey, None)
        chat.active = False
        self.emit(ChatUpdated(chat.row()))

    # --- invites ---

    async def list_invites(self) -> list[InviteRow]:
        await self._enter("list_invites")
        return [invite for invite, _ in self.me.invites.values()]

    async def accept_invite(self, invite_id: str) -> ChatRow:
        await self._enter("accept_invite", invite_id)
        entry = self.me.invites.pop(invite_id, None)
        if entry is None:
            raise NotFound("That invite is no longer pending.")
        _, chat = entry
        self.me.chats[chat.id] = chat
        self.emit(InviteRemoved(invite_id))
        self.emit(ChatUpdated(chat.row()))
        return chat.row()

    async def decline_invite(self, invite_id: str) -> None:
        await self._enter("decline_invite", invite_id)
        if self.me.invites.pop(invite_id, None) is None:
            raise NotFound("That invite is no longer pending.")
        self.emit(InviteRemoved(invite_id))

    async def forget_chat(self, chat_id: str) -> None:
        """Test lever: the chat disappears (for example after its data was deleted)."""
        self.me.chats.pop(chat_id, None)
        self.emit(ChatRemoved(chat_id))
