"""The errors of the storage package: one base class, split by who is at fault.

SQLite reports failures as result codes. The primary code tells whether the environment is
at fault (a busy, full, read-only or damaged disk: `StorageUnavailable`), the user typed the
wrong passphrase (SQLCipher reports NOTADB: `WrongPassphrase`) or our own SQL is wrong
(`StorageBug`). `classify` makes that choice in one place.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error raised by ``storage``."""


class WrongPassphrase(StorageError):
    """The passphrase does not open this database (or the file is not a Burrow database)."""

    def __init__(self, path: str = "") -> None:
        super().__init__(f"wrong passphrase for {path}" if path else "wrong passphrase")
        self.path = path


class InvalidPassphrase(StorageError, ValueError):
    """The passphrase cannot be used at all (empty, or contains a NUL character)."""


class SchemaTooNew(StorageError):
    """The database was written by a newer Burrow; it is left untouched."""

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            f"database schema version {found} is newer than this Burrow supports ({supported})"
        )
        self.found = found
        self.supported = supported


class StorageUnavailable(StorageError):
    """The environment failed: busy, locked, full, read-only, missing or damaged storage."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(f"{message} ({code})" if code else message)
        self.code = code


class StorageBug(StorageError):
    """Our own SQL or API use is wrong (constraint, syntax, misuse): never the user's fault."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(f"{message} ({code})" if code else message)
        self.code = code


class NotFound(StorageError):
    """A row the operation requires does not exist (for example an unknown group)."""


class Conflict(StorageError):
    """The row changed since the caller read it (optimistic concurrency on group state)."""

    def __init__(self, what: str, expected: int, found: int) -> None:
        super().__init__(f"{what}: expected revision {expected}, found {found}")
        self.expected = expected
        self.found = found


# Primary SQLite result codes (sqlite3.h) that mean "the environment is at fault".
_ENVIRONMENT = {
    5: "SQLITE_BUSY",
    6: "SQLITE_LOCKED",
    7: "SQLITE_NOMEM",
    8: "SQLITE_READONLY",
    10: "SQLITE_IOERR",
    11: "SQLITE_CORRUPT",
    13: "SQLITE_FULL",
    14: "SQLITE_CANTOPEN",
    15: "SQLITE_PROTOCOL",
    23: "SQLITE_AUTH",
    3: "SQLITE_PERM",
}
_NOTADB = 26


def classify(exc: BaseException, path: str = "") -> StorageError:
    """The typed error for an exception raised by ``sqlcipher3`` (or ``sqlite3``)."""
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", "") or ""
    if not isinstance(code, int):
        # Errors raised by the driver itself (closed connection, wrong thread, bad binding).
        return StorageBug(str(exc), type(exc).__name__)
    primary = code & 0xFF
    if primary == _NOTADB:
        return WrongPassphrase(path)
    if primary in _ENVIRONMENT:
        return StorageUnavailable(str(exc), name or _ENVIRONMENT[primary])
    return StorageBug(str(exc), name)
