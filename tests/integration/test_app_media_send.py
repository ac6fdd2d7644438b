"""Messages.send_media: the message is stored with the upload's write in one transaction,
and refused (EpochMoved) once the group left the epoch its attachments were encrypted for."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.message_records import EpochMoved, MediaSend
from marmot.media import build_imeta_tag, encrypt_media
from storage import Connection
from storage.repos import media as media_repo
from tests.helpers.app_clients import make_client
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.media, pytest.mark.asyncio]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


async def test_send_media_shares_the_transaction_and_checks_the_epoch(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        group = await alice.session.groups.create("Pictures", [bob.npub], profile="mip")
        loaded = await alice.session.groups.store.load(
            (await alice.session.groups.store.resolve(group.id)).mls_group_id
        )
        gid, epoch = loaded.group.mls_group_id, loaded.marmot.epoch
        new = media_repo.NewUpload(gid, "a.png", "image/png", PNG, b"\x01" * 12)
        uid = await alice.session.account.db.run(media_repo.enqueue, new, now=1)
        enc = encrypt_media(loaded.marmot.media_exporter(), PNG, "image/png", "a.png")
        tag = enc.reference("http://127.0.0.1:9/" + enc.blob_hash.hex())

        def done(conn: Connection, rumor_id: str) -> None:
            media_repo.mark_sent(conn, uid, rumor_id, now=2)

        with pytest.raises(EpochMoved):
            await alice.session.messages.send_media(
                group.id, "old epoch", [build_imeta_tag(tag)], MediaSend(epoch + 1, done)
            )
        assert (await alice.session.account.db.run(media_repo.get, uid)).state == "pending"  # type: ignore[union-attr]
        info = await alice.session.messages.send_media(
            group.id, "a picture", [build_imeta_tag(tag)], MediaSend(epoch, done)
        )
        sent = await alice.session.account.db.run(media_repo.get, uid)
        assert sent is not None and sent.state == "sent" and sent.rumor_id == info.id
        [attachment] = info.attachments
        assert attachment.filename == "a.png" and attachment.file_hash == enc.file_hash.hex()
        [listed] = await alice.session.messages.list_messages(group.id)
        assert listed.attachments == info.attachments and listed.content == "a picture"
    finally:
        await alice.close()
        await bob.close()
