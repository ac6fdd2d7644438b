"""The message input: Enter sends, Shift+Enter breaks the line, grows up to six lines."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, QSizeF, Qt, Signal
from PySide6.QtGui import QFontMetricsF, QKeyEvent, QTextCursor
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextEdit, QWidget

MAX_LINES = 6


class Composer(QTextEdit):
    """Plain text only. A QTextEdit rather than a QPlainTextEdit: its document is laid out
    eagerly, so the height in pixels is known after every edit and every change of width
    (wrapped lines), and the box always fits what was typed without a scroll bar."""

    sendRequested = Signal(str)
    escapePressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Composer")
        self.setAcceptRichText(False)
        self.setPlaceholderText("Message")
        self.setAccessibleName("Message")
        self.setTabChangesFocus(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().setDocumentMargin(4)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self._fit_height()

    @property
    def text(self) -> str:
        return self.toPlainText()

    def set_text(self, text: str) -> None:
        self.setPlainText(text)
        self.moveCursor(QTextCursor.MoveOperation.End)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            else:
                self.submit()
            return
        if key == Qt.Key.Key_Escape:
            self.escapePressed.emit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        text = self.toPlainText().strip()
        if text:
            self.sendRequested.emit(text)

    def _fit_height(self, _size: QSizeF | None = None) -> None:
        doc = self.document()
        margin = 2 * doc.documentMargin()
        line = QFontMetricsF(self.font()).height()
        tallest = MAX_LINES * line + margin
        content = max(doc.size().height(), line + margin)
        frame = self.contentsMargins()
        # A little air below the text; it also keeps a one-line box at least twice the
        # style sheet's corner radius, which Qt would otherwise draw square.
        height = math.ceil(min(content, tallest)) + frame.top() + frame.bottom() + 4
        if height != self.height():
            self.setFixedHeight(height)

    def sizeHint(self) -> QSize:
        return QSize(200, self.height())
