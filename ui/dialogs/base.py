"""The common frame of every dialog: a title, a body column, and a row of buttons.

Dialogs are opened with ``open()`` (window-modal but not blocking), so the event loop and
with it every backend call keep running while they show.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ui.session import Session
from ui.widgets.common import ErrorLabel, button, label


class Dialog(QDialog):
    def __init__(self, session: Session, title: str, parent: QWidget | None, width: int = 440):
        super().__init__(parent)
        self.session = session
        self.backend = session.backend
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(width)
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(24, 20, 24, 20)
        self.column.setSpacing(10)
        self.heading = label(title, "title")
        self.column.addWidget(self.heading)
        self.error = ErrorLabel()
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(8)
        self.buttons.addStretch(1)

    def finish_layout(self) -> None:
        """Append the error line and the button row after the subclass's widgets."""
        self.column.addWidget(self.error)
        self.column.addLayout(self.buttons)

    def add_button(self, text: str, kind: str = "", icon_name: str = "") -> QPushButton:
        widget = button(text, kind, icon_name)
        self.buttons.addWidget(widget)
        return widget

    def add_close(self, text: str = "Close") -> QPushButton:
        widget = self.add_button(text)
        widget.clicked.connect(self.reject)
        return widget
