"""Attachments in Profile B ("Dark Matter") groups: two in-process users through the real
relay and the real Blossom server, with MDK's ``encrypted-media-v2`` imeta tag and the
Profile B file crypto (exporter ``marmot``/``encrypted-media``)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from app.dm import media as dm_media
from app.dm.tree import from_rows
from app.errors import MediaError
from app.media_fetch import blossom_client
from app.message_records import EpochMoved, MediaSend, find_message
from app.models import GroupInfo, MessageInfo
from marmot.profile_b.components import BLOSSOM_LOCATOR
from marmot.profile_b.group_image import open_group_image
from marmot.profile_b.media import Locator, media_tag, parse_media_tag
from marmot.profile_b.media_crypto import media_secret, open_media, seal_media
from mls.errors import MlsError
from storage import Connection
from storage.repos import branches as branches_repo
from storage.repos import media as media_repo
from tests.helpers.app_clients import Client, catch_up, eventually, make_client, reopen
from tests.helpers.blossom import BlossomProcess
from tests.helpers.dm_clients import dm_group_with
from tests.helpers.relay import RelayProcess
from tests.integration.test_app_media import StallingServer, jpeg_with_exif

pytestmark = [
    pytest.mark.integration,
    pytest.mark.darkmatter,
    pytest.mark.media,
    pytest.mark.asyncio,
]

MARKER = b"dark matter plaintext marker: never on disk in the clear\n"


async def _pair(tmp: Path, relay: RelayProcess, blossom: str) -> tuple[Client, Client, GroupInfo]:
    alice = await make_client(tmp, relay.url, "alice", live=False, blossom=(blossom,))
    bob = await make_client(tmp, relay.url, "bob", live=False, blossom=(blossom,))
    group = await dm_group_with(alice, "Dark pictures", bob)
    return alice, bob, group


async def _send(client: Client, group: GroupInfo, data: bytes, name: str, caption: str = "") -> str:
    info = await client.session.media.send_file(group.id, data, name, caption=caption)
    sent = await client.session.media.wait(info.id, 20)
    assert sent.state == "sent", sent
    assert sent.message_id is not None
    await client.session.flush(10)
    return sent.message_id


async def _arrived(client: Client, group: GroupInfo, message_id: str) -> MessageInfo:
    async def probe() -> list[MessageInfo]:
        await catch_up(client)
        found = await client.session.messages.list_messages(group.id)
        return [m for m in found if m.id == message_id]

    return (await eventually(probe, bool, 30))[0]


async def _tags(client: Client, group: GroupInfo, message_id: str) -> list[tuple[str, ...]]:
    gid = (await client.session.groups.store.resolve(group.id)).mls_group_id
    row = await client.session.ctx.db.run(find_message, gid, message_id)
    assert row is not None
    return [tuple(t) for t in row.tags if t and t[0] == "imeta"]


def _files_under(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


async def test_image_and_file_both_ways_with_mdk_tags(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    alice, bob, group = await _pair(tmp_path, relay, blossom_server.url)
    try:
        # The group carries MDK master's v2 policy naming alice's server, on both sides.
        for member in (alice, bob):
            gid = (await member.session.groups.store.resolve(group.id)).mls_group_id
            key = await member.session.ctx.db.run(dm_media.send_key, gid)
            assert (key.version, key.servers) == ("encrypted-media-v2", (blossom_server.url,))
        photo = jpeg_with_exif()
        sent_id = await _send(alice, group, photo, "cat.jpg", "a cat")
        got = await _arrived(bob, group, sent_id)
        [attachment] = got.attachments
        assert (got.content, attachment.filename, attachment.mime_type) == (
            "a cat",
            "cat.jpg",
            "image/jpeg",
        )
        assert (attachment.width, attachment.height) == (64, 48)
        # The wire form is MDK's v2 reference, field by field, in its order.
        [tag] = await _tags(bob, group, sent_id)
        keys = [f.split(" ", 1)[0] for f in tag[1:]]
        assert keys == [
            "v",
            "locator",
            "ciphertext_sha256",
            "plaintext_sha256",
            "nonce",
            "m",
            "filename",
            "dim",
        ]
        assert tag[1] == "v encrypted-media-v2" and tag[2].startswith(f"locator {BLOSSOM_LOCATOR} ")
        ref = parse_media_tag(tag)
        assert ref.plaintext_sha256 == attachment.file_hash and ref.dim == "64x48"
        assert attachment.url == ref.locators[0].value and ref.ciphertext_sha256 in attachment.url

        file = await bob.session.media.fetch(group.id, sent_id)
        assert hashlib.sha256(file.data).hexdigest() == attachment.file_hash
        assert Image.open(io.BytesIO(file.data)).size == (64, 48)
        assert b"SecretCamera" not in file.data  # re-encoded without EXIF, as for MIP-04
        assert file.thumbnail is not None and file.thumbnail.startswith(b"\xff\xd8")
        mine = await alice.session.media.fetch(group.id, sent_id)  # from alice's cache
        assert mine.data == file.data

        notes = MARKER * 50
        back_id = await _send(bob, group, notes, "notes.txt")
        back = await _arrived(alice, group, back_id)
        assert back.attachments[0].mime_type == "text/plain"
        fetched = await alice.session.media.fetch(group.id, back_id)
        assert (fetched.data, fetched.filename) == (notes, "notes.txt")

        # The key is the group's Profile B media exporter: open the stored blob ourselves.
        gid = (await alice.session.groups.store.resolve(group.id)).mls_group_id
        tip = await alice.session.ctx.db.run(
            lambda conn: from_rows(branches_repo.load_tree(conn, gid)).canonical.state
        )
        [back_tag] = await _tags(alice, group, back_id)
        back_ref = parse_media_tag(back_tag)
        [blob_path] = [
            p for p in _files_under(blossom_server.blob_dir) if back_ref.ciphertext_sha256 in p.name
        ]
        assert open_media(media_secret(tip), back_ref, blob_path.read_bytes()) == notes

        # Nothing in the clear: not in the data folders, not on the server.
        for path in _files_under(tmp_path / "alice", tmp_path / "bob", blossom_server.blob_dir):
            content = path.read_bytes()
            assert MARKER not in content, path
            assert file.data[:2048] not in content, path
    finally:
        await alice.close()
        await bob.close()


async def test_restart_before_download_and_keys_past_the_retained_epochs(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    alice, bob, group = await _pair(tmp_path, relay, blossom_server.url)
    try:
        await bob.close()  # offline while alice sends
        sent_id = await _send(alice, group, MARKER, "doc.txt")
        for n in range(7):  # more commits than MLS keeps past epochs for
            await alice.session.groups.rename(group.id, name=f"Dark pictures {n}")
        await alice.session.flush(10)
        bob = await reopen(bob, relay.url, tmp_path, live=False, blossom=(blossom_server.url,))
        got = await _arrived(bob, group, sent_id)
        assert got.attachments[0].filename == "doc.txt"
        await eventually(
            lambda: _name_after_catch_up(bob, group), lambda name: name == "Dark pictures 6", 30
        )
        bob = await reopen(bob, relay.url, tmp_path, live=False, blossom=(blossom_server.url,))
        gid = (await bob.session.groups.store.resolve(group.id)).mls_group_id
        message = await bob.session.messages.info_by_rumor(gid, sent_id)
        assert message is not None

        def epochs(conn: Connection) -> tuple[int, int, bool]:
            row = conn.execute(
                "SELECT epoch FROM messages WHERE mls_group_id = ? AND rumor_id = ?",
                (gid, sent_id),
            ).fetchone()
            tip = from_rows(branches_repo.load_tree(conn, gid)).canonical.state
            try:
                media_secret(tip, row[0])
                retained = True
            except MlsError:
                retained = False
            return row[0], tip.epoch, retained

        epoch, tip_epoch, retained = await bob.session.ctx.db.run(epochs)
        assert tip_epoch >= epoch + 7 and not retained  # only the kept key opens it now
        kept = await bob.session.ctx.db.run(media_repo.epoch_key, gid, epoch)
        assert kept is not None
        file = await bob.session.media.fetch(group.id, sent_id)
        assert file.data == MARKER and file.mime_type == "text/plain"
    finally:
        await alice.close()
        await bob.close()


async def _name_after_catch_up(client: Client, group: GroupInfo) -> str:
    await catch_up(client)
    return (await client.session.groups.info(group.id)).name


async def test_corrupt_blob_and_wrong_key_are_refused(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    alice, bob, group = await _pair(tmp_path, relay, blossom_server.url)
    try:
        sent_id = await _send(alice, group, b"first file\n", "a.txt")
        got = await _arrived(bob, group, sent_id)
        sha = parse_media_tag((await _tags(bob, group, sent_id))[0]).ciphertext_sha256
        [stored] = [p for p in _files_under(blossom_server.blob_dir) if sha in p.name]
        stored.write_bytes(b"\x00" * stored.stat().st_size)
        with pytest.raises(MediaError) as caught:
            await bob.session.media.fetch(group.id, got.id)
        assert caught.value.reason == "hash_mismatch"

        # An intact blob whose reference names another nonce: the file key does not open it.
        gid = (await alice.session.groups.store.resolve(group.id)).mls_group_id
        tip = await alice.session.ctx.db.run(
            lambda conn: from_rows(branches_repo.load_tree(conn, gid)).canonical.state
        )
        secret = media_secret(tip)
        sealed = seal_media(secret, "encrypted-media-v2", b"secret", "text/plain", "c.txt")
        async with blossom_client(alice.session.ctx) as client:
            descriptor = await client.upload([blossom_server.url], sealed.ciphertext)
        ref = sealed.reference([Locator(BLOSSOM_LOCATOR, descriptor.url)])
        wrong = dataclasses.replace(ref, nonce_hex="07" * 12)
        sent = await alice.session.messages.send_media(
            group.id, "", [media_tag(wrong)], MediaSend(tip.epoch, lambda c, r: None, secret)
        )
        await alice.session.flush(10)
        await _arrived(bob, group, sent.id)
        with pytest.raises(MediaError) as caught:
            await bob.session.media.fetch(group.id, sent.id)
        assert caught.value.reason == "undecryptable"
    finally:
        await alice.close()
        await bob.close()


async def test_upload_cut_off_by_a_restart_is_sent_after_it(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    async with StallingServer() as stalling:
        alice = await make_client(tmp_path, relay.url, "alice", live=False, blossom=(stalling.url,))
        bob = await make_client(tmp_path, relay.url, "bob", live=False)
        try:
            group = await dm_group_with(alice, "Dark uploads", bob)
            big = bytes(range(256)) * 4096  # 1 MiB
            info = await alice.session.media.send_file(group.id, big, "data.bin")
            await asyncio.wait_for(stalling.got_body.wait(), 10)
            alice = await reopen(
                alice, relay.url, tmp_path, live=False, blossom=(blossom_server.url,)
            )
            resumed = await eventually(
                lambda: alice.session.media.upload(info.id), lambda u: u.state == "sent", 30
            )
            assert resumed.message_id is not None
            await alice.session.flush(10)
            got = await _arrived(bob, group, resumed.message_id)
            [tag] = await _tags(bob, group, got.id)
            assert tag[1] == "v encrypted-media-v2"
            file = await bob.session.media.fetch(group.id, got.id)
            assert file.data == big and file.mime_type == "application/octet-stream"
        finally:
            await alice.close()
            await bob.close()


async def test_group_picture_is_component_0x8002_sealed_on_blossom(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    alice, bob, group = await _pair(tmp_path, relay, blossom_server.url)
    try:
        assert await bob.session.group_images.get(group.id) is None
        info = await alice.session.group_images.set(group.id, jpeg_with_exif(40, 40))
        assert len(info.image) == 64
        gid = (await alice.session.groups.store.resolve(group.id)).mls_group_id
        component = await alice.session.ctx.db.run(dm_media.canonical_image, gid)
        assert component is not None and component.image_hash.hex() == info.image
        assert component.media_type == "image/jpeg"

        async def seen() -> GroupInfo:
            await catch_up(bob)
            return await bob.session.groups.info(group.id)

        await eventually(seen, lambda g: g.image == info.image, 30)
        shown = await bob.session.group_images.get(group.id)
        assert shown is not None and shown.mime_type == "image/jpeg"
        assert Image.open(io.BytesIO(shown.data)).size == (40, 40)
        assert b"SecretCamera" not in shown.data
        [blob] = [p for p in _files_under(blossom_server.blob_dir) if info.image in p.name]
        assert open_group_image(component, blob.read_bytes()) == shown.data
        assert shown.data[:64] not in blob.read_bytes()  # the server holds ciphertext

        cleared = await alice.session.group_images.clear(group.id)
        assert cleared.image == ""
        await eventually(seen, lambda g: g.image == "", 30)
        assert await bob.session.group_images.get(group.id) is None
    finally:
        await alice.close()
        await bob.close()


async def test_attachments_sealed_for_a_left_tip_are_refused_and_nothing_is_stored(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    alice, bob, group = await _pair(tmp_path, relay, blossom_server.url)
    try:
        gid = (await alice.session.groups.store.resolve(group.id)).mls_group_id
        before = await alice.session.ctx.db.run(dm_media.send_key, gid)
        await alice.session.groups.rename(group.id, name="moved on")
        after = await alice.session.ctx.db.run(dm_media.send_key, gid)
        assert after.epoch == before.epoch + 1
        ran: list[str] = []
        sealed = dm_media.seal_file(before, b"late", "text/plain", "late.txt", b"\x01" * 12)
        url = f"{blossom_server.url}/{sealed.ciphertext_sha256}"
        tag = dm_media.tag_for(sealed, url, None)
        stale = [
            MediaSend(before.epoch, lambda c, r: ran.append(r), before.secret),
            MediaSend(after.epoch, lambda c, r: ran.append(r), before.secret),  # same epoch no.
        ]
        for media in stale:
            with pytest.raises(EpochMoved):
                await alice.session.messages.send_media(group.id, "", [tag], media)
        assert ran == []
        shown = await alice.session.messages.list_messages(group.id)
        assert [m for m in shown if m.kind == 9] == []
    finally:
        await alice.close()
        await bob.close()


async def test_a_file_on_a_losing_branch_is_sealed_again_for_the_winner(
    relay: RelayProcess, blossom_server: BlossomProcess, tmp_path: Path
) -> None:
    """Alice and Bob rename at the same epoch and each sends a file on their own branch
    (Carol writes on Alice's). Whichever branch loses, its file was sealed with that
    branch's secret, which the winner's members cannot derive: it goes out again sealed
    for the winning tip, and every member opens both files."""
    names = ("alice", "bob", "carol")
    alice, bob, carol = [
        await make_client(tmp_path, relay.url, n, live=False, blossom=(blossom_server.url,))
        for n in names
    ]
    members = (alice, bob, carol)
    try:
        group = await dm_group_with(alice, "Quorum", bob, carol)
        await alice.session.groups.promote(group.id, bob.npub)
        await catch_up(bob, carol)
        await alice.session.groups.rename(group.id, name="Alice's name")
        await catch_up(carol)  # on Alice's branch before Bob's commit exists
        await bob.session.groups.rename(group.id, name="Bob's name")
        files = {b"from bob's branch\n" * 30: "bob.txt", b"from alice's branch\n" * 30: "alice.txt"}
        await _send(bob, group, next(iter(files)), "bob.txt")
        await _send(alice, group, list(files)[1], "alice.txt")
        await carol.session.messages.send(group.id, "carol, on alice's")

        async def settled() -> list[tuple[str, set[str]]]:
            out = []
            for client in members:
                await client.session.media.flush(10)
                await client.session.flush(10)
                await catch_up(client)
                shown = await client.session.messages.list_messages(group.id)
                named = {m.attachments[0].filename for m in shown if m.attachments}
                out.append(((await client.session.groups.info(group.id)).name, named))
            return out

        done = await eventually(
            settled, lambda r: len({n for n, _ in r}) == 1 and all(len(f) == 2 for _, f in r), 40
        )
        assert done[0][0] in ("Alice's name", "Bob's name")
        for client in members:
            await client.session.media.flush(10)  # nothing more is queued: one new copy
            await client.session.flush(10)
        await catch_up(*members)
        for client in members:
            shown = await client.session.messages.list_messages(group.id)
            live = [m for m in shown if m.attachments and m.status != "invalidated"]
            assert sorted(m.attachments[0].filename for m in live) == ["alice.txt", "bob.txt"]
            for message in (m for m in shown if m.attachments):
                file = await client.session.media.fetch(group.id, message.id)
                assert files[file.data] == message.attachments[0].filename, client.name
        # A restart re-sends what is still withdrawn: a replaced file is not among it.
        blossom = (blossom_server.url,)
        alice = await reopen(alice, relay.url, tmp_path, live=False, blossom=blossom)
        bob = await reopen(bob, relay.url, tmp_path, live=False, blossom=blossom)
        members = (alice, bob, carol)
        for client in (alice, bob):
            await client.session.media.flush(10)
            await client.session.flush(10)
        await catch_up(carol)
        shown = await carol.session.messages.list_messages(group.id)
        live = [m for m in shown if m.attachments and m.status != "invalidated"]
        assert sorted(m.attachments[0].filename for m in live) == ["alice.txt", "bob.txt"]
    finally:
        for client in members:
            await client.close()
