"""Attachments over ``app.media``: sending files, the upload queue, downloading and
decrypting; and the app's upload and progress events as the UI's."""

from __future__ import annotations

import asyncio

from app.events import AppEvent, TransferProgressed, UploadChanged
from ui.bridge.convert import group_details, upload_row
from ui.bridge.core import BridgeCore, translated
from ui.errors import Unavailable
from ui.views import AttachmentData, GroupDetails, TransferProgress, UiEvent, UploadRow
from ui.views import UploadChanged as UiUploadChanged


class MediaOps(BridgeCore):
    @translated
    async def send_file(
        self, chat_id: str, filename: str, data: bytes, caption: str = ""
    ) -> UploadRow:
        """Queue a file (images are stripped of metadata); it becomes a message once stored
        on a Blossom server (``UploadChanged``, ``TransferProgress`` meanwhile)."""
        media = self.session().media
        return upload_row(await media.send_file(chat_id, data, filename, caption=caption))

    @translated
    async def uploads(self, chat_id: str) -> list[UploadRow]:
        """The chat's files still on their way."""
        found = await self.session().media.uploads()
        return [upload_row(u) for u in found if u.group_id == chat_id]

    @translated
    async def cancel_upload(self, upload_id: int) -> None:
        """Stop a queued or running upload: its message is never sent."""
        await self.session().media.cancel(upload_id)

    @translated
    async def attachment(self, chat_id: str, message_id: str, index: int = 0) -> AttachmentData:
        """Download (or take from the encrypted cache), verify and decrypt an attachment
        (``TransferProgress`` ``download:<file hash>`` meanwhile)."""
        try:
            file = await self.session().media.fetch(chat_id, message_id, index)
        except asyncio.CancelledError:
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise  # our caller was cancelled, not the download
            raise Unavailable("The download was cancelled.") from None
        return AttachmentData(file.filename, file.mime_type, file.data, file.thumbnail)

    @translated
    async def cancel_download(self, file_hash: str) -> None:
        """Stop downloading an attachment (its ``attachment`` call then fails)."""
        self.session().media.cancel_download(file_hash)

    @translated
    async def set_group_picture(self, chat_id: str, data: bytes | None) -> GroupDetails:
        """Encrypt and upload the group's picture and commit it (None removes it); admins."""
        images = self.session().group_images
        info = await (images.clear(chat_id) if data is None else images.set(chat_id, data))
        await self.emit_chat(chat_id)
        return group_details(info)

    async def translate(self, event: AppEvent, chats: dict[str, None]) -> list[UiEvent]:
        if isinstance(event, UploadChanged):
            return [UiUploadChanged(upload_row(event.upload))]
        if isinstance(event, TransferProgressed):
            return [TransferProgress(event.transfer, event.done, event.total)]
        return await super().translate(event, chats)
