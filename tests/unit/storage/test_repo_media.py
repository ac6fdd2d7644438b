"""The media upload queue, the decrypted-file cache and per-epoch media keys (schema 6),
in a real SQLCipher file."""

from __future__ import annotations

from pathlib import Path

from storage import Connection
from storage.repos import media

FILE = b"\x89PNG\r\n\x1a\n plaintext picture bytes " * 50


def _queue(conn: Connection, group: bytes) -> int:
    new = media.NewUpload(group, "cat.png", "image/png", FILE, b"\x07" * 12, "look", "4x3", "L0")
    return media.enqueue(conn, new, now=100)


def test_an_upload_waits_retries_and_lets_go_of_its_bytes_once_sent(
    conn: Connection, group: bytes
) -> None:
    uid = _queue(conn, group)
    [due] = media.due(conn, now=100)
    assert (due.id, due.size, due.state, due.caption) == (uid, len(FILE), "pending", "look")
    assert media.payload(conn, uid) == (FILE, b"\x07" * 12)
    media.mark_failed_attempt(conn, uid, "server down", retry_at=160, now=101)
    assert media.due(conn, now=150) == [] and media.next_wakeup(conn) == 160
    assert media.get(conn, uid).attempts == 1  # type: ignore[union-attr]
    media.mark_sent(conn, uid, "ab" * 32, now=170)
    sent = media.get(conn, uid)
    assert sent is not None and sent.state == "sent" and sent.rumor_id == "ab" * 32
    assert media.payload(conn, uid)[0] == b"" and media.pending(conn) == []


def test_giving_up_and_cancelling(conn: Connection, group: bytes) -> None:
    uid = _queue(conn, group)
    media.mark_failed_attempt(conn, uid, "refused", retry_at=None, now=101)
    assert media.get(conn, uid).state == "failed"  # type: ignore[union-attr]
    assert media.retry_now(conn, uid, now=102)
    assert media.due(conn, now=102)[0].id == uid
    assert media.cancel(conn, uid, now=103)
    assert media.get(conn, uid).state == "cancelled"  # type: ignore[union-attr]
    assert not media.retry_now(conn, uid, now=104)


def test_cache_and_epoch_keys(conn: Connection, group: bytes, db_path: Path) -> None:
    x = b"\x01" * 32
    media.cache_put(conn, media.CachedFile(x, "image/png", "cat.png", FILE), now=1)
    media.cache_put(conn, media.CachedFile(x, "image/png", "cat.png", FILE, b"thumb"), now=2)
    found = media.cache_get(conn, x)
    assert found is not None and found.data == FILE and found.thumbnail == b"thumb"
    assert media.cached(conn, [x, b"\x02" * 32]) == {x}
    media.save_epoch_key(conn, group, 3, b"\x09" * 32)
    assert media.epoch_key(conn, group, 3) == b"\x09" * 32
    assert media.epoch_key(conn, group, 4) is None
    conn.commit()
    assert b"plaintext picture bytes" not in db_path.read_bytes()  # SQLCipher encrypts it


def test_the_cache_drops_its_oldest_files_past_its_size(conn: Connection) -> None:
    for i in range(5):
        data = bytes([i]) * 1000
        media.cache_put(
            conn, media.CachedFile(bytes([i]) * 32, "text/plain", f"{i}.txt", data), now=i
        )
    assert media.cache_trim(conn, 10_000) == 0
    assert media.cache_trim(conn, 2500) == 3
    assert media.cached(conn, [bytes([i]) * 32 for i in range(5)]) == {b"\x03" * 32, b"\x04" * 32}


def test_a_replaced_epoch_key_wins_over_the_kept_one(conn: Connection, group: bytes) -> None:
    media.save_epoch_key(conn, group, 5, b"\x01" * 32)
    media.save_epoch_key(conn, group, 5, b"\x02" * 32)  # first one kept
    assert media.epoch_key(conn, group, 5) == b"\x01" * 32
    media.replace_epoch_key(conn, group, 5, b"\x03" * 32)
    assert media.epoch_key(conn, group, 5) == b"\x03" * 32
    media.replace_epoch_key(conn, group, 6, b"\x04" * 32)  # or a new one
    assert media.epoch_key(conn, group, 6) == b"\x04" * 32
