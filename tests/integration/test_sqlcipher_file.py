"""Real encrypted files with the pinned production cipher profile, in a temporary folder.

Reopen with the right passphrase; the wrong one is `WrongPassphrase`; no plaintext in any
file byte (main file, WAL, backup); rekey; encrypted backup and restore; a newer schema is
refused untouched; delete-all-local-data removes every file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from storage import (
    LATEST_VERSION,
    AccountRegistry,
    Database,
    SchemaTooNew,
    WrongPassphrase,
    connect,
    delete_all_local_data,
    integrity_errors,
    restore_backup,
)
from storage.repos import accounts, groups, messages, search
from storage.rows import MlsState, StateWrite
from tests.helpers.storage_factories import ALICE, chat, gid, new_group

pytestmark = pytest.mark.asyncio

PASSPHRASE = "right passphrase"
SECRET_KEY = bytes(range(100, 132))
MARKERS = {
    "message": "the launch code is PLAINTEXT-MARKER-42",
    "setting": "SETTING-MARKER-ZEBRA",
    "state": "MLS-STATE-MARKER-QUOKKA",
}


def _plaintexts() -> list[bytes]:
    found = [m.encode() for m in MARKERS.values()]
    # Word-sized pieces too: a page could store a string split or compressed, never here.
    found += [b"PLAINTEXT-MARKER", b"ZEBRA", b"QUOKKA", SECRET_KEY, SECRET_KEY.hex().encode()]
    return found


def _leaks(paths: Iterable[Path]) -> list[str]:
    leaks = []
    for path in paths:
        if path.exists():
            data = path.read_bytes()
            leaks += [f"{path.name}: {p!r}" for p in _plaintexts() if p in data]
            # SQLite's own header and schema text would show in a plaintext file.
            leaks += [
                f"{path.name}: header" for p in (b"SQLite format 3", b"CREATE TABLE") if p in data
            ]
    return leaks


def _files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


async def _fill(path: Path) -> Database:
    db = await Database.open(path, PASSPHRASE, create=True)
    await db.transact(accounts.create, ALICE, SECRET_KEY, now=1)
    await db.transact(accounts.set_setting, "status", MARKERS["setting"])
    await db.transact(groups.create, new_group(state=MARKERS["state"].encode()), now=1)
    batch = [chat(gid("g"), n, content=f"{MARKERS['message']} #{n}") for n in range(200)]
    await db.transact(messages.insert_many, batch, now=2)  # enough to span many pages
    return db


async def test_no_plaintext_in_the_files_while_open_and_after_close(tmp_path: Path) -> None:
    path = tmp_path / "account.db"
    db = await _fill(path)
    # While open, recent pages sit in the WAL: it must be encrypted too.
    assert path.with_name("account.db-wal").stat().st_size > 0
    assert _leaks(_files(path)) == []
    await db.close()
    assert _leaks(_files(path)) == []
    assert path.stat().st_size > 100_000


async def test_reopen_right_and_wrong_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "account.db"
    await (await _fill(path)).close()
    before = path.read_bytes()
    for wrong in ("wrong passphrase", PASSPHRASE.upper(), PASSPHRASE + " "):
        with pytest.raises(WrongPassphrase):
            await Database.open(path, wrong)
    assert path.read_bytes() == before  # failed attempts change nothing
    db = await Database.open(path, PASSPHRASE)
    account = await db.run(accounts.require)
    assert account.secret_key == SECRET_KEY
    page = await db.run(messages.page, gid("g"), limit=1)
    assert page[0].content == f"{MARKERS['message']} #199"
    assert await db.run(integrity_errors) == []
    await db.close()


async def test_rekey(tmp_path: Path) -> None:
    path = tmp_path / "account.db"
    db = await _fill(path)
    await db.rekey("a new passphrase")
    await db.transact(accounts.set_setting, "after", "rekey")  # keeps working under the new key
    await db.close()
    with pytest.raises(WrongPassphrase):
        await Database.open(path, PASSPHRASE)
    db = await Database.open(path, "a new passphrase")
    assert await db.run(accounts.get_setting, "after") == "rekey"
    assert await db.run(messages.count) == 200
    assert await db.run(integrity_errors) == []
    await db.close()
    assert _leaks(_files(path)) == []


async def test_backup_round_trip_and_restore(tmp_path: Path) -> None:
    path = tmp_path / "account.db"
    db = await _fill(path)
    (tmp_path / "backups").mkdir()
    backup = await db.backup(tmp_path / "backups" / "burrow.backup", "backup passphrase")
    await db.close()
    assert sorted(p.name for p in backup.parent.iterdir()) == ["burrow.backup"]
    assert _leaks([backup]) == []
    with pytest.raises(WrongPassphrase):
        connect(backup, PASSPHRASE)
    copy = connect(backup, "backup passphrase", migrate=False)
    assert copy.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    assert accounts.require(copy).secret_key == SECRET_KEY
    assert len(search.search(copy, "launch code", limit=500)) == 200
    assert integrity_errors(copy) == []
    copy.close()

    backup_bytes = backup.read_bytes()
    restored_path = tmp_path / "restored.db"
    restore_backup(backup, "backup passphrase", restored_path, "restored passphrase")
    assert backup.read_bytes() == backup_bytes  # the backup is only read
    restored = await Database.open(restored_path, "restored passphrase")
    assert (await restored.run(groups.load_state, gid("g"))).state.data == MARKERS["state"].encode()
    assert await restored.run(accounts.get_setting, "status") == MARKERS["setting"]
    await restored.close()


async def test_a_newer_schema_is_refused_and_the_file_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "account.db"
    await (await _fill(path)).close()
    raw = connect(path, PASSPHRASE)
    raw.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    raw.close()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(SchemaTooNew):
        await Database.open(path, PASSPHRASE)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    # Restoring it as a backup is refused too, and nothing is written at the destination.
    with pytest.raises(SchemaTooNew):
        restore_backup(path, PASSPHRASE, tmp_path / "elsewhere.db", "x")
    assert path.read_bytes() == before["account.db"]
    assert not list(tmp_path.glob("elsewhere*"))


async def test_state_survives_reopen_exactly(tmp_path: Path) -> None:
    path = tmp_path / "account.db"
    db = await _fill(path)
    blob = bytes(range(256)) * 300
    await db.transact(groups.write_state, StateWrite(gid("g"), 0, MlsState(7, blob), 1, 0), now=3)
    await db.close()
    db = await Database.open(path, PASSPHRASE)
    stored = await db.run(groups.load_state, gid("g"))
    assert (stored.state, stored.epoch, stored.revision) == (MlsState(7, blob), 1, 1)
    await db.close()


async def test_delete_all_local_data_removes_every_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    registry = AccountRegistry(data)
    registry.add(ALICE, "Alice", now=1)
    db = await _fill(registry.database_path(ALICE))
    await db.backup(data / "backup.db", "backup passphrase")
    await db.close()
    assert len(list(data.rglob("*"))) >= 4
    delete_all_local_data(data)
    assert not data.exists()
    assert list(tmp_path.iterdir()) == []
