"""Disappearing messages (issue 18): an admin sets the group's 0xF2EE v3 timer; what is sent
then carries a NIP-40 expiration; each member deletes the message locally when it is due,
in one transaction, and says so on the bus."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import FixedClock, SystemClock
from app.events import MessagesExpired
from nostr.event import Event
from storage import Connection
from storage.repos import messages as messages_repo
from tests.helpers.app_clients import Client, catch_up, join, make_client
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

HOUR = 3600


async def _texts(client: Client, group: str) -> list[str]:
    return [m.content for m in await client.session.messages.list_messages(group)]


async def test_a_timer_is_set_honoured_and_tagged(relay: RelayProcess, tmp_path: Path) -> None:
    alice = await make_client(tmp_path, relay.url, "alice", live=False)
    bob = await make_client(tmp_path, relay.url, "bob", live=False)
    try:
        group = await alice.session.groups.create("Secrets", [bob.npub], profile="mip")
        await alice.session.flush(10)
        await catch_up(bob)
        await join(bob, group)
        await bob.session.flush(10)
        await catch_up(alice)
        kept = await alice.session.messages.send(group.id, "said before the timer")
        info = await alice.session.groups.set_disappearing(group.id, HOUR)
        assert info.disappearing_secs == HOUR
        await alice.session.flush(10)
        await catch_up(bob)
        assert (await bob.session.groups.info(group.id)).disappearing_secs == HOUR

        now = SystemClock().now()
        alice.session.ctx.clock = FixedClock(now)
        sent = await alice.session.messages.send(group.id, "this goes away")
        await alice.session.flush(10)
        carrier = await _carrier(alice, await _event_id(alice, group.id, sent.id))
        assert carrier.first_tag_value("expiration") == str(carrier.created_at + HOUR)
        await catch_up(bob)
        assert await _texts(bob, group.id) == ["said before the timer", "this goes away"]

        # Not yet due: nothing goes. Then an hour later it is gone on both sides.
        assert await alice.session.disappearing.sweep() == 0
        for client in (alice, bob):
            client.session.ctx.clock = FixedClock(now + HOUR + 1)
            client.events.clear()
            assert await client.session.disappearing.sweep() == 1
            assert await _texts(client, group.id) == ["said before the timer"]
            expired = [e for e in client.events if isinstance(e, MessagesExpired)]
            assert [(e.group_id, e.message_ids) for e in expired] == [(group.id, (sent.id,))]
        assert kept.id  # the message from before the timer stays
        search = await bob.session.messages.search("goes away")
        assert search == []  # its search entry went with it

        # Off again: new messages stay.
        alice.session.ctx.clock = SystemClock()
        await alice.session.groups.set_disappearing(group.id, 0)
        assert (await alice.session.groups.info(group.id)).disappearing_secs == 0
        stays = await alice.session.messages.send(group.id, "this one stays")
        await alice.session.flush(10)
        carrier = await _carrier(alice, await _event_id(alice, group.id, stays.id))
        assert carrier.first_tag_value("expiration") is None
    finally:
        await alice.close()
        await bob.close()


async def _event_id(client: Client, group: str, rumor_id: str) -> str:
    gid = (await client.session.groups.store.resolve(group)).mls_group_id
    row = await client.session.account.db.run(messages_repo.by_rumor_id, gid, rumor_id)
    assert row is not None and row.event_id is not None
    return row.event_id


async def _carrier(client: Client, event_id: str) -> Event:
    """Our own kind 445 as the outbox keeps it (what went to the relays)."""

    def find(conn: Connection) -> str | None:
        row = conn.execute("SELECT event_json FROM outbox WHERE event_id = ?", (event_id,))
        found = row.fetchone()
        return None if found is None else str(found[0])

    stored = await client.session.account.db.run(find)
    assert stored is not None
    return Event.from_json(stored)
