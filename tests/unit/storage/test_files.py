"""The data folder: account registry without secrets, removing accounts, deleting everything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage import (
    AccountRegistry,
    Database,
    StorageBug,
    StorageUnavailable,
    delete_all_local_data,
)
from storage.repos import accounts
from tests.helpers.storage_factories import ALICE, BOB, FAST, PASSPHRASE


def test_registry_lists_accounts_without_secrets(tmp_path: Path) -> None:
    registry = AccountRegistry(tmp_path / "data")
    assert registry.accounts() == []
    registry.add(ALICE, "Alice", now=10)
    registry.add(BOB, "Bob", now=11)
    registry.add(ALICE, "Alice (work)", now=12)  # relabel keeps creation time
    assert [(a.pubkey, a.label, a.created_at) for a in registry.accounts()] == [
        (BOB, "Bob", 11),
        (ALICE, "Alice (work)", 10),
    ]
    assert registry.get(BOB).label == "Bob"  # type: ignore[union-attr]
    assert registry.database_path(ALICE) == tmp_path / "data" / "accounts" / f"{ALICE}.db"
    stored = json.loads((tmp_path / "data" / "accounts.json").read_text())
    assert set(stored["accounts"][0]) == {"pubkey", "label", "created_at"}
    with pytest.raises(StorageBug):
        registry.database_path("../../etc/passwd")


def test_damaged_registry_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "accounts.json").write_text("{not json")
    with pytest.raises(StorageUnavailable) as info:
        AccountRegistry(tmp_path).accounts()
    assert info.value.code == "CORRUPT"


@pytest.mark.asyncio
async def test_remove_account_deletes_its_files_once_closed(tmp_path: Path) -> None:
    registry = AccountRegistry(tmp_path)
    registry.add(ALICE, "Alice", now=1)
    path = registry.database_path(ALICE)
    db = await Database.open(path, PASSPHRASE, create=True, profile=FAST)
    await db.transact(accounts.create, ALICE, b"k" * 32, now=1)
    with pytest.raises(StorageUnavailable):
        registry.remove(ALICE)
    await db.close()
    registry.remove(ALICE)
    assert registry.accounts() == []
    assert list(path.parent.iterdir()) == []


@pytest.mark.asyncio
async def test_delete_all_local_data(tmp_path: Path) -> None:
    data = tmp_path / "burrow"
    registry = AccountRegistry(data)
    for pubkey in (ALICE, BOB):
        registry.add(pubkey, pubkey[:4], now=1)
    db = await Database.open(registry.database_path(ALICE), PASSPHRASE, create=True, profile=FAST)
    other = await Database.open(registry.database_path(BOB), PASSPHRASE, create=True, profile=FAST)
    await other.close()
    (data / "media-cache").mkdir()
    (data / "media-cache" / "blob").write_bytes(b"x")
    with pytest.raises(StorageUnavailable) as info:
        delete_all_local_data(data)
    assert info.value.code == "IN_USE"
    await db.close()
    delete_all_local_data(data)
    assert not data.exists()
    delete_all_local_data(data)  # nothing left: a no-op


def test_delete_all_refuses_a_folder_that_is_not_ours(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(StorageUnavailable):
        delete_all_local_data(tmp_path)
    assert (tmp_path / "precious.txt").exists()
