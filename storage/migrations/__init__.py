"""Numbered schema migrations on ``PRAGMA user_version``.

Each ``NNNN_name.sql`` file moves the schema from version N-1 to N. The runner applies the
missing ones in order, each in its own ``BEGIN IMMEDIATE`` transaction that also sets
``user_version``, so a crash mid-upgrade leaves the database at the previous version. A
released file is never edited (tests pin their hashes); a change is a new file.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

from storage.errors import StorageBug
from storage.types import Connection

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def _split(script: str) -> tuple[str, ...]:
    """The script's statements; ``complete_statement`` keeps trigger bodies whole."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if any(line.strip() and not line.strip().startswith("--") for line in pending.splitlines()):
        raise StorageBug("migration script ends with an incomplete statement")
    return tuple(statements)


def _load() -> tuple[Migration, ...]:
    found = []
    for entry in resources.files(__name__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            script = entry.read_text(encoding="utf-8")
            found.append(Migration(int(match[1]), match[2], _split(script)))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise StorageBug("migration files must be numbered 0001, 0002, ... without gaps")
    return tuple(found)


MIGRATIONS = _load()
LATEST_VERSION = len(MIGRATIONS)
SEARCH_VERSION = 2  # the first version with the messages_fts index


def schema_version(conn: Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(conn: Connection, *, target: int = LATEST_VERSION) -> tuple[int, int]:
    """Apply migrations up to ``target``; returns (version before, version after).

    The caller has refused databases newer than `LATEST_VERSION` before calling this.
    """
    if not 0 <= target <= LATEST_VERSION:
        raise StorageBug(f"no schema version {target}")
    start = schema_version(conn)
    for migration in MIGRATIONS[start:target]:
        _apply(conn, migration)
    return start, max(start, target)


def _apply(conn: Connection, migration: Migration) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have upgraded between our read and our write lock.
        if schema_version(conn) >= migration.version:
            conn.execute("COMMIT")
            return
        for statement in migration.statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {migration.version:d}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "SEARCH_VERSION",
    "Migration",
    "migrate",
    "schema_version",
]
