"""The active account as the widgets see it: shared models kept current by backend events.

One ``Session`` lives as long as the window. It subscribes to the backend once, keeps the
chat, invite and relay models up to date, and re-emits per-chat events as Qt signals for the
open chat view, the notifier and the group details dialog.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject, Signal

from ui.backend import Backend
from ui.models.chats import ChatListModel
from ui.models.people import InviteListModel, RelayListModel
from ui.views import (
    AccountView,
    ChatRemoved,
    ChatUpdated,
    ContactUpdated,
    ErrorShown,
    InviteAdded,
    InviteRemoved,
    InviteRow,
    MembersChanged,
    MessageAdded,
    MessagesRemoved,
    MessageUpdated,
    RelayRow,
    RelayStatusChanged,
    SignerStatus,
    SyncProgress,
    TransferProgress,
    UiEvent,
    UploadChanged,
)


class Session(QObject):
    accountChanged = Signal(object)  # AccountView
    messageAdded = Signal(object)  # MessageRow
    messageUpdated = Signal(object)  # MessageRow
    chatRemoved = Signal(str)
    messagesRemoved = Signal(str, object)  # chat id, tuple of message ids
    membersChanged = Signal(object)  # GroupDetails
    contactUpdated = Signal(object)  # ContactRow
    inviteAdded = Signal(object)  # InviteRow
    syncProgressed = Signal(int, int)  # done, total
    errorRaised = Signal(str)
    unreadChanged = Signal(int)
    relaysChanged = Signal(int, int)  # connected, total
    uploadChanged = Signal(object)  # UploadRow
    transferProgressed = Signal(str, int, int)  # transfer, done, total
    signerChanged = Signal(object)  # SignerStatus (only for a remote signer's account)

    def __init__(self, backend: Backend, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.account: AccountView | None = None
        self.chats = ChatListModel(self)
        self.invites = InviteListModel(self)
        self.relays = RelayListModel(self)
        self._unread = 0
        self._held: list[UiEvent] | None = None  # events arriving while lists load
        for model, signal in ((self.chats, self._count_unread), (self.relays, self._count_relays)):
            model.rowsInserted.connect(signal)
            model.rowsRemoved.connect(signal)
            model.dataChanged.connect(signal)
            model.modelReset.connect(signal)
        self._unsubscribe = backend.subscribe(self._on_event)

    async def activate(self, account: AccountView) -> None:
        """Load the lists of a freshly unlocked (or switched-to) account.

        Events that arrive while the lists load are newer than what the lists may say (a
        relay connecting meanwhile): they are held and applied after the lists.
        """
        self._held = []
        try:
            chats, invites, relays = await asyncio.gather(
                self.backend.list_chats(), self.backend.list_invites(), self.backend.list_relays()
            )
        finally:
            held, self._held = self._held, None
        if self.account is not None and self.account.pubkey != account.pubkey:
            for model in (self.chats, self.invites, self.relays):
                model.clear()
        self.account = account
        self.chats.set_rows(chats)
        self.invites.set_rows(invites)
        self.relays.set_rows(relays)
        for event in held:
            self._on_event(event)
        self.accountChanged.emit(account)

    def deactivate(self) -> None:
        self.account = None
        for model in (self.chats, self.invites, self.relays):
            model.clear()

    def close(self) -> None:
        self._unsubscribe()

    @property
    def unread(self) -> int:
        return self._unread

    def _count_unread(self) -> None:
        total = self.chats.total_unread()
        if total != self._unread:
            self._unread = total
            self.unreadChanged.emit(total)

    def _invite_added(self, row: InviteRow) -> None:
        known = self.invites.get(row.id) is not None
        self.invites.upsert(row)
        if not known:  # a renamed group's invite is news only the first time
            self.inviteAdded.emit(row)

    def _count_relays(self) -> None:
        self.relaysChanged.emit(self.relays.connected_count(), self.relays.rowCount())

    def _on_media(self, event: UploadChanged | TransferProgress) -> None:
        if isinstance(event, UploadChanged):
            self.uploadChanged.emit(event.row)
        else:
            self.transferProgressed.emit(event.transfer, event.done, event.total)

    def _on_message_event(self, event: MessageAdded | MessageUpdated | MessagesRemoved) -> None:
        match event:
            case MessageAdded(row=row):
                self.messageAdded.emit(row)
            case MessageUpdated(row=row):
                self.messageUpdated.emit(row)
            case MessagesRemoved(chat_id=chat_id, message_ids=ids):
                self.messagesRemoved.emit(chat_id, ids)

    def _on_event(self, event: UiEvent) -> None:
        if self._held is not None:
            self._held.append(event)
            return
        if isinstance(event, MessageAdded | MessageUpdated | MessagesRemoved):
            self._on_message_event(event)
            return
        if isinstance(event, UploadChanged | TransferProgress):
            self._on_media(event)
            return
        if isinstance(event, SignerStatus | ErrorShown):
            self._on_notice(event)
            return
        match event:
            case ChatUpdated(row=row):
                self.chats.upsert(row)
            case ChatRemoved(chat_id=chat_id):
                self.chats.remove(chat_id)
                self.chatRemoved.emit(chat_id)
            case MembersChanged(details=details):
                self.membersChanged.emit(details)
            case InviteAdded(row=row):
                self._invite_added(row)
            case InviteRemoved(invite_id=invite_id):
                self.invites.remove(invite_id)
            case ContactUpdated(row=row):
                self.contactUpdated.emit(row)
            case RelayStatusChanged(url=url, status=status):
                self.relays.upsert(RelayRow(url, status))
            case SyncProgress(done=done, total=total):
                self.syncProgressed.emit(done, total)

    def _on_notice(self, event: SignerStatus | ErrorShown) -> None:
        if isinstance(event, SignerStatus):
            self.signerChanged.emit(event)
        else:
            self.errorRaised.emit(event.message)
