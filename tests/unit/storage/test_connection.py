"""Opening: passphrase rules, pinned cipher profile, connection settings, missing files."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import (
    LATEST_VERSION,
    CipherProfile,
    Connection,
    InvalidPassphrase,
    StorageUnavailable,
    WrongPassphrase,
    check_encrypted,
    connect,
    export_encrypted,
    integrity_errors,
    rekey,
)
from storage.repos import accounts
from tests.helpers.storage_factories import FAST, PASSPHRASE


@pytest.mark.parametrize("bad", ["", "nul\x00inside"])
def test_unusable_passphrases_are_refused(db_path: Path, bad: str) -> None:
    with pytest.raises(InvalidPassphrase):
        connect(db_path, bad, create=True, profile=FAST)
    assert not db_path.exists()


@pytest.mark.parametrize("phrase", ['it\'s "quoted"; DROP TABLE x; --', "пароль 密码 🔑", " "])
def test_any_printable_passphrase_round_trips(db_path: Path, phrase: str) -> None:
    conn = connect(db_path, phrase, create=True, profile=FAST)
    accounts.create(conn, "ab" * 32, b"k" * 32, now=1)
    conn.close()
    with pytest.raises(WrongPassphrase):
        connect(db_path, phrase + "x", profile=FAST)
    again = connect(db_path, phrase, profile=FAST)
    assert accounts.require(again).pubkey == "ab" * 32
    again.close()


def test_missing_file_without_create_is_not_created(db_path: Path) -> None:
    with pytest.raises(StorageUnavailable) as info:
        connect(db_path, PASSPHRASE, profile=FAST)
    assert info.value.code == "NOTFOUND"
    assert not db_path.exists()


def test_cipher_settings_are_part_of_the_key(db_path: Path) -> None:
    connect(db_path, PASSPHRASE, create=True, profile=FAST).close()
    with pytest.raises(WrongPassphrase):
        connect(db_path, PASSPHRASE, profile=CipherProfile(kdf_iter=FAST.kdf_iter + 1))
    with pytest.raises(WrongPassphrase):
        connect(db_path, PASSPHRASE, profile=CipherProfile(kdf_iter=FAST.kdf_iter, page_size=8192))


def test_the_pinned_profile_is_sqlcipher_4() -> None:
    pinned = CipherProfile()
    assert (pinned.kdf_iter, pinned.page_size) == (256_000, 4096)
    assert (pinned.hmac_algorithm, pinned.kdf_algorithm) == ("HMAC_SHA512", "PBKDF2_HMAC_SHA512")


def test_connection_settings(conn: Connection) -> None:
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    assert conn.execute("PRAGMA cipher_version").fetchone()[0].startswith("4.")
    assert conn.in_transaction is False
    assert integrity_errors(conn) == []


def test_bad_cipher_setting_names_are_refused() -> None:
    with pytest.raises(Exception, match="bad cipher setting"):
        CipherProfile(hmac_algorithm="HMAC_SHA512; DROP").pragmas()


def test_integrity_errors_reports_a_broken_search_index(conn: Connection) -> None:
    conn.execute(
        "INSERT INTO groups (mls_group_id, nostr_group_id, marmot_data, state, epoch, mls_state,"
        " state_format, created_at, updated_at) VALUES (x'01', ?, x'', 'active', 0, x'', 1, 0, 0)",
        ("cd" * 32,),
    )
    conn.execute(
        "INSERT INTO messages (mls_group_id, rumor_id, kind, author, content, created_at, status,"
        " received_at) VALUES (x'01', 'r', 9, ?, 'hello there', 1, 'received', 1)",
        ("ab" * 32,),
    )
    assert integrity_errors(conn) == []
    # Bypass the triggers: the content changes behind the index's back.
    conn.execute("DROP TRIGGER messages_fts_update")
    conn.execute("UPDATE messages SET content = 'something else'")
    assert any("search index" in problem for problem in integrity_errors(conn))


def test_new_files_are_private_and_folders_created(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "account.db"
    conn = connect(path, PASSPHRASE, create=True, profile=FAST)
    accounts.create(conn, "ab" * 32, b"k" * 32, now=1)
    for file in (path, path.with_name("account.db-wal")):
        assert file.stat().st_mode & 0o777 == 0o600, file
    backup = export_encrypted(conn, tmp_path / "backup.db", "other", profile=FAST)
    assert backup.stat().st_mode & 0o777 == 0o600
    conn.close()


def test_rekey_is_refused_while_another_connection_is_open(db_path: Path) -> None:
    first = connect(db_path, PASSPHRASE, create=True, profile=FAST)
    second = connect(db_path, PASSPHRASE, profile=FAST)
    with pytest.raises(StorageUnavailable):
        rekey(first, "new passphrase")
    assert first.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    second.close()
    rekey(first, "new passphrase")
    assert first.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    first.close()
    connect(db_path, "new passphrase", profile=FAST).close()


def test_a_library_that_ignores_the_key_is_refused(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sqlcipher3 linked against plain SQLite would write plaintext: connect refuses it."""
    import sqlite3

    import sqlcipher3

    monkeypatch.setattr(sqlcipher3, "connect", sqlite3.connect)
    with pytest.raises(StorageUnavailable) as info:
        connect(db_path, PASSPHRASE, create=True, profile=FAST)
    assert info.value.code == "PLAINTEXT"


def test_check_encrypted_reads_the_file_header(conn: Connection, db_path: Path) -> None:
    import sqlite3

    check_encrypted(conn, db_path)  # ours: random salt where SQLite writes its header
    plain_path = db_path.with_name("plain.db")
    plain = sqlite3.connect(plain_path)
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    plain.close()
    with pytest.raises(StorageUnavailable) as info:
        check_encrypted(conn, plain_path)  # a real cipher library, but a plaintext file
    assert info.value.code == "PLAINTEXT"
