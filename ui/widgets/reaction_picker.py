"""The quick-reaction popup: one row of emoji buttons, and "+" for every other emoji."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QToolButton, QWidget

QUICK_REACTIONS = ("👍", "❤️", "😂", "😮", "😢", "🙏")


class ReactionPicker(QFrame):
    picked = Signal(str)
    moreWanted = Signal()  # the full emoji picker instead

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
        self.more = QToolButton()
        self.more.setText("+")
        self.more.setToolTip("More emoji")
        self.more.setAccessibleName("More emoji")
        self.more.setAutoRaise(True)
        self.more.clicked.connect(self._more)
        row.addWidget(self.more)

    def _more(self) -> None:
        self.moreWanted.emit()
        self.close()

    def _pick(self, emoji: str) -> None:
        self.picked.emit(emoji)
        self.close()

    def show_at(self, pos: QPoint) -> None:
        self.adjustSize()
        self.move(pos - QPoint(self.width() // 2, self.height() + 8))
        self.show()
