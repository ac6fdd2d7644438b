"""Our key packages: private material, publish, consume, relay deletion, material deletion."""

from __future__ import annotations

import pytest

from storage import Connection, NotFound, StorageBug
from storage.connection import translate_errors
from storage.repos import key_packages


def _add(conn: Connection, n: int, *, now: int = 100, slot: str = "device-a") -> bytes:
    ref = bytes([n]) * 32
    key_packages.add(conn, ref, slot, b"kp%d" % n, b"private%d" % n, now=now)
    return ref


def test_lifecycle(conn: Connection) -> None:
    ref = _add(conn, 1)
    record = key_packages.by_ref(conn, ref)
    assert record is not None and not record.is_live
    assert key_packages.unpublished(conn) == [record]
    assert "private1" not in repr(record)
    key_packages.mark_published(conn, ref, "e1" * 32, ["wss://kp"], now=110)
    record = key_packages.by_event_id(conn, "e1" * 32)
    assert record is not None and record.is_live and record.relays == ("wss://kp",)
    assert key_packages.live(conn) == [record] and key_packages.unpublished(conn) == []
    key_packages.mark_consumed(conn, ref, now=200)
    key_packages.mark_consumed(conn, ref, now=300)  # the first consumption time stays
    assert key_packages.live(conn) == []
    assert key_packages.consumed_with_material(conn, consumed_before=200) == []
    (due,) = key_packages.consumed_with_material(conn, consumed_before=231)
    assert due.consumed_at == 200
    key_packages.delete_material(conn, ref, now=231)
    key_packages.mark_relay_deleted(conn, ref, now=232)
    final = key_packages.by_ref(conn, ref)
    assert final is not None
    assert (final.private_material, final.material_deleted_at, final.relay_deleted_at) == (
        None,
        231,
        232,
    )
    assert final.key_package == b"kp1"  # the public part stays for bookkeeping
    assert key_packages.consumed_with_material(conn, consumed_before=10**9) == []


def test_live_per_slot_and_rotation(conn: Connection) -> None:
    for n, (slot, published) in enumerate([("a", 10), ("a", 50), ("b", 20)], start=1):
        ref = _add(conn, n, slot=slot, now=published)
        key_packages.mark_published(conn, ref, f"{n:064x}", [], now=published)
    assert [r.published_at for r in key_packages.live(conn, "a")] == [10, 50]
    assert [r.d_slot for r in key_packages.due_for_rotation(conn, older_than=30)] == ["a", "b"]
    assert len(key_packages.all_records(conn)) == 3


def test_unknown_refs_and_duplicates(conn: Connection) -> None:
    with pytest.raises(NotFound):
        key_packages.mark_consumed(conn, b"\x00" * 32, now=1)
    assert key_packages.by_ref(conn, b"\x00" * 32) is None
    _add(conn, 1)
    with pytest.raises(StorageBug), translate_errors():
        _add(conn, 1)
