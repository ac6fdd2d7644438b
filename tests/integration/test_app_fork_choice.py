"""Issue 13: a forged or replayed commit for a past epoch never rolls a group back.

Carol is a member; Alice (the admin) removes her. Carol keeps the secrets of the epoch
she saw and posts back-dated "commits" for it. Bob must stay where the removal put him.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app.events import CommitRaceResolved
from marmot import operations
from marmot.group import MarmotGroup
from marmot.group_event import build_group_event, trial_decrypt
from mls.messages import ContentType, MLSMessage, PrivateMessage
from nostr.event import Event
from storage.repos import processed
from storage.rows import Outcome
from tests.helpers.app_clients import Client, catch_up, join, make_client
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


async def test_forged_and_replayed_past_commits_never_roll_a_removal_back(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    carol = await make_client(tmp_path, relay.url, "carol")
    try:
        group = await alice.session.groups.create("Team", [bob.npub, carol.npub], "")
        for guest in (bob, carol):
            await join(guest, group)
        await catch_up(alice, bob, carol)
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
