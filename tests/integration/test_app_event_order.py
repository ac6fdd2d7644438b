"""Events of one group delivered out of order over the real relay."""

from __future__ import annotations

from pathlib import Path

import pytest

from nostr.filters import Filter
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
        group = await alice.session.groups.create("Order", [bob.npub, carol.npub])
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
