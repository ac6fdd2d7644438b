"""Concurrency through the async facade: correct results, and a loop that never stalls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from storage import Connection, Database, integrity_errors
from storage.repos import accounts, groups, messages, search
from tests.helpers.storage_factories import FAST, PASSPHRASE, chat, gid, new_group

pytestmark = pytest.mark.asyncio

WRITERS, PER_WRITER, COUNTERS, INCREMENTS = 30, 20, 10, 5


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "c.db", PASSPHRASE, create=True, profile=FAST)
    yield database
    await database.close()


async def _writer(db: Database, w: int) -> None:
    group = gid(f"w{w}")
    await db.transact(groups.create, new_group(f"w{w}"), now=1)
    for n in range(PER_WRITER):
        await db.transact(messages.insert, chat(group, n, content=f"writer{w} says {n}"), now=2)
        page = await db.run(messages.page, group, limit=PER_WRITER)
        assert [m.content for m in page] == [f"writer{w} says {i}" for i in range(n + 1)]


async def _counter(db: Database) -> None:
    for _ in range(INCREMENTS):
        # Read, yield to every other task, then write: only isolation keeps the count exact.
        async with db.transaction() as tx:
            value = await tx.run(accounts.get_setting, "counter", 0)
            await asyncio.sleep(0)
            await tx.run(accounts.set_setting, "counter", value + 1)


async def test_many_tasks_reading_and_writing_at_once(db: Database) -> None:
    tasks = [_writer(db, w) for w in range(WRITERS)] + [_counter(db) for _ in range(COUNTERS)]
    await asyncio.gather(*tasks)
    assert await db.run(messages.count) == WRITERS * PER_WRITER
    assert await db.run(accounts.get_setting, "counter") == COUNTERS * INCREMENTS
    hits = await db.run(search.search, "writer7", limit=100)
    assert len(hits) == PER_WRITER
    assert await db.run(integrity_errors) == []


def _bulk_insert(conn: Connection, count: int) -> int:
    group = gid("bulk")
    groups.create(conn, new_group("bulk"), now=1)
    words = [
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "consectetur",
        "adipiscing",
        "elit",
        "sed",
        "do",
    ]
    batch = (
        chat(group, n, content=" ".join(words[(n + i) % len(words)] for i in range(12)))
        for n in range(count)
    )
    return messages.insert_many(conn, batch, now=2)


async def test_the_event_loop_keeps_running_during_a_large_write(db: Database) -> None:
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    stored = await db.transact(_bulk_insert, 20_000)
    duration = time.perf_counter() - started
    stop.set()
    await tick
    assert stored == 20_000
    assert duration > 0.4, f"the write took {duration:.2f}s: too small to show anything"
    # Run inline, the write would stall the loop for its whole duration.
    assert max(gaps) < min(0.15, duration / 4), f"loop stalled {max(gaps) * 1000:.0f} ms"
    assert len(gaps) > duration / 0.02  # and it really did keep ticking
