"""Burrow (the service layer, ``tests/helpers/app_clients.py``) with the Dark Matter client
``dm`` (e43fd5e) through the real relay on 127.0.0.1: Profile B groups made by either side,
chat both ways, add, remove, rename, leave, and catching up after being closed.

That client predates MDK master (0xf2f1 draft proofs); a group Burrow founds for its
KeyPackage takes the draft form (``marmot/profile_b/proofs.py``). It invites only accounts
whose every 30443 passes its own rules, so before dm invites a Burrow user the test gives
that user a draft-form KeyPackage and withdraws its others (``draft_key_package_only``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.app_clients import Client, catch_up, eventually, make_client
from tests.helpers.relay import RelayProcess
from tests.oracle.conftest import DmUsers
from tests.oracle.dm_driver import DmUser
from tests.oracle.dm_scenes import burrow_texts, dm_chat_of, draft_key_package_only

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.darkmatter,
    pytest.mark.integration,
    pytest.mark.asyncio,
]
DARKMATTER = "darkmatter"


async def _burrow_sees(client: Client, group: str, want: int) -> list[tuple[str, str]]:
    async def probe() -> list[tuple[str, str]]:
        await catch_up(client)
        return await burrow_texts(client, group)

    return await eventually(probe, lambda t: len(t) >= want, timeout=20)


async def _dm_sees(user: DmUser, group: str, want: int) -> list[tuple[str, str]]:
    return await eventually(lambda: user.texts(group), lambda t: len(t) >= want, timeout=20)


async def test_burrow_creates_a_group_with_dm_and_both_chat(
    relay: RelayProcess, dm_users: DmUsers, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await dm_users("bob", relay)
    try:
        group = await alice.session.groups.create(
            "Burrow made", [bob.npub], "by alice", profile=DARKMATTER
        )
        assert group.profile == DARKMATTER
        chat = await dm_chat_of(bob)
        shown = await bob.group(chat)
        assert "Burrow made" in str(shown)
        assert await bob.members(chat) == sorted([alice.pubkey, bob.account or ""])

        sent = await alice.session.messages.send(group.id, "hello from burrow")
        await alice.session.messages.wait_sent(sent, 5)
        assert await _dm_sees(bob, chat, 1) == [(alice.pubkey, "hello from burrow")]

        await bob.send(chat, "hello from dm")
        texts = await _burrow_sees(alice, group.id, 2)
        assert sorted(texts) == sorted(
            [(alice.pubkey, "hello from burrow"), (bob.account, "hello from dm")]
        )
    finally:
        await alice.close()


async def test_dm_creates_a_group_with_burrow_and_both_chat(
    relay: RelayProcess, dm_users: DmUsers, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await dm_users("bob", relay)
    try:
        await draft_key_package_only(alice)
        made = await bob.create_group("dm made", [alice.pubkey], description="by bob")
        chat = str(made["group_id"])
        await bob.send(chat, "welcome, alice")

        invites = await eventually(alice.session.invites.list_invites, bool, timeout=20)
        assert invites[0].inviter == bob.account and invites[0].group_name == "dm made"
        joined = await alice.session.invites.accept(invites[0].id)
        assert joined.profile == DARKMATTER
        assert joined.name == "dm made" and joined.admins == (bob.account,)
        assert {m.pubkey for m in joined.members} == {alice.pubkey, bob.account}
        assert await _burrow_sees(alice, joined.id, 1) == [(bob.account, "welcome, alice")]
        # dm sets a description with a commit of its own after the founding one
        info = await eventually(
            lambda: alice.session.groups.info(joined.id), lambda i: i.description == "by bob"
        )
        assert info.epoch == 2

        sent = await alice.session.messages.send(joined.id, "thanks, bob")
        await alice.session.messages.wait_sent(sent, 5)
        texts = await _dm_sees(bob, chat, 2)
        assert sorted(texts) == sorted(
            [(bob.account, "welcome, alice"), (alice.pubkey, "thanks, bob")]
        )
    finally:
        await alice.close()
