"""Attachments between Burrow and the Dark Matter client ``dm`` (e43fd5e) in a group ``dm``
founded (its groups carry the 0x8008 ``encrypted-media-v1`` policy), through the real relay
and the real Blossom server on 127.0.0.1 (``DM_ALLOW_LOOPBACK_BLOB_ENDPOINTS=1``: ``dm``
refuses loopback blob endpoints otherwise). Each side opens what the other encrypted."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from app.message_records import find_message
from app.models import MessageInfo
from marmot.profile_b.media import parse_media_tag
from tests.helpers.app_clients import Client, catch_up, make_client
from tests.helpers.blossom import BlossomProcess
from tests.helpers.relay import RelayProcess
from tests.oracle.dm_driver import DmUser, poll
from tests.oracle.dm_scenes import dm_chat_of, draft_key_package_only

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.darkmatter,
    pytest.mark.integration,
    pytest.mark.media,
    pytest.mark.asyncio,
]

FROM_DM = b"a file dm encrypted for burrow\n" * 40
FROM_BURROW = b"a file burrow encrypted for dm\n" * 40


class LoopbackDmUser(DmUser):
    """A ``dm`` user allowed to use http://127.0.0.1 blob endpoints (its dev knob)."""

    def _env(self) -> dict[str, str]:
        env = super()._env()
        env["DM_ALLOW_LOOPBACK_BLOB_ENDPOINTS"] = "1"
        return env


@pytest_asyncio.fixture
async def dm_bob(
    dm_binaries: Path, relay: RelayProcess, tmp_path: Path
) -> AsyncIterator[LoopbackDmUser]:
    user = await LoopbackDmUser.start(dm_binaries, tmp_path / "dm-bob", [relay.url])
    try:
        await user.create_identity()
        yield user
    finally:
        await user.close()


async def test_files_both_ways_with_dm(
    relay: RelayProcess,
    blossom_server: BlossomProcess,
    dm_bob: LoopbackDmUser,
    tmp_path: Path,
) -> None:
    bob = dm_bob
    alice = await make_client(tmp_path, relay.url, "alice", blossom=(blossom_server.url,))
    try:
        await draft_key_package_only(alice)
        made = await bob.create_group("dm pictures", [alice.pubkey])
        chat = str(made["group_id"])
        invites = await poll(alice.session.invites.list_invites, bool)
        group = await alice.session.invites.accept(invites[0].id)

        # dm -> Burrow
        path = tmp_path / "from-dm.txt"
        path.write_bytes(FROM_DM)
        uploaded = await bob.run(
            "media",
            "upload",
            chat,
            str(path),
            "--send",
            "--message",
            "from dm",
            "--server",
            blossom_server.url,
        )
        [sent] = uploaded["attachments"]

        async def arrived() -> list[MessageInfo]:
            await catch_up(alice)
            shown = await alice.session.messages.list_messages(group.id)
            return [m for m in shown if m.attachments]

        [got] = await poll(arrived, bool)
        [attachment] = got.attachments
        assert attachment.file_hash == hashlib.sha256(FROM_DM).hexdigest()
        assert sent["media"]["version"] == "encrypted-media-v1"
        assert sent["media"]["plaintext_sha256"] == attachment.file_hash
        assert (got.content, attachment.filename) == ("from dm", "from-dm.txt")
        file = await alice.session.media.fetch(group.id, got.id)
        assert file.data == FROM_DM

        # Burrow -> dm: the group's policy says v1, so Burrow seals v1.
        info = await alice.session.media.send_file(group.id, FROM_BURROW, "from-burrow.txt")
        done = await alice.session.media.wait(info.id, 30)
        assert done.state == "sent", done
        await alice.session.flush(10)
        mine = [m for m in await alice.session.messages.list_messages(group.id) if m.own]
        [tag] = await _imeta_of(alice, group.id, mine[-1].id)
        assert tag[1] == "v encrypted-media-v1" and parse_media_tag(tag, allow_loopback_http=True)
        want = hashlib.sha256(FROM_BURROW).hexdigest()

        async def listed() -> list[object]:
            await bob.sync()
            result = await bob.run("media", "list", chat)
            return [a for a in result.get("media", result.get("attachments", [])) if want in str(a)]

        await poll(listed, bool)
        out = tmp_path / "got-by-dm.txt"
        await bob.run("media", "download", chat, want, "--output", str(out))
        assert out.read_bytes() == FROM_BURROW
    finally:
        await alice.close()


async def _imeta_of(client: Client, group: str, message_id: str) -> list[tuple[str, ...]]:
    gid = (await client.session.groups.store.resolve(group)).mls_group_id
    row = await client.session.ctx.db.run(find_message, gid, message_id)
    assert row is not None
    return [tuple(t) for t in row.tags if t and t[0] == "imeta"]


async def test_dm_uploads_to_the_endpoint_of_a_burrow_made_groups_policy(
    relay: RelayProcess,
    blossom_server: BlossomProcess,
    dm_bob: LoopbackDmUser,
    tmp_path: Path,
) -> None:
    """Burrow founds the group in dm's (draft) form: its 0x8008 policy names alice's
    Blossom server, and dm, given no --server, uploads there."""
    bob = dm_bob
    alice = await make_client(tmp_path, relay.url, "alice", blossom=(blossom_server.url,))
    try:
        group = await alice.session.groups.create(
            "Burrow pictures", [bob.npub], profile="darkmatter"
        )
        chat = await dm_chat_of(bob)
        path = tmp_path / "policy.txt"
        path.write_bytes(FROM_DM)
        uploaded = await bob.run("media", "upload", chat, str(path), "--send")
        [sent] = uploaded["attachments"]
        [locator] = sent["media"]["locators"]
        assert locator["value"].startswith(blossom_server.url + "/")

        async def arrived() -> list[MessageInfo]:
            await catch_up(alice)
            shown = await alice.session.messages.list_messages(group.id)
            return [m for m in shown if m.attachments]

        [got] = await poll(arrived, bool)
        file = await alice.session.media.fetch(group.id, got.id)
        assert (file.data, file.filename) == (FROM_DM, "policy.txt")
    finally:
        await alice.close()
