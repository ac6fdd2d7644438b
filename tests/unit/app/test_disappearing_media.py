"""A message that disappears takes the decrypted copy of its file with it (the encrypted
media cache), unless another message still carries the same file. Real SQLCipher file."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.disappearing import delete_expired
from marmot.media import MediaReference, build_imeta_tag
from storage import Connection, connect
from storage.repos import groups, media, messages
from storage.rows import NewMessage
from tests.helpers.storage_factories import FAST, PASSPHRASE, chat, gid, new_group

PHOTO, SHARED = bytes([1]) * 32, bytes([2]) * 32


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[Connection]:
    connection = connect(tmp_path / "account.db", PASSPHRASE, create=True, profile=FAST)
    groups.create(connection, new_group(), now=100)
    yield connection
    connection.close()


def _with_file(n: int, file_hash: bytes, expires_at: int | None) -> NewMessage:
    ref = MediaReference(
        f"https://blossom.example/{n}", "image/png", f"{n}.png", file_hash, bytes([n]) * 12
    )
    row = chat(gid("g"), n)
    return dataclasses.replace(row, tags=(build_imeta_tag(ref),), expires_at=expires_at)


def _cache(conn: Connection, file_hash: bytes) -> None:
    media.cache_put(conn, media.CachedFile(file_hash, "image/png", "f.png", b"pixels"), now=1)


def test_an_expired_message_takes_its_cached_file_along_but_not_a_shared_one(
    conn: Connection,
) -> None:
    messages.insert(conn, _with_file(1, PHOTO, expires_at=500), now=200)
    messages.insert(conn, _with_file(2, SHARED, expires_at=500), now=200)
    messages.insert(conn, _with_file(3, SHARED, expires_at=None), now=200)  # kept: still names it
    for file_hash in (PHOTO, SHARED):
        _cache(conn, file_hash)
    assert len(delete_expired(conn, 499)) == 0
    assert media.cache_get(conn, PHOTO) is not None
    gone = delete_expired(conn, 500)
    assert [rumor for _, rumor in gone] == [chat(gid("g"), 1).rumor_id, chat(gid("g"), 2).rumor_id]
    assert media.cache_get(conn, PHOTO) is None
    assert media.cache_get(conn, SHARED) is not None
