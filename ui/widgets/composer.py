"""The message input: Enter sends, Shift+Enter breaks the line, grows up to six lines; a
pasted picture or copied file becomes an attachment; Up in an empty box asks to edit our
last message (as in Signal)."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QMimeData, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import QFontMetricsF, QImage, QKeyEvent, QTextCursor
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextEdit, QWidget

MAX_LINES = 6
MAX_PASTED_FILES = 10


def pasted_files(source: QMimeData) -> list[tuple[str, bytes]]:
    """What a paste or drop carries as files: local files (copied in a file manager), or a
    picture (a screenshot) as ``pasted.png``; empty for plain text."""
    found: list[tuple[str, bytes]] = []
    if source.hasUrls():
        for url in source.urls()[:MAX_PASTED_FILES]:
            path = Path(url.toLocalFile()) if url.isLocalFile() else None
            if path is not None and path.is_file():
                try:
                    found.append((path.name, path.read_bytes()))
                except OSError:
                    continue
    if not found and source.hasImage():
        image = source.imageData()
        if isinstance(image, QImage) and not image.isNull():
            buffer = QBuffer()
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            image.save(buffer, "PNG")  # type: ignore[call-overload]  # stubs say bytes; runtime wants str
            found.append(("pasted.png", bytes(buffer.data().data())))
    return found


class Composer(QTextEdit):
    """Plain text only. A QTextEdit rather than a QPlainTextEdit: its document is laid out
    eagerly, so the height in pixels is known after every edit and every change of width
    (wrapped lines), and the box always fits what was typed without a scroll bar."""

    sendRequested = Signal(str)
    escapePressed = Signal()
    editLastRequested = Signal()  # Up with nothing typed
    filesPasted = Signal(list)  # [(filename, bytes)]: a pasted picture or copied files

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
        # (Arrow keys carry the keypad flag on some platforms.)
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key == Qt.Key.Key_Up and plain and not self.toPlainText():
            self.editLastRequested.emit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        text = self.toPlainText().strip()
        if text:
            self.sendRequested.emit(text)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return bool(pasted_files(source)) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        files = pasted_files(source)
        if files:
            self.filesPasted.emit(files)
        else:
            self.insertPlainText(source.text())

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
