"""A stranger who knows a group's ``h`` tag floods it with kind 445 events no key opens.

The bound stated here (and in the README): 10,000 such events leave the account's
SQLCipher database, WAL included, under ``FLOOD_DB_BOUND`` (4 MiB). Only the group's
limit of them (100 events, 1 MiB of JSON by default) is kept for a retry; the rest stay as
small dedupe marks without their content, and each drop is counted.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from app.events import MessageReceived
from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey
from nostr.messages import ClientEvent
from storage import Connection
from storage.rows import Outcome
from tests.helpers.app_clients import Client, catch_up, eventually, join, make_client
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

FLOOD = 10_000
FLOOD_DB_BOUND = 6 << 20
"""Bytes: the account database with its WAL (which SQLite checkpoints at about 4 MiB and
then reuses) right after ``FLOOD`` junk events."""
FLOOD_DATA_BOUND = 1 << 20
"""Bytes: the same database once its WAL is checkpointed (truncated)."""
_BATCH = 200
"""More EVENT frames in flight make the relay drop the connection."""
_PER_CONNECTION = 2_000


def junk(nostr_group_id: str, count: int, *, now: int) -> list[Event]:
    """Signed 445s shaped like real ones (base64 nonce + AEAD ciphertext) under no key of
    the group, from a few throwaway keys."""
    keys = [SecretKey(os.urandom(32)) for _ in range(8)]
    events = []
    for i in range(count):
        content = base64.b64encode(os.urandom(12 + 300)).decode()
        tags = [("h", nostr_group_id), ("encoding", "base64")]
        unsigned = UnsignedEvent.create(
            keys[i % len(keys)].public_key(), now - i % 60, 445, content, tags
        )
        events.append(unsigned.sign(keys[i % len(keys)]))
    return events


async def publish_raw(url: str, events: list[Event]) -> None:
    """Straight to the relay, pipelined: each batch's OKs before the next, and a fresh
    connection every ``_PER_CONNECTION`` events (the relay drops a connection sooner)."""
    for first in range(0, len(events), _PER_CONNECTION):
        async with connect(url, max_size=None) as ws:
            for start in range(first, min(first + _PER_CONNECTION, len(events)), _BATCH):
                batch = events[start : min(start + _BATCH, first + _PER_CONNECTION)]
                for event in batch:
                    await ws.send(ClientEvent(event).to_json())
                for _ in batch:
                    answer = await ws.recv()
                    assert '"OK"' in answer and "true" in answer, answer


def _stored_json(conn: Connection) -> list[tuple[str, int]]:
    return [
        tuple(row)
        for row in conn.execute(
            "SELECT outcome, count(*) FROM processed_events WHERE event_json IS NOT NULL"
            " GROUP BY outcome"
        )
    ]


def _checkpoint(conn: Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()


def database_size(client: Client, tmp: Path) -> int:
    base = tmp / client.name / "accounts" / f"{client.pubkey}.db"
    return sum(p.stat().st_size for p in base.parent.glob(base.name + "*"))


async def test_ten_thousand_junk_events_stay_bounded_and_the_next_message_arrives(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice, bob = [await make_client(tmp_path, relay.url, n, live=False) for n in ("alice", "bob")]
    try:
        group = await alice.session.groups.create("Flooded", [bob.npub], profile="mip")
        await catch_up(bob)
        await join(bob, group)
        await catch_up(alice, bob)
        before = database_size(bob, tmp_path)

        started = time.monotonic()
        await publish_raw(relay.url, junk(group.id, FLOOD, now=int(time.time())))
        published = time.monotonic()
        await catch_up(bob)
        processed_in = time.monotonic() - published

        stats = await bob.session.groups.unopened(group.id)
        limits = bob.services.config.unopened
        assert stats.kept <= limits.events and stats.kept_bytes <= limits.bytes
        assert stats.kept + stats.dropped == FLOOD
        stored = await bob.session.ctx.db.run(_stored_json)
        assert stored == [(Outcome.RETRYABLE.value, stats.kept)]  # the dropped: marks only
        size = database_size(bob, tmp_path)  # the WAL as it stands, too
        await bob.session.ctx.db.run(_checkpoint)
        settled = database_size(bob, tmp_path)
        print(
            f"\nflood: published {FLOOD} in {published - started:.1f} s, processed in"
            f" {processed_in:.1f} s; database {before} -> {size} bytes ({settled} after a"
            f" checkpoint); kept {stats.kept} ({stats.kept_bytes} B), dropped {stats.dropped}"
        )
        assert size < FLOOD_DB_BOUND
        assert settled < FLOOD_DATA_BOUND

        hello = await alice.session.messages.send(group.id, "still here")
        await alice.session.flush(10)
        await catch_up(bob)

        async def arrived() -> list[str]:
            return [e.message.id for e in bob.of(MessageReceived)]

        assert hello.id in await eventually(arrived, lambda ids: hello.id in ids, 30)
    finally:
        await asyncio.gather(alice.close(), bob.close())
