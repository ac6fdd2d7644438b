"""Group pictures (MIP-01): encrypted, stored on Blossom, named in the group's data.

Setting one strips the picture's metadata (as for attachments), encrypts it with fresh
seeds, uploads the blob signed with the key the group data derives for it (so any admin
can later replace or delete it), and commits the new image fields. Showing one downloads
the blob by its ``image_hash`` from our servers and the admins' (kind 10063), checks the
hash, decrypts it in memory and keeps it in the encrypted cache.
"""

from __future__ import annotations

import contextlib

from app.context import Context
from app.dm import media as dm_media
from app.dm.service import DarkMatter
from app.errors import AppError, InvalidInput, MediaError, NotAllowed
from app.events import GroupUpdated
from app.groups import Groups
from app.media import guess_mime
from app.media_fetch import blossom_client, off_loop
from app.media_image import prepare_image
from app.media_servers import MediaServers
from app.models import GroupInfo, MediaFile
from marmot.errors import InvalidMedia
from marmot.group_image import decrypt_group_image, prepare_group_image
from marmot.profile_b.components import GroupBlossomImage
from marmot.profile_b.group_image import open_group_image, seal_group_image
from marmot.profiles import Profile
from nostr.errors import BlobMismatch, BlossomError, NostrError
from nostr.keys import SecretKey
from storage.repos import media as media_repo
from storage.rows import Group

FILENAME = "group-picture"


class GroupImages:
    def __init__(self, ctx: Context, groups: Groups, servers: MediaServers) -> None:
        self._ctx = ctx
        self._groups = groups
        self._servers = servers
        self._asked: set[str] = set()

    async def cached(self, image_hash: str) -> MediaFile | None:
        """A group picture already here (nothing on the network)."""
        found = await self._ctx.db.run(media_repo.cache_get, bytes.fromhex(image_hash))
        if found is None:
            return None
        return MediaFile(FILENAME, found.mime_type, image_hash, found.data)

    def fetch_later(self, ref: str, image_hash: str) -> None:
        """Fetch a picture in the background (once per picture); a `GroupUpdated` says
        when it is here."""
        if image_hash in self._asked:
            return
        self._asked.add(image_hash)

        async def fetch() -> None:
            with contextlib.suppress(MediaError):  # shown without a picture, as before
                if await self.get(ref) is not None:
                    group = await self._groups.store.resolve(ref)
                    info = await self._groups.store.info(group)
                    self._ctx.emit(GroupUpdated(self._ctx.pubkey, info))

        self._ctx.spawn(fetch(), "group picture")

    async def set(self, ref: str, data: bytes) -> GroupInfo:
        """Upload ``data`` as the group's picture and commit it (admins only)."""
        mime = guess_mime("picture", data)
        if not mime.startswith("image/"):
            raise InvalidInput("a group picture must be an image")
        prepared = await off_loop(prepare_image, data, mime)
        group = await self._groups.store.resolve(ref)
        if group.profile == Profile.B.value:
            return await self._set_b(group, prepared.data, mime)
        try:
            image = prepare_group_image(prepared.data, mime, rng=self._ctx.rng)
        except InvalidMedia as exc:
            raise InvalidInput(str(exc)) from None
        servers = await self._servers.mine()
        if not servers:
            raise MediaError("no Blossom server is configured", "unavailable")
        try:
            async with blossom_client(self._ctx, image.upload_key) as client:
                await client.upload(servers, image.encrypted_blob, content_type=mime)
        except BlossomError as exc:
            raise MediaError(f"the picture could not be uploaded: {exc}", "unavailable") from None
        # Ours at once: no need to download what we just encrypted.
        cached = media_repo.CachedFile(image.image_hash, mime, FILENAME, prepared.data)
        await self._ctx.db.run(media_repo.cache_put, cached, now=self._ctx.now())
        return await self._groups.set_image_fields(
            ref,
            image_hash=image.image_hash,
            image_key=image.image_seed,
            image_nonce=image.image_nonce,
            image_upload_key=image.upload_seed,
        )

    async def clear(self, ref: str) -> GroupInfo:
        group = await self._groups.store.resolve(ref)
        if group.profile == Profile.B.value:
            return await self._dark_matter().set_image(group, GroupBlossomImage())
        return await self._groups.set_image_fields(ref, image_hash=None)

    async def get(self, ref: str) -> MediaFile | None:
        """The group's picture (None when it has none)."""
        group = await self._groups.store.resolve(ref)
        if group.profile == Profile.B.value:
            return await self._get_b(group)
        data = (await self._groups.store.load(group.mls_group_id)).marmot.data
        if data.image_hash is None:
            return None
        cached = await self._ctx.db.run(media_repo.cache_get, data.image_hash)
        if cached is not None:
            return MediaFile(FILENAME, cached.mime_type, data.image_hash.hex(), cached.data)
        servers = list(await self._servers.mine())
        for admin in group.metadata.admins:
            with contextlib.suppress(AppError, NostrError):  # a fallback only
                servers += await self._servers.of(admin)
        try:
            async with blossom_client(self._ctx) as client:
                blob = await client.download(data.image_hash.hex(), servers=dict.fromkeys(servers))
        except BlobMismatch:
            raise MediaError("the group picture's blob is corrupt", "hash_mismatch") from None
        except BlossomError as exc:
            raise MediaError(f"the group picture is not available: {exc}", "unavailable") from None
        try:
            picture = await off_loop(decrypt_group_image, blob, data)
        except InvalidMedia as exc:
            raise MediaError(
                f"the group picture does not decrypt: {exc}", "undecryptable"
            ) from None
        mime = guess_mime(FILENAME, picture)
        cached = media_repo.CachedFile(data.image_hash, mime, FILENAME, picture)
        await self._ctx.db.run(media_repo.cache_put, cached, now=self._ctx.now())
        return MediaFile(FILENAME, mime, data.image_hash.hex(), picture)

    # --- Profile B: component 0x8002 (`marmot.profile_b.group_image`) ---------------------

    def _dark_matter(self) -> DarkMatter:
        if self._groups.dark_matter is None:
            raise NotAllowed("Marmot v2 (Dark Matter) groups are not available here")
        return self._groups.dark_matter

    async def _set_b(self, group: Group, picture: bytes, mime: str) -> GroupInfo:
        """Sealed under a fresh key that travels in the component; uploaded with the
        component's fresh upload key, as MDK does."""
        try:
            sealed = seal_group_image(picture, mime, rng=self._ctx.rng)
        except InvalidMedia as exc:
            raise InvalidInput(str(exc)) from None
        component = sealed.component
        await self._upload(sealed.blob, SecretKey(component.image_upload_key), mime)
        cached = media_repo.CachedFile(component.image_hash, mime, FILENAME, picture)
        await self._ctx.db.run(media_repo.cache_put, cached, now=self._ctx.now())
        return await self._dark_matter().set_image(group, component)

    async def _upload(self, blob: bytes, key: SecretKey, mime: str) -> None:
        servers = await self._servers.mine()
        if not servers:
            raise MediaError("no Blossom server is configured", "unavailable")
        try:
            async with blossom_client(self._ctx, key) as client:
                await client.upload(servers, blob, content_type=mime)
        except BlossomError as exc:
            raise MediaError(f"the picture could not be uploaded: {exc}", "unavailable") from None

    async def _get_b(self, group: Group) -> MediaFile | None:
        component = await self._ctx.db.run(dm_media.canonical_image, group.mls_group_id)
        if component is None:
            return None
        image_hash = component.image_hash
        cached = await self._ctx.db.run(media_repo.cache_get, image_hash)
        if cached is not None:
            return MediaFile(FILENAME, cached.mime_type, image_hash.hex(), cached.data)
        blob = await self._download(group, image_hash)
        try:
            picture = await off_loop(open_group_image, component, blob)
        except InvalidMedia as exc:
            raise MediaError(
                f"the group picture does not decrypt: {exc}", "undecryptable"
            ) from None
        mime = component.media_type
        cached = media_repo.CachedFile(image_hash, mime, FILENAME, picture)
        await self._ctx.db.run(media_repo.cache_put, cached, now=self._ctx.now())
        return MediaFile(FILENAME, mime, image_hash.hex(), picture)

    async def _download(self, group: Group, image_hash: bytes) -> bytes:
        """The blob by its hash from our servers and the admins' (kind 10063)."""
        servers = list(await self._servers.mine())
        for admin in group.metadata.admins:
            with contextlib.suppress(AppError, NostrError):  # a fallback only
                servers += await self._servers.of(admin)
        try:
            async with blossom_client(self._ctx) as client:
                return await client.download(image_hash.hex(), servers=dict.fromkeys(servers))
        except BlobMismatch:
            raise MediaError("the group picture's blob is corrupt", "hash_mismatch") from None
        except BlossomError as exc:
            raise MediaError(f"the group picture is not available: {exc}", "unavailable") from None
