"""The key-package aggregate: our published KeyPackages and their private material.

Lifecycle: `add` (material stored before anything is published) -> `mark_published` ->
`mark_consumed` (a Welcome used it) -> `mark_relay_deleted` (NIP-09 accepted) and
`delete_material` after the quiet period. Rotation replaces before it deletes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.errors import NotFound
from storage.repos._json import dump_strings, load_strings
from storage.rows import KeyPackageRecord
from storage.types import Connection

_COLUMNS = (
    "SELECT id, ref, d_slot, key_package, private_material, event_id, relays, created_at,"
    " published_at, consumed_at, relay_deleted_at, material_deleted_at FROM key_packages"
)
_LIVE = "published_at IS NOT NULL AND consumed_at IS NULL AND relay_deleted_at IS NULL"


def _record(row: Any) -> KeyPackageRecord:
    return KeyPackageRecord(
        id=row[0],
        ref=row[1],
        d_slot=row[2],
        key_package=row[3],
        private_material=row[4],
        event_id=row[5],
        relays=load_strings(row[6]),
        created_at=row[7],
        published_at=row[8],
        consumed_at=row[9],
        relay_deleted_at=row[10],
        material_deleted_at=row[11],
    )


def add(
    conn: Connection,
    ref: bytes,
    d_slot: str,
    key_package: bytes,
    private_material: bytes,
    *,
    now: int,
) -> KeyPackageRecord:
    cur = conn.execute(
        "INSERT INTO key_packages (ref, d_slot, key_package, private_material, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (ref, d_slot, key_package, private_material, now),
    )
    record = by_id(conn, int(cur.lastrowid or 0))
    assert record is not None
    return record


def by_id(conn: Connection, record_id: int) -> KeyPackageRecord | None:
    row = conn.execute(_COLUMNS + " WHERE id = ?", (record_id,)).fetchone()
    return None if row is None else _record(row)


def by_ref(conn: Connection, ref: bytes) -> KeyPackageRecord | None:
    row = conn.execute(_COLUMNS + " WHERE ref = ?", (ref,)).fetchone()
    return None if row is None else _record(row)


def by_event_id(conn: Connection, event_id: str) -> KeyPackageRecord | None:
    row = conn.execute(_COLUMNS + " WHERE event_id = ?", (event_id,)).fetchone()
    return None if row is None else _record(row)


def _update(conn: Connection, ref: bytes, assignments: str, params: tuple[object, ...]) -> None:
    cur = conn.execute(f"UPDATE key_packages SET {assignments} WHERE ref = ?", (*params, ref))  # noqa: S608 (assignments are constants)
    if cur.rowcount == 0:
        raise NotFound(f"no key package {ref.hex()}")


def mark_published(
    conn: Connection, ref: bytes, event_id: str, relays: Sequence[str], *, now: int
) -> None:
    _update(
        conn,
        ref,
        "event_id = ?, relays = ?, published_at = ?",
        (event_id, dump_strings(relays), now),
    )


def mark_consumed(conn: Connection, ref: bytes, *, now: int) -> None:
    """A Welcome used it; the first consumption time is kept."""
    _update(conn, ref, "consumed_at = coalesce(consumed_at, ?)", (now,))


def mark_relay_deleted(conn: Connection, ref: bytes, *, now: int) -> None:
    _update(conn, ref, "relay_deleted_at = coalesce(relay_deleted_at, ?)", (now,))


def delete_material(conn: Connection, ref: bytes, *, now: int) -> None:
    """Forget the private keys; the public record stays for bookkeeping."""
    _update(
        conn,
        ref,
        "private_material = NULL, material_deleted_at = coalesce(material_deleted_at, ?)",
        (now,),
    )


def live(conn: Connection, d_slot: str | None = None) -> list[KeyPackageRecord]:
    """Published, unconsumed and undeleted key packages, oldest first (optionally one slot)."""
    if d_slot is None:
        rows = conn.execute(_COLUMNS + f" WHERE {_LIVE} ORDER BY created_at, id")
    else:
        rows = conn.execute(
            _COLUMNS + f" WHERE {_LIVE} AND d_slot = ? ORDER BY created_at, id", (d_slot,)
        )
    return [_record(row) for row in rows]


def unpublished(conn: Connection) -> list[KeyPackageRecord]:
    """Created but never published (e.g. the app stopped before the relay OK)."""
    return [
        _record(row)
        for row in conn.execute(
            _COLUMNS + " WHERE published_at IS NULL AND consumed_at IS NULL ORDER BY id"
        )
    ]


def due_for_rotation(conn: Connection, *, older_than: int) -> list[KeyPackageRecord]:
    """Live key packages published before ``older_than``."""
    return [
        _record(row)
        for row in conn.execute(
            _COLUMNS + f" WHERE {_LIVE} AND published_at < ? ORDER BY published_at",
            (older_than,),
        )
    ]


def consumed_with_material(conn: Connection, *, consumed_before: int) -> list[KeyPackageRecord]:
    """Consumed before the cutoff and still holding private material (the quiet-period task)."""
    return [
        _record(row)
        for row in conn.execute(
            _COLUMNS + " WHERE consumed_at < ? AND private_material IS NOT NULL ORDER BY id",
            (consumed_before,),
        )
    ]


def all_records(conn: Connection) -> list[KeyPackageRecord]:
    return [_record(row) for row in conn.execute(_COLUMNS + " ORDER BY id")]
