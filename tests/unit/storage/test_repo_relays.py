"""Relay lists (replaceable, ordered), relay status and monotonic sync cursors."""

from __future__ import annotations

from storage import Connection
from storage.repos import relays
from storage.rows import RelayEntry, RelayList, RelayListKind
from tests.helpers.storage_factories import ALICE, BOB


def test_relay_lists_are_per_owner_and_kind_and_newest_wins(conn: Connection) -> None:
    inbox = RelayList(
        ALICE,
        RelayListKind.INBOX,
        (RelayEntry("wss://b.example"), RelayEntry("wss://a.example")),
        100,
        "e1" * 32,
        5,
    )
    nip65 = RelayList(
        ALICE,
        RelayListKind.NIP65,
        (RelayEntry("wss://r", "read"), RelayEntry("wss://w", "write")),
        100,
    )
    assert relays.save_list(conn, inbox) and relays.save_list(conn, nip65)
    assert relays.get_list(conn, ALICE, RelayListKind.INBOX) == inbox  # order kept
    assert relays.get_list(conn, ALICE, RelayListKind.NIP65) == nip65
    assert relays.get_list(conn, BOB, RelayListKind.INBOX) is None
    assert relays.urls(conn, ALICE, RelayListKind.INBOX) == ["wss://b.example", "wss://a.example"]
    assert relays.urls(conn, BOB, RelayListKind.KEY_PACKAGES) == []
    stale = RelayList(ALICE, RelayListKind.INBOX, (RelayEntry("wss://old"),), 99)
    assert not relays.save_list(conn, stale)
    edited = RelayList(ALICE, RelayListKind.INBOX, (RelayEntry("wss://c.example"),), 100)
    assert relays.save_list(conn, edited)  # same second: our own edit still lands
    assert relays.urls(conn, ALICE, RelayListKind.INBOX) == ["wss://c.example"]


def test_relay_status_keeps_the_last_connection_time(conn: Connection) -> None:
    relays.set_status(conn, "wss://r", "connected", now=10, connected=True)
    relays.set_status(conn, "wss://r", "disconnected", now=20, error="reset by peer")
    (status,) = relays.statuses(conn)
    assert (status.status, status.last_error, status.last_connected_at, status.updated_at) == (
        "disconnected",
        "reset by peer",
        10,
        20,
    )


def test_cursors_only_move_forward(conn: Connection) -> None:
    assert relays.cursor(conn, "groups", "wss://r") is None
    assert relays.advance_cursor(conn, "groups", "wss://r", 100, now=1) == 100
    assert relays.advance_cursor(conn, "groups", "wss://r", 50, now=2) == 100
    assert relays.advance_cursor(conn, "groups", "wss://s", 70, now=2) == 70
    assert relays.advance_cursor(conn, "inbox", "wss://r", 5, now=2) == 5
    assert relays.cursors(conn, "groups") == {"wss://r": 100, "wss://s": 70}
    assert relays.reset_cursor(conn, "groups", "wss://s") == 1
    assert relays.cursors(conn, "groups") == {"wss://r": 100}
    assert relays.reset_cursor(conn, "groups") == 1
    assert relays.cursors(conn, "groups") == {} and relays.cursor(conn, "inbox", "wss://r") == 5
