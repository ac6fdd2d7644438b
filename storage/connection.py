"""Opening SQLCipher databases: key first, pinned cipher settings, verify, then configure.

The order matters. The key and the cipher settings must be set before the first read; the
first read proves the key (a wrong one surfaces as NOTADB); the schema version is checked
before anything writes, so a database from a newer Burrow is closed byte-for-byte untouched;
only then are WAL mode and the migrations applied.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3

from storage import migrations
from storage.errors import (
    InvalidPassphrase,
    SchemaTooNew,
    StorageBug,
    StorageUnavailable,
    classify,
)
from storage.types import Connection

DRIVER_ERRORS: tuple[type[BaseException], ...] = (sqlcipher3.Error,)


@dataclass(frozen=True, slots=True)
class CipherProfile:
    """SQLCipher settings, pinned so a library upgrade can never change how files are read.

    The defaults are SQLCipher 4's. Only tests use another profile (a cheaper ``kdf_iter``
    keeps hundreds of throw-away databases fast); every real database uses `PINNED`.
    """

    kdf_iter: int = 256_000
    page_size: int = 4096
    hmac_algorithm: str = "HMAC_SHA512"
    kdf_algorithm: str = "PBKDF2_HMAC_SHA512"

    def pragmas(self, schema: str = "main") -> str:
        return (
            f"PRAGMA {schema}.cipher_page_size = {int(self.page_size)};"
            f"PRAGMA {schema}.kdf_iter = {int(self.kdf_iter)};"
            f"PRAGMA {schema}.cipher_hmac_algorithm = {_ident(self.hmac_algorithm)};"
            f"PRAGMA {schema}.cipher_kdf_algorithm = {_ident(self.kdf_algorithm)};"
            f"PRAGMA {schema}.cipher_plaintext_header_size = 0;"
        )


PINNED = CipherProfile()


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise StorageBug(f"bad cipher setting {name!r}")
    return name


def check_passphrase(passphrase: str) -> None:
    """Refuse passphrases SQLCipher cannot use: an empty key would mean no encryption."""
    if not isinstance(passphrase, str) or not passphrase:
        raise InvalidPassphrase("the passphrase must be a non-empty string")
    if "\x00" in passphrase:
        raise InvalidPassphrase("the passphrase must not contain a NUL character")


def _literal(passphrase: str) -> str:
    # PRAGMA key takes no bound parameters; a quoted SQL literal is the documented form.
    return "'" + passphrase.replace("'", "''") + "'"


@contextlib.contextmanager
def translate_errors(path: str | os.PathLike[str] = "") -> Iterator[None]:
    """Turn driver exceptions raised in the block into typed `StorageError`s."""
    try:
        yield
    except DRIVER_ERRORS as exc:
        raise classify(exc, str(path)) from exc


def connect(
    path: str | os.PathLike[str],
    passphrase: str,
    *,
    create: bool = False,
    profile: CipherProfile = PINNED,
    migrate: bool = True,
) -> Connection:
    """Open (``create``: or make) the encrypted database at ``path``, migrated to the latest.

    Raises `WrongPassphrase`, `SchemaTooNew` (file untouched), `StorageUnavailable` (missing
    file without ``create``, or a disk problem) or `InvalidPassphrase`.
    """
    check_passphrase(passphrase)
    path = Path(path)
    if not path.is_file():
        if not create:
            raise StorageUnavailable(f"no database at {path}", "NOTFOUND")
        _create_private(path)
    conn = _open_keyed(path, passphrase, profile)
    try:
        with translate_errors(path):
            configure(conn)
            if migrate:
                migrations.migrate(conn)
            check_encrypted(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _open_keyed(
    path: Path, passphrase: str, profile: CipherProfile, *, read_only: bool = False
) -> Connection:
    """A connection whose key is proven and whose schema is not newer than this code's;
    nothing has been written."""
    target = path.resolve().as_uri() + "?mode=ro" if read_only else str(path)
    with translate_errors(path):
        conn: Connection = sqlcipher3.connect(target, uri=read_only, isolation_level=None)
    try:
        with translate_errors(path):
            _key(conn, passphrase, profile)
            version = migrations.schema_version(conn)
            if version > migrations.LATEST_VERSION:
                raise SchemaTooNew(version, migrations.LATEST_VERSION)
    except BaseException:
        conn.close()
        raise
    return conn


def _create_private(path: Path) -> None:
    """An empty owner-only file (SQLite treats it as a new database; its -wal and -shm
    files copy these permissions)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise StorageUnavailable(f"cannot create {path}: {exc}", "CANTOPEN") from exc


def _key(conn: Connection, passphrase: str, profile: CipherProfile) -> None:
    # executescript: the statement holding the passphrase is not kept in the statement cache.
    conn.execute("PRAGMA cipher_log_level = NONE")  # no decrypt-failure noise on stderr
    conn.executescript(f"PRAGMA key = {_literal(passphrase)};" + profile.pragmas())
    conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()  # proves the key


_PLAINTEXT_HEADER = b"SQLite format 3\x00"


def check_encrypted(conn: Connection, path: str | os.PathLike[str]) -> None:
    """Raise `StorageUnavailable` (``PLAINTEXT``) unless ``path`` really is encrypted.

    A ``sqlcipher3`` built against plain SQLite accepts ``PRAGMA key`` silently and writes
    plaintext, so the library must report a cipher version, and the file must not begin
    with SQLite's plaintext header (an encrypted file begins with random salt).
    """
    if conn.execute("PRAGMA cipher_version").fetchone() is None:
        raise StorageUnavailable("the SQLite library in use does not encrypt", "PLAINTEXT")
    try:
        with Path(path).open("rb") as file:
            header = file.read(len(_PLAINTEXT_HEADER))
    except OSError as exc:
        raise StorageUnavailable(f"cannot read {path}: {exc}", "IOERR") from exc
    if header == _PLAINTEXT_HEADER:
        raise StorageUnavailable(f"{path} holds a plaintext database", "PLAINTEXT")


def configure(conn: Connection) -> None:
    """Per-connection settings: WAL, durable commits, foreign keys, no temp files on disk."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StorageUnavailable(f"cannot enable WAL (journal_mode is {mode})", "WAL")
    # FULL: a commit acknowledged to the app (a merged epoch) survives power loss too.
    conn.executescript(
        "PRAGMA synchronous = FULL;"
        "PRAGMA foreign_keys = ON;"
        "PRAGMA temp_store = MEMORY;"
        "PRAGMA busy_timeout = 5000;"
    )


def rekey(conn: Connection, new_passphrase: str) -> None:
    """Re-encrypt every page under ``new_passphrase``.

    SQLCipher 4 rekeys safely only outside WAL mode, so the WAL is checkpointed and the
    rekey runs with a rollback journal (a crash mid-way rolls back to the old key), then
    WAL mode returns. Refused while another connection keeps the database in WAL mode.
    """
    check_passphrase(new_passphrase)
    if conn.in_transaction:
        raise StorageBug("rekey inside a transaction")
    with translate_errors():
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        try:
            if str(mode).lower() != "delete":
                raise StorageUnavailable("another connection has the database open", "BUSY")
            conn.executescript(f"PRAGMA rekey = {_literal(new_passphrase)};")
        finally:
            configure(conn)


def export_encrypted(
    conn: Connection,
    dest: str | os.PathLike[str],
    passphrase: str,
    *,
    profile: CipherProfile = PINNED,
) -> Path:
    """Write a consistent encrypted copy of ``conn`` to ``dest`` under its own passphrase.

    ``sqlcipher_export`` writes into a temporary file next to ``dest`` which then replaces
    ``dest`` atomically, so a crash never leaves a half-written backup under the final name.
    """
    check_passphrase(passphrase)
    dest = Path(dest)
    tmp = dest.with_name(dest.name + ".partial")
    for leftover in _with_sidecars(tmp):  # a stale journal must never meet a new file
        leftover.unlink(missing_ok=True)
    _create_private(tmp)
    version = migrations.schema_version(conn)
    try:
        with translate_errors(dest):
            conn.execute("ATTACH DATABASE ? AS backup KEY ?", (str(tmp), passphrase))
            try:
                conn.executescript(profile.pragmas("backup"))
                conn.execute("SELECT sqlcipher_export('backup')").fetchone()
                # sqlcipher_export copies schema and rows, not the header's user_version.
                conn.execute(f"PRAGMA backup.user_version = {int(version)}")
            finally:
                conn.execute("DETACH DATABASE backup")
        check_encrypted(conn, tmp)
        _fsync(tmp)
        tmp.replace(dest)
        _fsync_dir(dest.parent)
    except BaseException:
        for leftover in _with_sidecars(tmp):
            leftover.unlink(missing_ok=True)
        raise
    return dest


def _with_sidecars(path: Path) -> list[Path]:
    return [path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))]


def restore_backup(
    backup: str | os.PathLike[str],
    backup_passphrase: str,
    dest: str | os.PathLike[str],
    passphrase: str,
    *,
    profile: CipherProfile = PINNED,
) -> Path:
    """Copy a backup to ``dest`` re-encrypted under ``passphrase``; the backup file is only read.

    The copy keeps the backup's schema version; opening it with `connect` migrates it.
    """
    check_passphrase(backup_passphrase)
    path = Path(backup)
    if not path.is_file():
        raise StorageUnavailable(f"no backup at {path}", "NOTFOUND")
    conn = _open_keyed(path, backup_passphrase, profile, read_only=True)
    try:
        return export_encrypted(conn, dest, passphrase, profile=profile)
    finally:
        conn.close()


def integrity_errors(conn: Connection) -> list[str]:
    """Problems found by SQLite's integrity and foreign-key checks and the FTS index check."""
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
    problems += [f"foreign key: {tuple(row)}" for row in conn.execute("PRAGMA foreign_key_check")]
    if migrations.schema_version(conn) >= migrations.SEARCH_VERSION:
        try:
            # rank = 1: also compare the index with the external content table.
            conn.execute(
                "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"
            )
        except DRIVER_ERRORS as exc:
            problems.append(f"search index: {exc}")
    return problems


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can fsync a directory
        _fsync(path)


__all__ = [
    "PINNED",
    "CipherProfile",
    "DRIVER_ERRORS",
    "check_encrypted",
    "check_passphrase",
    "configure",
    "connect",
    "export_encrypted",
    "integrity_errors",
    "rekey",
    "restore_backup",
    "translate_errors",
]
