"""Groups and messages between in-process `Services` over the real relay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app import FixedClock, NotAllowed, SystemClock
from app.events import (
    CommitRaceResolved,
    GroupRemoved,
    InviteReceived,
    MembersChanged,
    MessageReceived,
    MessageStatusChanged,
    MessageUpdated,
)
from app.models import GroupInfo, MessageInfo
from app.outbox import Attempt
from marmot import operations
from nostr import nip19
from nostr.event import UnsignedEvent
from nostr.filters import Filter
from nostr.keys import PublicKey, SecretKey
from storage.repos import messages as messages_repo
from storage.repos import processed
from storage.rows import OutboxEntry, Outcome
from tests.helpers.app_clients import Client, catch_up, eventually, group_with, join, make_client
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def _join(owner: Client, guest: Client, group: GroupInfo) -> GroupInfo:
    """``guest`` waits for the invite to ``group`` (from ``owner``) and accepts it."""
    invites = await eventually(guest.session.invites.list_invites, bool)
    assert invites[0].inviter == owner.pubkey
    return await join(guest, group)


async def _texts(client: Client, group: str) -> list[str]:
    return [m.content for m in await client.session.messages.list_messages(group)]


async def _wait_texts(client: Client, group: str, expected: list[str]) -> list[MessageInfo]:
    await eventually(lambda: _texts(client, group), lambda t: t == expected)
    return await client.session.messages.list_messages(group)


async def _epoch(client: Client, group: str) -> tuple[int, str]:
    info = await client.session.groups.info(group)
    return info.epoch, info.epoch_authenticator


async def test_invite_accept_chat_reply_react_delete(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        group = await alice.session.groups.create("Team", [bob.npub], "our team", profile="mip")
        assert group.epoch == 1 and group.i_am_admin
        joined = await _join(alice, bob, group)
        assert bob.of(InviteReceived) and joined.epoch == 2  # the post-join self-update
        await eventually(lambda: _epoch(alice, group.id), lambda e: e[0] == 2)
        assert await _epoch(alice, group.id) == await _epoch(bob, group.id)

        hello = await alice.session.messages.send(group.id, "hello bob")
        hello = await alice.session.messages.wait_sent(hello, 5)
        assert hello.status == "sent" and await alice.wait_for(MessageStatusChanged)
        [seen] = await _wait_texts(bob, group.id, ["hello bob"])
        assert (await bob.wait_for(MessageReceived))[0].message.id == hello.id
        assert (await bob.session.groups.info(group.id)).unread == 1
        assert await bob.session.messages.mark_read(group.id) == 1

        reply = await bob.session.messages.send(group.id, "hi alice", reply_to=seen.id)
        await bob.session.messages.react(group.id, hello.id, "🦫")
        msgs = await _wait_texts(alice, group.id, ["hello bob", "hi alice"])
        assert msgs[1].reply_to == hello.id
        gid = (await alice.session.groups.store.resolve(group.id)).mls_group_id
        sent = await alice.session.account.db.run(messages_repo.by_rumor_id, gid, reply.id)
        assert sent is not None and ("q", hello.id, "", alice.pubkey) in sent.tags
        cite, text = sent.content.split("\n")  # NIP-C7: the replied event cited first
        assert text == "hi alice"
        assert nip19.decode(cite.removeprefix("nostr:")) == nip19.EventPointer(
            hello.id, author=PublicKey.from_hex(alice.pubkey), kind=9
        )
        reacted = await eventually(
            lambda: alice.session.messages.list_messages(group.id),
            lambda ms: bool(ms[0].reactions),
        )
        assert reacted[0].reactions[0].emoji == "🦫" and reacted[0].reactions[0].authors == (
            bob.pubkey,
        )
        assert await alice.wait_for(MessageUpdated)

        with pytest.raises(NotAllowed):
            await alice.session.messages.delete(group.id, reply.id)
        await bob.session.messages.delete(group.id, reply.id)
        gone = await eventually(
            lambda: alice.session.messages.list_messages(group.id), lambda ms: ms[1].deleted
        )
        assert gone[1].content == ""
        hits = await alice.session.messages.search("hello")
        assert [h.message.id for h in hits] == [hello.id]
    finally:
        await alice.close()
        await bob.close()


async def test_add_remove_promote_demote_rename_leave(relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob, carol, dave = [
        await make_client(tmp_path, relay.url, name) for name in ("alice", "bob", "carol", "dave")
    ]
    try:
        group = await alice.session.groups.create("Club", [bob.npub, carol.npub], profile="mip")
        await _join(alice, bob, group)
        await _join(alice, carol, group)
        await alice.session.groups.add_members(group.id, [dave.npub])
        await _join(alice, dave, group)
        four = await alice.session.groups.info(group.id)
        assert {m.name for m in four.members} >= {"alice"} and len(four.members) == 4
        assert await alice.wait_for(MembersChanged)

        await alice.session.groups.remove_members(group.id, [carol.npub])
        removed = await eventually(
            carol.session.groups.list_groups, lambda gs: gs[0].state != "active"
        )
        assert removed[0].state == "inactive" and await carol.wait_for(GroupRemoved)
        await alice.session.messages.send(group.id, "carol is gone")
        await _wait_texts(bob, group.id, ["carol is gone"])
        assert await _texts(carol, group.id) == []  # she cannot read it

        await alice.session.groups.promote(group.id, bob.npub)
        info = await eventually(lambda: bob.session.groups.info(group.id), lambda i: i.i_am_admin)
        await bob.session.groups.rename(info.id, name="Club 2")
        await eventually(lambda: alice.session.groups.info(group.id), lambda i: i.name == "Club 2")
        await bob.session.groups.demote(group.id, alice.npub)
        await eventually(lambda: alice.session.groups.info(group.id), lambda i: not i.i_am_admin)

        await dave.session.groups.leave(group.id)
        await eventually(
            lambda: bob.session.groups.info(group.id),
            lambda i: {m.pubkey for m in i.members} == {alice.pubkey, bob.pubkey},
        )
        e_alice = await eventually(lambda: _epoch(alice, group.id), lambda e: e[0] >= 8)
        assert e_alice == await _epoch(bob, group.id)
    finally:
        for client in (alice, bob, carol, dave):
            await client.close()


async def test_two_admins_committing_in_one_epoch_converge(
    relay: RelayProcess, tmp_path: Path
) -> None:
    # No live subscriptions: nobody sees a commit before asking, so both admins really
    # commit from the same epoch.
    alice, bob, carol = [
        await make_client(tmp_path, relay.url, n, live=False) for n in ("alice", "bob", "carol")
    ]
    try:
        group = await group_with(alice, "Race", bob, carol)
        await alice.session.groups.promote(group.id, bob.npub)
        await catch_up(alice, bob, carol)
        start = await _epoch(alice, group.id)
        assert start == await _epoch(bob, group.id) == await _epoch(carol, group.id)
        sent = await bob.session.messages.send(group.id, "from bob's branch")
        await bob.session.messages.wait_sent(sent, 5)
        await asyncio.gather(
            alice.session.groups.rename(group.id, name="by alice"),
            bob.session.groups.rename(group.id, name="by bob"),
        )
        assert (await _epoch(alice, group.id))[0] == (await _epoch(bob, group.id))[0]
        # Each admin writes on its own branch before learning of the other one.
        for client in (alice, bob):
            mine = await client.session.messages.send(group.id, f"{client.name} on a branch")
            await client.session.messages.wait_sent(mine, 5)
        for _ in range(3):
            await catch_up(alice, bob, carol)
        epochs = {await _epoch(c, group.id) for c in (alice, bob, carol)}
        names = {(await c.session.groups.info(group.id)).name for c in (alice, bob, carol)}
        assert len(epochs) == 1 and len(names) == 1
        assert next(iter(epochs))[0] == start[0] + 1
        losers = [c for c in (alice, bob) if c.of(CommitRaceResolved)]
        assert len(losers) == 1  # exactly one admin rolled back to the other's commit
        assert names == {"by alice" if losers[0] is bob else "by bob"}
        # The loser's message of the discarded branch went out again on the winning one:
        # everyone has every message, once.
        everything = ["alice on a branch", "bob on a branch", "from bob's branch"]
        for _ in range(3):
            await catch_up(alice, bob, carol)
        for client in (alice, bob, carol):
            assert sorted(await _texts(client, group.id)) == everything
        [again] = [
            m
            for m in await losers[0].session.messages.list_messages(group.id)
            if m.content == f"{losers[0].name} on a branch"
        ]
        assert again.status == "sent"
        # The group still works on the winning branch.
        await carol.session.messages.send(group.id, "after the race")
        await catch_up(alice, bob)
        for client in (alice, bob):
            assert (await _texts(client, group.id))[-1] == "after the race"
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def test_forged_replayed_and_removed_member_events_change_nothing(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    mallory = await make_client(tmp_path, relay.url, "mallory")
    try:
        group = await alice.session.groups.create("Safe", [bob.npub, mallory.npub], profile="mip")
        await _join(alice, bob, group)
        await _join(alice, mallory, group)
        sent = await alice.session.messages.send(group.id, "one")
        await _wait_texts(bob, group.id, ["one"])
        before = await _epoch(bob, group.id)

        # A forged 445: right h tag, valid signature, content no key of the group opens.
        key = SecretKey.generate()
        forged = UnsignedEvent(
            key.public_key().hex,
            sent.created_at,
            445,
            (("h", group.id), ("encoding", "base64")),
            "AAAA" * 20,
        ).sign(key)
        await bob.session.group_inbox.receive(forged)
        mark = await bob.session.account.db.run(processed.get, forged.id)
        assert mark is not None and mark.outcome is not Outcome.PROCESSED

        # A replay of a message already processed: nothing new is stored.
        carrier = (await bob.session.messages.list_messages(group.id))[0].event_id
        assert carrier is not None
        stored = await alice.session.relays.fetch([Filter(ids=[carrier])], [relay.url])
        await bob.session.group_inbox.receive(stored[0])
        assert await _texts(bob, group.id) == ["one"]

        # Mallory is removed, then writes with the keys of the epoch she was still in.
        gid = (await mallory.session.groups.store.resolve(group.id)).mls_group_id
        old_state = (await mallory.session.groups.store.load(gid)).marmot
        await alice.session.groups.remove_members(group.id, [mallory.npub])
        await eventually(lambda: _epoch(bob, group.id), lambda e: e[0] > before[0])
        rumor = UnsignedEvent.create(mallory.pubkey, sent.created_at + 5, 9, "sneaky")
        late = operations.create_message(old_state, rumor, now=sent.created_at + 5)
        await mallory.session.pool.publish(late.event)
        await bob.session.group_inbox.receive(late.event)
        assert await _texts(bob, group.id) == ["one"]
        mark = await bob.session.account.db.run(processed.get, late.event.id)
        assert mark is not None and mark.outcome is Outcome.FAILED
        assert (await _epoch(bob, group.id))[0] == before[0] + 1
    finally:
        for client in (alice, bob, mallory):
            await client.close()


async def test_a_leave_request_stays_unprocessed_until_its_commit_is_stored(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Storing the admin's commit for Bob's leave request fails once (a crash, a full
    disk): the request is not marked processed on its own, so it is settled later."""
    alice, bob = [await make_client(tmp_path, relay.url, n, live=False) for n in ("alice", "bob")]
    try:
        group = await alice.session.groups.create("Leave", [bob.npub], profile="mip")
        await alice.session.flush(10)  # the Welcome is on the relay before Bob asks
        await catch_up(bob)
        await _join(alice, bob, group)
        await catch_up(alice)
        await bob.session.groups.leave(group.id)
        groups = alice.session.groups
        real = groups.queue_commit

        async def broken(*args: object, **kwargs: object) -> int:
            raise RuntimeError("the commit could not be stored")

        groups.queue_commit = broken  # type: ignore[method-assign]
        await catch_up(alice)
        assert bob.pubkey in {m.pubkey for m in (await groups.info(group.id)).members}
        groups.queue_commit = real  # type: ignore[method-assign]
        await catch_up(alice)
        await alice.session.flush(10)
        after = await eventually(
            lambda: groups.info(group.id), lambda i: bob.pubkey not in {m.pubkey for m in i.members}
        )
        assert [m.pubkey for m in after.members] == [alice.pubkey]
    finally:
        await alice.close()
        await bob.close()


async def test_an_event_received_twice_at_once_is_processed_once(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Two deliveries of one commit and one message overlap (as a retry drain and the sync
    worker can): the second waits for the group and then finds them processed."""
    alice, bob = [await make_client(tmp_path, relay.url, n, live=False) for n in ("alice", "bob")]
    try:
        group = await alice.session.groups.create("Twice", [bob.npub], profile="mip")
        await alice.session.flush(10)
        await catch_up(bob)
        await _join(alice, bob, group)
        await catch_up(alice)
        await alice.session.groups.rename(group.id, name="renamed once")
        await alice.session.messages.send(group.id, "said once")
        await alice.session.flush(10)
        wanted = Filter(kinds=[445], tags={"h": [group.id]})
        found = await bob.session.relays.fetch([wanted], [relay.url])
        inbox, db = bob.session.group_inbox, bob.session.account.db
        fresh = [e for e in found if not await db.run(processed.is_done, e.id)]
        assert len(fresh) == 2  # the rename and the message
        for event in sorted(fresh, key=lambda e: (e.created_at, e.id)):
            await asyncio.gather(inbox.receive(event), inbox.receive(event))
        for event in fresh:
            mark = await db.run(processed.get, event.id)
            assert mark is not None and mark.outcome is Outcome.PROCESSED, mark
        assert await _texts(bob, group.id) == ["said once"]
        assert await _epoch(bob, group.id) == await _epoch(alice, group.id)
    finally:
        await alice.close()
        await bob.close()


async def test_a_message_resent_after_a_lost_race_shows_for_a_member_who_had_rolled_it_back(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Carol applied Bob's commit and read Bob's message on that branch, then Alice's
    earlier commit won and Carol hid the message. Bob re-sends it on Alice's branch: Carol
    shows it again (same message, so the stored copy must not swallow it)."""
    alice, bob, carol = [
        await make_client(tmp_path, relay.url, n, live=False) for n in ("alice", "bob", "carol")
    ]
    try:
        group = await group_with(alice, "Three", bob, carol)
        await alice.session.groups.promote(group.id, bob.npub)
        await catch_up(bob, carol)

        async def unreachable(urls: object) -> tuple[str, ...]:
            return ()

        outbox = alice.session.outbox
        real_reachable, outbox._reachable = outbox._reachable, unreachable
        renaming = asyncio.ensure_future(alice.session.groups.rename(group.id, name="alice"))
        await eventually(alice.session.outbox.pending, bool)
        # Bob's commit is the later one (ours are dated after the commit they follow, so
        # a clock set back would not make Alice's earlier).
        bob.session.ctx.clock = FixedClock(SystemClock().now() + 5)
        await bob.session.groups.rename(group.id, name="bob")
        said = await bob.session.messages.send(group.id, "bob on his branch")
        await bob.session.messages.wait_sent(said, 5)
        await catch_up(carol)
        assert await _texts(carol, group.id) == ["bob on his branch"]

        outbox._reachable = real_reachable
        await alice.session.flush(10)
        renaming.cancel()
        await catch_up(carol, bob)
        assert carol.of(CommitRaceResolved) and bob.of(CommitRaceResolved)
        await bob.session.flush(10)
        await catch_up(carol, alice)
        for client in (alice, bob, carol):
            assert await _texts(client, group.id) == ["bob on his branch"], client.name
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def test_a_leave_request_that_arrives_while_our_commit_is_pending_is_committed_after_it(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Bob asks to leave while Alice's rename awaits its merge: her rename cannot carry
    his request, so once it is merged she removes him with a commit of its own."""
    alice, bob = [await make_client(tmp_path, relay.url, n, live=False) for n in ("alice", "bob")]
    try:
        group = await alice.session.groups.create("Pending", [bob.npub], profile="mip")
        await alice.session.flush(10)
        await catch_up(bob)
        await _join(alice, bob, group)
        await catch_up(alice)
        outbox = alice.session.outbox
        real_record = outbox._record
        accepted, merge = asyncio.Event(), asyncio.Event()

        async def hold_merge(entry: OutboxEntry, attempt: Attempt) -> None:
            if entry.purpose == "commit" and attempt.accepted_by and not merge.is_set():
                accepted.set()
                await merge.wait()
            await real_record(entry, attempt)

        outbox._record = hold_merge  # type: ignore[method-assign]
        renaming = asyncio.ensure_future(alice.session.groups.rename(group.id, name="renamed"))
        await asyncio.wait_for(accepted.wait(), 10)
        await bob.session.groups.leave(group.id)
        await catch_up(alice)  # Bob's request, while the rename is pending
        merge.set()
        assert (await renaming).name == "renamed"
        after = await eventually(
            lambda: alice.session.groups.info(group.id),
            lambda i: bob.pubkey not in {m.pubkey for m in i.members},
        )
        assert after.name == "renamed" and [m.pubkey for m in after.members] == [alice.pubkey]
    finally:
        await alice.close()
        await bob.close()


async def test_a_leave_request_of_an_epoch_the_admin_left_still_removes_the_member(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Dave leaves before he saw Alice's rename: his SelfRemove is for the epoch before.
    Alice validates it on that epoch's kept state and removes him; before, the request was
    dropped and Dave (gone for himself) stayed in everyone's group for good."""
    alice, bob, dave = [
        await make_client(tmp_path, relay.url, n, live=False) for n in ("alice", "bob", "dave")
    ]
    try:
        group = await group_with(alice, "Late", bob, dave)
        await alice.session.groups.rename(group.id, name="Renamed")
        await dave.session.groups.leave(group.id)  # Dave has not seen the rename

        async def members() -> set[str]:
            await catch_up(alice, bob)
            return {m.pubkey for m in (await bob.session.groups.info(group.id)).members}

        await eventually(members, lambda m: m == {alice.pubkey, bob.pubkey})
        assert await _epoch(alice, group.id) == await _epoch(bob, group.id)
    finally:
        for client in (alice, bob, dave):
            await client.close()
