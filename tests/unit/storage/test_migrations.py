"""Migrations: numbering, one transaction each, refusal of newer schemas, frozen history."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import pytest

from storage import LATEST_VERSION, Connection, SchemaTooNew, StorageBug, connect, migrations
from storage.connection import integrity_errors
from storage.migrations import MIGRATIONS, Migration, migrate, parse, schema_version
from storage.repos import groups, messages, search
from tests.data.db import make_fixtures as fixtures
from tests.helpers.storage_factories import FAST, PASSPHRASE

# A released migration is never edited: upgrading users already ran the old text. Change the
# schema with a new numbered file and add its hash here once it ships.
RELEASED = {
    1: "4c9ec4f4b78f62351fd8617f0a34521eeed93b093cb96fafe444accdc5f2c670",
    2: "96614c4954042df86d5b3bab64c75db99dbab5f88932960e0fa7a45d921cb547",
    3: "04bc3c2321bb55e0413c2f8422f0a93e8ee4ccd7830dbbec87ef887db172f80a",
    4: "799aa73d3f87d5fc91b9b5d063729e40f1a67fc5e3d300017b6f194bd1018a46",
    5: "3e3e894d02f8e38ffc04d0ed81ec30436c617d16470f4c8d7a68d1d77390138a",
    6: "aaa7d50c9aa7ba6e8ac22f1e2b31b570428b3c4f7ad1ceddb4c7b76e94c40beb",
    7: "5f973c34ce53c6b32c09fd1382daed40945aad40a60fa23d31ad1ab72d97c57c",
    8: "fdc9d12f4e9e140354ca6059b1bf86883215a80386db4622b520b650b9f7bd36",
}


def test_released_migrations_are_frozen() -> None:
    files = {
        int(entry.name[:4]): hashlib.sha256(entry.read_bytes()).hexdigest()
        for entry in resources.files("storage.migrations").iterdir()
        if entry.name.endswith(".sql")
    }
    assert {v: files[v] for v in RELEASED} == RELEASED
    assert set(files) == set(range(1, LATEST_VERSION + 1))
    assert LATEST_VERSION >= 2


def test_statements_split_with_trigger_bodies_whole() -> None:
    search_migration = MIGRATIONS[1]
    triggers = [s for s in search_migration.statements if "CREATE TRIGGER" in s]
    assert len(triggers) == 3
    assert all(t.endswith("END;") for t in triggers)
    assert not any(
        s.startswith("INSERT INTO messages_fts (messages_fts") for s in search_migration.statements
    )


def test_parse_rejects_gaps_and_incomplete_scripts() -> None:
    ok = parse([("0001_a.sql", "CREATE TABLE a (x);"), ("README", "ignored")])
    assert ok == (Migration(1, "a", ("CREATE TABLE a (x);",)),)
    with pytest.raises(StorageBug, match="numbered"):
        parse([("0001_a.sql", "SELECT 1;"), ("0003_c.sql", "SELECT 1;")])
    with pytest.raises(StorageBug, match="incomplete"):
        parse([("0001_a.sql", "CREATE TABLE a (x);\nCREATE TABLE b (y)\n-- no semicolon")])
    assert parse([("0001_a.sql", "SELECT 1;\n-- trailing comment\n")])[0].statements == (
        "SELECT 1;",
    )


def test_each_step_sets_its_version(db_path: Path) -> None:
    conn = connect(db_path, PASSPHRASE, create=True, profile=FAST, migrate=False)
    assert schema_version(conn) == 0
    for version in range(1, LATEST_VERSION + 1):
        assert migrate(conn, target=version) == (version - 1, version)
        assert schema_version(conn) == version
    assert migrate(conn) == (LATEST_VERSION, LATEST_VERSION)
    assert integrity_errors(conn) == []
    with pytest.raises(StorageBug):
        migrate(conn, target=LATEST_VERSION + 1)
    conn.close()


@pytest.mark.parametrize("version", range(1, LATEST_VERSION))
def test_upgrade_from_each_earlier_version(tmp_path: Path, version: int) -> None:
    """The fixture builder's content at ``version`` survives the upgrade (quick profile; the
    committed fixtures are upgraded in tests/integration/test_sqlcipher_migrations.py)."""
    path = tmp_path / f"v{version}.db"
    fixtures.build(path, version, profile=FAST)
    conn = connect(path, fixtures.PASSPHRASE, profile=FAST)
    assert schema_version(conn) == LATEST_VERSION
    page = messages.page(conn, fixtures.GROUP)
    assert tuple(m.content for m in page) == fixtures.EXPECTED_MESSAGES
    hits = search.search(conn, fixtures.SEARCH_WORD)
    assert [h.message.content for h in hits] == [fixtures.EXPECTED_MESSAGES[1]]
    group = groups.require(conn, fixtures.GROUP)
    assert group.profile == "mip"  # every group before schema 9 is a Profile A group
    assert integrity_errors(conn) == []
    conn.close()


def test_a_failing_migration_leaves_the_previous_version(
    conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = Migration(
        LATEST_VERSION + 1,
        "broken",
        ("CREATE TABLE half_done (x INTEGER);", "INSERT INTO no_such_table VALUES (1);"),
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(Exception, match="no_such_table"):
        migrate(conn)
    assert schema_version(conn) == LATEST_VERSION
    assert conn.in_transaction is False
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
    assert "half_done" not in tables


def test_a_migration_another_process_already_applied_is_skipped(db_path: Path) -> None:
    first = connect(db_path, PASSPHRASE, create=True, profile=FAST, migrate=False)
    second = connect(db_path, PASSPHRASE, profile=FAST, migrate=False)
    migrate(second)
    # ``first`` read version 0 earlier; applying 0001 now must notice and not fail.
    migrations._apply(first, MIGRATIONS[0])
    assert schema_version(first) == LATEST_VERSION
    first.close()
    second.close()


def test_a_newer_schema_is_refused_and_left_untouched(db_path: Path) -> None:
    conn = connect(db_path, PASSPHRASE, create=True, profile=FAST)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(SchemaTooNew) as info:
        connect(db_path, PASSPHRASE, profile=FAST)
    assert (info.value.found, info.value.supported) == (LATEST_VERSION + 1, LATEST_VERSION)
    assert db_path.read_bytes() == before
