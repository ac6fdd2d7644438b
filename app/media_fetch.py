"""Receiving attachments: download by hash with fallback, verify, decrypt in memory, cache.

The blob is asked for by the SHA-256 its URL names, first at that URL, then on our own
Blossom servers and the sender's (their kind 10063): any copy whose bytes do not hash to
that name is refused. The decrypted file is checked against the message's ``x`` and kept
only in memory and in ``media_cache`` inside the encrypted database, never as a plain file.
The key is the MIP-04 exporter of the epoch the message was sent in, saved when the
message arrived (`keep_epoch_key`), so old media stays readable after epochs move on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from app.context import Context
from app.dm import media as dm_media
from app.errors import AppError, MediaError, NotFound
from app.events import TransferProgressed
from app.groups import Groups
from app.media_image import thumbnail_of
from app.media_servers import MediaServers
from app.message_records import find_message
from app.models import MediaFile, Reference, attachments
from marmot.errors import InvalidMedia
from marmot.group import MarmotGroup
from marmot.media import MAX_FILE_SIZE, decrypt_media
from marmot.profile_b.media import MediaReference as MediaReferenceB
from marmot.profiles import Profile
from mls.errors import MlsError
from nostr.blossom import hash_of_url, server_of_url
from nostr.errors import BlobMismatch, BlobTooLarge, BlossomError, NostrError
from nostr.keys import SecretKey
from nostr.relay.blossom import BlossomClient
from nostr.signer import KeySigner
from storage import Connection
from storage.repos import media as media_repo
from storage.rows import Group, Message

_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="burrow-media")
"""Image decoding and bulk encryption run here, off the event loop (the window stays
responsive). Our own pool, not the loop's default executor: under qasync that one is a
QThread pool that outlives the loop."""


async def off_loop(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_WORKERS, functools.partial(func, *args, **kwargs))


T = TypeVar("T")
MAX_BLOB = MAX_FILE_SIZE + 16
"""The largest blob a 100 MiB file encrypts to (ChaCha20-Poly1305 adds a 16-byte tag)."""
TRANSFER_TIMEOUT = 60.0
"""Seconds without progress after which a Blossom request counts as failed."""
PROGRESS_STEP = 0.05
"""Progress events at most every 5 % of a transfer (and at its end)."""


def progress_reporter(ctx: Context, transfer: str) -> Callable[[int, int], None]:
    """A Blossom progress callback that publishes throttled `TransferProgressed` events."""
    last = [-1.0]

    def report(done: int, total: int) -> None:
        share = done / total if total else 1.0
        if done >= total or share - last[0] >= PROGRESS_STEP:
            last[0] = share
            ctx.emit(TransferProgressed(ctx.pubkey, transfer, done, total))

    return report


@contextlib.asynccontextmanager
async def blossom_client(
    ctx: Context, key: SecretKey | None = None
) -> AsyncIterator[BlossomClient]:
    """A Blossom client signing with ``key``, by default a fresh throwaway one (nothing
    links the upload to us)."""
    signer = KeySigner(key or SecretKey.generate(ctx.rng), rng=ctx.rng)
    client = BlossomClient(
        signer,
        now=ctx.now,
        timeout=TRANSFER_TIMEOUT,
        max_size=MAX_BLOB,
        ca_file=ctx.config.http.ca_file,
    )
    try:
        yield client
    finally:
        await client.close()


def keep_epoch_key(conn: Connection, gid: bytes, group: MarmotGroup, epoch: int) -> None:
    """Save the media key of ``epoch`` (called when a message with attachments arrives)."""
    try:
        secret = group.media_exporter(epoch)
    except MlsError:
        return  # that epoch is no longer retained: nothing to keep
    media_repo.save_epoch_key(conn, gid, epoch, secret)


@dataclass(frozen=True, slots=True)
class _Target:
    message: Message
    ref: Reference
    profile_b: bool  # the group's profile (a reference of the other kind never opens)

    @property
    def file_hash(self) -> bytes:
        if isinstance(self.ref, MediaReferenceB):
            return bytes.fromhex(self.ref.plaintext_sha256)
        return self.ref.file_hash

    @property
    def blob_hash(self) -> str | None:
        if isinstance(self.ref, MediaReferenceB):
            return self.ref.ciphertext_sha256.lower()
        return hash_of_url(self.ref.url)

    @property
    def urls(self) -> list[str]:
        if isinstance(self.ref, MediaReferenceB):
            return dm_media.blossom_urls(self.ref)
        return [self.ref.url]


class MediaFetcher:
    def __init__(self, ctx: Context, groups: Groups, servers: MediaServers) -> None:
        self._ctx = ctx
        self._groups = groups
        self._servers = servers
        self._running: dict[bytes, asyncio.Future[MediaFile]] = {}

    async def fetch(self, ref: str, message_id: str, index: int = 0) -> MediaFile:
        group = await self._groups.store.resolve(ref)
        target = await self._target(group, message_id, index)
        file_hash = target.file_hash
        cached = await self._ctx.db.run(media_repo.cache_get, file_hash)
        if cached is not None:
            return _file(cached)
        running = self._running.get(file_hash)
        if running is None:  # one download per file, however many views ask for it
            running = asyncio.ensure_future(self._download(target))
            self._running[file_hash] = running
            running.add_done_callback(lambda _f: self._running.pop(file_hash, None))
        return await asyncio.shield(running)

    def cancel(self, file_hash: str) -> bool:
        """Stop a running download (its `fetch` raises `asyncio.CancelledError`)."""
        running = self._running.get(bytes.fromhex(file_hash))
        return running is not None and running.cancel()

    async def _target(self, group: Group, message_id: str, index: int) -> _Target:
        gid = group.mls_group_id
        message = await self._ctx.db.run(find_message, gid, message_id.strip().lower())
        if message is None:
            raise NotFound(f"no message {message_id} in this group")
        refs = attachments(message.tags)  # numbered like `attachments_of`
        if not 0 <= index < len(refs):
            raise NotFound(f"message {message_id[:12]} has no attachment {index}")
        return _Target(message, refs[index], group.profile == Profile.B.value)

    async def _key(self, target: _Target) -> bytes:
        message = target.message
        gid = message.mls_group_id
        epoch = message.epoch
        if epoch is None:
            raise MediaError("the message's epoch is unknown", "undecryptable")
        if target.profile_b != isinstance(target.ref, MediaReferenceB):
            raise MediaError("this attachment's format does not belong here", "undecryptable")
        if target.profile_b:
            secret_b = await self._ctx.db.run(dm_media.secret_for, gid, epoch)
            if secret_b is None:
                raise MediaError(
                    f"the key of epoch {epoch} is no longer kept: this file cannot be opened",
                    "undecryptable",
                )
            return secret_b
        kept = await self._ctx.db.run(media_repo.epoch_key, gid, epoch)
        if kept is not None:
            return kept
        loaded = await self._groups.store.load(gid)
        try:
            secret = loaded.marmot.media_exporter(epoch)
        except MlsError:
            raise MediaError(
                f"the key of epoch {epoch} is no longer kept: this file cannot be opened",
                "undecryptable",
            ) from None
        await self._ctx.db.run(media_repo.save_epoch_key, gid, epoch, secret)
        return secret

    async def _download(self, target: _Target) -> MediaFile:
        ref = target.ref
        key = await self._key(target)
        sha = target.blob_hash
        if sha is None:
            raise MediaError("the attachment's URL names no blob hash", "unavailable")
        servers = [*await self._servers.mine()]
        own = {server_of_url(url) for url in target.urls}
        with contextlib.suppress(AppError, NostrError):  # the sender's list is a fallback only
            servers += await self._servers.of(target.message.author)
        if target.profile_b:  # and the group policy's endpoints, as MDK fetches from them
            policy = await self._ctx.db.run(dm_media.send_key, target.message.mls_group_id)
            servers += policy.servers
        candidates = [s for s in dict.fromkeys(servers) if s not in own]
        progress = progress_reporter(self._ctx, f"download:{target.file_hash.hex()}")
        try:
            async with blossom_client(self._ctx) as client:
                blob = await client.download(
                    sha, urls=target.urls, servers=candidates, progress=progress
                )
        except BlobMismatch as exc:
            raise MediaError(
                f"the file's blob is corrupt: its bytes do not match {sha[:12]}… ({exc.server})",
                "hash_mismatch",
            ) from None
        except BlobTooLarge:
            raise MediaError("the file is larger than 100 MiB", "too_large") from None
        except BlossomError as exc:
            raise MediaError(f"the file could not be downloaded: {exc}", "unavailable") from None
        try:
            if isinstance(ref, MediaReferenceB):
                data = await off_loop(dm_media.open_file, key, blob, ref)
                mime, name = ref.media_type, ref.file_name
            else:
                data = await off_loop(decrypt_media, key, blob, ref)
                mime, name = ref.mime_type, ref.filename
        except InvalidMedia as exc:
            raise MediaError(f"the file does not decrypt: {exc}", "undecryptable") from None
        thumb = await off_loop(thumbnail_of, data) if mime.startswith("image/") else None
        cached = media_repo.CachedFile(target.file_hash, mime, name, data, thumb)
        await self._ctx.db.run(media_repo.cache_put, cached, now=self._ctx.now())
        await self._ctx.db.run(media_repo.cache_trim, self._ctx.config.media_cache_bytes)
        return _file(cached)


def _file(cached: media_repo.CachedFile) -> MediaFile:
    return MediaFile(
        cached.filename, cached.mime_type, cached.file_hash.hex(), cached.data, cached.thumbnail
    )
