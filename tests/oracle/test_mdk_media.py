"""MIP-04 media across stacks: an image MDK encrypts (mdk-python's
``encrypt_media_for_upload`` and ``create_media_imeta_tag``) is shown by Burrow, and a file
Burrow sends is decrypted by MDK (``parse_media_imeta_tag`` + ``decrypt_media_from_download``),
through the real relay and the real Blossom server. MDK has no HTTP client: the test moves
its blobs to and from Blossom with our client, as White Noise's own code would."""

from __future__ import annotations

import base64
import hashlib
import io
import time
from pathlib import Path

import pytest
from PIL import Image

from nostr.keys import SecretKey
from nostr.relay.blossom import BlossomClient
from nostr.signer import KeySigner
from tests.helpers.app_clients import eventually, make_client
from tests.helpers.blossom import BlossomProcess
from tests.helpers.relay import RelayProcess
from tests.oracle.mdk_driver import MdkPeer, MdkUser

pytestmark = [pytest.mark.mdk, pytest.mark.media, pytest.mark.asyncio]


def _blossom() -> BlossomClient:
    return BlossomClient(KeySigner(SecretKey.generate()), now=lambda: int(time.time()))


def _jpeg() -> bytes:
    image = Image.new("RGB", (48, 32), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "MdkCamera"
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


async def test_media_both_ways_between_burrow_and_mdk(
    any_relay: RelayProcess, blossom_server: BlossomProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, any_relay.url, "alice", blossom=(blossom_server.url,))
    bob = await MdkUser.create(peer, "bob", any_relay.url)
    try:
        group = await alice.session.groups.create("Media", [bob.npub])
        synced = await eventually(lambda: bob("sync"), lambda r: bool(r["groups"]))
        mls_id = synced["groups"][0]["id"]

        # MDK encrypts an image; the blob goes to Blossom; the message carries MDK's imeta.
        made = await bob(
            "encrypt_media",
            group=mls_id,
            data=base64.b64encode(_jpeg()).decode(),
            mime="image/jpeg",
            filename="from-mdk.jpg",
        )
        async with _blossom() as client:
            stored = await client.upload([blossom_server.url], base64.b64decode(made["blob"]))
        assert stored.sha256 == made["hash"]
        tags = await bob("media_tag", group=mls_id, hash=made["hash"], url=stored.url)
        await bob("send", group=mls_id, content="a photo from mdk", tags=tags)

        def with_files(found: list[object]) -> bool:
            return any(getattr(m, "attachments", ()) for m in found)

        found = await eventually(lambda: alice.session.messages.list_messages(group.id), with_files)
        message = next(m for m in found if m.attachments)
        [attachment] = message.attachments
        assert (attachment.filename, attachment.mime_type) == ("from-mdk.jpg", "image/jpeg")
        file = await alice.session.media.fetch(group.id, message.id)
        assert hashlib.sha256(file.data).hexdigest() == attachment.file_hash
        assert Image.open(io.BytesIO(file.data)).size == (48, 32)
        assert file.thumbnail is not None

        # Burrow sends a file; MDK parses our imeta tag and decrypts the blob.
        notes = b"burrow to mdk, encrypted with mip04-v2\n" * 20
        upload = await alice.session.media.send_file(group.id, notes, "notes.txt")
        sent = await alice.session.media.wait(upload.id, 20)
        assert sent.state == "sent"
        await alice.session.flush(10)

        async def ours() -> list[dict[str, object]]:
            await bob("sync")
            return [m for m in await bob("messages", group=mls_id) if m["author"] == alice.pubkey]

        [theirs] = await eventually(ours, bool)
        [tag] = [t for t in theirs["tags"] if t and t[0] == "imeta"]  # type: ignore[union-attr]
        url = next(item[4:] for item in tag if item.startswith("url "))
        async with _blossom() as client:
            blob = await client.download(url.rsplit("/", 1)[1][:64], urls=[url])
        decrypted = await bob(
            "decrypt_media", group=mls_id, tag=tag, blob=base64.b64encode(blob).decode()
        )
        assert base64.b64decode(decrypted) == notes
    finally:
        await alice.close()


async def test_group_pictures_both_ways_between_burrow_and_mdk(
    any_relay: RelayProcess, blossom_server: BlossomProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, any_relay.url, "alice", blossom=(blossom_server.url,))
    bob = await MdkUser.create(peer, "bob", any_relay.url)
    try:
        group = await alice.session.groups.create("Pictures", [bob.npub])
        synced = await eventually(lambda: bob("sync"), lambda r: bool(r["groups"]))
        mls_id = synced["groups"][0]["id"]

        # Burrow sets the picture; MDK reads the commit and decrypts the blob.
        info = await alice.session.group_images.set(group.id, _jpeg())
        await alice.session.flush(10)

        async def mdk_hash() -> str | None:
            await bob("sync")
            return (await bob("group_image_get", group=mls_id))["hash"]  # type: ignore[no-any-return]

        assert await eventually(mdk_hash, lambda h: h == info.image) == info.image
        async with _blossom() as client:
            blob = await client.download(info.image, servers=[blossom_server.url])
        got = await bob("group_image_get", group=mls_id, blob=base64.b64encode(blob).decode())
        ours = await alice.session.group_images.get(group.id)
        assert ours is not None and base64.b64decode(got["data"]) == ours.data

        # MDK (now an admin) sets one; Burrow fetches it from Blossom and decrypts it.
        await alice.session.groups.promote(group.id, bob.npub)
        await alice.session.flush(10)
        await eventually(lambda: bob("sync"), lambda r: bob.pubkey in r["groups"][0]["admins"])
        picture = Image.new("RGB", (24, 36), (200, 60, 30))
        buf = io.BytesIO()
        picture.save(buf, "PNG")
        made = await bob(
            "group_image_set",
            group=mls_id,
            data=base64.b64encode(buf.getvalue()).decode(),
            mime="image/png",
        )
        async with _blossom() as client:
            await client.upload([blossom_server.url], base64.b64decode(made["blob"]))
        seen = await eventually(
            lambda: alice.session.groups.info(group.id), lambda g: g.image == made["hash"]
        )
        assert seen.image == made["hash"]
        shown = await alice.session.group_images.get(group.id)
        assert shown is not None
        assert Image.open(io.BytesIO(shown.data)).size == (24, 36)
    finally:
        await alice.close()
