"""The async facade: one thread owns the connection; transactions are whole or absent."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from storage import (
    Connection,
    Database,
    StorageBug,
    StorageUnavailable,
    WrongPassphrase,
)
from storage.repos import accounts
from tests.helpers.storage_factories import FAST, PASSPHRASE

pytestmark = pytest.mark.asyncio


def _thread_name(_conn: Connection) -> str:
    return threading.current_thread().name


def _count(conn: Connection) -> int:
    value: int = conn.execute("SELECT count(*) FROM settings").fetchone()[0]
    return value


async def test_work_runs_on_the_database_thread(db: Database) -> None:
    name = await db.run(_thread_name)
    assert name == f"db:{db.path.name}"
    assert name != threading.current_thread().name


async def test_run_passes_arguments_and_returns_results(db: Database) -> None:
    await db.run(accounts.set_setting, "lang", value="fr")
    assert await db.run(accounts.get_setting, "lang") == "fr"


async def test_transact_commits_all_or_nothing(db: Database) -> None:
    def two_writes_then_fail(conn: Connection) -> None:
        accounts.set_setting(conn, "a", 1)
        accounts.set_setting(conn, "b", 2)
        raise ValueError("halfway")

    with pytest.raises(ValueError, match="halfway"):
        await db.transact(two_writes_then_fail)
    assert await db.run(_count) == 0
    await db.transact(accounts.set_setting, "a", 1)
    assert await db.run(_count) == 1


async def test_transaction_block_commits_or_rolls_back(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.run(accounts.set_setting, "kept", True)
        await asyncio.sleep(0)
        await tx.run(accounts.set_setting, "also", True)
    with pytest.raises(KeyError):
        async with db.transaction() as tx:
            await tx.run(accounts.set_setting, "dropped", True)
            raise KeyError("boom")
    assert await db.run(accounts.settings) == {"kept": True, "also": True}
    with pytest.raises(StorageBug, match="finished"):
        await tx.run(_count)


async def test_sqlite_errors_arrive_typed(db: Database) -> None:
    with pytest.raises(StorageBug) as info:
        await db.run(lambda conn: conn.execute("INSERT INTO settings VALUES ('k', 'not json')"))
    assert info.value.code.startswith("SQLITE_CONSTRAINT")
    assert await db.run(_count) == 0  # and the connection still works


async def test_misuse_is_a_bug_not_a_deadlock(db: Database) -> None:
    async with db.transaction():
        with pytest.raises(StorageBug, match=r"tx\.run"):
            await db.run(_count)
        with pytest.raises(StorageBug):
            await db.transact(_count)
        with pytest.raises(StorageBug):
            await db.close()


async def test_other_tasks_wait_for_an_open_transaction(db: Database) -> None:
    order: list[str] = []

    async def reader() -> None:
        settings = await db.run(accounts.settings)
        order.append(f"reader saw {sorted(settings)}")

    async with db.transaction() as tx:
        await tx.run(accounts.set_setting, "x", 1)
        task = asyncio.create_task(reader())
        await asyncio.sleep(0.01)
        assert not task.done()  # no read in the middle of our transaction
        await tx.run(accounts.set_setting, "y", 2)
        order.append("committing")
    await task
    assert order == ["committing", "reader saw ['x', 'y']"]


async def test_cancelled_transaction_body_is_rolled_back(db: Database) -> None:
    started = asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as tx:
            await tx.run(accounts.set_setting, "never", True)
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(writer())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await db.run(accounts.settings) == {}
    await db.transact(accounts.set_setting, "after", True)  # the connection is usable
    assert await db.run(accounts.settings) == {"after": True}


async def test_closed_database_refuses_work(db_path: Path) -> None:
    db = await Database.open(db_path, PASSPHRASE, create=True, profile=FAST)
    await db.close()
    await db.close()  # idempotent
    assert db.closed
    with pytest.raises(StorageBug, match="closed"):
        await db.run(_count)
    # closing released the file: it can be opened again
    again = await Database.open(db_path, PASSPHRASE, profile=FAST)
    await again.close()


async def test_one_database_per_file(db: Database) -> None:
    with pytest.raises(StorageUnavailable) as info:
        await Database.open(db.path, PASSPHRASE, profile=FAST)
    assert info.value.code == "IN_USE"


async def test_open_failures_are_typed_and_release_the_file(db_path: Path) -> None:
    db = await Database.open(db_path, PASSPHRASE, create=True, profile=FAST)
    await db.close()
    with pytest.raises(WrongPassphrase):
        await Database.open(db_path, "not it", profile=FAST)
    with pytest.raises(StorageUnavailable):
        await Database.open(db_path.with_name("missing.db"), PASSPHRASE, profile=FAST)
    db = await Database.open(db_path, PASSPHRASE, profile=FAST)
    await db.close()


async def test_rekey_through_the_facade(db_path: Path) -> None:
    db = await Database.open(db_path, PASSPHRASE, create=True, profile=FAST)
    await db.transact(accounts.set_setting, "k", "v")
    await db.rekey("a brand new passphrase")
    await db.close()
    with pytest.raises(WrongPassphrase):
        await Database.open(db_path, PASSPHRASE, profile=FAST)
    db = await Database.open(db_path, "a brand new passphrase", profile=FAST)
    assert await db.run(accounts.get_setting, "k") == "v"
    await db.close()
