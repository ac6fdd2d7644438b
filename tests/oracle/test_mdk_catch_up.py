"""Burrow against MDK: one side offline across several commits and messages of the other,
then catching up from the relay (open and AUTH), checked on decrypted texts, names and
epochs. The commits come back to back, as a user's quick changes do: several in a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.app_clients import eventually, reopen
from tests.helpers.relay import RelayProcess
from tests.oracle.mdk_driver import MdkPeer
from tests.oracle.mdk_scenes import burrow_and_mdk_group, burrow_texts, mdk_raw, mdk_texts

pytestmark = [pytest.mark.mdk, pytest.mark.asyncio]


async def test_mdk_member_offline_across_burrow_commits_catches_up(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice, bob, ref, gid = await burrow_and_mdk_group(any_relay, peer, tmp_path, burrow_admin=True)
    try:
        await bob("offline")
        groups, messages = alice.session.groups, alice.session.messages
        texts = ["before the changes", "after the rename", "after the self-update", "last"]
        await messages.send(ref, texts[0])
        await groups.rename(ref, name="Offline 1")
        await messages.send(ref, texts[1])
        await groups.self_update(ref)
        await messages.send(ref, texts[2])
        await groups.rename(ref, description="changed while bob was away")
        await groups.rename(ref, name="Offline 2")
        last = await messages.send(ref, texts[3])
        await messages.wait_sent(last, 5)
        info = await groups.info(ref)

        await bob("online")
        got = await eventually(lambda: mdk_raw(bob, gid), lambda t: len(t) == len(texts))
        got.sort(key=lambda m: m["created_at"])  # MDK lists newest first
        assert [(m["author"], m["content"]) for m in got] == [(alice.pubkey, t) for t in texts]
        seen = await bob("group", group=gid)
        assert (seen["name"], seen["description"]) == ("Offline 2", "changed while bob was away")
        assert seen["epoch"] == info.epoch
        await bob("send", group=gid, content="caught up")
        await eventually(lambda: burrow_texts(alice, ref), lambda t: (bob.pubkey, "caught up") in t)
    finally:
        await alice.close()


async def test_burrow_member_offline_across_mdk_commits_catches_up(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice, bob, ref, gid = await burrow_and_mdk_group(any_relay, peer, tmp_path, burrow_admin=False)
    await alice.close()
    texts = ["before the changes", "after the rename", "after the self-update", "last"]
    await bob("send", group=gid, content=texts[0])
    await bob("rename", group=gid, name="Offline 1")
    await bob("send", group=gid, content=texts[1])
    await bob("self_update", group=gid)
    await bob("send", group=gid, content=texts[2])
    await bob("rename", group=gid, description="changed while alice was away")
    await bob("rename", group=gid, name="Offline 2")
    seen = await bob("send", group=gid, content=texts[3])
    assert seen["content"] == texts[3]
    epoch = (await bob("group", group=gid))["epoch"]

    alice = await reopen(alice, any_relay.url, tmp_path)
    try:
        got = await eventually(lambda: burrow_texts(alice, ref), lambda t: len(t) == len(texts))
        assert sorted(got) == sorted((bob.pubkey, t) for t in texts)
        info = await alice.session.groups.info(ref)
        assert (info.name, info.description) == ("Offline 2", "changed while alice was away")
        assert info.epoch == epoch
        sent = await alice.session.messages.send(ref, "caught up")
        await alice.session.messages.wait_sent(sent, 5)
        await eventually(lambda: mdk_texts(bob, gid), lambda t: (alice.pubkey, "caught up") in t)
    finally:
        await alice.close()
