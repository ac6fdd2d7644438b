"""Encrypted local storage: SQLCipher files, migrations, repositories, units of work.

Storage knows tables, not protocols: the MLS group state is an opaque versioned blob.
"""

from __future__ import annotations

from storage import repos
from storage.connection import (
    PINNED,
    CipherProfile,
    check_encrypted,
    connect,
    export_encrypted,
    integrity_errors,
    rekey,
    restore_backup,
)
from storage.errors import (
    Conflict,
    InvalidPassphrase,
    NotFound,
    SchemaTooNew,
    StorageBug,
    StorageError,
    StorageUnavailable,
    WrongPassphrase,
)
from storage.executor import Database, Transaction
from storage.files import AccountEntry, AccountRegistry, delete_all_local_data
from storage.migrations import LATEST_VERSION
from storage.types import Connection
from storage.unit_of_work import (
    Applied,
    IncomingChange,
    OutgoingEvent,
    Recorded,
    apply_incoming,
    record_outgoing,
)

__all__ = [
    # opening and files
    "Database",
    "Transaction",
    "Connection",
    "CipherProfile",
    "PINNED",
    "LATEST_VERSION",
    "connect",
    "check_encrypted",
    "rekey",
    "export_encrypted",
    "restore_backup",
    "integrity_errors",
    "AccountEntry",
    "AccountRegistry",
    "delete_all_local_data",
    # repositories and units of work
    "repos",
    "IncomingChange",
    "Applied",
    "OutgoingEvent",
    "Recorded",
    "apply_incoming",
    "record_outgoing",
    # errors
    "StorageError",
    "WrongPassphrase",
    "InvalidPassphrase",
    "SchemaTooNew",
    "StorageUnavailable",
    "StorageBug",
    "NotFound",
    "Conflict",
]
