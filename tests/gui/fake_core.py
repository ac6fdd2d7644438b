"""State and test levers of the in-memory backend (see ``fake_backend.py``).

It keeps accounts, chats, messages, invites, contacts, devices and relays in dicts and emits
the same events a real backend would. Test-only levers (``receive``, ``invite_from``,
``set_relay_status``, ``fail_sends``...) play the other people and the network. Keys are
fake: a pubkey is the SHA-256 of a name, an npub is "npub1" plus that hex. Every call awaits
``latency`` seconds so the UI really runs asynchronously, and ``calls`` records what the UI
asked for.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from tests.gui.fake_chats import FakeChat
from ui.errors import NotAllowed, NotFound
from ui.views import (
    AccountView,
    ChatUpdated,
    ContactRow,
    DeviceRow,
    GroupDetails,
    InviteAdded,
    InviteRow,
    MemberRow,
    MembersChanged,
    MessageAdded,
    MessageRow,
    MessageStatus,
    MessageUpdated,
    Reaction,
    RelayStatus,
    RelayStatusChanged,
    ReplyQuote,
    Theme,
    UiEvent,
)


def fake_pubkey(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def fake_npub(pubkey: str) -> str:
    return "npub1" + pubkey[:58]


@dataclass
class FakeAccount:
    pubkey: str
    name: str
    passphrase: str
    about: str = ""
    avatar: bytes | None = None
    unlocked: bool = False
    chats: dict[str, FakeChat] = field(default_factory=dict)
    contacts: dict[str, ContactRow] = field(default_factory=dict)
    invites: dict[str, tuple[InviteRow, FakeChat]] = field(default_factory=dict)
    devices: dict[str, DeviceRow] = field(default_factory=dict)
    relays: dict[str, RelayStatus] = field(default_factory=dict)

    def view(self) -> AccountView:
        return AccountView(
            self.pubkey, fake_npub(self.pubkey), self.name, self.unlocked, self.avatar
        )


class FakeCore:
    def __init__(self, *, latency: float = 0.0, now: Callable[[], float] = time.time) -> None:
        self.latency = latency
        self.now = now
        self.accounts: dict[str, FakeAccount] = {}
        self.active: FakeAccount | None = None
        self.theme_value = Theme.LIGHT
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.fetched_rows = 0
        self.fail_sends = False
        self.auto_deliver = True
        # The Marmot versions each person's key packages speak (Marmot v1 when not said).
        self.speaks: dict[str, tuple[str, ...]] = {}
        self._listeners: list[Callable[[UiEvent], None]] = []
        self._counter = 0

    # --- test levers -------------------------------------------------------------------------

    def add_account(
        self, name: str, passphrase: str, *, unlocked: bool = False, pubkey: str = ""
    ) -> FakeAccount:
        account = FakeAccount(pubkey or fake_pubkey(name), name, passphrase, unlocked=unlocked)
        account.devices["this"] = DeviceRow("this", "This computer", True, 1, 0, None)
        account.relays["ws://127.0.0.1:7777"] = RelayStatus.CONNECTED
        self.accounts[account.pubkey] = account
        if unlocked:
            self.active = account
        return account

    def emit(self, event: UiEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    @property
    def me(self) -> FakeAccount:
        if self.active is None:
            raise NotFound("No account is unlocked.")
        return self.active

    def add_fake_contact(self, name: str, *, blocked: bool = False) -> ContactRow:
        pubkey = fake_pubkey(name)
        row = ContactRow(pubkey, fake_npub(pubkey), name, f"Hi, I'm {name}.", blocked)
        self.me.contacts[pubkey] = row
        return row

    def make_chat(
        self, title: str, members: Sequence[str], *, is_dm: bool = False, admin: bool = True
    ) -> FakeChat:
        """A chat with us and ``members`` (contact names), created without events."""
        me = self.me
        chat = FakeChat(self._new_id("chat"), title, is_dm=is_dm)
        chat.members[me.pubkey] = MemberRow(me.pubkey, me.name, admin, 1, True)
        for name in members:
            contact = self._contact_by_name(name)
            chat.members[contact.pubkey] = MemberRow(contact.pubkey, contact.name, not admin)
        if is_dm:
            chat.avatar_seed = fake_pubkey(members[0])
        me.chats[chat.id] = chat
        return chat

    def receive(
        self,
        chat_id: str,
        author_name: str,
        text: str,
        *,
        at: int | None = None,
        reply_to: str | None = None,
        silent: bool = False,
    ) -> MessageRow:
        """Another member's message arrives (``silent``: no events, for seeding)."""
        chat = self.me.chats[chat_id]
        author = fake_pubkey(author_name)
        row = self._message(chat, author, author_name, text, at=at, reply_to=reply_to, own=False)
        chat.unread += 1
        if not silent:
            self.emit(MessageAdded(row))
            self.emit(ChatUpdated(chat.row()))
        return row

    def seed_own(self, chat_id: str, text: str, at: int, reply_to: str | None = None) -> MessageRow:
        """One of our messages, already sent, without events (for seeding)."""
        me = self.me
        chat = me.chats[chat_id]
        return self._message(chat, me.pubkey, me.name, text, at=at, reply_to=reply_to, own=True)

    def seed_change(self, chat_id: str, text: str, at: int, *, silent: bool = True) -> MessageRow:
        """A line of the group's own history ("Bob added Carol"), as the bridge words it."""
        chat = self.me.chats[chat_id]
        row = MessageRow(self._new_id("change"), chat.id, self.me.pubkey, "", False, "", at,
                         system=text)  # fmt: skip
        chat.append(row)
        if not silent:
            self.emit(MessageAdded(row))
        return row

    def seed_deleted(self, chat_id: str, message_id: str) -> None:
        chat = self.me.chats[chat_id]
        row = chat.find(message_id)
        assert row is not None
        chat.store(replace(row, deleted=True, text=""))

    def peer_react(
        self, chat_id: str, message_id: str, name: str, emoji: str, *, silent: bool = False
    ) -> None:
        chat = self.me.chats[chat_id]
        chat.reactions.setdefault(message_id, {}).setdefault(emoji, set()).add(fake_pubkey(name))
        row = self._refresh(chat, message_id)
        if not silent:
            self.emit(MessageUpdated(row))

    def invite_from(self, inviter: str, group_name: str, others: Sequence[str] = ()) -> InviteRow:
        me = self.me
        chat = FakeChat(self._new_id("chat"), group_name)
        inviter_key = fake_pubkey(inviter)
        chat.members[inviter_key] = MemberRow(inviter_key, inviter, True)
        for name in others:
            chat.members[fake_pubkey(name)] = MemberRow(fake_pubkey(name), name, False)
        chat.members[me.pubkey] = MemberRow(me.pubkey, me.name, False, 1, True)
        invite = InviteRow(
            self._new_id("invite"),
            group_name,
            inviter_key,
            inviter,
            len(chat.members),
            int(self.now()),
            inviter_npub=fake_npub(inviter_key),
        )
        me.invites[invite.id] = (invite, chat)
        self.emit(InviteAdded(invite))
        return invite

    def set_relay_status(self, url: str, status: RelayStatus) -> None:
        self.me.relays[url] = status
        self.emit(RelayStatusChanged(url, status))

    def calls_to(self, name: str) -> list[tuple[object, ...]]:
        return [args for n, args in self.calls if n == name]

    # --- internals -----------------------------------------------------------------------

    async def _enter(self, name: str, *args: object) -> None:
        self.calls.append((name, args))
        await asyncio.sleep(self.latency)

    def _new_id(self, kind: str) -> str:
        self._counter += 1
        return hashlib.sha256(f"{kind}/{self._counter}".encode()).hexdigest()

    def _contact_by_name(self, name: str) -> ContactRow:
        for row in self.me.contacts.values():
            if row.name == name:
                return row
        return self.add_fake_contact(name)

    def _chat(self, chat_id: str) -> FakeChat:
        chat = self.me.chats.get(chat_id)
        if chat is None:
            raise NotFound("That chat no longer exists.")
        return chat

    def _message(
        self,
        chat: FakeChat,
        author: str,
        author_name: str,
        text: str,
        *,
        at: int | None,
        reply_to: str | None,
        own: bool,
        status: MessageStatus = MessageStatus.SENT,
    ) -> MessageRow:
        quote = None
        if reply_to is not None:
            target = chat.find(reply_to)
            if target is not None:
                who = "You" if target.own else target.author_name  # as the bridge says it
                quote = ReplyQuote(reply_to, who, target.text)
        row = MessageRow(
            self._new_id("msg"),
            chat.id,
            author,
            author_name,
            own,
            text,
            int(self.now()) if at is None else at,
            quote,
            status=status,
        )
        chat.append(row)
        return row

    def _refresh(self, chat: FakeChat, message_id: str) -> MessageRow:
        """Rebuild a message's reactions from the reaction sets and store the result."""
        row = chat.find(message_id)
        if row is None:
            raise NotFound("That message no longer exists.")
        me = self.me.pubkey
        reactions = tuple(
            Reaction(emoji, len(who), me in who)
            for emoji, who in chat.reactions.get(message_id, {}).items()
            if who
        )
        row = replace(row, reactions=reactions)
        chat.store(row)
        return row

    def _details(self, chat: FakeChat) -> GroupDetails:
        return GroupDetails(
            chat.id,
            chat.title,
            chat.description,
            tuple(chat.members.values()),
            chat.is_dm,
            chat.epoch,
            tuple(self.me.relays),
            chat.disappearing_secs,
            chat.protocol,
        )

    def _require_admin(self, chat: FakeChat) -> None:
        if not chat.members[self.me.pubkey].admin:
            raise NotAllowed("Only admins can change the group.")

    def _membership_changed(self, chat: FakeChat) -> GroupDetails:
        chat.epoch += 1
        details = self._details(chat)
        self.emit(MembersChanged(details))
        self.emit(ChatUpdated(chat.row()))
        return details

    # --- Backend: events and settings -------------------------------------------------------

    def subscribe(self, listener: Callable[[UiEvent], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def theme(self) -> Theme:
        await self._enter("theme")
        return self.theme_value

    async def set_theme(self, theme: Theme) -> None:
        await self._enter("set_theme", theme)
        self.theme_value = theme
