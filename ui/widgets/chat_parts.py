"""Pieces of the chat view: the header with the chat's name, and the "replying to" bar."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from ui.avatar import AvatarLabel
from ui.format import plural, timer_text
from ui.views import ChatRow, MessageRow
from ui.widgets.common import ElidedLabel, icon_button, label


class ChatHeader(QFrame):
    detailsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ChatHeader")
        self.avatar = AvatarLabel(36)
        self.title = ElidedLabel("title")
        self.title.setObjectName("ChatTitle")
        self.subtitle = label("", "muted")
        self.details = icon_button("info", "Chat details")
        self.details.clicked.connect(self.detailsRequested)
        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(self.title)
        names.addWidget(self.subtitle)
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 10, 12, 10)
        row.setSpacing(12)
        row.addWidget(self.avatar)
        row.addLayout(names, 1)
        row.addWidget(self.details)

    def show_chat(self, chat: ChatRow) -> None:
        self.avatar.set_avatar(chat.title, chat.avatar_seed or chat.id, chat.avatar)
        self.title.setText(chat.title)
        if chat.is_dm and chat.waiting:
            text = "Invitation sent · they have not accepted yet"
        elif chat.is_dm:
            text = "Direct message · end-to-end encrypted"
        else:
            text = f"{plural(chat.member_count, 'member')} · end-to-end encrypted"
        if chat.disappearing_secs:
            text += f" · messages disappear after {timer_text(chat.disappearing_secs)}"
        self.subtitle.setText(text)


class ComposerBar(QFrame):
    """A bar above the composer naming what is being written (a reply, an edit), with a
    close button that cancels it."""

    cancelled = Signal()

    def __init__(self, name: str, close_tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.title = ElidedLabel("section")
        self.quote = ElidedLabel("muted")
        self.close_button = icon_button("close", close_tip)
        self.close_button.clicked.connect(self.cancelled)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.quote)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 8, 8, 8)
        row.addLayout(text, 1)
        row.addWidget(self.close_button)
        self.hide()


class ReplyBar(ComposerBar):
    """Shown above the composer while a reply is being written."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("ReplyBar", "Cancel reply", parent)

    def show_reply(self, row: MessageRow) -> None:
        self.title.setText(f"Replying to {'yourself' if row.own else row.author_name}")
        self.quote.setText(row.text)
        self.show()
