"""Issue 13: a forged or replayed commit for a past epoch never rolls a group back.

Carol is a member; Alice (the admin) removes her. Carol keeps the secrets of the epoch
she saw and posts back-dated "commits" for it. Bob must stay where the removal put him.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from app import FixedClock, SystemClock
from app.events import CommitRaceResolved, MembersChanged
from marmot import operations
from marmot.errors import MarmotError
from marmot.group import MarmotGroup
from marmot.group_event import build_group_event, trial_decrypt
from mls.messages import ContentType, MLSMessage, PrivateMessage
from nostr.event import Event
from nostr.filters import Filter
from storage.repos import processed
from storage.rows import Outcome
from tests.helpers.app_clients import Client, catch_up, eventually, group_with, join, make_client
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def _view(
    client: Client, group: str
) -> tuple[int, str, str, tuple[str, ...], tuple[str, ...]]:
    info = await client.session.groups.info(group)
    members = tuple(sorted(m.pubkey for m in info.members))
    return info.epoch, info.epoch_authenticator, info.name, members, tuple(sorted(info.admins))


async def _state(client: Client, group: str) -> MarmotGroup:
    gid = (await client.session.groups.store.resolve(group)).mls_group_id
    return (await client.session.groups.store.load(gid)).marmot


def _forged_commit(past: MarmotGroup, created_at: int) -> Event:
    """Random bytes shaped like a commit of ``past``'s epoch, under that epoch's key."""
    body = PrivateMessage(
        past.mls_group_id, past.epoch, ContentType.COMMIT, b"", os.urandom(16), os.urandom(200)
    )
    message = MLSMessage(body)
    return build_group_event(
        past.nostr_group_id, message.to_bytes(), past.group_event_key(), now=created_at
    )


def _commit_of(event: Event, past: MarmotGroup) -> bytes | None:
    """The MLS bytes of ``event`` when it is a commit of ``past``'s epoch."""
    try:
        inner = trial_decrypt(event, past.group_event_keys()).mls_message
    except MarmotError:
        return None
    body = MLSMessage.from_bytes(inner).body
    if isinstance(body, PrivateMessage) and body.epoch == past.epoch:
        return inner if body.content_type is ContentType.COMMIT else None
    return None


async def test_forged_and_replayed_past_commits_never_roll_a_removal_back(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    carol = await make_client(tmp_path, relay.url, "carol")
    try:
        group = await alice.session.groups.create("Team", [bob.npub, carol.npub], "", profile="mip")
        for guest in (bob, carol):
            await join(guest, group)
        await catch_up(alice, bob, carol)
        # While Carol is a member: garbage, and Alice's real rename in an earlier wrapper.
        before_rename = await _state(carol, group.id)
        await alice.session.groups.rename(group.id, name="Renamed")
        await catch_up(bob, carol)
        renamed = await _view(bob, group.id)
        wanted = Filter(kinds=[445], tags={"h": [group.id]})
        rename_event, real = next(
            (event, inner)
            for event in await carol.session.relays.fetch([wanted], [relay.url])
            if (inner := _commit_of(event, before_rename)) is not None
        )
        as_member = [
            _forged_commit(before_rename, int(time.time()) - 600),
            build_group_event(
                before_rename.nostr_group_id,
                real,
                before_rename.group_event_key(),
                now=rename_event.created_at - 1,
            ),
        ]
        for event in as_member:
            for client in (alice, bob):
                await client.session.group_inbox.receive(event)
                assert await _view(client, group.id) == renamed
                assert not client.of(CommitRaceResolved)
        before_removal = await _state(carol, group.id)
        await alice.session.groups.remove_members(group.id, [carol.npub])
        await catch_up(bob, carol)
        honest = await _view(bob, group.id)
        assert carol.pubkey not in honest[3] and honest == await _view(alice, group.id)
        # Carol's own valid self-update of the old epoch, back-dated, and random bytes.
        old = before_removal.epoch
        early = int(time.time()) - 600
        update = operations.self_update(before_removal, now=early)
        inner = trial_decrypt(update.event, before_removal.group_event_keys()).mls_message
        attacks = [
            _forged_commit(before_removal, early),
            update.event,
            # the same real commit in a new, earlier wrapper
            build_group_event(
                before_removal.nostr_group_id,
                inner,
                before_removal.group_event_key(),
                now=early - 1,
            ),
        ]
        for event in attacks:
            for client in (alice, bob):
                await client.session.group_inbox.receive(event)
                assert await _view(client, group.id) == honest
                assert not client.of(CommitRaceResolved)
                record = await client.session.ctx.db.run(processed.get, event.id)
                assert record is not None and record.outcome is Outcome.FAILED
        assert old < honest[0]
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def test_a_removal_discarded_by_a_true_race_is_made_again_before_anything_is_resent(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Two admins race: Bob's rename (earlier) wins over Alice's rename, on which Alice
    had removed Carol and then written. The switch readmits Carol; Alice removes her again
    on the winning branch, and only then re-sends her message, into an epoch without
    Carol."""
    alice, bob, carol = [
        await make_client(tmp_path, relay.url, n, live=False) for n in ("alice", "bob", "carol")
    ]
    try:
        group = await group_with(alice, "Race", bob, carol)
        await alice.session.groups.promote(group.id, bob.npub)
        await catch_up(bob, carol)

        async def unreachable(urls: object) -> tuple[str, ...]:
            return ()

        outbox = bob.session.outbox
        real_reachable, outbox._reachable = outbox._reachable, unreachable
        # Bob's rename is dated just after the newest event he saw; Alice's rename comes
        # after a message of hers, so one second later at least (`Loaded.stamp`).
        bob.session.ctx.clock = FixedClock(SystemClock().now() - 30)
        renaming = asyncio.ensure_future(bob.session.groups.rename(group.id, name="bob"))
        await eventually(bob.session.outbox.pending, bool)
        hello = await alice.session.messages.send(group.id, "hello")
        await alice.session.messages.wait_sent(hello, 5)
        await alice.session.groups.rename(group.id, name="alice")
        await alice.session.groups.remove_members(group.id, [carol.npub])
        said = await alice.session.messages.send(group.id, "without carol")
        await alice.session.messages.wait_sent(said, 5)
        await catch_up(carol)

        outbox._reachable = real_reachable
        bob.session.ctx.clock = SystemClock()
        await bob.session.flush(10)
        renaming.cancel()
        await catch_up(alice)
        assert alice.of(CommitRaceResolved)  # Bob's branch won; Carol was back for a moment

        async def settled() -> tuple[Any, ...]:
            await catch_up(alice, bob)
            views = [await _view(c, group.id) for c in (alice, bob)]
            texts = [await _texts(c, group.id) for c in (alice, bob)]
            return (*views, *texts)

        def done(got: tuple[Any, ...]) -> bool:
            a, b, *texts = got
            wanted = ["hello", "without carol"]
            return a == b and carol.pubkey not in a[3] and texts == [wanted] * 2

        await eventually(settled, done, timeout=30)
        view = await _view(bob, group.id)
        assert view[2] == "bob" and view[3] == tuple(sorted((alice.pubkey, bob.pubkey)))
        # Bob got the message only in an epoch after Carol's second removal.
        [removal] = [e for e in bob.of(MembersChanged) if carol.pubkey in e.removed][-1:]
        [message] = [
            m for m in await bob.session.messages.list_messages(group.id) if m.content != "hello"
        ]
        assert message.event_id is not None
        mark = await bob.session.ctx.db.run(processed.get, message.event_id)
        assert mark is not None and mark.epoch is not None
        assert mark.epoch >= removal.group.epoch
    finally:
        for client in (alice, bob, carol):
            await client.close()


async def _texts(client: Client, group: str) -> list[str]:
    return [m.content for m in await client.session.messages.list_messages(group)]
