"""The media service (app.media) between two in-process users through the real relay and
the real Blossom server: images and files both ways, an upload interrupted mid-transfer and
resumed after a restart, fallback across servers, corrupt and undecryptable blobs, media
keys kept past the epochs MLS retains, and the kind 10063 server list."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import io
import ssl
from pathlib import Path
from typing import TypeVar

import pytest
from PIL import Image

from app import Services
from app.errors import InvalidInput, MediaError, NotAllowed
from app.events import MessageReceived, TransferProgressed, UploadChanged
from app.http import HttpSettings
from app.local_blossom import BlossomStore
from app.media_fetch import blossom_client
from app.message_records import MediaSend
from app.models import GroupInfo, MessageInfo
from marmot.media import build_imeta_tag, encrypt_media
from mls.errors import MlsError
from storage.repos import media as media_repo
from tests.helpers.app_clients import (
    PASSPHRASE,
    Client,
    config_for,
    eventually,
    join,
    make_client,
    reopen,
)
from tests.helpers.blossom import BlossomFactory, BlossomProcess
from tests.helpers.https_server import _certificates
from tests.helpers.relay import RelayProcess, free_port

T = TypeVar("T")

pytestmark = [pytest.mark.integration, pytest.mark.media, pytest.mark.asyncio]


def jpeg_with_exif(width: int = 64, height: int = 48) -> bytes:
    image = Image.new("RGB", (width, height))
    for x in range(width):
        for y in range(height):
            image.putpixel((x, y), (x * 4 % 256, y * 5 % 256, 128))
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # Make
    exif[0x0131] = "LeakyFirmware 1.0"  # Software
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


async def _pair(
    tmp: Path, relay: RelayProcess, servers: tuple[str, ...]
) -> tuple[Client, Client, GroupInfo]:
    alice = await make_client(tmp, relay.url, "alice", blossom=servers)
    bob = await make_client(tmp, relay.url, "bob", blossom=servers)
    group = await alice.session.groups.create("Pictures", [bob.npub], profile="mip")
    await join(bob, group)
    return alice, bob, group


async def _received(client: Client, with_files: int = 1) -> MessageInfo:
    found = await eventually(
        lambda: _async(client.of(MessageReceived)),
        lambda got: any(len(e.message.attachments) >= with_files for e in got),
    )
    return next(e.message for e in found if len(e.message.attachments) >= with_files)


async def _async(value: T) -> T:
    return value


async def _send(client: Client, group: GroupInfo, data: bytes, name: str, caption: str = "") -> str:
    info = await client.session.media.send_file(group.id, data, name, caption=caption)
    assert info.state == "pending"
    sent = await client.session.media.wait(info.id, 20)
    assert sent.state == "sent", sent
    assert sent.message_id is not None
    return sent.message_id


async def test_image_and_file_both_ways(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    alice, bob, group = await _pair(tmp_path, relay, (blossom_server.url,))
    try:
        photo = jpeg_with_exif()
        await _send(alice, group, photo, "cat.jpg", "a cat")
        uploads = [p for p in alice.of(TransferProgressed) if p.transfer.startswith("upload:")]
        assert uploads and uploads[-1].done == uploads[-1].total
        await eventually(
            lambda: _async([u.upload.state for u in alice.of(UploadChanged)]),
            lambda states: states == ["pending", "sent"],
        )

        got = await _received(bob)
        [attachment] = got.attachments
        assert got.content == "a cat" and attachment.filename == "cat.jpg"
        assert (attachment.width, attachment.height) == (64, 48) and attachment.blurhash
        assert attachment.mime_type == "image/jpeg"
        file = await bob.session.media.fetch(group.id, got.id)
        assert hashlib.sha256(file.data).hexdigest() == attachment.file_hash
        assert b"SecretCamera" not in file.data and b"LeakyFirmware" not in file.data
        assert Image.open(io.BytesIO(file.data)).size == (64, 48)
        assert file.thumbnail is not None and file.thumbnail.startswith(b"\xff\xd8")
        blobs = list(blossom_server.blob_dir.rglob("*"))
        assert any(p.is_file() for p in blobs)
        for blob in (p for p in blobs if p.is_file()):
            assert file.data[:4096] not in blob.read_bytes()  # only ciphertext on the server

        notes = b"meeting at noon\n" * 100
        await _send(bob, group, notes, "notes.txt")
        back = await _received(alice)
        assert back.attachments[0].mime_type == "text/plain"
        fetched = await alice.session.media.fetch(group.id, back.id)
        assert (fetched.data, fetched.filename) == (notes, "notes.txt")
        # Our own files come from the cache, not the server.
        mine = await alice.session.media.fetch(
            group.id, (await alice.session.messages.list_messages(group.id))[0].id
        )
        assert hashlib.sha256(mine.data).hexdigest() == attachment.file_hash
    finally:
        await alice.close()
        await bob.close()


async def test_media_key_outlives_the_retained_epochs(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    alice, bob, group = await _pair(tmp_path, relay, (blossom_server.url,))
    try:
        await _send(alice, group, b"%PDF-1.4 tiny", "doc.pdf")
        got = await _received(bob)
        for _ in range(6):  # more commits than MLS keeps past epochs for
            await alice.session.groups.self_update(group.id)
        await alice.session.flush(10)
        await eventually(
            lambda: bob.session.groups.store.resolve(group.id),
            lambda g: g.epoch >= 7,
        )
        gid = (await bob.session.groups.store.resolve(group.id)).mls_group_id
        stored = await bob.session.messages.info_by_rumor(gid, got.id)
        assert stored is not None
        loaded = await bob.session.groups.store.load(gid)
        with pytest.raises(MlsError):
            loaded.marmot.media_exporter(1)
        file = await bob.session.media.fetch(group.id, got.id)
        assert file.data == b"%PDF-1.4 tiny" and file.mime_type == "application/pdf"
    finally:
        await alice.close()
        await bob.close()


class StallingServer:
    """Answers HEAD with 404 and takes the start of a PUT body, then never answers: an
    upload that is in flight when the process goes away."""

    def __init__(self) -> None:
        self.got_body = asyncio.Event()
        self.got_request = asyncio.Event()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> StallingServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if head.startswith(b"HEAD"):
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
                    continue
                self.got_request.set()
                if head.startswith(b"PUT"):
                    await reader.read(1024)
                    self.got_body.set()
                await asyncio.sleep(3600)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()


async def test_upload_interrupted_mid_transfer_resumes_after_restart(
    relay: RelayProcess,
    blossom_server: BlossomProcess,
    tmp_path: Path,
) -> None:
    async with StallingServer() as stalling:
        await _interrupted(relay, blossom_server, stalling, tmp_path)


async def _interrupted(
    relay: RelayProcess, blossom_server: BlossomProcess, stalling: StallingServer, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", blossom=(stalling.url,))
    bob = await make_client(tmp_path, relay.url, "bob", blossom=(blossom_server.url,))
    try:
        group = await alice.session.groups.create("Pictures", [bob.npub], profile="mip")
        await join(bob, group)
        big = bytes(range(256)) * 4096  # 1 MiB
        info = await alice.session.media.send_file(group.id, big, "data.bin")
        await asyncio.wait_for(stalling.got_body.wait(), 10)
        alice = await reopen(alice, relay.url, tmp_path, blossom=(blossom_server.url,))
        resumed = await eventually(
            lambda: alice.session.media.upload(info.id), lambda u: u.state == "sent", 20
        )
        assert resumed.attempts == 0  # the cut-off attempt never finished: no failure counted
        got = await _received(bob)
        assert got.id == resumed.message_id
        file = await bob.session.media.fetch(group.id, got.id)
        assert file.data == big and file.mime_type == "application/octet-stream"
    finally:
        await alice.close()
        await bob.close()


async def test_fallback_corrupt_and_undecryptable_blobs(
    relay: RelayProcess, blossom_factory: BlossomFactory, tmp_path: Path
) -> None:
    first, second = blossom_factory(), blossom_factory()
    alice, bob, group = await _pair(tmp_path, relay, (first.url, second.url))
    try:
        await _send(alice, group, b"first file\n", "a.txt")
        await _send(alice, group, b"second file\n", "b.txt")
        await eventually(
            lambda: bob.session.messages.list_messages(group.id),
            lambda ms: len([m for m in ms if m.attachments]) == 2,
        )
        messages = [m for m in await bob.session.messages.list_messages(group.id) if m.attachments]
        one, two = messages

        def corrupt(server: BlossomProcess, url: str) -> None:
            sha = url.rsplit("/", 1)[1][:64]
            stored = next(server.blob_dir.rglob(f"{sha}*"))
            stored.write_bytes(b"\x00" * stored.stat().st_size)

        corrupt(first, one.attachments[0].url)  # the URL's copy is bad: the mirror serves
        fetched = await bob.session.media.fetch(group.id, one.id)
        assert fetched.data == b"first file\n"

        corrupt(first, two.attachments[0].url)
        corrupt(second, two.attachments[0].url)
        with pytest.raises(MediaError) as caught:
            await bob.session.media.fetch(group.id, two.id)
        assert caught.value.reason == "hash_mismatch"
        assert "corrupt" in caught.value.message

        # A message naming a real blob with the wrong nonce: the blob is intact, its
        # contents do not open.
        gid = (await alice.session.groups.store.resolve(group.id)).mls_group_id
        loaded = await alice.session.groups.store.load(gid)
        encrypted = encrypt_media(loaded.marmot.media_exporter(), b"secret", "text/plain", "c.txt")
        async with blossom_client(alice.session.ctx) as client:
            descriptor = await client.upload([first.url], encrypted.blob)
        ref = encrypted.reference(descriptor.url)
        wrong = dataclasses.replace(ref, nonce=b"\x07" * 12)
        sent = await alice.session.messages.send_media(
            group.id,
            "",
            [build_imeta_tag(wrong)],
            MediaSend(loaded.marmot.epoch, lambda conn, rumor_id: None),
        )
        await alice.session.flush(10)
        await eventually(
            lambda: bob.session.messages.info_by_rumor(gid, sent.id), lambda m: m is not None
        )
        with pytest.raises(MediaError) as caught:
            await bob.session.media.fetch(group.id, sent.id)
        assert caught.value.reason == "undecryptable"
    finally:
        await alice.close()
        await bob.close()


async def test_server_list_is_published_and_read(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        assert await alice.session.media.servers.mine() == ()
        chosen = await alice.session.media.servers.set(
            [blossom_server.url + "/", "https://b.example"]
        )
        assert chosen == (blossom_server.url, "https://b.example")
        await alice.session.flush(10)
        assert await bob.session.media.servers.of(alice.pubkey) == chosen
        assert await alice.session.media.servers.refresh() == chosen
        # Another device of Alice's adopts the list it finds on the relays when it starts.
        nsec = alice.services.export_nsec(alice.pubkey, PASSPHRASE)
        other = Services(config_for(tmp_path / "alice-laptop", relay.url))
        try:
            laptop = await other.import_account(nsec, "pw")
            await laptop.start(live=False)
            assert await laptop.media.servers.mine() == chosen
        finally:
            await other.close()
    finally:
        await alice.close()
        await bob.close()


async def test_cancel_stops_an_upload_in_flight(relay: RelayProcess, tmp_path: Path) -> None:
    async with StallingServer() as stalling:
        alice = await make_client(tmp_path, relay.url, "alice", blossom=(stalling.url,))
        bob = await make_client(tmp_path, relay.url, "bob", blossom=(stalling.url,))
        try:
            group = await alice.session.groups.create("Pictures", [bob.npub], profile="mip")
            await join(bob, group)
            info = await alice.session.media.send_file(group.id, b"x" * 200_000, "a.bin")
            await asyncio.wait_for(stalling.got_body.wait(), 10)
            cancelled = await alice.session.media.cancel(info.id)
            assert cancelled.state == "cancelled" and cancelled.message_id is None
            assert await alice.session.media.uploads() == []
            with pytest.raises(NotAllowed):
                await alice.session.media.retry(info.id)
            await alice.session.flush(5)
            assert not [
                m for m in await alice.session.messages.list_messages(group.id) if m.attachments
            ]
            data, _ = await alice.session.account.db.run(media_repo.payload, info.id)
            assert data == b""  # the queued copy is gone
        finally:
            await alice.close()
            await bob.close()


async def test_group_picture_is_encrypted_on_blossom_and_shown_to_members(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    alice, bob, group = await _pair(tmp_path, relay, (blossom_server.url,))
    try:
        assert await bob.session.group_images.get(group.id) is None
        picture = jpeg_with_exif(40, 40)
        info = await alice.session.group_images.set(group.id, picture)
        assert len(info.image) == 64
        await alice.session.flush(10)
        seen = await eventually(
            lambda: bob.session.groups.info(group.id), lambda g: g.image == info.image
        )
        assert seen.image == info.image
        shown = await bob.session.group_images.get(group.id)
        assert shown is not None and shown.mime_type == "image/jpeg"
        assert Image.open(io.BytesIO(shown.data)).size == (40, 40)
        assert b"SecretCamera" not in shown.data
        [blob] = [p for p in blossom_server.blob_dir.rglob(f"{info.image}*") if p.is_file()]
        assert shown.data[:64] not in blob.read_bytes()  # the server holds ciphertext
        cleared = await alice.session.group_images.clear(group.id)
        assert cleared.image == ""
    finally:
        await alice.close()
        await bob.close()


async def test_bad_files_are_refused_with_typed_errors(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    try:
        group = await alice.session.groups.create("Solo", [], profile="mip")
        media = alice.session.media
        with pytest.raises(InvalidInput, match="empty"):
            await media.send_file(group.id, b"", "a.txt")
        with pytest.raises(InvalidInput, match="path separator"):
            await media.send_file(group.id, b"x", "../etc/passwd")
        with pytest.raises(InvalidInput, match="not a image/png"):
            await media.send_file(group.id, b"not a png", "a.png", mime_type="image/png")
        with pytest.raises(InvalidInput, match="not a readable image"):
            await media.send_file(group.id, b"\x89PNG\r\n\x1a\n broken", "b.png")
        big = tmp_path / "big.bin"
        with big.open("wb") as out:
            out.truncate(100 * 1024 * 1024 + 1)  # sparse: costs no disk
        with pytest.raises(MediaError) as caught:
            await media.send_path(group.id, big)
        assert caught.value.reason == "too_large"
        with pytest.raises(InvalidInput, match="cannot read"):
            await media.send_path(group.id, tmp_path / "missing.txt")
        # Unknown types go as MIP-04's escape hatch, known ones by their name.
        odd = await media.send_file(group.id, b"\x00\x01", "data.weird")
        pdf = await media.send_file(group.id, b"%PDF-1.4", "doc.pdf")
        assert (odd.mime_type, pdf.mime_type) == ("application/octet-stream", "application/pdf")
        assert [u.filename for u in await media.uploads()] == ["data.weird", "doc.pdf"]
    finally:
        await alice.close()


async def test_a_download_can_be_cancelled(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    async with StallingServer() as stalling:
        alice, bob, group = await _pair(tmp_path, relay, (blossom_server.url,))
        try:
            gid = (await alice.session.groups.store.resolve(group.id)).mls_group_id
            loaded = await alice.session.groups.store.load(gid)
            encrypted = encrypt_media(
                loaded.marmot.media_exporter(), b"slow", "text/plain", "s.txt"
            )
            ref = encrypted.reference(f"{stalling.url}/{encrypted.blob_hash.hex()}")
            sent = await alice.session.messages.send_media(
                group.id,
                "",
                [build_imeta_tag(ref)],
                MediaSend(loaded.marmot.epoch, lambda c, r: None),
            )
            await alice.session.flush(10)
            await eventually(
                lambda: bob.session.messages.info_by_rumor(gid, sent.id), lambda m: m is not None
            )
            fetching = asyncio.ensure_future(bob.session.media.fetch(group.id, sent.id))
            await asyncio.wait_for(stalling.got_request.wait(), 10)  # the GET hangs there
            assert bob.session.media.cancel_download(encrypted.file_hash.hex())
            with pytest.raises(asyncio.CancelledError):
                await fetching
            assert not bob.session.media.cancel_download(encrypted.file_hash.hex())
        finally:
            await alice.close()
            await bob.close()


async def test_profile_picture_goes_on_an_https_blossom_server(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    ca_file, cert_file, key_file = _certificates(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    url = f"https://127.0.0.1:{free_port()}"
    store = BlossomStore(url, tmp_path / "blobs", tls=tls)
    await store.start()
    http = HttpSettings(timeout=5.0, ca_file=str(ca_file))
    alice = await make_client(tmp_path, relay.url, "alice", blossom=(url,), http=http)
    bob = await make_client(tmp_path, relay.url, "bob", http=http)
    carol = await make_client(tmp_path, relay.url, "carol", blossom=(blossom_server.url,))
    try:
        picture = jpeg_with_exif(32, 32)
        published = await alice.session.media.picture_url(picture)
        assert published is not None and published.startswith(url + "/")
        assert (tmp_path / "blobs" / published.rsplit("/", 1)[1]).read_bytes() == picture
        await alice.session.contacts.publish_profile(name="Alice", picture=published)
        await alice.session.flush(10)
        await bob.session.contacts.fetch_profiles([alice.pubkey])
        profile = await bob.session.contacts.profile(alice.pubkey)
        assert profile.picture == published
        assert await bob.session.people.picture(published) == picture  # fetched over https
        # Without an https server the picture stays inline (a data: URL): nobody could
        # fetch one on this machine's plain-http store.
        assert await carol.session.media.picture_url(picture) is None
        inline = await carol.session.media.profile_picture(picture)
        assert inline.startswith("data:image/jpeg;base64,")
        square = Image.open(io.BytesIO(base64.b64decode(inline.split(",", 1)[1])))
        assert square.size == (128, 128)
        hosted = await alice.session.media.profile_picture(jpeg_with_exif(300, 200))
        assert hosted.startswith(url + "/")
    finally:
        await alice.close()
        await bob.close()
        await carol.close()
        await store.stop()
