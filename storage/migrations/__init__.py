"""Numbered schema migrations on ``PRAGMA user_version``.

Each ``NNNN_name.sql`` file moves the schema from version N-1 to N. The runner applies the
missing ones in order, each in its own ``BEGIN IMMEDIATE`` transaction that also sets
``user_version``, so a crash mid-upgrade leaves the database at the previous version. A
released file is never edited (tests pin their hashes); a change is a new file.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
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


def parse(files: Iterable[tuple[str, str]]) -> tuple[Migration, ...]:
    """Migrations from (file name, script) pairs; names must run 0001, 0002, ... without gaps."""
    found = []
    for name, script in files:
        match = _NAME.match(name)
        if match:
            found.append(Migration(int(match[1]), match[2], _split(script)))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise StorageBug("migration files must be numbered 0001, 0002, ... without gaps")
    return tuple(found)


def _load() -> tuple[Migration, ...]:
    return parse(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".sql")
    )


MIGRATIONS = _load()
LATEST_VERSION = len(MIGRATIONS)
SEARCH_VERSION = 2  # the first version with the messages_fts index


def schema_version(conn: Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(conn: Connection, *, target: int | None = None) -> tuple[int, int]:
    """Apply migrations up to ``target`` (default: the latest); returns (before, after).

    The caller has refused databases newer than the code before calling this.
    """
    plan = MIGRATIONS
    target = len(plan) if target is None else target
    if not 0 <= target <= len(plan):
        raise StorageBug(f"no schema version {target}")
    start = schema_version(conn)
    for migration in plan[start:target]:
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
    "parse",
    "schema_version",
]
