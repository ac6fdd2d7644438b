"""Nothing lost when the relay goes away, through `app.Services` and the real relay."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import FixedClock, SystemClock
from app.sync_plan import MARGIN
from storage.repos import relays as relays_repo
from tests.helpers.app_clients import Client, eventually, make_client, reopen
from tests.helpers.relay import RelayFactory

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
        group = await alice.session.groups.create("Outage", [bob.npub])
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
        group = await alice.session.groups.create("Back", [bob.npub])
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
