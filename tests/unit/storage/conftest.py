"""Fixtures for the storage unit tests: real SQLCipher files in a temporary folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from storage import Connection, Database, connect
from storage.repos import groups
from tests.helpers.storage_factories import FAST, PASSPHRASE, gid, new_group


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "account.db"


@pytest.fixture
def conn(db_path: Path) -> Iterator[Connection]:
    connection = connect(db_path, PASSPHRASE, create=True, profile=FAST)
    yield connection
    connection.close()


@pytest.fixture
def group(conn: Connection) -> bytes:
    """A stored group ("g") with members Alice (leaf 0, us) and Bob (leaf 1), epoch 0."""
    groups.create(conn, new_group(), now=100)
    return gid("g")


@pytest_asyncio.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(db_path, PASSPHRASE, create=True, profile=FAST)
    yield database
    await database.close()
