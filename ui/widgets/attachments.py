"""Attachments in the open chat: previews fetched as rows appear, the strip of files on
their way (progress and cancel), and the full-size image viewer with Save as.

Decrypted bytes stay in memory (the backend caches them encrypted); the only copy written
to disk is the one the person saves, where they choose.
"""

from __future__ import annotations

import asyncio
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

PREVIEWS_AT_ONCE = 3
"""Previews downloaded at the same time (a page of pictures does not open 50 transfers)."""
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
        self._slots: asyncio.Semaphore | None = None  # made on the loop, when first needed

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
        if self._slots is None:
            self._slots = asyncio.Semaphore(PREVIEWS_AT_ONCE)
        try:
            async with self._slots:
                data = await self._backend.attachment(chat_id, message_id, index)
        except BackendError:
            return  # the placeholder stays; a click tries again and says why it failed
        self.remember(file_hash, data)


class _Line:
    """One transfer shown in the strip."""

    def __init__(self, text: str, size: int, cancel_tip: str, on_cancel: Callable[[], None]):
        self.widget = QWidget()
        layout = QHBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = label(text, "muted")
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(6)
        self.bar.setMaximum(max(size, 1))
        self.bar.setValue(0)
        self.cancel = icon_button("close", cancel_tip)
        self.cancel.setIconSize(QSize(14, 14))
        self.cancel.clicked.connect(on_cancel)
        layout.addWidget(self.text)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel)


class UploadsBar(QWidget):
    """One line per file on its way into (or out of) the open chat: name, progress, Cancel.
    Lines are named by their transfer: ``upload:<id>`` or ``download:<file hash>``."""

    cancelRequested = Signal(int)  # upload id
    downloadCancelRequested = Signal(str)  # file hash

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("UploadsBar")
        self._column = QVBoxLayout(self)
        self._column.setContentsMargins(16, 4, 16, 0)
        self._lines: dict[str, _Line] = {}
        self._chat: str | None = None
        self.hide()

    def show_chat(self, chat_id: str | None, rows: Sequence[UploadRow] = ()) -> None:
        self._chat = chat_id
        for transfer in list(self._lines):
            self._drop(transfer)
        for row in rows:
            self.changed(row)

    def changed(self, row: UploadRow) -> None:
        if row.chat_id != self._chat:
            return
        key = f"upload:{row.id}"
        if row.state in ("sent", "cancelled"):
            self._drop(key)
            return
        line = self._lines.get(key)
        if line is None:
            line = self._add(
                key,
                _Line(
                    _describe(row),
                    row.size,
                    f"Cancel sending {row.filename}",
                    lambda: self.cancelRequested.emit(row.id),
                ),
            )
        line.text.setText(_describe(row))

    def downloading(self, file_hash: str, filename: str) -> None:
        key = f"download:{file_hash}"
        if key not in self._lines:
            self._add(
                key,
                _Line(
                    f"Receiving {filename}",
                    1,
                    f"Cancel receiving {filename}",
                    lambda: self.downloadCancelRequested.emit(file_hash),
                ),
            )

    def downloaded(self, file_hash: str) -> None:
        self._drop(f"download:{file_hash}")

    def progress(self, transfer: str, done: int, total: int) -> None:
        line = self._lines.get(transfer)
        if line is not None:
            line.bar.setMaximum(max(total, 1))
            line.bar.setValue(min(done, total))

    def line(self, transfer: str) -> tuple[QLabel, QProgressBar] | None:
        """A line's text and bar (tests)."""
        found = self._lines.get(transfer)
        return None if found is None else (found.text, found.bar)

    def _add(self, key: str, line: _Line) -> _Line:
        self._column.addWidget(line.widget)
        self._lines[key] = line
        self.setVisible(True)
        return line

    def _drop(self, key: str) -> None:
        line = self._lines.pop(key, None)
        if line is not None:
            line.widget.deleteLater()
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
