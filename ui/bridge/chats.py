"""Chats and messages over ``app``: the chat list, search, flags, history, sending, reactions,
edits, deletion; and the translation of the app's events into the UI's."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from app import events as app_events
from app import timeline
from app.errors import AppError
from app.models import GroupInfo, InviteInfo, MessageInfo
from ui import views
from ui.bridge import rows
from ui.bridge.convert import (
    contact_row,
    group_details,
    invite_row,
    message_status,
    relay_status,
)
from ui.bridge.core import BridgeCore, sentence, translated
from ui.errors import InvalidInput, NotFound
from ui.views import ChatRow, MessageRow, SearchHit, UiEvent

SNIPPET = 90
INVITER_LOOKUP_SECONDS = 3.0


def excerpt(text: str, query: str, width: int = SNIPPET) -> str:
    """A window of ``text`` around the first match of ``query``, on one line."""
    flat = " ".join(text.split())
    at = flat.casefold().find(query.casefold())
    if len(flat) <= width or at < 0:
        return flat[:width]
    start = max(0, min(at - width // 3, len(flat) - width))
    cut = flat[start : start + width]
    return ("…" if start else "") + cut + ("…" if start + width < len(flat) else "")


def unnamed(name: str) -> bool:
    """The app's stand-in for a person without a known profile: the start of the npub."""
    return name.startswith("npub1") and name.endswith("…")


class ChatOps(BridgeCore):
    # --- the chat list ---------------------------------------------------------------------

    @translated
    async def list_chats(self) -> list[ChatRow]:
        """Every chat of the active account, archived ones included (flagged)."""
        session = self.session()
        groups = await session.groups.list_groups()
        return [self._seen(await rows.build_chat_row(session, g)) for g in groups]

    @translated
    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Chats whose name matches, then messages whose text matches, newest first."""
        needle = query.strip()
        if not needle:
            return []
        chats = {c.id: c for c in await self.list_chats()}
        hits = [
            SearchHit(c.id, c.title, c.preview, None, c.time, c.avatar_seed)
            for c in chats.values()
            if needle.casefold() in c.title.casefold()
        ]
        found = await self.session().messages.search(needle, limit=limit)
        for result in sorted(found, key=lambda r: -r.message.created_at):
            message = result.message
            chat = chats.get(message.group_id)
            if chat is None or message.deleted:
                continue
            hits.append(
                SearchHit(
                    chat.id,
                    chat.title,
                    excerpt(message.content, needle),
                    message.id,
                    message.created_at,
                    chat.avatar_seed,
                )
            )
        return hits[:limit]

    @translated
    async def set_pinned(self, chat_id: str, pinned: bool) -> None:
        """Pin or unpin a chat (pinned chats sort first)."""
        await self.session().chat_flags.set_pinned(chat_id, pinned)

    @translated
    async def set_archived(self, chat_id: str, archived: bool) -> None:
        """Move a chat to or from the archive."""
        await self.session().chat_flags.set_archived(chat_id, archived)

    @translated
    async def set_muted(self, chat_id: str, muted: bool) -> None:
        """Silence or restore notifications for a chat."""
        await self.session().chat_flags.set_muted(chat_id, muted)

    @translated
    async def mark_read(self, chat_id: str) -> None:
        """Everything in the chat has been seen: its unread count drops to zero."""
        if await self.session().messages.mark_read(chat_id):
            await self.emit_chat(chat_id)

    @translated
    async def save_draft(self, chat_id: str, text: str) -> None:
        """Keep the unsent composer text of a chat ("" clears it)."""
        session = self.session()
        if await session.messages.draft(chat_id) != text:
            await session.messages.save_draft(chat_id, text)
            await self.emit_chat(chat_id)

    async def emit_chat(self, chat_id: str) -> None:
        session = self.session()
        info = await session.groups.info(chat_id)
        if info.state != "pending":
            self._emit(views.ChatUpdated(self._seen(await rows.build_chat_row(session, info))))

    # --- messages --------------------------------------------------------------------------

    @translated
    async def messages(
        self, chat_id: str, before: str | None = None, limit: int = 50
    ) -> list[MessageRow]:
        """Up to ``limit`` messages older than message ``before`` (newest if None), oldest first."""
        session = self.session()
        found = await session.messages.list_messages(
            chat_id, limit=limit, before=before, with_changes=True
        )
        return await rows.build_message_rows(session, chat_id, found)

    @translated
    async def send(self, chat_id: str, text: str, reply_to: str | None = None) -> MessageRow:
        """Queue a text message (optionally a reply); it returns in state SENDING."""
        if not text.strip():
            raise InvalidInput("Type a message first.", "text")
        session = self.session()
        info = await session.messages.send(chat_id, text, reply_to=reply_to)
        return await rows.build_message_row(session, info)

    @translated
    async def react(self, chat_id: str, message_id: str, emoji: str) -> None:
        """Add our reaction to a message."""
        await self.session().messages.react(chat_id, message_id, emoji)
        await self._message_changed(chat_id, message_id)

    @translated
    async def unreact(self, chat_id: str, message_id: str, emoji: str) -> None:
        """Withdraw our reaction (a deletion of our kind-7 event)."""
        await self.session().messages.unreact(chat_id, message_id, emoji)
        await self._message_changed(chat_id, message_id)

    @translated
    async def delete(self, chat_id: str, message_id: str) -> None:
        """Delete one of our own messages for everyone (NotAllowed for others' messages)."""
        await self.session().messages.delete(chat_id, message_id)
        await self._message_changed(chat_id, message_id)
        await self.emit_chat(chat_id)

    @translated
    async def edit(self, chat_id: str, message_id: str, text: str) -> MessageRow:
        """Replace the text of one of our messages for everyone; only in chats whose row
        says ``can_edit`` (NotAllowed elsewhere, and for others' messages)."""
        if not text.strip():
            raise InvalidInput("Type a message first.", "text")
        session = self.session()
        info = await session.messages.edit(chat_id, message_id, text)
        return await rows.build_message_row(session, info)

    @translated
    async def retry(self, chat_id: str, message_id: str) -> None:
        """Send a FAILED message again."""
        await self.session().messages.retry(chat_id, message_id)
        await self._message_changed(chat_id, message_id)

    async def _message_changed(self, chat_id: str, message_id: str) -> None:
        """Our own change to a stored message (the app announces only others')."""
        session = self.session()
        info = await rows.message_by_id(session, chat_id, message_id)
        if info is None:
            raise NotFound("That message no longer exists.")
        self._emit(views.MessageUpdated(await rows.build_message_row(session, info)))

    # --- app events -> UI events -----------------------------------------------------------

    async def translate(self, event: app_events.AppEvent, chats: dict[str, None]) -> list[UiEvent]:
        """The UI events for one app event; chats whose row changed are added to ``chats``
        (their rows are built once per batch)."""
        handler = _HANDLERS.get(type(event))
        return [] if handler is None else await handler(self, event, chats)

    async def _on_message(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        info: MessageInfo = event.message
        chats[info.group_id] = None
        if info.kind not in (rows.CHAT_KIND, timeline.TIMELINE):
            return []
        session = self.session()
        if info.own and info.kind == rows.CHAT_KIND:
            # Ours, as stored now: a fast relay's "sent" may have been announced before
            # the message itself, and a row still "sending" would then stay so.
            info = await rows.message_by_id(session, info.group_id, info.id) or info
        return [views.MessageAdded(await rows.build_message_row(session, info))]

    async def _on_message_updated(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        info: MessageInfo = event.message
        chats[info.group_id] = None  # a deletion changes the preview
        return [views.MessageUpdated(await rows.build_message_row(self.session(), info))]

    async def _on_status(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        info = await rows.message_by_id(self.session(), event.group_id, event.message_id)
        if info is None:
            return []
        row = await rows.build_message_row(self.session(), info)
        status = message_status(event.status)
        return [views.MessageUpdated(dataclasses.replace(row, status=status))]

    async def _on_group(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        info: GroupInfo = event.group
        if info.state == "pending":  # an invite not answered yet: not a chat, but its
            return await self._invite_of(info.id)  # name or members may have changed
        chats[info.id] = None
        if isinstance(event, app_events.MembersChanged):
            return [views.MembersChanged(group_details(info))]
        return []

    async def _on_group_removed(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        chats[event.group_id] = None
        return []

    async def _on_invite(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        info: InviteInfo = event.invite
        if unnamed(info.inviter_name):
            # Show who invited us: a stranger's profile is fetched first (briefly).
            contacts = self.session().contacts
            with contextlib.suppress(TimeoutError, AppError):
                async with asyncio.timeout(INVITER_LOOKUP_SECONDS):
                    await contacts.fetch_profiles([info.inviter])
            info = dataclasses.replace(info, inviter_name=await contacts.name_of(info.inviter))
        return [views.InviteAdded(invite_row(info))]

    async def _invite_of(self, group_id: str) -> list[UiEvent]:
        for invite in await self.session().invites.list_invites():
            if invite.group_id == group_id:
                return [views.InviteAdded(invite_row(invite))]
        return []

    async def _on_expired(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        chats[event.group_id] = None  # the preview may have been one of them
        return [views.MessagesRemoved(event.group_id, tuple(event.message_ids))]

    async def _on_invite_removed(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        return [views.InviteRemoved(event.invite_id)]

    async def _on_contact(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        for chat_id in self._dm_chats.get(event.pubkey, ()):
            chats[chat_id] = None  # a 1:1 chat is titled by the person's name
        contacts = self.session().contacts
        if event.pubkey == event.account:
            # Our own profile arrived (an imported key): the account list says its name
            # too, also while locked.
            own = await contacts.profile(event.pubkey)
            if own.name:
                self.services.accounts.rename(event.account, own.name)
        return [views.ContactUpdated(contact_row(await contacts.get(event.pubkey)))]

    async def _on_relay(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        # Only our relays: ones connected for a moment (an invitee's inbox) are not listed.
        if event.url not in {r.url for r in self.session().relays.info()}:
            return []
        return [views.RelayStatusChanged(event.url, relay_status(event.status, event.error))]

    async def _on_sync(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        return [views.SyncProgress(event.done, event.total)]

    async def _on_signer(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        return [views.SignerStatus(event.state, signer_text(event.state), event.auth_url)]

    async def _on_error(self, event: Any, chats: dict[str, None]) -> list[UiEvent]:
        return [views.ErrorShown(sentence(event.message))]


_Handler = Callable[[ChatOps, Any, dict[str, None]], Awaitable[list[UiEvent]]]
_HANDLERS: dict[type[app_events.AppEvent], _Handler] = {
    app_events.MessageReceived: ChatOps._on_message,
    app_events.MessageQueued: ChatOps._on_message,
    app_events.MessageUpdated: ChatOps._on_message_updated,
    app_events.MessageStatusChanged: ChatOps._on_status,
    app_events.MessagesExpired: ChatOps._on_expired,
    app_events.GroupUpdated: ChatOps._on_group,
    app_events.MembersChanged: ChatOps._on_group,
    app_events.GroupRemoved: ChatOps._on_group_removed,
    app_events.InviteReceived: ChatOps._on_invite,
    app_events.InviteRemoved: ChatOps._on_invite_removed,
    app_events.ContactUpdated: ChatOps._on_contact,
    app_events.RelayStatusChanged: ChatOps._on_relay,
    app_events.SyncProgressed: ChatOps._on_sync,
    app_events.ErrorRaised: ChatOps._on_error,
    app_events.SignerStatusChanged: ChatOps._on_signer,
}

_SIGNER_TEXT = {
    "connecting": "Remote signer: connecting…",
    "ready": "Remote signer: ready",
    "waiting_approval": "Remote signer: approve the request (open the link)",
    "offline": "Remote signer offline: changes wait until it is back",
    "refused": "Remote signer refused a request",
}


def signer_text(state: str) -> str:
    return _SIGNER_TEXT.get(state, f"Remote signer: {state}")
