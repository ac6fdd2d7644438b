"""Attachments of the open chat: attach (the button's file chooser, drag and drop, paste),
the uploads strip with progress and cancel, previews fetched as rows appear, and clicks on
them: an image opens full size (with Save as), a file card asks where to save the file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from ui.errors import BackendError
from ui.models.roles import MessageRole
from ui.tasks import spawn
from ui.views import AttachmentData, MessageRow
from ui.widgets.attachments import ImageViewer, Thumbnails, UploadsBar, save_file
from ui.widgets.common import icon_button
from ui.widgets.composer import pasted_files

if TYPE_CHECKING:
    from PySide6.QtCore import QMimeData

    from ui.widgets.chat_view import ChatView

MAX_FILES = 10


class ChatMedia(QObject):
    def __init__(self, view: ChatView) -> None:
        super().__init__(view)
        self.view = view
        self.backend = view.backend
        self.thumbs = Thumbnails(self.backend, self)
        self.uploads = UploadsBar()
        self.attach_button = icon_button("attach", "Attach a file")
        self.attach_button.setObjectName("AttachButton")
        self.viewer: ImageViewer | None = None
        bubbles = view.list.bubbles
        bubbles.images = self.thumbs.get
        bubbles.file_sizes = self.thumbs.size_of
        self.thumbs.loaded.connect(lambda _hash: view.list.viewport().update())
        bubbles.attachmentClicked.connect(self.open_attachment)
        view.session.uploadChanged.connect(self.uploads.changed)
        view.session.transferProgressed.connect(self.uploads.progress)
        self.uploads.cancelRequested.connect(self.cancel)
        self.uploads.downloadCancelRequested.connect(self.cancel_download)
        self.attach_button.clicked.connect(self.choose_files)
        view.composer.filesPasted.connect(self.send_files)
        view.model.rowsInserted.connect(self._rows_inserted)
        view.model.modelReset.connect(self._all_rows)
        view.list.activated.connect(self._activated)

    # --- sending ---

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.view, "Attach files")
        files = []
        for path in paths[:MAX_FILES]:
            try:
                files.append((Path(path).name, Path(path).read_bytes()))
            except OSError as exc:
                self.view.session.errorRaised.emit(f"Could not read {path}: {exc.strerror}.")
        self.send_files(files)

    def accepts(self, mime: QMimeData) -> bool:
        """Whether a drag carries files (or a picture) the chat can take."""
        chat = self.view.chat
        return chat is not None and chat.active and (mime.hasUrls() or mime.hasImage())

    def drop(self, mime: QMimeData) -> bool:
        files = pasted_files(mime)
        self.send_files(files)
        return bool(files)

    def send_files(self, files: Sequence[tuple[str, bytes]]) -> None:
        chat = self.view.chat
        if chat is None or not chat.active:
            return
        caption = self.view.composer.text.strip()
        if caption and files:
            self.view.composer.clear()  # the typed text goes with the (first) file
        if files:
            spawn(self._send(chat.id, list(files), caption), self.view.session.errorRaised.emit)

    async def _send(self, chat_id: str, files: list[tuple[str, bytes]], caption: str) -> None:
        # One after another: the messages come out in the order the files were chosen.
        for i, (name, data) in enumerate(files):
            try:
                row = await self.backend.send_file(chat_id, name, data, caption if i == 0 else "")
            except BackendError:
                if i == 0 and caption and not self.view.composer.text:
                    self.view.composer.set_text(caption)  # give the typed text back
                raise
            self.uploads.changed(row)

    def cancel(self, upload_id: int) -> None:
        spawn(self.backend.cancel_upload(upload_id), self.view.session.errorRaised.emit)

    def cancel_download(self, file_hash: str) -> None:
        spawn(self.backend.cancel_download(file_hash), self.view.session.errorRaised.emit)

    async def show_chat(self, chat_id: str | None) -> None:
        self.uploads.show_chat(chat_id)
        if chat_id is not None:
            pending = await self.backend.uploads(chat_id)
            if self.view.chat is not None and self.view.chat.id == chat_id:
                self.uploads.show_chat(chat_id, pending)

    # --- previews and clicks ---

    def _rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        rows = self.view.model.rows
        for i in range(first, min(last + 1, len(rows))):
            self.thumbs.want(rows[i])

    def _all_rows(self) -> None:
        for row in self.view.model.rows:
            self.thumbs.want(row)

    def open_attachment(self, message_id: str, index: int) -> None:
        row = self.view.model.get(message_id)
        if row is None or index >= len(row.attachments):
            return
        if row.attachments[index].is_image:
            spawn(self.show_image(message_id, index), self.view.session.errorRaised.emit)
        else:
            self.save_as(message_id, index)

    def save_as(self, message_id: str, index: int) -> None:
        """Ask where, then save an attachment (a picture too: from the message's menu)."""
        row = self.view.model.get(message_id)
        if row is None or index >= len(row.attachments):
            return
        path = self.ask_save_path(self.view, row.attachments[index].filename)
        if path:
            spawn(self.save(message_id, index, path), self.view.session.errorRaised.emit)

    def _activated(self, index: QModelIndex) -> None:
        """Enter (or a double click) on a message with a file opens its first one."""
        row = index.data(MessageRole.ROW)
        if isinstance(row, MessageRow) and row.attachments and not row.deleted:
            self.open_attachment(row.id, 0)

    @staticmethod
    def ask_save_path(parent: QWidget, filename: str) -> str:
        path, _ = QFileDialog.getSaveFileName(parent, "Save file", filename)
        return path

    async def _data(self, message_id: str, index: int) -> AttachmentData | None:
        chat = self.view.chat
        row = self.view.model.get(message_id)
        if chat is None or row is None:
            return None
        view = row.attachments[index]
        self.uploads.downloading(view.file_hash, view.filename)
        try:
            data = await self.backend.attachment(chat.id, message_id, index)
        finally:
            self.uploads.downloaded(view.file_hash)
        self.thumbs.remember(view.file_hash, data)
        return data

    async def show_image(self, message_id: str, index: int) -> ImageViewer | None:
        data = await self._data(message_id, index)
        if data is None:
            return None
        self.viewer = ImageViewer(data, self.view.window(), self.view.session.errorRaised.emit)
        self.viewer.show()
        return self.viewer

    async def save(self, message_id: str, index: int, path: str | Path) -> Path | None:
        data = await self._data(message_id, index)
        if data is None:
            return None
        try:
            return save_file(data, path)
        except OSError as exc:
            self.view.session.errorRaised.emit(f"Could not save {Path(path).name}: {exc}.")
            return None
