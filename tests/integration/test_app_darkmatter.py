"""Profile B ("Dark Matter") groups between in-process `Services` over the real relay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import NetworkError, NotAllowed
from app.errors import InvalidInput
from app.events import GroupUpdated, MessageReceived, MessageStatusChanged, MessageUpdated
from app.models import MessageInfo
from storage import Connection
from storage.repos import branches as branches_repo
from storage.repos import messages as messages_repo
from storage.rows.branches import BranchNodeRow
from tests.helpers.app_clients import Client, catch_up, eventually, join, make_client, reopen
from tests.helpers.dm_clients import dm_group_with, publish_b_key_package
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.darkmatter, pytest.mark.asyncio]


async def _texts(client: Client, group: str) -> list[str]:
    return [m.content for m in await client.session.messages.list_messages(group)]


async def _wait_texts(client: Client, group: str, expected: list[str]) -> None:
    async def probe() -> list[str]:
        await catch_up(client)
        return await _texts(client, group)

    await eventually(probe, lambda t: t == expected)


async def test_create_join_and_chat_both_ways(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        group = await dm_group_with(alice, "Dark", bob)
        joined = await bob.session.groups.info(group.id)
        assert (joined.profile, joined.can_edit, joined.name) == ("darkmatter", True, "Dark")
        assert {m.pubkey for m in joined.members} == {alice.pubkey, bob.pubkey}
        assert joined.admins == (alice.pubkey,)
        mine = next(m for m in joined.members if m.is_self)
        assert mine.pubkey == bob.pubkey
        assert [(d.leaf, d.current) for d in joined.my_devices] == [(mine.leaves[0], True)]
        await alice.session.messages.send(group.id, "hello bob")
        await alice.session.flush(10)
        await _wait_texts(bob, group.id, ["hello bob"])
        await bob.session.messages.send(group.id, "hi alice")
        await bob.session.flush(10)
        await _wait_texts(alice, group.id, ["hello bob", "hi alice"])
    finally:
        await alice.close()
        await bob.close()


async def _row(client: Client, group: str, text: str) -> MessageInfo:
    async def probe() -> list[MessageInfo]:
        await catch_up(client)
        return [m for m in await client.session.messages.list_messages(group) if m.content == text]

    return (await eventually(probe, bool))[0]


async def test_edit_react_delete(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        group = await dm_group_with(alice, "Edits", bob)
        sent = await alice.session.messages.send(group.id, "frist")
        await alice.session.flush(10)
        await _row(bob, group.id, "frist")
        edited = await alice.session.messages.edit(group.id, sent.id, "first")
        assert (edited.id, edited.content) == (sent.id, "first")
        assert edited.edited_at is not None
        updates = [e.message for e in alice.of(MessageUpdated) if e.message.id == sent.id]
        assert [(m.content, m.edited_at) for m in updates] == [("first", edited.edited_at)]
        await alice.session.flush(10)
        seen = await _row(bob, group.id, "first")
        assert (seen.id, seen.edited_at) == (sent.id, edited.edited_at)
        assert any(isinstance(e, MessageUpdated) and e.message.id == sent.id for e in bob.events)
        with pytest.raises(NotAllowed):  # only the author edits
            await bob.session.messages.edit(group.id, sent.id, "mine now")
        await bob.session.messages.react(group.id, sent.id, "🔥")
        await bob.session.flush(10)

        async def reactions() -> tuple[str, ...]:
            await catch_up(alice)
            found = await alice.session.messages.list_messages(group.id)
            return tuple(r.emoji for m in found for r in m.reactions)

        await eventually(reactions, lambda r: r == ("🔥",))
        await alice.session.messages.delete(group.id, sent.id)
        await alice.session.flush(10)

        async def deleted() -> list[bool]:
            await catch_up(bob)
            return [m.deleted for m in await bob.session.messages.list_messages(group.id)]

        await eventually(deleted, lambda d: d == [True])
    finally:
        await alice.close()
        await bob.close()


def _changes(messages: list[MessageInfo]) -> list[tuple[str, str]]:
    out = []
    for m in messages:
        if m.kind == -1:
            data = json.loads(m.content)
            out.append((data["change"], data["subject"] or data["value"] or m.author))
    return out


async def _timeline(client: Client, group: str) -> list[tuple[str, str]]:
    await catch_up(client)
    found = await client.session.messages.list_messages(group, with_changes=True)
    return _changes(found)


async def test_add_rename_remove_with_three(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    carol = await make_client(tmp_path, relay.url, "carol", live=False)
    try:
        group = await dm_group_with(alice, "Three", bob)
        with pytest.raises(InvalidInput):
            await alice.session.groups.add_members(group.id, [bob.npub])  # one leaf each
        await publish_b_key_package(carol)
        info = await alice.session.groups.add_members(group.id, [carol.npub])
        assert {m.pubkey for m in info.members} == {alice.pubkey, bob.pubkey, carol.pubkey}
        await alice.session.flush(10)
        await catch_up(carol)
        await join(carol, group)
        await catch_up(bob, carol)
        assert len((await bob.session.groups.info(group.id)).members) == 3
        await carol.session.messages.send(group.id, "hi all")
        await carol.session.flush(10)
        await _wait_texts(bob, group.id, ["hi all"])
        await _wait_texts(alice, group.id, ["hi all"])

        renamed = await alice.session.groups.rename(group.id, name="Trio", description="us")
        assert (renamed.name, renamed.description) == ("Trio", "us")

        async def name(client: Client) -> tuple[str, str]:
            await catch_up(client)
            got = await client.session.groups.info(group.id)
            return got.name, got.description

        for client in (bob, carol):
            await eventually(lambda c=client: name(c), lambda n: n == ("Trio", "us"))
        assert ("renamed", "Trio") in await _timeline(bob, group.id)
        assert ("described", "us") in await _timeline(carol, group.id)

        await alice.session.groups.remove_members(group.id, [carol.npub])

        async def carol_state() -> str:
            await catch_up(carol)
            return (await carol.session.groups.info(group.id)).state

        await eventually(carol_state, lambda s: s == "inactive")
        await eventually(lambda: _timeline(bob, group.id), lambda t: ("removed", carol.pubkey) in t)
        members = {m.pubkey for m in (await bob.session.groups.info(group.id)).members}
        assert members == {alice.pubkey, bob.pubkey}
        await alice.session.messages.send(group.id, "just us")
        await alice.session.flush(10)
        await _wait_texts(bob, group.id, ["hi all", "just us"])
        assert "just us" not in await _texts(carol, group.id)
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def test_a_member_leaves_and_an_admin_commits_it(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    carol = await make_client(tmp_path, relay.url, "carol", live=False)
    try:
        group = await dm_group_with(alice, "Leaving", bob, carol)
        with pytest.raises(NotAllowed):  # the only admin hands over first
            await alice.session.groups.leave(group.id)
        left = await bob.session.groups.leave(group.id)
        assert left.state == "inactive"

        async def members(client: Client) -> set[str]:
            await catch_up(client)
            await client.session.flush(10)
            return {m.pubkey for m in (await client.session.groups.info(group.id)).members}

        both = {alice.pubkey, carol.pubkey}
        await eventually(lambda: members(alice), lambda m: m == both)
        await eventually(lambda: members(carol), lambda m: m == both)
        assert ("left", bob.pubkey) in await _timeline(carol, group.id)
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def _converged(*clients: Client, group: str) -> list[tuple[int, str, str]]:
    out = []
    for client in clients:
        await catch_up(client)
        await client.session.flush(10)
        info = await client.session.groups.info(group)
        out.append((info.epoch, info.epoch_authenticator, info.name))
    return out


async def test_offline_member_catches_up_after_a_restart(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    carol = await make_client(tmp_path, relay.url, "carol", live=False)
    try:
        group = await dm_group_with(alice, "Away", bob, carol)
        before = await carol.session.groups.info(group.id)
        await carol.close()
        await alice.session.messages.send(group.id, "while you were out")
        await alice.session.groups.rename(group.id, name="Away, twice")
        await _wait_texts(bob, group.id, ["while you were out"])  # dated after it
        await bob.session.messages.send(group.id, "after the rename")
        await alice.session.groups.rename(group.id, name="Away, thrice")
        await alice.session.flush(10)
        await bob.session.flush(10)
        carol = await reopen(carol, relay.url, tmp_path, live=False)
        await _wait_texts(carol, group.id, ["while you were out", "after the rename"])
        states = await eventually(
            lambda: _converged(alice, bob, carol, group=group.id),
            lambda s: len(set(s)) == 1 and s[0][2] == "Away, thrice",
        )
        assert states[0][0] == before.epoch + 2
        await carol.session.messages.send(group.id, "back")
        await carol.session.flush(10)
        await _wait_texts(alice, group.id, ["while you were out", "after the rename", "back"])
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def _tree(client: Client, group: str) -> list[BranchNodeRow]:
    stored = await client.session.groups.store.resolve(group)
    return await client.session.ctx.db.run(branches_repo.load_tree, stored.mls_group_id)


async def test_concurrent_commits_converge_across_a_restart(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Two admins rename at once, each on the same epoch: every member keeps both
    commits (the tree survives a restart), and all settle on the same one."""
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    carol = await make_client(tmp_path, relay.url, "carol", live=False)
    try:
        group = await dm_group_with(alice, "Race", bob, carol)
        await alice.session.groups.promote(group.id, bob.npub)
        await catch_up(bob, carol)
        assert (await bob.session.groups.info(group.id)).i_am_admin
        base = await bob.session.groups.info(group.id)
        # Neither sees the other's commit before making its own.
        await alice.session.groups.rename(group.id, name="Alice's name")
        await bob.session.groups.rename(group.id, name="Bob's name")
        await bob.session.messages.send(group.id, "on bob's branch")
        await alice.session.flush(10)
        await bob.session.flush(10)
        assert (await bob.session.groups.info(group.id)).epoch == base.epoch + 1
        bob = await reopen(bob, relay.url, tmp_path, live=False)
        states = await eventually(
            lambda: _converged(alice, bob, carol, group=group.id), lambda s: len(set(s)) == 1
        )
        assert states[0][0] == base.epoch + 1
        winner = states[0][2]
        assert winner in ("Alice's name", "Bob's name")
        for client in (alice, bob, carol):
            nodes = await _tree(client, group.id)
            tips = [n for n in nodes if not any(c.parent_key == n.key for c in nodes)]
            assert len(tips) == 2  # both commits kept: the loser stays a retained branch
            renames = [c for c in await _timeline(client, group.id) if c[0] == "renamed"]
            assert renames == [("renamed", winner)]  # the loser's row is withdrawn
        # Bob's message survives either way: withdrawn with his branch, it is sent again.
        for client in (alice, bob, carol):
            await _wait_texts(client, group.id, ["on bob's branch"])
        await alice.session.messages.send(group.id, "after the race")
        await alice.session.flush(10)
        for client in (bob, carol):
            await _wait_texts(client, group.id, ["on bob's branch", "after the race"])
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def test_the_branch_two_members_used_wins_and_the_loser_sends_again(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Alice's rename reaches Carol before Bob's competing one; both write on Alice's
    branch (a witness quorum of two), Bob on his own: Alice's branch wins everywhere, and
    Bob's message, withdrawn with his branch, goes out again on the winner."""
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    carol = await make_client(tmp_path, relay.url, "carol", live=False)
    try:
        group = await dm_group_with(alice, "Quorum", bob, carol)
        await alice.session.groups.promote(group.id, bob.npub)
        await catch_up(bob, carol)
        await alice.session.groups.rename(group.id, name="Alice's name")
        await catch_up(carol)  # on Alice's branch before Bob's commit exists
        await bob.session.groups.rename(group.id, name="Bob's name")
        await bob.session.messages.send(group.id, "bob, on his branch")
        await alice.session.messages.send(group.id, "alice, on hers")
        await carol.session.messages.send(group.id, "carol, on alice's")
        for client in (alice, bob, carol):
            await client.session.flush(10)
        states = await eventually(
            lambda: _converged(alice, bob, carol, group=group.id), lambda s: len(set(s)) == 1
        )
        assert states[0][2] == "Alice's name"
        assert any(e.status == "invalidated" for e in bob.of(MessageStatusChanged))
        everything = {"bob, on his branch", "alice, on hers", "carol, on alice's"}
        for client in (alice, bob, carol):
            await eventually(lambda c=client: _caught_texts(c, group.id), lambda t: t == everything)
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def _caught_texts(client: Client, group: str) -> set[str]:
    await catch_up(client)
    await client.session.flush(10)
    return set(await _texts(client, group))


async def test_live_clients_the_other_way_round(relay: RelayProcess, tmp_path: Path) -> None:
    """Bob founds this one; both stay subscribed (no catch-up calls): the invite, the
    messages and a rename arrive live."""
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        await publish_b_key_package(alice)
        group = await bob.session.groups.create("", [alice.npub], profile="darkmatter")
        assert group.is_dm and group.profile == "darkmatter"
        invites = await eventually(alice.session.invites.list_invites, bool)
        assert invites[0].inviter == bob.pubkey
        assert not await alice.session.groups.list_groups()  # pending until accepted
        joined = await alice.session.invites.accept(invites[0].id)
        assert (joined.id, joined.profile, joined.state) == (group.id, "darkmatter", "active")
        await bob.session.messages.send(group.id, "live from bob")
        got = await alice.wait_for(MessageReceived)
        assert [e.message.content for e in got if e.message.kind == 9] == ["live from bob"]
        await alice.session.messages.send(group.id, "live from alice")
        await eventually(lambda: _texts(bob, group.id), lambda t: "live from alice" in t)
        await bob.session.groups.rename(group.id, name="Named")

        async def named() -> str:
            return (await alice.session.groups.info(group.id)).name

        await eventually(named, lambda n: n == "Named")
        await eventually(
            lambda: alice.wait_for(GroupUpdated),
            lambda u: any(e.group.name == "Named" for e in u),
        )
    finally:
        await alice.close()
        await bob.close()


async def test_an_admin_hands_over_before_leaving(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    carol = await make_client(tmp_path, relay.url, "carol", live=False)
    try:
        group = await dm_group_with(alice, "Hand over", bob, carol)
        await alice.session.groups.promote(group.id, carol.npub)
        await catch_up(carol)
        assert (await carol.session.groups.info(group.id)).i_am_admin
        left = await alice.session.groups.leave(group.id)  # drops her rights, then asks
        assert left.state == "inactive"

        async def view(client: Client) -> tuple[set[str], tuple[str, ...]]:
            await catch_up(client)
            await client.session.flush(10)
            info = await client.session.groups.info(group.id)
            return {m.pubkey for m in info.members}, info.admins

        rest = ({bob.pubkey, carol.pubkey}, (carol.pubkey,))
        await eventually(lambda: view(carol), lambda v: v == rest)
        await eventually(lambda: view(bob), lambda v: v == rest)
        timeline = await _timeline(bob, group.id)
        assert ("admins", alice.pubkey) in timeline and ("left", alice.pubkey) in timeline
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def test_a_leave_request_the_admin_saw_late_still_removes(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Bob asks to leave on the epoch Alice's rename has just left: his SelfRemove can no
    longer be committed, so Alice removes him instead."""
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    carol = await make_client(tmp_path, relay.url, "carol", live=False)
    try:
        group = await dm_group_with(alice, "Late", bob, carol)
        await alice.session.groups.rename(group.id, name="Later")
        await bob.session.groups.leave(group.id)  # on the epoch before the rename

        async def members(client: Client) -> set[str]:
            await catch_up(client)
            await client.session.flush(10)
            return {m.pubkey for m in (await client.session.groups.info(group.id)).members}

        both = {alice.pubkey, carol.pubkey}
        await eventually(lambda: members(alice), lambda m: m == both)
        await eventually(lambda: members(carol), lambda m: m == both)
        assert (await carol.session.groups.info(group.id)).name == "Later"
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def test_disappearing_messages_by_the_retention_component(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        group = await dm_group_with(alice, "Fleeting", bob)
        info = await alice.session.groups.set_disappearing(group.id, 3600)
        assert info.disappearing_secs == 3600

        async def timer() -> int:
            await catch_up(bob)
            return (await bob.session.groups.info(group.id)).disappearing_secs

        await eventually(timer, lambda t: t == 3600)
        assert ("retention", "3600") in await _timeline(bob, group.id)
        sent = await alice.session.messages.send(group.id, "gone in an hour")
        await alice.session.flush(10)
        seen = await _row(bob, group.id, "gone in an hour")
        for client, message in ((alice, sent), (bob, seen)):
            stored = await client.session.groups.store.resolve(group.id)
            row = await client.session.ctx.db.run(
                messages_repo.by_rumor_id, stored.mls_group_id, message.id
            )
            assert row is not None
            expires = await client.session.ctx.db.run(_expires_at, row.seq)
            assert expires == message.created_at + 3600
    finally:
        await alice.close()
        await bob.close()


def _expires_at(conn: Connection, seq: int) -> int | None:
    value: int | None = conn.execute(
        "SELECT expires_at FROM messages WHERE seq = ?", (seq,)
    ).fetchone()[0]
    return value


async def test_welcomes_refused_or_declined(relay: RelayProcess, tmp_path: Path) -> None:
    """A blocked inviter's Welcome is not offered; a declined one leaves no group; a
    Welcome for a key package this device does not hold is refused."""
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    carol = await make_client(tmp_path, relay.url, "carol", live=False)
    try:
        await carol.session.contacts.set_blocked(alice.npub, True)
        for guest in (bob, carol):
            await publish_b_key_package(guest)
        group = await alice.session.groups.create(
            "Declined", [bob.npub, carol.npub], profile="darkmatter"
        )
        await alice.session.flush(10)
        await catch_up(bob, carol)
        (invite,) = await eventually(bob.session.invites.list_invites, bool)
        assert (invite.group_id, invite.group_name, invite.member_count) == (
            group.id,
            "Declined",
            3,
        )
        assert await carol.session.invites.list_invites() == []
        assert not [g for g in await carol.session.groups.list_groups() if g.id == group.id]
        await bob.session.invites.decline(invite.id)
        assert await bob.session.invites.list_invites() == []
        assert await bob.session.groups.list_groups() == []
        # Bob's key package is gone from this device: a new Welcome naming it is refused.
        await bob.session.ctx.db.run(_forget_key_packages)
        await alice.session.groups.remove_members(group.id, [bob.npub])
        await alice.session.groups.add_members(group.id, [bob.npub])  # his package on the relay
        await alice.session.flush(10)
        refused = "not one of this device's key packages"

        async def reasons() -> list[str]:
            await catch_up(bob)
            return await bob.session.ctx.db.run(_wrap_reasons)

        await eventually(reasons, lambda r: refused in r)
        assert await bob.session.invites.list_invites() == []
    finally:
        for client in (alice, bob, carol):
            await client.close()


def _wrap_reasons(conn: Connection) -> list[str]:
    rows = conn.execute("SELECT reason FROM processed_events WHERE kind = 1059").fetchall()
    return [r[0] for r in rows]


def _forget_key_packages(conn: Connection) -> None:
    conn.execute("DELETE FROM key_packages")


async def test_a_commit_queued_while_the_relay_is_down_lands_after_a_restart(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """The rename waits in the durable outbox as our pending commit (not in the tree);
    Alice closes, the relay comes back, Alice reopens: it goes out, joins her tree, and
    Bob applies it; her message queued behind it arrives too."""
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        group = await dm_group_with(alice, "Outage", bob)
        relay.stop()
        with pytest.raises(NetworkError):
            await alice.session.groups.rename(group.id, name="After the outage")
        assert (await alice.session.groups.info(group.id)).name == "Outage"  # not merged
        await alice.session.messages.send(group.id, "written offline")
        await alice.close()
        relay.start()
        alice = await reopen(alice, relay.url, tmp_path, live=False)

        async def named() -> str:
            await alice.session.flush(10)
            return (await alice.session.groups.info(group.id)).name

        await eventually(named, lambda n: n == "After the outage")
        await _wait_texts(bob, group.id, ["written offline"])
        assert (await bob.session.groups.info(group.id)).name == "After the outage"
    finally:
        await alice.close()
        await bob.close()
