"""Desktop notifications for new messages and invites, via the system tray when there is one.

Nothing is announced for our own messages, muted chats, the chat on screen in the active
window, or while catching up after start (a backlog is not news).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from ui.format import one_line
from ui.session import Session
from ui.theme import ASSETS
from ui.views import InviteRow, MessageRow


class Notifier(QObject):
    chatWanted = Signal(str)
    invitesWanted = Signal()
    showWanted = Signal()
    quitWanted = Signal()

    def __init__(
        self, session: Session, showing: Callable[[str], bool], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self._showing = showing
        self._syncing = False
        self._target = ""
        self.last: tuple[str, str] | None = None  # (title, body) of the latest notification
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self._make_tray(parent)
        session.messageAdded.connect(self.on_message)
        session.inviteAdded.connect(self.on_invite)
        session.syncProgressed.connect(self._sync)

    def _make_tray(self, parent: QWidget | None) -> None:
        tray = QSystemTrayIcon(QIcon(str(ASSETS / "icons" / "burrow.svg")), parent)
        tray.setToolTip("Burrow")
        menu = QMenu(parent)
        menu.addAction("Show Burrow", self.showWanted.emit)
        menu.addAction("Quit", self.quitWanted.emit)
        tray.setContextMenu(menu)
        tray.activated.connect(lambda _reason: self.showWanted.emit())
        tray.messageClicked.connect(self._clicked)
        tray.show()
        self.tray = tray

    def set_unread(self, count: int) -> None:
        if self.tray is not None:
            self.tray.setToolTip(f"Burrow: {count} unread" if count else "Burrow")

    def _sync(self, done: int, total: int) -> None:
        self._syncing = done < total

    def on_message(self, row: MessageRow) -> None:
        chat = self.session.chats.get(row.chat_id)
        if row.own or chat is None or chat.muted or self._syncing or self._showing(row.chat_id):
            return
        title = chat.title if chat.is_dm else f"{row.author_name} · {chat.title}"
        self.notify(title, one_line(row.text, 120), row.chat_id)

    def on_invite(self, row: InviteRow) -> None:
        self.notify("New invite", row.summary, "")

    def notify(self, title: str, body: str, chat_id: str) -> None:
        self.last = (title, body)
        self._target = chat_id
        if self.tray is not None:
            self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, 5000)

    def _clicked(self) -> None:
        self.showWanted.emit()
        if self._target:
            self.chatWanted.emit(self._target)
        else:
            self.invitesWanted.emit()
