"""Attachments in the in-memory backend: uploads that become messages (at once, or when a
test says so with ``finish_upload``), progress and cancel, and downloads from memory."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from tests.gui.fake_core import FakeCore
from ui.errors import NotFound
from ui.views import (
    AttachmentData,
    AttachmentView,
    ChatUpdated,
    GroupDetails,
    MessageAdded,
    MessageRow,
    TransferProgress,
    UploadChanged,
    UploadRow,
)


class MediaOps(FakeCore):
    hold_uploads = False
    """Levers: True keeps uploads pending until `finish_upload`."""

    def _media_state(
        self,
    ) -> tuple[dict[int, tuple[UploadRow, bytes, str]], dict[str, AttachmentData]]:
        if not hasattr(self, "_uploads"):
            self._uploads: dict[int, tuple[UploadRow, bytes, str]] = {}
            self._files: dict[str, AttachmentData] = {}
        return self._uploads, self._files

    async def send_file(
        self, chat_id: str, filename: str, data: bytes, caption: str = ""
    ) -> UploadRow:
        await self._enter("send_file", chat_id, filename, len(data), caption)
        self._chat(chat_id)
        uploads, _ = self._media_state()
        row = UploadRow(len(uploads) + 1, chat_id, filename, len(data), "pending")
        uploads[row.id] = (row, data, caption)
        self.emit(UploadChanged(row))
        self.emit(TransferProgress(f"upload:{row.id}", len(data) // 3, len(data)))
        if not self.hold_uploads:
            self.finish_upload(row.id)
        return row

    def finish_upload(self, upload_id: int) -> MessageRow:
        """The upload reaches the server: its message appears."""
        uploads, _ = self._media_state()
        row, data, caption = uploads.pop(upload_id)
        self.emit(TransferProgress(f"upload:{row.id}", len(data), len(data)))
        message = self.receive_file(row.chat_id, row.filename, data, caption, own=True)
        self.emit(UploadChanged(replace(row, state="sent")))
        return message

    def receive_file(
        self,
        chat_id: str,
        filename: str,
        data: bytes,
        caption: str = "",
        *,
        own: bool = False,
        author: str = "Bob Marsh",
        size: tuple[int, int] | None = None,
        placeholder: bytes | None = None,
    ) -> MessageRow:
        """A message carrying a file, from us (``own``) or from ``author``."""
        _, files = self._media_state()
        chat = self._chat(chat_id)
        file_hash = hashlib.sha256(data).hexdigest()
        mime = "image/png" if data.startswith(b"\x89PNG") else "application/octet-stream"
        if data.startswith(b"\xff\xd8"):
            mime = "image/jpeg"
        files[file_hash] = AttachmentData(filename, mime, data)
        who = self.me.pubkey if own else self._contact_by_name(author).pubkey
        name = self.me.name if own else author
        row = self._message(chat, who, name, caption, at=None, reply_to=None, own=own)
        width, height = size or (None, None)
        view = AttachmentView(0, filename, mime, file_hash, width, height, placeholder)
        row = replace(row, attachments=(view,))
        chat.messages[chat.positions[row.id]] = row
        self.emit(MessageAdded(row))
        self.emit(ChatUpdated(chat.row()))
        return row

    async def set_group_picture(self, chat_id: str, data: bytes | None) -> GroupDetails:
        await self._enter("set_group_picture", chat_id, data)
        chat = self._chat(chat_id)
        chat.avatar = data
        self.emit(ChatUpdated(chat.row()))
        return await self.show_group(chat_id)  # type: ignore[attr-defined, no-any-return]

    async def uploads(self, chat_id: str) -> list[UploadRow]:
        await self._enter("uploads", chat_id)
        uploads, _ = self._media_state()
        return [row for row, _, _ in uploads.values() if row.chat_id == chat_id]

    async def cancel_upload(self, upload_id: int) -> None:
        await self._enter("cancel_upload", upload_id)
        uploads, _ = self._media_state()
        found = uploads.pop(upload_id, None)
        if found is not None:
            self.emit(UploadChanged(replace(found[0], state="cancelled")))

    async def cancel_download(self, file_hash: str) -> None:
        await self._enter("cancel_download", file_hash)

    async def attachment(self, chat_id: str, message_id: str, index: int = 0) -> AttachmentData:
        await self._enter("attachment", chat_id, message_id, index)
        row = self._chat(chat_id).find(message_id)
        if row is None or index >= len(row.attachments):
            raise NotFound("That file is no longer there.")
        _, files = self._media_state()
        return files[row.attachments[index].file_hash]
