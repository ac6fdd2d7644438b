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
from typing import Any

import pytest

from app.models import MessageInfo
from tests.helpers.app_clients import Client, catch_up, make_client, reopen
from tests.helpers.relay import RelayProcess
from tests.oracle.conftest import DmUsers
from tests.oracle.dm_driver import DmUser, poll
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

    return await poll(probe, lambda t: len(t) >= want)


async def _dm_sees(user: DmUser, group: str, want: int) -> list[tuple[str, str]]:
    return await poll(lambda: user.texts(group), lambda t: len(t) >= want)


async def test_burrow_creates_a_group_with_dm_and_both_chat_react_and_delete(
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

        # reactions (7) and deletions (5) each way; Burrow's edit (1009) reaches dm, which
        # lists it as a row of its own (the e43fd5e client does not apply edits)
        [theirs] = [m for m in await alice.session.messages.list_messages(group.id) if not m.own]
        await bob.run("messages", "react", chat, sent.id, "🔥")
        await bob.run("messages", "delete", chat, theirs.id)

        async def shown() -> dict[str, MessageInfo]:
            await catch_up(alice)
            return {m.id: m for m in await alice.session.messages.list_messages(group.id)}

        rows = await poll(shown, lambda r: r[theirs.id].deleted and bool(r[sent.id].reactions))
        assert [(r.emoji, r.authors) for r in rows[sent.id].reactions] == [("🔥", (bob.account,))]
        await alice.session.messages.react(group.id, sent.id, "👍")
        await alice.session.messages.edit(group.id, sent.id, "hello from burrow, edited")
        await alice.session.flush(10)

        def kinds(rows: list[dict[str, Any]]) -> dict[int, list[tuple[str, str]]]:
            out: dict[int, list[tuple[str, str]]] = {}
            for m in rows:
                target = next((t[1] for t in m.get("tags", []) if t[0] == "e"), "")
                out.setdefault(int(m["kind"]), []).append((m["plaintext"], target))
            return out

        listed = await poll(
            lambda: bob.messages(chat),
            lambda r: {7, 1009} <= kinds(r).keys() and len(kinds(r)[7]) == 2,
        )
        assert ("👍", sent.id) in kinds(listed)[7]
        assert kinds(listed)[1009] == [("hello from burrow, edited", sent.id)]
        assert kinds(listed)[5] == [("", theirs.id)]
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

        invites = await poll(alice.session.invites.list_invites, bool)
        assert invites[0].inviter == bob.account and invites[0].group_name == "dm made"
        joined = await alice.session.invites.accept(invites[0].id)
        assert joined.profile == DARKMATTER
        assert joined.name == "dm made" and joined.admins == (bob.account,)
        assert {m.pubkey for m in joined.members} == {alice.pubkey, bob.account}
        assert await _burrow_sees(alice, joined.id, 1) == [(bob.account, "welcome, alice")]
        # dm sets a description with a commit of its own after the founding one
        info = await poll(
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


async def _burrow_members(client: Client, group: str) -> set[str]:
    await catch_up(client)
    return {m.pubkey for m in (await client.session.groups.info(group)).members}


async def _dm_members(user: DmUser, chat: str, want: set[str]) -> list[str]:
    return await poll(lambda: user.members(chat), lambda m: set(m) == want)


async def test_burrow_admin_adds_removes_renames_and_a_dm_member_leaves(
    relay: RelayProcess, dm_users: DmUsers, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob, carol = await dm_users("bob", relay), await dm_users("carol", relay)
    everyone = {alice.pubkey, bob.account or "", carol.account or ""}
    try:
        group = await alice.session.groups.create("Trio", [bob.npub], profile=DARKMATTER)
        bob_chat = await dm_chat_of(bob)

        added = await alice.session.groups.add_members(group.id, [carol.npub])
        assert {m.pubkey for m in added.members} == everyone
        carol_chat = await dm_chat_of(carol)
        assert carol_chat == bob_chat
        await _dm_members(bob, bob_chat, everyone)
        await carol.send(carol_chat, "hi from carol")
        assert await _burrow_sees(alice, group.id, 1) == [(carol.account, "hi from carol")]
        assert await _dm_sees(bob, bob_chat, 1) == [(carol.account, "hi from carol")]

        await alice.session.groups.remove_members(group.id, [carol.npub])
        await _dm_members(bob, bob_chat, {alice.pubkey, bob.account or ""})

        await alice.session.groups.rename(group.id, name="Pair again")
        await poll(lambda: bob.group(bob_chat), lambda g: "Pair again" in str(g))

        await bob.leave(bob_chat)  # a SelfRemove proposal; alice, the admin, commits it
        await poll(lambda: _burrow_members(alice, group.id), lambda m: m == {alice.pubkey})
    finally:
        await alice.close()


async def test_dm_admin_adds_renames_removes_and_the_burrow_member_leaves(
    relay: RelayProcess, dm_users: DmUsers, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob, carol = await dm_users("bob", relay), await dm_users("carol", relay)
    everyone = {alice.pubkey, bob.account or "", carol.account or ""}
    try:
        await draft_key_package_only(alice)
        made = await bob.create_group("dm group", [alice.pubkey])
        chat = str(made["group_id"])
        invites = await poll(alice.session.invites.list_invites, bool)
        joined = await alice.session.invites.accept(invites[0].id)

        await bob.add(chat, [carol.account or ""])
        await poll(lambda: _burrow_members(alice, joined.id), lambda m: m == everyone)
        await bob.rename(chat, "renamed by dm")
        await poll(
            lambda: alice.session.groups.info(joined.id),
            lambda i: i.name == "renamed by dm",
            timeout=20,
        )
        sent = await alice.session.messages.send(joined.id, "alice to both")
        await alice.session.messages.wait_sent(sent, 5)
        assert (alice.pubkey, "alice to both") in await _dm_sees(carol, chat, 1)

        await bob.remove(chat, [carol.account or ""])
        await poll(
            lambda: _burrow_members(alice, joined.id),
            lambda m: m == {alice.pubkey, bob.account},
            timeout=20,
        )

        await alice.session.groups.leave(joined.id)  # dm, the admin, commits the SelfRemove
        await _dm_members(bob, chat, {bob.account or ""})
    finally:
        await alice.close()


async def test_burrow_catches_up_on_what_dm_did_while_it_was_closed(
    relay: RelayProcess, dm_users: DmUsers, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob, carol = await dm_users("bob", relay), await dm_users("carol", relay)
    try:
        await draft_key_package_only(alice)
        made = await bob.create_group("Offline", [alice.pubkey])
        chat = str(made["group_id"])
        invites = await poll(alice.session.invites.list_invites, bool)
        joined = await alice.session.invites.accept(invites[0].id)
        await alice.close()

        await bob.send(chat, "while you were away")
        await bob.rename(chat, "Offline, renamed")
        await bob.add(chat, [carol.account or ""])
        await bob.send(chat, "carol is here")
        await _dm_members(
            carol, await dm_chat_of(carol), {alice.pubkey, bob.account or "", carol.account or ""}
        )

        alice = await reopen(alice, relay.url, tmp_path)
        texts = await _burrow_sees(alice, joined.id, 2)
        assert texts == [(bob.account, "while you were away"), (bob.account, "carol is here")]
        info = await alice.session.groups.info(joined.id)
        assert info.name == "Offline, renamed"
        assert {m.pubkey for m in info.members} == {alice.pubkey, bob.account, carol.account}
    finally:
        await alice.close()
