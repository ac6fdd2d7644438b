"""Pending invites: who invited us to which group; accept to join, or decline."""

from __future__ import annotations

from collections.abc import Awaitable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QWidget

from ui.dialogs.base import Dialog
from ui.errors import BackendError
from ui.models.roles import ItemRole
from ui.session import Session
from ui.tasks import async_slot
from ui.views import ChatRow, InviteRow
from ui.widgets.common import item_list, label


class InvitesDialog(Dialog):
    chatCreated = Signal(object)  # ChatRow of an accepted invite

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, "Invites", parent)
        self.setObjectName("InvitesDialog")
        self.view = item_list("InviteList", session.invites)
        self.view.setMinimumHeight(220)
        self.detail = label("", "muted", wrap=True)
        # Who invites us, by key: a name is whatever someone chose; the npub is checkable
        # (whole, selectable, in a field: a label would cut or wrap it mid-key).
        self.inviter_label = label("", "muted")
        self.inviter_key = QLineEdit()
        self.inviter_key.setReadOnly(True)
        self.inviter_key.setObjectName("InviterKey")
        self.empty = label("No pending invites. When someone adds you to a group, it shows here.",
                           "muted", wrap=True)  # fmt: skip
        self.column.addWidget(self.view, 1)
        self.column.addWidget(self.detail)
        self.column.addWidget(self.inviter_label)
        self.column.addWidget(self.inviter_key)
        self.column.addWidget(self.empty)
        self.add_close()
        self.decline = self.add_button("Decline")
        self.accept_button = self.add_button("Join group", "primary")
        self.finish_layout()
        self.view.selectionModel().currentChanged.connect(self._show_selected)
        session.invites.rowsInserted.connect(self._show_selected)
        session.invites.rowsRemoved.connect(self._show_selected)
        self.decline.clicked.connect(self.decline_selected)
        self.accept_button.clicked.connect(self.accept_selected)
        if session.invites.rowCount():
            self.view.setCurrentIndex(session.invites.index(0))
        self._show_selected()

    def selected(self) -> InviteRow | None:
        row = self.view.currentIndex().data(ItemRole.ROW)
        return row if isinstance(row, InviteRow) else None

    def _show_selected(self) -> None:
        invite = self.selected()
        has_any = self.session.invites.rowCount() > 0
        self.empty.setVisible(not has_any)
        self.view.setVisible(has_any)
        for widget in (self.decline, self.accept_button):
            widget.setEnabled(invite is not None and not self.is_working)
        keyed = invite is not None and bool(invite.inviter_npub)
        self.inviter_label.setVisible(keyed)
        self.inviter_key.setVisible(keyed)
        if invite is None:
            self.detail.setText("")
            return
        self.inviter_label.setText(f"{invite.inviter_name}'s key")
        self.inviter_key.setText(invite.inviter_npub)
        self.inviter_key.setCursorPosition(0)
        self.accept_button.setText("Start chatting" if invite.is_dm else "Join group")
        about = f"“{invite.description}”\n" if invite.description else ""
        self.detail.setText(f"{about}{invite.summary}.")

    async def _answer(self, call: Awaitable[object], note: str) -> object | None:
        """One answer at a time: joining takes a moment (the group's state is fetched and
        our key package replaced), and a second click must not answer twice."""
        try:
            with self.working(note, self.decline, self.accept_button):
                return await call
        except BackendError as error:
            self.error.show_error(error.message)
            return None
        finally:
            self._show_selected()

    @async_slot()
    async def accept_selected(self) -> None:
        invite = self.selected()
        if invite is not None and not self.is_working:
            note = "Starting the chat…" if invite.is_dm else f"Joining {invite.group_name}…"
            chat = await self._answer(self.backend.accept_invite(invite.id), note)
            if isinstance(chat, ChatRow):
                self.chatCreated.emit(chat)
                self.accept()

    @async_slot()
    async def decline_selected(self) -> None:
        invite = self.selected()
        if invite is not None and not self.is_working:
            await self._answer(self.backend.decline_invite(invite.id), "Declining…")
