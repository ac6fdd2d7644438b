"""Encrypted media (schema 6): the upload queue and the cache of decrypted files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from storage.types import Connection

UPLOAD_STATES = ("pending", "sent", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class NewUpload:
    mls_group_id: bytes
    filename: str
    mime_type: str
    data: bytes = field(repr=False)
    nonce: bytes = field(repr=False)
    caption: str = ""
    dim: str | None = None
    blurhash: str | None = None


@dataclass(frozen=True, slots=True)
class Upload:
    id: int
    mls_group_id: bytes
    filename: str
    mime_type: str
    size: int
    caption: str
    dim: str | None
    blurhash: str | None
    state: str
    attempts: int
    next_attempt_at: int
    last_error: str
    rumor_id: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class CachedFile:
    file_hash: bytes
    mime_type: str
    filename: str
    data: bytes = field(repr=False)
    thumbnail: bytes | None = field(default=None, repr=False)


_UPLOAD = (
    "SELECT id, mls_group_id, filename, mime_type, length(data), caption, dim, blurhash, state,"
    " attempts, next_attempt_at, last_error, rumor_id, created_at FROM media_uploads"
)


def _upload(row: Any) -> Upload:
    return Upload(*row)


def enqueue(conn: Connection, upload: NewUpload, *, now: int) -> int:
    cursor = conn.execute(
        "INSERT INTO media_uploads (mls_group_id, filename, mime_type, data, nonce, caption,"
        " dim, blurhash, state, next_attempt_at, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
        (
            upload.mls_group_id,
            upload.filename,
            upload.mime_type,
            upload.data,
            upload.nonce,
            upload.caption,
            upload.dim,
            upload.blurhash,
            now,
            now,
            now,
        ),
    )
    upload_id = cursor.lastrowid
    assert upload_id is not None
    return upload_id


def get(conn: Connection, upload_id: int) -> Upload | None:
    row = conn.execute(_UPLOAD + " WHERE id = ?", (upload_id,)).fetchone()
    return None if row is None else _upload(row)


def payload(conn: Connection, upload_id: int) -> tuple[bytes, bytes]:
    """The queued file and its nonce."""
    row = conn.execute(
        "SELECT data, nonce FROM media_uploads WHERE id = ?", (upload_id,)
    ).fetchone()
    return (b"", b"") if row is None else (bytes(row[0]), bytes(row[1]))


def due(conn: Connection, *, now: int, limit: int = 20) -> list[Upload]:
    rows = conn.execute(
        _UPLOAD + " WHERE state = 'pending' AND next_attempt_at <= ?"
        " ORDER BY next_attempt_at, id LIMIT ?",
        (now, limit),
    )
    return [_upload(r) for r in rows]


def pending(conn: Connection) -> list[Upload]:
    rows = conn.execute(_UPLOAD + " WHERE state = 'pending' ORDER BY id")
    return [_upload(r) for r in rows]


def next_wakeup(conn: Connection) -> int | None:
    value: int | None = conn.execute(
        "SELECT min(next_attempt_at) FROM media_uploads WHERE state = 'pending'"
    ).fetchone()[0]
    return value


def mark_failed_attempt(
    conn: Connection, upload_id: int, error: str, *, retry_at: int | None, now: int
) -> None:
    """One more failed attempt; ``retry_at`` None gives the upload up for good."""
    conn.execute(
        "UPDATE media_uploads SET attempts = attempts + 1, last_error = ?,"
        " state = CASE WHEN ? IS NULL THEN 'failed' ELSE state END,"
        " next_attempt_at = coalesce(?, next_attempt_at), updated_at = ?"
        " WHERE id = ? AND state = 'pending'",
        (error, retry_at, retry_at, now, upload_id),
    )


def retry_now(conn: Connection, upload_id: int, *, now: int) -> bool:
    cursor = conn.execute(
        "UPDATE media_uploads SET state = 'pending', next_attempt_at = ?, updated_at = ?"
        " WHERE id = ? AND state IN ('pending', 'failed')",
        (now, now, upload_id),
    )
    return cursor.rowcount > 0


def mark_sent(conn: Connection, upload_id: int, rumor_id: str, *, now: int) -> None:
    """The message is stored: the queued bytes are no longer needed (the cache has them)."""
    conn.execute(
        "UPDATE media_uploads SET state = 'sent', rumor_id = ?, data = x'', updated_at = ?"
        " WHERE id = ?",
        (rumor_id, now, upload_id),
    )


def cancel(conn: Connection, upload_id: int, *, now: int) -> bool:
    cursor = conn.execute(
        "UPDATE media_uploads SET state = 'cancelled', data = x'', updated_at = ?"
        " WHERE id = ? AND state IN ('pending', 'failed')",
        (now, upload_id),
    )
    return cursor.rowcount > 0


def cache_put(conn: Connection, file: CachedFile, *, now: int) -> None:
    conn.execute(
        "INSERT INTO media_cache (file_hash, mime_type, filename, data, thumbnail, stored_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (file_hash) DO UPDATE SET"
        " thumbnail = coalesce(excluded.thumbnail, thumbnail)",
        (file.file_hash, file.mime_type, file.filename, file.data, file.thumbnail, now),
    )


def cache_get(conn: Connection, file_hash: bytes) -> CachedFile | None:
    row = conn.execute(
        "SELECT file_hash, mime_type, filename, data, thumbnail FROM media_cache"
        " WHERE file_hash = ?",
        (file_hash,),
    ).fetchone()
    if row is None:
        return None
    thumb = None if row[4] is None else bytes(row[4])
    return CachedFile(bytes(row[0]), row[1], row[2], bytes(row[3]), thumb)


def cached(conn: Connection, file_hashes: list[bytes]) -> set[bytes]:
    """Which of these files are in the cache."""
    found: set[bytes] = set()
    for start in range(0, len(file_hashes), 500):
        chunk = file_hashes[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT file_hash FROM media_cache WHERE file_hash IN ({marks})",  # noqa: S608
            chunk,
        )
        found.update(bytes(r[0]) for r in rows)
    return found


def save_epoch_key(conn: Connection, gid: bytes, epoch: int, secret: bytes) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO media_epoch_keys (mls_group_id, epoch, secret) VALUES (?, ?, ?)",
        (gid, epoch, secret),
    )


def replace_epoch_key(conn: Connection, gid: bytes, epoch: int, secret: bytes) -> None:
    """Keep ``secret`` for ``epoch`` even over a kept one (Profile B: a losing branch's
    secret of the same epoch number gives way to the canonical one)."""
    conn.execute(
        "INSERT INTO media_epoch_keys (mls_group_id, epoch, secret) VALUES (?, ?, ?)"
        " ON CONFLICT (mls_group_id, epoch) DO UPDATE SET secret = excluded.secret"
        " WHERE secret != excluded.secret",
        (gid, epoch, secret),
    )


def epoch_key(conn: Connection, gid: bytes, epoch: int) -> bytes | None:
    row = conn.execute(
        "SELECT secret FROM media_epoch_keys WHERE mls_group_id = ? AND epoch = ?", (gid, epoch)
    ).fetchone()
    return None if row is None else bytes(row[0])


def cache_forget(conn: Connection, file_hashes: Iterable[bytes]) -> int:
    """Drop the cached files of ``file_hashes`` that no remaining message names (a file's
    hash stands in the imeta tag of each message carrying it); how many went."""
    dropped = 0
    for file_hash in set(file_hashes):
        named = conn.execute(
            "SELECT 1 FROM messages WHERE instr(lower(tags), ?) > 0 LIMIT 1", (file_hash.hex(),)
        ).fetchone()
        if named is None:
            cur = conn.execute("DELETE FROM media_cache WHERE file_hash = ?", (file_hash,))
            dropped += cur.rowcount
    return dropped


def cache_trim(conn: Connection, max_bytes: int) -> int:
    """Drop the oldest cached files until the cache holds at most ``max_bytes``; how many
    were dropped (they can be downloaded again: the epoch keys are kept)."""
    row = conn.execute(
        "SELECT coalesce(sum(length(data) + coalesce(length(thumbnail), 0)), 0) FROM media_cache"
    ).fetchone()
    total: int = row[0]
    if total <= max_bytes:
        return 0
    dropped = 0
    rows = conn.execute(
        "SELECT file_hash, length(data) + coalesce(length(thumbnail), 0) FROM media_cache"
        " ORDER BY stored_at, rowid"
    ).fetchall()
    for file_hash, size in rows:
        if total <= max_bytes:
            break
        conn.execute("DELETE FROM media_cache WHERE file_hash = ?", (file_hash,))
        total -= size
        dropped += 1
    return dropped
