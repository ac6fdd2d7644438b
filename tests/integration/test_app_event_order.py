"""Events of one group delivered out of order over the real relay."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import FixedClock, SystemClock
from nostr.filters import Filter
from nostr.kinds import Kind
from storage.repos import processed
from storage.rows import Outcome
from tests.helpers.app_clients import catch_up, join, make_client
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_commit_delivered_before_the_proposal_it_covers(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Carol's leave request and Alice's commit of it can share a created_at, and the
    commit may sort first: Bob keeps it until the proposal is in, then applies it (it was
    refused for good, which left Bob behind in an old epoch)."""
    alice, bob, carol = [
        await make_client(tmp_path, relay.url, n, live=False) for n in ("alice", "bob", "carol")
    ]
    clients = (alice, bob, carol)
    try:
        group = await alice.session.groups.create("Order", [bob.npub, carol.npub], profile="mip")
        for guest in (bob, carol):
            await catch_up(guest)
            await join(guest, group)
        await catch_up(*clients)
        await carol.session.groups.leave(group.id)
        await carol.session.flush(10)
        await catch_up(alice)  # she commits the leave at once
        await alice.session.flush(10)
        found = await bob.session.relays.fetch(
            [Filter(kinds=[445], tags={"h": [group.id]})], [relay.url]
        )
        db, inbox = bob.session.account.db, bob.session.group_inbox
        fresh = [e for e in found if not await db.run(processed.is_done, e.id)]
        assert len(fresh) == 2  # the proposal and the commit
        # 445s are signed by throwaway keys: Alice's marks tell which one was the proposal.
        seen = [await alice.session.account.db.run(processed.get, e.id) for e in fresh]
        [proposal] = [e for e, m in zip(fresh, seen, strict=True) if m and "proposal" in m.reason]
        [commit] = [e for e in fresh if e is not proposal]
        await inbox.receive(commit)
        mark = await db.run(processed.get, commit.id)
        assert mark is not None and mark.outcome is Outcome.RETRYABLE, mark
        await inbox.receive(proposal)
        mark = await db.run(processed.get, commit.id)
        assert mark is not None and mark.outcome is Outcome.PROCESSED, mark
        ours, theirs = [await c.session.groups.info(group.id) for c in (bob, alice)]
        assert (ours.epoch, ours.epoch_authenticator) == (theirs.epoch, theirs.epoch_authenticator)
        assert {m.pubkey for m in ours.members} == {alice.pubkey, bob.pubkey}
    finally:
        for client in clients:
            await client.close()


async def test_each_group_event_we_send_is_dated_after_the_one_it_follows(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """Commits and messages sent within one second: each carrier is dated after the commit
    that opened its epoch and the message before it, so a member who fetches them in one
    batch and orders by (created_at, id), as MDK clients do, processes them in sending
    order (MDK drops for good an event of an epoch it has not reached)."""
    alice = await make_client(tmp_path, relay.url, "alice")
    bob = await make_client(tmp_path, relay.url, "bob")
    try:
        frozen = FixedClock(SystemClock().now())
        alice.session.ctx.clock = frozen  # everything below happens in the same second
        group = await alice.session.groups.create("Order", [bob.npub], profile="mip")
        groups, messages = alice.session.groups, alice.session.messages
        seen: set[str] = set()
        dates = []

        async def newest() -> int:
            found = await alice.session.relays.fetch(
                [Filter(kinds=[Kind.MLS_GROUP_MESSAGE], tags={"h": [group.id]})], [relay.url]
            )
            [new] = [e for e in found if e.id not in seen]
            seen.add(new.id)
            return new.created_at

        for step in ("rename", "message", "self-update", "message", "rename"):
            if step == "rename":
                await groups.rename(group.id, name=f"Order {len(dates)}")
            elif step == "self-update":
                await groups.self_update(group.id)
            else:
                sent = await messages.send(group.id, f"message {len(dates)}")
                await messages.wait_sent(sent, 5)
            dates.append(await newest())
        assert dates == [frozen.now() + 1 + i for i in range(len(dates))]
    finally:
        await alice.close()
        await bob.close()
