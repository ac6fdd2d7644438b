"""Attachments (MIP-04 through Blossom): the durable upload queue and the sending side.

    info = await media.send_file(group, data, "cat.jpg", caption="look")  # queued
    info = await media.wait(info.id, 20)       # sent (message_id), or pending with an error
    file = await media.fetch(group, message_id)  # `app.media_fetch`: decrypted, in memory

A file is prepared (images re-encoded without metadata, measured, given a BlurHash) and
stored in ``media_uploads`` inside the encrypted database before anything touches the
network, so a crash or an offline moment loses nothing: the runner picks every pending
upload up again after a restart. Each attempt encrypts the file for the group's current
epoch with the upload's one nonce, stores the blob on the account's Blossom servers (with a
fresh throwaway key, as White Noise does, so servers cannot link uploads to the sender) and
only then sends the message; the upload is marked sent, the epoch's media key kept and the
file put in the encrypted cache in the message's own transaction. A retry in the same epoch
makes the same blob, which a server that already took it does not receive again.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import mimetypes
import time
from collections.abc import Callable
from pathlib import Path

from app.context import Context
from app.dm import media as dm_media
from app.errors import AppError, InvalidInput, MediaError, NotAllowed, NotFound
from app.events import UploadChanged
from app.groups import Groups
from app.media_fetch import MediaFetcher, blossom_client, off_loop, progress_reporter
from app.media_image import avatar_jpeg, prepare_image, thumbnail_of
from app.media_servers import MediaServers
from app.message_records import EpochMoved, MediaSend
from app.messages import Messages
from app.models import MediaFile, MessageInfo, UploadInfo
from marmot.errors import InvalidMedia
from marmot.media import (
    ESCAPE_HATCH_MIME,
    MAX_FILE_SIZE,
    build_imeta_tag,
    canonical_mime,
    encrypt_media,
    sniff_image,
    validate_filename,
)
from marmot.profiles import Profile
from nostr.backoff import Backoff
from nostr.blossom import blob_url, hash_of_url
from nostr.errors import BlobTooLarge, BlossomError
from storage import Connection
from storage.repos import media as media_repo
from storage.repos import people as people_repo
from storage.rows import GroupState

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
"""Failed attempts before an upload shows as failed (its file is kept: `retry` revives it)."""
RETRY = Backoff(base=5.0, factor=2.0, cap=600.0, jitter=0.0)


class UploadCancelled(Exception):
    """The user cancelled the upload while its message was being stored."""


def guess_mime(filename: str, data: bytes) -> str:
    """The MIME type to send: the image type the bytes announce, else the allowed type the
    name suggests, else ``application/octet-stream`` (MIP-04's escape hatch)."""
    sniffed = sniff_image(data)
    if sniffed is not None:
        return sniffed
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    try:
        return canonical_mime(guessed or ESCAPE_HATCH_MIME)
    except InvalidMedia:
        return ESCAPE_HATCH_MIME


class Media:
    def __init__(
        self, ctx: Context, groups: Groups, messages: Messages, servers: MediaServers
    ) -> None:
        self._ctx = ctx
        self._groups = groups
        self._messages = messages
        self.servers = servers
        self.fetcher = MediaFetcher(ctx, groups, servers)
        self._wake = asyncio.Event()
        self._running: dict[int, asyncio.Task[None]] = {}

    # --- queueing --------------------------------------------------------------------

    async def send_path(self, ref: str, path: Path | str, *, caption: str = "") -> UploadInfo:
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_SIZE:
                raise MediaError(f"{path.name} is larger than 100 MiB", "too_large")
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
        return await self.send_file(ref, data, path.name, caption=caption)

    async def send_file(
        self,
        ref: str,
        data: bytes,
        filename: str,
        *,
        mime_type: str | None = None,
        caption: str = "",
    ) -> UploadInfo:
        """Queue a file for ``ref``; it is sent as soon as a Blossom server takes it."""
        group = await self._groups.store.resolve(ref)
        if group.state is not GroupState.ACTIVE:
            raise NotAllowed("this group is not active: you left or were removed")
        if not data:
            raise InvalidInput("the file is empty")
        if len(data) > MAX_FILE_SIZE:
            raise MediaError(f"{filename} is larger than 100 MiB", "too_large")
        try:
            validate_filename(filename)
            mime = canonical_mime(mime_type) if mime_type else guess_mime(filename, data)
        except InvalidMedia as exc:
            raise InvalidInput(str(exc)) from None
        dim = blurhash = None
        if mime.startswith("image/"):
            if sniff_image(data) != mime:
                raise InvalidInput(f"{filename} is not a {mime} file")
            prepared = await off_loop(prepare_image, data, mime)  # off the UI loop
            data, dim, blurhash = prepared.data, prepared.dim, prepared.blurhash
        new = media_repo.NewUpload(
            group.mls_group_id, filename, mime, data, self._ctx.rng(12), caption, dim, blurhash
        )
        upload_id = await self._ctx.db.run(media_repo.enqueue, new, now=self._ctx.now())
        info = await self.upload(upload_id)
        self._ctx.emit(UploadChanged(self._ctx.pubkey, info))
        self._wake.set()
        return info

    async def upload(self, upload_id: int) -> UploadInfo:
        found = await self._ctx.db.run(media_repo.get, upload_id)
        if found is None:
            raise NotFound(f"no upload {upload_id}")
        return await self._info(found)

    async def uploads(self) -> list[UploadInfo]:
        """Uploads still pending."""
        found = await self._ctx.db.run(media_repo.pending)
        return [await self._info(u) for u in found]

    async def _info(self, upload: media_repo.Upload) -> UploadInfo:
        group = await self._groups.store.get(upload.mls_group_id)
        return UploadInfo(
            upload.id,
            group.metadata.nostr_group_id,
            upload.filename,
            upload.mime_type,
            upload.size,
            upload.state,
            upload.attempts,
            upload.last_error,
            upload.rumor_id,
        )

    async def cancel(self, upload_id: int) -> UploadInfo:
        """Stop an upload (its message is never sent); a sent one stays sent."""
        await self._ctx.db.run(media_repo.cancel, upload_id, now=self._ctx.now())
        task = self._running.get(upload_id)
        if task is not None:
            task.cancel()
        info = await self.upload(upload_id)
        self._ctx.emit(UploadChanged(self._ctx.pubkey, info))
        return info

    async def retry(self, upload_id: int) -> UploadInfo:
        """Try a pending or failed upload again now."""
        if not await self._ctx.db.run(media_repo.retry_now, upload_id, now=self._ctx.now()):
            raise NotAllowed(f"upload {upload_id} is neither pending nor failed")
        self._wake.set()
        return await self.upload(upload_id)

    async def wait(self, upload_id: int, timeout: float) -> UploadInfo:
        """Until the upload is sent, given up or cancelled, or its next attempt failed."""
        start = await self.upload(upload_id)
        deadline = time.monotonic() + timeout
        info = start
        while info.state == "pending" and info.attempts == start.attempts:
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.05)
            info = await self.upload(upload_id)
        return info

    async def flush(self, timeout: float) -> int:
        """Attempt every pending upload now (the CLI, before it exits); returns how many
        were attempted."""
        pending = await self._ctx.db.run(media_repo.pending)
        for upload in pending:
            await self._ctx.db.run(media_repo.retry_now, upload.id, now=self._ctx.now())
        self._wake.set()
        deadline = time.monotonic() + timeout
        for upload in pending:
            await self.wait(upload.id, max(0.0, deadline - time.monotonic()))
        return len(pending)

    # --- the runner ------------------------------------------------------------------

    async def run(self) -> None:
        """Work the queue until cancelled: due uploads one after another, then sleep until
        the next is due or a new one arrives."""
        while True:
            self._wake.clear()
            for upload in await self._ctx.db.run(media_repo.due, now=self._ctx.now()):
                await self._run_one(upload)
            wake = await self._ctx.db.run(media_repo.next_wakeup)
            delay = 60.0 if wake is None else min(60.0, max(0.05, wake - self._ctx.now()))
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _run_one(self, upload: media_repo.Upload) -> None:
        task = asyncio.ensure_future(self._attempt(upload))
        self._running[upload.id] = task
        try:
            await asyncio.wait([task])
        except asyncio.CancelledError:
            task.cancel()  # the session closes: the upload stays pending for next time
            await asyncio.gather(task, return_exceptions=True)
            raise
        finally:
            self._running.pop(upload.id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("upload %d failed unexpectedly", upload.id, exc_info=task.exception())

    async def _attempt(self, upload: media_repo.Upload) -> None:
        try:
            await self._send(upload)
        except UploadCancelled:
            return
        except (BlossomError, MediaError, NotAllowed, InvalidMedia, AppError) as exc:
            await self._failed(upload, exc)
            return
        except Exception as exc:  # a bug: counted as a failed attempt, never a busy loop
            log.exception("upload %d failed unexpectedly", upload.id)
            await self._failed(upload, exc)
            return
        await self._changed(upload.id)

    async def _failed(self, upload: media_repo.Upload, exc: Exception) -> None:
        permanent = isinstance(exc, NotAllowed | InvalidMedia | BlobTooLarge)
        attempts = upload.attempts + 1
        retry_at = None
        if not permanent and attempts < MAX_ATTEMPTS:
            retry_at = self._ctx.now() + round(RETRY.delay(attempts - 1, 0.0))
        message = getattr(exc, "message", None) or str(exc)
        log.info("upload %d attempt %d failed: %s", upload.id, attempts, message)
        await self._ctx.db.run(
            media_repo.mark_failed_attempt,
            upload.id,
            message,
            retry_at=retry_at,
            now=self._ctx.now(),
        )
        await self._changed(upload.id)

    async def _changed(self, upload_id: int) -> None:
        self._ctx.emit(UploadChanged(self._ctx.pubkey, await self.upload(upload_id)))

    async def _send(self, upload: media_repo.Upload) -> MessageInfo:
        ctx = self._ctx
        gid = upload.mls_group_id
        group = await self._groups.store.get(gid)
        if group.state is not GroupState.ACTIVE:
            raise NotAllowed("the group is no longer active")
        data, nonce = await ctx.db.run(media_repo.payload, upload.id)
        is_image = upload.mime_type.startswith("image/")
        thumb = await off_loop(thumbnail_of, data) if is_image else None
        servers = await self.servers.mine()
        if group.profile == Profile.B.value:
            nostr_id = group.metadata.nostr_group_id
            return await self._send_b(upload, nostr_id, (data, nonce), thumb, servers)
        if not servers:
            raise MediaError("no Blossom server is configured", "unavailable")
        while True:  # a commit may move the epoch while the blob uploads: encrypt again
            loaded = await self._groups.store.load(gid)
            epoch, exporter = loaded.marmot.epoch, loaded.marmot.media_exporter()
            encrypted = await off_loop(
                encrypt_media,
                exporter,
                data,
                upload.mime_type,
                upload.filename,
                rng=lambda _n: nonce,
            )
            url = await self._store_blob(
                upload.id, servers, encrypted.blob, encrypted.blob_hash.hex()
            )
            tag = build_imeta_tag(
                encrypted.reference(url, dimensions=_dimensions(upload), blurhash=upload.blurhash)
            )
            cached = media_repo.CachedFile(
                encrypted.file_hash, upload.mime_type, upload.filename, data, thumb
            )
            also = _on_stored(
                upload.id, gid=gid, epoch=epoch, exporter=exporter, cached=cached, now=ctx.now
            )
            try:
                return await self._messages.send_media(
                    group.metadata.nostr_group_id, upload.caption, [tag], MediaSend(epoch, also)
                )
            except EpochMoved:
                continue

    async def _send_b(
        self,
        upload: media_repo.Upload,
        nostr_id: str,
        payload: tuple[bytes, bytes],
        thumb: bytes | None,
        servers: tuple[str, ...],
    ) -> MessageInfo:
        """Profile B: sealed with the tip's media secret (`app.dm.media`), on our Blossom
        servers or else the group policy's, as an ``encrypted-media`` imeta tag."""
        ctx = self._ctx
        gid = upload.mls_group_id
        data, nonce = payload
        while True:  # a commit or a reorg may move the tip while the blob uploads
            key = await ctx.db.run(dm_media.send_key, gid)
            targets = servers or key.servers
            if not targets:
                raise MediaError("no Blossom server is configured", "unavailable")
            sealed = await off_loop(
                dm_media.seal_file, key, data, upload.mime_type, upload.filename, nonce
            )
            url = await self._store_blob(
                upload.id, targets, sealed.ciphertext, sealed.ciphertext_sha256
            )
            tag = dm_media.tag_for(sealed, url, upload.dim)
            file_hash = bytes.fromhex(sealed.plaintext_sha256)
            cached = media_repo.CachedFile(
                file_hash, sealed.media_type, sealed.file_name, data, thumb
            )
            also = _on_stored(
                upload.id, gid=gid, epoch=key.epoch, exporter=key.secret, cached=cached, now=ctx.now
            )
            media = MediaSend(key.epoch, also, secret=key.secret)
            try:
                return await self._messages.send_media(nostr_id, upload.caption, [tag], media)
            except EpochMoved:
                continue

    async def _store_blob(
        self, upload_id: int, servers: tuple[str, ...], blob: bytes, sha: str
    ) -> str:
        progress = progress_reporter(self._ctx, f"upload:{upload_id}")
        async with blossom_client(self._ctx) as client:
            descriptor = await client.upload(servers, blob, progress=progress)
        # The message names the blob by its hash: keep a URL that ends with it.
        if hash_of_url(descriptor.url) == sha:
            return descriptor.url
        return blob_url(servers[0], sha)

    # --- profile pictures --------------------------------------------------------------

    async def picture_url(self, data: bytes) -> str | None:
        """Put a profile picture (public: not encrypted, already stripped and small) on our
        https Blossom servers, as White Noise does; its URL, or None when we have no https
        server (people could not fetch it: the caller keeps a ``data:`` URL)."""
        servers = tuple(s for s in await self.servers.mine() if s.startswith("https://"))
        if not servers:
            return None
        mime = guess_mime("picture", data)
        try:
            async with blossom_client(self._ctx) as client:
                stored = await client.upload(servers, data, content_type=mime)
        except BlossomError as exc:
            raise MediaError(f"the picture could not be uploaded: {exc}", "unavailable") from None
        sha = stored.sha256
        url = stored.url if hash_of_url(stored.url) == sha else blob_url(servers[0], sha)
        picture = people_repo.Picture(url, mime, data, self._ctx.now())
        await self._ctx.db.run(people_repo.save_picture, picture)  # shown at once, here too
        return url

    async def profile_picture(self, data: bytes) -> str:
        """The kind-0 ``picture`` for an image file: its small square JPEG on our https
        Blossom server when we have one, else inline as a ``data:`` URL."""
        square = await off_loop(avatar_jpeg, data)
        url = await self.picture_url(square)
        return url or "data:image/jpeg;base64," + base64.b64encode(square).decode()

    # --- receiving -------------------------------------------------------------------

    async def fetch(self, ref: str, message_id: str, index: int = 0) -> MediaFile:
        """Attachment ``index`` of a message, decrypted in memory (cached encrypted)."""
        return await self.fetcher.fetch(ref, message_id, index)

    def cancel_download(self, file_hash: str) -> bool:
        """Stop a running download (its `fetch` raises `asyncio.CancelledError`)."""
        return self.fetcher.cancel(file_hash)


def _dimensions(upload: media_repo.Upload) -> tuple[int, int] | None:
    width, _, height = (upload.dim or "").partition("x")
    if not (width.isdigit() and height.isdigit()):
        return None
    return int(width), int(height)


def _on_stored(
    upload_id: int,
    *,
    gid: bytes,
    epoch: int,
    exporter: bytes,
    cached: media_repo.CachedFile,
    now: Callable[[], int],
) -> Callable[[Connection, str], None]:
    """The writes that belong to the message's transaction: the upload is done (unless it
    was cancelled meanwhile: then no message is stored), the epoch's media key is kept and
    our own file is in the cache (never downloaded again)."""

    def also(conn: Connection, rumor_id: str) -> None:
        current = media_repo.get(conn, upload_id)
        if current is None or current.state != "pending":
            raise UploadCancelled
        media_repo.mark_sent(conn, upload_id, rumor_id, now=now())
        media_repo.save_epoch_key(conn, gid, epoch, exporter)
        media_repo.cache_put(conn, cached, now=now())

    return also
