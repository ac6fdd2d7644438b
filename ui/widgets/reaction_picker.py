"""The quick-reaction popup: one row of emoji buttons."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QToolButton, QWidget

QUICK_REACTIONS = ("👍", "❤️", "😂", "😮", "😢", "🙏")


class ReactionPicker(QFrame):
    picked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("ReactionPicker")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        row.setSpacing(2)
        self.buttons: list[QToolButton] = []
        for emoji in QUICK_REACTIONS:
            button = QToolButton()
            button.setText(emoji)
            button.setAccessibleName(f"React with {emoji}")
            button.setAutoRaise(True)
            button.clicked.connect(lambda _=False, e=emoji: self._pick(e))
            row.addWidget(button)
            self.buttons.append(button)

    def _pick(self, emoji: str) -> None:
        self.picked.emit(emoji)
        self.close()

    def show_at(self, pos: QPoint) -> None:
        self.adjustSize()
        self.move(pos - QPoint(self.width() // 2, self.height() + 8))
        self.show()
