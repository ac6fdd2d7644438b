"""Burrow against MDK: membership changes either stack makes for the other (add, remove,
self-update, leave), on the open and the AUTH relay, checked on both sides' decrypted
messages, member lists and epochs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.app_clients import Client, eventually, make_client
from tests.helpers.relay import RelayProcess
from tests.oracle.mdk_driver import MdkPeer, MdkUser
from tests.oracle.mdk_scenes import burrow_and_mdk_group, burrow_texts, mdk_texts

pytestmark = [pytest.mark.mdk, pytest.mark.asyncio]


def _group(synced: dict[str, Any], gid: str) -> dict[str, Any]:
    [group] = [g for g in synced["groups"] if g["id"] == gid]
    return group


async def _mdk_group(user: MdkUser, gid: str, ok: Any) -> dict[str, Any]:
    """Sync ``user`` until its view of ``gid`` satisfies ``ok``."""
    synced = await eventually(
        lambda: user("sync"), lambda r: any(g["id"] == gid and ok(g) for g in r["groups"])
    )
    return _group(synced, gid)


async def _burrow_has(client: Client, ref: str, text: tuple[str, str]) -> None:
    await eventually(lambda: burrow_texts(client, ref), lambda t: text in t)


async def _mdk_has(user: MdkUser, gid: str, text: tuple[str, str]) -> None:
    await eventually(lambda: mdk_texts(user, gid), lambda t: text in t)


async def test_burrow_admin_adds_and_removes_mdk_members(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice, bob, ref, gid = await burrow_and_mdk_group(any_relay, peer, tmp_path, burrow_admin=True)
    carol = await MdkUser.create(peer, "carol", any_relay.url)
    dave = await MdkUser.create(peer, "dave", any_relay.url)
    try:
        info = await alice.session.groups.add_members(ref, [carol.npub, dave.npub])
        everyone = sorted([alice.pubkey, bob.pubkey, carol.pubkey, dave.pubkey])
        assert sorted(m.pubkey for m in info.members) == everyone
        for user in (carol, dave):  # joined from the Welcome, at Alice's epoch
            joined = await _mdk_group(user, gid, lambda g: True)
            assert (joined["members"], joined["epoch"]) == (everyone, info.epoch)
            assert joined["name"] == "Pair" and joined["admins"] == [alice.pubkey]
        seen = await _mdk_group(bob, gid, lambda g: g["members"] == everyone)
        assert seen["epoch"] == info.epoch

        await carol("send", group=gid, content="carol is here")
        await _burrow_has(alice, ref, (carol.pubkey, "carol is here"))
        await _mdk_has(bob, gid, (carol.pubkey, "carol is here"))

        info = await alice.session.groups.remove_members(ref, [carol.npub])
        rest = sorted([alice.pubkey, bob.pubkey, dave.pubkey])
        assert sorted(m.pubkey for m in info.members) == rest
        for user in (bob, dave):
            seen = await _mdk_group(user, gid, lambda g: g["members"] == rest)
            assert seen["epoch"] == info.epoch
        gone = await _mdk_group(carol, gid, lambda g: g["state"] != "active")
        assert gone["epoch"] < info.epoch

        sent = await alice.session.messages.send(ref, "without carol")
        await alice.session.messages.wait_sent(sent, 5)
        await dave("send", group=gid, content="dave stays")
        for user in (bob, dave):
            await _mdk_has(user, gid, (alice.pubkey, "without carol"))
        await _burrow_has(alice, ref, (dave.pubkey, "dave stays"))
        left_with = await mdk_texts(carol, gid)
        assert (carol.pubkey, "carol is here") in left_with
        assert {t for _, t in left_with}.isdisjoint({"without carol", "dave stays"})
    finally:
        await alice.close()


async def test_mdk_admin_adds_and_removes_burrow_members(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice, bob, ref, gid = await burrow_and_mdk_group(any_relay, peer, tmp_path, burrow_admin=False)
    carol = await make_client(tmp_path, any_relay.url, "carol")
    try:
        added = await bob("add_members", group=gid, members=[carol.pubkey])
        everyone = {alice.pubkey, bob.pubkey, carol.pubkey}
        assert set(added["members"]) == everyone
        invites = await eventually(carol.session.invites.list_invites, bool)
        assert invites[0].inviter == bob.pubkey and invites[0].group_name == "Pair"
        joined = await carol.session.invites.accept(invites[0].id)
        assert joined.id == ref and {m.pubkey for m in joined.members} == everyone
        # Carol's post-join self-update reaches Bob and Alice.
        seen = await _mdk_group(bob, gid, lambda g: g["epoch"] == joined.epoch)
        assert set(seen["members"]) == everyone
        await eventually(lambda: alice.session.groups.info(ref), lambda g: g.epoch == joined.epoch)

        sent = await carol.session.messages.send(ref, "carol is here")
        await carol.session.messages.wait_sent(sent, 5)
        await _mdk_has(bob, gid, (carol.pubkey, "carol is here"))
        await _burrow_has(alice, ref, (carol.pubkey, "carol is here"))

        removed = await bob("remove_members", group=gid, members=[carol.pubkey])
        assert set(removed["members"]) == {alice.pubkey, bob.pubkey}
        info = await eventually(
            lambda: alice.session.groups.info(ref), lambda g: g.epoch == removed["epoch"]
        )
        assert {m.pubkey for m in info.members} == {alice.pubkey, bob.pubkey}
        await eventually(lambda: carol.session.groups.info(ref), lambda g: g.state != "active")

        await bob("send", group=gid, content="without carol")
        await _burrow_has(alice, ref, (bob.pubkey, "without carol"))
        assert (bob.pubkey, "without carol") not in await burrow_texts(carol, ref)
    finally:
        await carol.close()
        await alice.close()


async def test_self_updates_both_ways_then_the_mdk_member_leaves(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice, bob, ref, gid = await burrow_and_mdk_group(any_relay, peer, tmp_path, burrow_admin=True)
    try:
        updated = await bob("self_update", group=gid)
        await eventually(
            lambda: alice.session.groups.info(ref), lambda g: g.epoch == updated["epoch"]
        )
        await bob("send", group=gid, content="new keys, mdk")
        await _burrow_has(alice, ref, (bob.pubkey, "new keys, mdk"))

        info = await alice.session.groups.self_update(ref)
        assert info.epoch == updated["epoch"] + 1
        await _mdk_group(bob, gid, lambda g: g["epoch"] == info.epoch)
        sent = await alice.session.messages.send(ref, "new keys, burrow")
        await alice.session.messages.wait_sent(sent, 5)
        await _mdk_has(bob, gid, (alice.pubkey, "new keys, burrow"))

        await bob("leave", group=gid)  # a SelfRemove proposal; Alice, the admin, commits it
        info = await eventually(
            lambda: alice.session.groups.info(ref), lambda g: len(g.members) == 1
        )
        assert [m.pubkey for m in info.members] == [alice.pubkey]
        await _mdk_group(bob, gid, lambda g: g["state"] != "active")
    finally:
        await alice.close()


async def test_self_updates_both_ways_then_the_burrow_member_leaves(
    any_relay: RelayProcess, peer: MdkPeer, tmp_path: Path
) -> None:
    alice, bob, ref, gid = await burrow_and_mdk_group(any_relay, peer, tmp_path, burrow_admin=False)
    try:
        info = await alice.session.groups.self_update(ref)
        await _mdk_group(bob, gid, lambda g: g["epoch"] == info.epoch)
        updated = await bob("self_update", group=gid)
        assert updated["epoch"] == info.epoch + 1
        await eventually(
            lambda: alice.session.groups.info(ref), lambda g: g.epoch == updated["epoch"]
        )
        await bob("send", group=gid, content="both rotated")
        await _burrow_has(alice, ref, (bob.pubkey, "both rotated"))

        await alice.session.groups.leave(ref)  # MDK, the admin, auto-commits the proposal
        seen = await _mdk_group(bob, gid, lambda g: g["members"] == [bob.pubkey])
        assert seen["epoch"] == updated["epoch"] + 1
        await eventually(lambda: alice.session.groups.info(ref), lambda g: g.state != "active")
    finally:
        await alice.close()
