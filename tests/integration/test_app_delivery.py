"""Nothing lost when the relay goes away, through `app.Services` and the real relay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app import FixedClock, SystemClock
from app.events import CommitRaceResolved
from app.group_store import Loaded
from app.outbox import STALE_AFTER, Attempt
from app.sync_plan import MARGIN
from nostr.event import Event
from storage.repos import groups as groups_repo
from storage.repos import relays as relays_repo
from storage.rows import OutboxEntry
from tests.helpers.app_clients import Client, eventually, make_client, reopen
from tests.helpers.relay import RelayFactory, RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def _texts(client: Client, group: str) -> list[str]:
    return [m.content for m in await client.session.messages.list_messages(group)]


async def test_a_message_sent_while_the_relay_was_down_reaches_a_member_who_synced_meanwhile(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """Alice writes while the relay is down and goes offline; Bob catches up from the
    restarted relay (his cursor moves past the time she wrote); then Alice's outbox
    delivers. Her message goes out in a fresh envelope, so Bob's next catch-up has it."""
    relay = relay_factory(persist=True)
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        group = await alice.session.groups.create("Outage", [bob.npub], profile="mip")
        await alice.session.flush(10)  # the Welcome is on the relay before Bob asks
        await bob.session.sync_engine.catch_up_all()
        await bob.session.invites.accept((await bob.session.invites.list_invites())[0].id)
        await alice.session.sync_engine.catch_up_all()  # Bob's post-join self-update

        relay.stop()
        written_at = SystemClock().now() - 5 * MARGIN
        alice.session.ctx.clock = FixedClock(written_at)  # written a while ago
        sent = await alice.session.messages.send(group.id, "written while the relay was down")
        assert sent.status == "sending"
        await alice.close()

        relay.start()
        assert await bob.session.pool.wait_connected(timeout=10)
        await bob.session.sync_engine.catch_up_all()
        gid = (await bob.session.groups.store.resolve(group.id)).mls_group_id
        cursor = await bob.session.account.db.run(relays_repo.cursor, f"g:{gid.hex()}", relay.url)
        assert cursor is not None and cursor - MARGIN > written_at  # Bob moved past it

        alice = await reopen(alice, relay.url, tmp_path, live=False)
        await alice.session.flush(10)
        assert await alice.session.outbox.pending() == []
        [mine] = await alice.session.messages.list_messages(group.id)
        assert mine.status == "sent" and mine.event_id != sent.event_id  # a new envelope
        await bob.session.sync_engine.catch_up_all()
        assert await _texts(bob, group.id) == ["written while the relay was down"]
        [seen] = await bob.session.messages.list_messages(group.id)
        assert seen.created_at == written_at  # when it was written, not when it went out
    finally:
        await alice.close()
        await bob.close()


async def test_queued_events_go_out_as_soon_as_the_relay_is_back(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """Backoff grows while the relay is unreachable; its reconnection sends at once."""
    relay = relay_factory(persist=True)
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        group = await alice.session.groups.create("Back", [bob.npub], profile="mip")
        invite = await eventually(bob.session.invites.list_invites, bool)
        await bob.session.invites.accept(invite[0].id)
        relay.stop()
        for n in range(3):
            await alice.session.messages.send(group.id, f"queued {n}")
        for _ in range(6):  # each failed attempt pushes the next one further out
            await alice.session.outbox.flush(force=True)
        pending = await alice.session.outbox.pending()
        assert len(pending) == 3
        assert min(e.next_attempt_at for e in pending) > alice.session.ctx.now() + 60
        relay.start()
        expected = ["queued 0", "queued 1", "queued 2"]
        await eventually(lambda: _texts(bob, group.id), lambda t: t == expected, timeout=20)
    finally:
        await alice.close()
        await bob.close()


# --- a process that stops half-way through ---------------------------------------------


async def _pair(tmp_path: Path, url: str) -> tuple[Client, Client, str]:
    """Alice and Bob (both admins, no live subscriptions) in one group, caught up."""
    alice = await make_client(tmp_path, url, "alice", live=False)
    bob = await make_client(tmp_path, url, "bob", live=False)
    group = await alice.session.groups.create("Crash", [bob.npub], profile="mip")
    await alice.session.flush(10)  # the Welcome is on the relay before Bob asks
    await bob.session.sync_engine.catch_up_all()
    await bob.session.invites.accept((await bob.session.invites.list_invites())[0].id)
    await alice.session.sync_engine.catch_up_all()
    await alice.session.groups.promote(group.id, bob.npub)
    await bob.session.sync_engine.catch_up_all()
    return alice, bob, group.id


async def _state(client: Client, group: str) -> tuple[int, str, str]:
    info = await client.session.groups.info(group)
    return info.epoch, info.epoch_authenticator, info.name


async def _rename_and_die_after_publishing(client: Client, group: str, name: str) -> None:
    """A rename whose commit the relay accepted, the process dying before it recorded so."""
    real = client.session.outbox._record
    died = asyncio.Event()

    async def die_after_publish(entry: OutboxEntry, attempt: Attempt) -> None:
        if entry.purpose == "commit" and attempt.accepted_by:
            died.set()
            await asyncio.Event().wait()  # the process is gone
        await real(entry, attempt)

    client.session.outbox._record = die_after_publish  # type: ignore[method-assign]
    renaming = asyncio.ensure_future(client.session.groups.rename(group, name=name))
    await asyncio.wait_for(died.wait(), 10)
    renaming.cancel()


async def test_a_commit_published_just_before_the_process_died_is_merged_after_restart(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Alice's rename reached the relay, but she died before merging it. Bob moved on
    and wrote in the new epoch; Alice's next start merges her commit and reads Bob."""
    alice, bob, group = await _pair(tmp_path, relay.url)
    try:
        await _rename_and_die_after_publishing(alice, group, "renamed")
        alice = await reopen(alice, relay.url, tmp_path, live=False)
        await bob.session.sync_engine.catch_up_all()
        assert (await _state(bob, group))[2] == "renamed"
        await bob.session.messages.send(group, "after the rename")
        await bob.session.flush(10)

        await alice.session.sync_engine.catch_up_all()
        await alice.session.flush(10)
        await eventually(lambda: _state(alice, group), lambda s: s[2] == "renamed", 5)
        assert await _state(alice, group) == await _state(bob, group)
        await eventually(lambda: _texts(alice, group), lambda t: t == ["after the rename"], 5)
        await alice.session.messages.send(group, "alice is back")
        await alice.session.flush(10)
        await bob.session.sync_engine.catch_up_all()
        assert await _texts(bob, group) == ["after the rename", "alice is back"]
    finally:
        await alice.close()
        await bob.close()


async def test_messages_voided_by_a_lost_commit_race_go_out_again_after_a_restart(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Both admins commit in one epoch and write on their branch; the loser rolls back
    but stops before re-sending its message. Its next start sends it on the winning
    branch, so nobody loses it."""
    alice, bob, group = await _pair(tmp_path, relay.url)
    try:
        for client in (alice, bob):

            async def dead(gid: bytes) -> int:
                raise RuntimeError("the process died before re-sending")

            client.session.messages.resend_invalidated = dead  # type: ignore[method-assign]
        await asyncio.gather(
            alice.session.groups.rename(group, name="by alice"),
            bob.session.groups.rename(group, name="by bob"),
        )
        for client in (alice, bob):
            mine = await client.session.messages.send(group, f"{client.name} on a branch")
            await client.session.messages.wait_sent(mine, 5)
        for client in (alice, bob, alice):
            await client.session.sync_engine.catch_up_all()
        [loser] = [c for c in (alice, bob) if c.of(CommitRaceResolved)]
        winner = bob if loser is alice else alice
        assert await _texts(loser, group) == [f"{winner.name} on a branch"]

        loser = await reopen(loser, relay.url, tmp_path, live=False)
        await loser.session.flush(10)
        await winner.session.sync_engine.catch_up_all()
        everything = ["alice on a branch", "bob on a branch"]
        for client in (loser, winner):
            assert sorted(await _texts(client, group)) == everything
        assert await _state(loser, group) == await _state(winner, group)
    finally:
        await alice.close()
        await bob.close()


async def test_a_commit_that_reached_the_relay_keeps_its_envelope_after_a_late_restart(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Alice's commit reached the relay two minutes ago, then her process died. Bob,
    not having seen it, committed too and then rolled back to hers (the earlier one).
    When Alice comes back her commit must not go out in a fresh, later envelope: with
    that date she would let Bob's commit win at her end while Bob keeps hers."""
    alice, bob, group = await _pair(tmp_path, relay.url)
    try:
        now = SystemClock().now()
        for client, clock in (
            (alice, FixedClock(now - 2 * STALE_AFTER)),
            (bob, FixedClock(now - 2)),
        ):
            client.session.ctx.clock = clock
            client.session.outbox._clock = clock
        await _rename_and_die_after_publishing(alice, group, "by alice")
        await bob.session.groups.rename(group, name="by bob")
        await bob.session.sync_engine.catch_up_all()
        assert (await _state(bob, group))[2] == "by alice"  # the earlier commit won

        alice = await reopen(alice, relay.url, tmp_path, live=False)
        await alice.session.flush(10)
        for client in (alice, bob, alice):
            await client.session.sync_engine.catch_up_all()
        assert await _state(alice, group) == await _state(bob, group)
        assert (await _state(alice, group))[2] == "by alice"
    finally:
        await alice.close()
        await bob.close()


async def test_a_message_written_while_our_commit_is_merged_is_sent(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """The relay's OK for Alice's rename merges it while she is building a message on the
    epoch before: the message is built again on the new epoch, not refused."""
    alice, bob, group = await _pair(tmp_path, relay.url)
    try:
        outbox, store, db = (
            alice.session.outbox,
            alice.session.groups.store,
            alice.session.account.db,
        )
        real_record, real_load = outbox._record, store.load
        accepted, merge = asyncio.Event(), asyncio.Event()

        async def hold_merge(entry: OutboxEntry, attempt: Attempt) -> None:
            if entry.purpose == "commit" and attempt.accepted_by:
                accepted.set()
                await merge.wait()
            await real_record(entry, attempt)

        async def load_then_merge(gid: bytes) -> Loaded:
            loaded = await real_load(gid)
            if not merge.is_set():
                merge.set()
                await eventually(lambda: db.run(groups_repo.pending_commit, gid), _none, 5)
            return loaded

        outbox._record = hold_merge  # type: ignore[method-assign]
        renaming = asyncio.ensure_future(alice.session.groups.rename(group, name="renamed"))
        await asyncio.wait_for(accepted.wait(), 10)
        store.load = load_then_merge  # type: ignore[method-assign]
        sent = await alice.session.messages.send(group, "written during the merge")
        store.load = real_load  # type: ignore[method-assign]
        await renaming
        await alice.session.messages.wait_sent(sent, 5)
        await bob.session.sync_engine.catch_up_all()
        assert await _texts(bob, group) == ["written during the merge"]
        assert await _state(bob, group) == await _state(alice, group)
    finally:
        await alice.close()
        await bob.close()


def _none(value: object) -> bool:
    return value is None


async def test_an_event_kept_for_a_retry_is_retried_after_a_restart_when_the_relay_lost_it(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """Processing Alice's message failed once; Bob stopped before retrying it, and the
    relay forgot it meanwhile. Bob's next start retries it from what he stored."""
    relay = relay_factory()
    alice, bob, group = await _pair(tmp_path, relay.url)
    try:
        await alice.session.messages.send(group, "kept")
        await alice.session.flush(10)
        inbox = bob.session.group_inbox

        async def broken(event: Event) -> None:
            raise RuntimeError("the process ran out of memory")

        inbox.receive = broken  # type: ignore[method-assign]
        await bob.session.sync_engine.catch_up_all()
        assert await _texts(bob, group) == []
        relay.restart()  # in memory only: everything it stored is gone
        bob = await reopen(bob, relay.url, tmp_path, live=False)
        await eventually(lambda: _texts(bob, group), lambda t: t == ["kept"], 5)
    finally:
        await alice.close()
        await bob.close()
