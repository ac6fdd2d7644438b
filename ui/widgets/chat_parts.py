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


class ReplyBar(QFrame):
    """Shown above the composer while a reply is being written."""

    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReplyBar")
        self.who = ElidedLabel("section")
        self.quote = ElidedLabel("muted")
        close = icon_button("close", "Cancel reply")
        close.clicked.connect(self.cancelled)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.who)
        text.addWidget(self.quote)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 8, 8, 8)
        row.addLayout(text, 1)
        row.addWidget(close)
        self.hide()

    def show_reply(self, row: MessageRow) -> None:
        self.who.setText(f"Replying to {'yourself' if row.own else row.author_name}")
        self.quote.setText(row.text)
        self.show()
