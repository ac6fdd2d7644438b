"""Burrow against MDK itself (mdk-python 0.8.0, White Noise's library) through the real relay.

The MDK side is ``tests/oracle/mdk_peer.py`` in its own venv (installed from nothing by
``tests/oracle/mdk_install.py``); Burrow is the service layer. Every scenario runs on an open
relay and on the NIP-42 AUTH relay, and asserts decrypted content and identities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.app_clients import eventually, make_client
from tests.helpers.relay import RelayProcess
from tests.oracle.mdk_driver import MdkPeer, MdkUser
from tests.oracle.mdk_scenes import burrow_and_mdk_group, burrow_texts, mdk_raw, mdk_texts

pytestmark = [pytest.mark.mdk, pytest.mark.asyncio]


async def test_burrow_creates_group_with_mdk_member_and_both_chat(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, any_relay.url, "alice")
    bob = await MdkUser.create(peer, "bob", any_relay.url)
    try:
        group = await alice.session.groups.create("Burrow made", [bob.npub], "by alice")
        synced = await eventually(lambda: bob("sync"), lambda r: bool(r["groups"]))
        [seen] = synced["groups"]
        assert seen["nostr_group_id"] == group.id
        assert (seen["name"], seen["description"]) == ("Burrow made", "by alice")
        assert seen["members"] == sorted([alice.pubkey, bob.pubkey])
        assert seen["admins"] == [alice.pubkey]
        mls_id = seen["id"]

        sent = await alice.session.messages.send(group.id, "hello from burrow")
        await alice.session.messages.wait_sent(sent, 5)
        got = await eventually(lambda: mdk_texts(bob, mls_id), bool)
        assert got == [(alice.pubkey, "hello from burrow")]

        await bob("send", group=mls_id, content="hello from mdk")
        texts = await eventually(lambda: burrow_texts(alice, group.id), lambda t: len(t) == 2)
        assert sorted(texts) == sorted(
            [(alice.pubkey, "hello from burrow"), (bob.pubkey, "hello from mdk")]
        )
        info = await alice.session.groups.info(group.id)
        assert info.epoch == seen["epoch"]
    finally:
        await alice.close()


async def test_mdk_creates_group_with_burrow_member_and_both_chat(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, any_relay.url, "alice")
    bob = await MdkUser.create(peer, "bob", any_relay.url)
    try:
        made = await bob(
            "create_group", members=[alice.pubkey], name="MDK made", description="by bob"
        )
        assert made["key_package_kinds"] == [443]  # Burrow's Profile A, its d tag and all
        invites = await eventually(alice.session.invites.list_invites, bool)
        assert invites[0].inviter == bob.pubkey and invites[0].group_name == "MDK made"
        joined = await alice.session.invites.accept(invites[0].id)
        assert joined.id == made["nostr_group_id"]
        assert joined.description == "by bob" and joined.admins == (bob.pubkey,)
        assert {m.pubkey for m in joined.members} == {alice.pubkey, bob.pubkey}

        await bob("send", group=made["id"], content="welcome, alice")
        texts = await eventually(lambda: burrow_texts(alice, joined.id), bool)
        assert texts == [(bob.pubkey, "welcome, alice")]

        sent = await alice.session.messages.send(joined.id, "thanks, bob")
        await alice.session.messages.wait_sent(sent, 5)
        got = await eventually(lambda: mdk_texts(bob, made["id"]), lambda t: len(t) == 2)
        # Both in the same second: MDK orders ties by its own rules, so compare as a set.
        assert sorted(got) == sorted(
            [(bob.pubkey, "welcome, alice"), (alice.pubkey, "thanks, bob")]
        )
        mdk_epoch = (await bob("group", group=made["id"]))["epoch"]
        assert (await alice.session.groups.info(joined.id)).epoch == mdk_epoch
    finally:
        await alice.close()


async def test_rename_and_describe_both_ways(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice, bob, ref, gid = await burrow_and_mdk_group(any_relay, peer, tmp_path, burrow_admin=True)
    try:
        await alice.session.groups.rename(ref, name="Renamed by Burrow", description="ours")
        seen = await eventually(
            lambda: bob("sync"), lambda r: r["groups"][0]["name"] == "Renamed by Burrow"
        )
        assert seen["groups"][0]["description"] == "ours"

        # Bob becomes admin too (Burrow's commit), then renames from MDK.
        await alice.session.groups.promote(ref, bob.npub)
        await eventually(lambda: bob("sync"), lambda r: bob.pubkey in r["groups"][0]["admins"])
        await bob("rename", group=gid, name="Renamed by MDK", description="theirs")
        info = await eventually(
            lambda: alice.session.groups.info(ref), lambda g: g.name == "Renamed by MDK"
        )
        assert info.description == "theirs" and set(info.admins) == {alice.pubkey, bob.pubkey}
        assert info.epoch == (await bob("group", group=gid))["epoch"]
    finally:
        await alice.close()


async def test_replies_reactions_deletions_each_way_in_white_noise_formats(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice, bob, ref, gid = await burrow_and_mdk_group(any_relay, peer, tmp_path, burrow_admin=True)
    try:
        # MDK -> Burrow: a message, then whitenoise-rs's reply (kind 9, one e tag, no q),
        # reaction (kind 7: e, p with empty hint, k) and deletion (kind 5 inside the group).
        first = await bob("send", group=gid, content="first from mdk")
        reply = await bob("send", group=gid, content="mdk replies", tags=[["e", first["id"]]])
        await bob(
            "send",
            group=gid,
            kind=7,
            content="+",
            tags=[["e", first["id"]], ["p", bob.pubkey, ""], ["k", "9"]],
        )
        doomed = await bob("send", group=gid, content="mdk will delete this")
        await bob("send", group=gid, kind=5, content="", tags=[["e", doomed["id"]], ["k", "9"]])

        def settled(msgs: list[Any]) -> bool:
            by_id = {m.id: m for m in msgs}
            return (
                doomed["id"] in by_id
                and by_id[doomed["id"]].deleted
                and reply["id"] in by_id
                and bool(by_id[first["id"]].reactions)
            )

        msgs = await eventually(lambda: alice.session.messages.list_messages(ref), settled)
        by_id = {m.id: m for m in msgs}
        assert by_id[reply["id"]].reply_to == first["id"]
        assert by_id[reply["id"]].content == "mdk replies"
        assert by_id[reply["id"]].author == bob.pubkey
        [reaction] = by_id[first["id"]].reactions
        assert (reaction.emoji, reaction.authors) == ("+", (bob.pubkey,))
        assert by_id[doomed["id"]].deleted

        # Burrow -> MDK: reply (q tag + NIP-C7 citation), reaction (first e), deletion.
        mine = await alice.session.messages.send(ref, "burrow says hi")
        answer = await alice.session.messages.send(ref, "burrow replies", reply_to=first["id"])
        liked = await alice.session.messages.react(ref, reply["id"], "🔥")
        gone = await alice.session.messages.delete(ref, mine.id)
        for sent in (mine, answer, liked, gone):
            await alice.session.messages.wait_sent(sent, 5)

        def mdk_has_all(seen: list[dict[str, Any]]) -> bool:
            return {m["id"] for m in seen} >= {mine.id, answer.id, liked.id, gone.id}

        await bob("sync")
        seen = await eventually(lambda: mdk_raw(bob, gid), mdk_has_all)
        got = {m["id"]: m for m in seen}
        # White Noise reads q first, else the last e: the q tag names our target.
        q_tags = [t for t in got[answer.id]["tags"] if t[0] == "q"]
        assert q_tags and q_tags[0][1] == first["id"]
        assert got[answer.id]["author"] == alice.pubkey
        assert got[answer.id]["content"].endswith("burrow replies")
        assert got[liked.id]["kind"] == 7 and got[liked.id]["content"] == "🔥"
        assert next(t for t in got[liked.id]["tags"] if t[0] == "e")[1] == reply["id"]
        assert got[gone.id]["kind"] == 5
        assert [t[1] for t in got[gone.id]["tags"] if t[0] == "e"] == [mine.id]
    finally:
        await alice.close()
