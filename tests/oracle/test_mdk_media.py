"""MIP-04 media between Burrow and MDK (open and AUTH relay): a picture encrypted by one
side, its blob passed through a file (standing in for the Blossom upload; the URL is never
dialed), its ``imeta`` tag carried by a group message, decrypted by the other side."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.message_records import MediaSend
from marmot.media import build_imeta_tag, decrypt_media, encrypt_media, parse_imeta_tag
from storage.repos import messages as messages_repo
from tests.helpers.app_clients import eventually
from tests.helpers.relay import RelayProcess
from tests.oracle.mdk_driver import MdkPeer
from tests.oracle.mdk_scenes import burrow_and_mdk_group, mdk_raw

pytestmark = [pytest.mark.mdk, pytest.mark.asyncio]

BLOSSOM = "https://blossom.invalid/"


def _png(width: int, height: int, seed: int) -> bytes:
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            ((x * seed) % 256, (y * 7) % 256, (x + y) % 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _pixels(data: bytes) -> tuple[tuple[int, int], list[Any]]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size, list(image.convert("RGB").getdata())


async def test_media_encrypted_by_mdk_decrypts_in_burrow(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice, bob, ref, gid = await burrow_and_mdk_group(any_relay, peer, tmp_path, burrow_admin=True)
    try:
        picture = _png(24, 16, 3)
        up = await bob(
            "encrypt_media",
            group=gid,
            data=base64.b64encode(picture).decode(),
            mime="image/png",
            filename="cat.png",
            url=BLOSSOM + "cat",
        )
        blob_file = tmp_path / "cat.blob"
        blob_file.write_bytes(base64.b64decode(up["blob"]))
        sent = await bob("send", group=gid, content="a picture from mdk", tags=[up["imeta"]])

        msgs = await eventually(
            lambda: alice.session.messages.list_messages(ref),
            lambda ms: any(m.id == sent["id"] for m in ms),
        )
        [got] = [m for m in msgs if m.id == sent["id"]]
        assert (got.author, got.content) == (bob.pubkey, "a picture from mdk")
        [attachment] = got.attachments
        assert (attachment.filename, attachment.mime_type) == ("cat.png", "image/png")
        assert attachment.url == BLOSSOM + "cat"
        assert (attachment.width, attachment.height) == (24, 16) and attachment.blurhash

        group = await alice.session.groups.store.resolve(ref)
        row = await alice.session.account.db.run(
            messages_repo.by_rumor_id, group.mls_group_id, sent["id"]
        )
        assert row is not None and row.epoch is not None
        [tag] = [t for t in row.tags if t[0] == "imeta"]
        loaded = await alice.session.groups.store.load(group.mls_group_id)
        data = decrypt_media(
            loaded.marmot.media_exporter(row.epoch), blob_file.read_bytes(), parse_imeta_tag(tag)
        )
        assert hashlib.sha256(data).hexdigest() == attachment.file_hash
        assert _pixels(data) == _pixels(picture)  # MDK re-encodes (metadata stripped)
    finally:
        await alice.close()


async def test_media_encrypted_by_burrow_decrypts_in_mdk(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice, bob, ref, gid = await burrow_and_mdk_group(any_relay, peer, tmp_path, burrow_admin=False)
    try:
        picture = _png(20, 12, 5)
        group = await alice.session.groups.store.resolve(ref)
        loaded = await alice.session.groups.store.load(group.mls_group_id)
        encrypted = encrypt_media(loaded.marmot.media_exporter(), picture, "image/png", "dog.png")
        blob_file = tmp_path / "dog.blob"
        blob_file.write_bytes(encrypted.blob)
        imeta = build_imeta_tag(encrypted.reference(BLOSSOM + "dog", dimensions=(20, 12)))
        sent = await alice.session.messages.send_media(
            ref, "a picture from burrow", [imeta], MediaSend(loaded.marmot.epoch, _no_upload)
        )
        await alice.session.messages.wait_sent(sent, 5)

        seen = await eventually(
            lambda: mdk_raw(bob, gid), lambda ms: any(m["id"] == sent.id for m in ms)
        )
        [got] = [m for m in seen if m["id"] == sent.id]
        assert (got["author"], got["content"]) == (alice.pubkey, "a picture from burrow")
        [tag] = [t for t in got["tags"] if t[0] == "imeta"]
        data = await bob(
            "decrypt_media",
            group=gid,
            blob=base64.b64encode(blob_file.read_bytes()).decode(),
            imeta=tag,
        )
        assert base64.b64decode(data) == picture
    finally:
        await alice.close()


def _no_upload(conn: object, rumor_id: str) -> None:
    """The blob went to a file, not through the upload queue: nothing to mark."""
