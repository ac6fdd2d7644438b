"""What the right side shows before a chat is opened."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ui.pages.card import app_logo
from ui.widgets.common import button, label


class EmptyState(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EmptyState")
        self.new_chat = button("New chat", "", "compose")
        self.new_group = button("New group", "", "group")
        title = label("Burrow", "title")
        text = label("Pick a chat on the left, or start a new one.", "muted")
        hint = label("Ctrl+K search · Ctrl+N new chat · Alt+↑/↓ switch chats", "muted")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.new_chat)
        buttons.addWidget(self.new_group)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addStretch(1)
        for widget in (app_logo(96), title, text):
            column.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addSpacing(12)
        column.addLayout(buttons)
        column.addSpacing(24)
        column.addWidget(hint, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addStretch(2)
