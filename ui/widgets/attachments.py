"""Attachments in the open chat: previews fetched as rows appear, the strip of files on
their way (progress and cancel), and the full-size image viewer with Save as.

Decrypted bytes stay in memory (the backend caches them encrypted); the only copy written
to disk is the one the person saves, where they choose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from ui.backend import Backend
from ui.errors import BackendError
from ui.format import file_size
from ui.tasks import spawn
from ui.views import AttachmentData, MessageRow, UploadRow
from ui.widgets.common import button, icon_button, label

PREVIEW_EDGE = 640
"""Previews are decoded no larger than this on their longer side (memory per image)."""


def image_of(data: bytes, edge: int | None = None) -> QImage | None:
    image = QImage()
    if not image.loadFromData(data):
        return None
    if edge is not None and max(image.width(), image.height()) > edge:
        image = image.scaled(
            edge,
            edge,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return image


class Thumbnails(QObject):
    """Image previews by file hash, fetched (once) when a row with images appears."""

    loaded = Signal(str)  # file hash

    def __init__(self, backend: Backend, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._backend = backend
        self._pixmaps: dict[str, QPixmap] = {}
        self._sizes: dict[str, int] = {}
        self._asked: set[str] = set()

    def get(self, file_hash: str) -> QPixmap | None:
        return self._pixmaps.get(file_hash)

    def size_of(self, file_hash: str) -> int | None:
        return self._sizes.get(file_hash)

    def remember(self, file_hash: str, data: AttachmentData) -> None:
        self._sizes[file_hash] = len(data.data)
        is_image = data.mime_type.startswith("image/")
        image = image_of(data.thumbnail or data.data, PREVIEW_EDGE) if is_image else None
        if image is not None:
            self._pixmaps[file_hash] = QPixmap.fromImage(image)
        self.loaded.emit(file_hash)

    def want(self, row: MessageRow) -> None:
        for view in row.attachments:
            if view.is_image and view.file_hash not in self._asked:
                self._asked.add(view.file_hash)
                spawn(self._fetch(row.chat_id, row.id, view.index, view.file_hash))

    async def _fetch(self, chat_id: str, message_id: str, index: int, file_hash: str) -> None:
        try:
            data = await self._backend.attachment(chat_id, message_id, index)
        except BackendError:
            return  # the placeholder stays; a click tries again and says why it failed
        self.remember(file_hash, data)


class UploadsBar(QWidget):
    """One line per file on its way into the open chat: name, progress, Cancel."""

    cancelRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("UploadsBar")
        self._column = QVBoxLayout(self)
        self._column.setContentsMargins(16, 4, 16, 0)
        self._lines: dict[int, tuple[UploadRow, QWidget, QLabel, QProgressBar]] = {}
        self._chat: str | None = None
        self.hide()

    def show_chat(self, chat_id: str | None, rows: Sequence[UploadRow] = ()) -> None:
        self._chat = chat_id
        for upload_id in list(self._lines):
            self._drop(upload_id)
        for row in rows:
            self.changed(row)

    def changed(self, row: UploadRow) -> None:
        if row.chat_id != self._chat:
            return
        if row.state in ("sent", "cancelled"):
            self._drop(row.id)
            return
        line = self._lines.get(row.id)
        if line is None:
            line = self._add(row)
        _, widget, text, _bar = line
        self._lines[row.id] = (row, widget, text, line[3])
        text.setText(_describe(row))
        self.setVisible(bool(self._lines))

    def progress(self, transfer: str, done: int, total: int) -> None:
        kind, _, ident = transfer.partition(":")
        if kind != "upload" or not ident.isdigit() or int(ident) not in self._lines:
            return
        bar = self._lines[int(ident)][3]
        bar.setMaximum(max(total, 1))
        bar.setValue(min(done, total))

    def line(self, upload_id: int) -> tuple[QLabel, QProgressBar] | None:
        """A line's text and bar (tests)."""
        found = self._lines.get(upload_id)
        return None if found is None else (found[2], found[3])

    def _add(self, row: UploadRow) -> tuple[UploadRow, QWidget, QLabel, QProgressBar]:
        widget = QWidget()
        layout = QHBoxLayout(widget)
        layout.setContentsMargins(0, 0, 0, 0)
        text = label(_describe(row), "muted")
        bar = QProgressBar()
        bar.setTextVisible(False)
        bar.setFixedHeight(6)
        bar.setMaximum(max(row.size, 1))
        bar.setValue(0)
        cancel = icon_button("close", f"Cancel sending {row.filename}")
        cancel.setIconSize(QSize(14, 14))
        cancel.clicked.connect(lambda: self.cancelRequested.emit(row.id))
        layout.addWidget(text)
        layout.addWidget(bar, 1)
        layout.addWidget(cancel)
        self._column.addWidget(widget)
        line = (row, widget, text, bar)
        self._lines[row.id] = line
        return line

    def _drop(self, upload_id: int) -> None:
        line = self._lines.pop(upload_id, None)
        if line is not None:
            line[1].deleteLater()
        self.setVisible(bool(self._lines))


def _describe(row: UploadRow) -> str:
    if row.state == "failed":
        return f"Could not send {row.filename}: {row.error or 'no server took it'}"
    waiting = f" (retrying: {row.error})" if row.error else ""
    return f"Sending {row.filename} · {file_size(row.size)}{waiting}"


def save_file(data: AttachmentData, path: str | Path) -> Path:
    """Write a decrypted file where the person chose (the only plaintext copy on disk)."""
    target = Path(path)
    target.write_bytes(data.data)
    return target


class ImageViewer(QDialog):
    """An image at full size (scaled down to fit the screen), with Save as."""

    def __init__(
        self,
        data: AttachmentData,
        parent: QWidget | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ImageViewer")
        self.setWindowTitle(data.filename)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.data = data
        self._on_error = on_error
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        image = image_of(data.data)
        if image is not None:
            screen = QGuiApplication.primaryScreen()
            room = screen.availableGeometry().size() * 0.85 if screen else QSize(1000, 700)
            pixmap = QPixmap.fromImage(image)
            if pixmap.width() > room.width() or pixmap.height() > room.height():
                pixmap = pixmap.scaled(
                    room,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            self.picture.setPixmap(pixmap)
        else:
            self.picture.setText("This picture cannot be shown.")
        self.save_button = button("Save as…", "", "file")
        self.save_button.clicked.connect(self.choose_and_save)
        close = button("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        column = QVBoxLayout(self)
        column.addWidget(self.picture, 1)
        column.addLayout(buttons)

    def choose_and_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save picture", self.data.filename)
        if path:
            self.save_to(path)

    def save_to(self, path: str | Path) -> Path | None:
        try:
            return save_file(self.data, path)
        except OSError as exc:
            if self._on_error is not None:
                self._on_error(f"Could not save {Path(path).name}: {exc.strerror or exc}.")
            return None
