"""SQLite result codes become typed errors: environment, wrong passphrase, or our bug."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlcipher3

from storage import Connection, StorageBug, StorageUnavailable, WrongPassphrase
from storage.connection import translate_errors
from storage.errors import classify


def _raised(fn: Callable[[], object]) -> BaseException:
    try:
        fn()
    except sqlcipher3.Error as exc:
        error: BaseException = exc
        return error
    raise AssertionError("no error raised")


def test_notadb_is_wrong_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"\x8f" * 8192)  # what an encrypted file looks like under a wrong key
    conn = sqlcipher3.connect(str(path))
    exc = _raised(lambda: conn.execute("SELECT * FROM sqlite_schema").fetchall())
    assert getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB"
    error = classify(exc, str(path))
    assert isinstance(error, WrongPassphrase)
    assert error.path == str(path)


def test_busy_is_unavailable(tmp_path: Path) -> None:
    path = str(tmp_path / "plain.db")
    holder = sqlcipher3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlcipher3.connect(path, timeout=0, isolation_level=None)
    exc = _raised(lambda: other.execute("SELECT * FROM t").fetchall())
    error = classify(exc)
    assert isinstance(error, StorageUnavailable)
    assert error.code == "SQLITE_BUSY"
    holder.execute("ROLLBACK")


def test_readonly_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    sqlcipher3.connect(str(path)).execute("CREATE TABLE t (x)").connection.close()
    conn = sqlcipher3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    exc = _raised(lambda: conn.execute("INSERT INTO t VALUES (1)"))
    assert isinstance(classify(exc), StorageUnavailable)


def test_constraint_and_syntax_are_bugs(conn: Connection) -> None:
    exc = _raised(
        lambda: conn.execute("INSERT INTO settings (key, value) VALUES ('k', 'not json')")
    )
    error = classify(exc)
    assert isinstance(error, StorageBug)
    assert error.code.startswith("SQLITE_CONSTRAINT")
    assert isinstance(classify(_raised(lambda: conn.execute("SELEC 1"))), StorageBug)


def test_driver_errors_without_a_code_are_bugs(tmp_path: Path) -> None:
    closed = sqlcipher3.connect(str(tmp_path / "c.db"))
    closed.close()
    error = classify(_raised(lambda: closed.execute("SELECT 1")))
    assert isinstance(error, StorageBug)
    assert error.code == "ProgrammingError"


def test_translate_errors_keeps_the_cause(conn: Connection) -> None:
    with pytest.raises(StorageBug) as info, translate_errors():
        conn.execute("SELECT * FROM no_such_table")
    assert isinstance(info.value.__cause__, sqlcipher3.OperationalError)


def test_errors_carry_no_secret_values(conn: Connection) -> None:
    secret = "s3cr3t-value"
    with pytest.raises(StorageBug) as info, translate_errors():
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)", ("k", secret))
    assert secret not in str(info.value)
