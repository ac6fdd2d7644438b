"""Build encrypted databases at every earlier schema version, as released Burrows wrote them.

    .venv/bin/python tests/data/db/make_fixtures.py          # builds the missing v<N>.db
    .venv/bin/python tests/data/db/make_fixtures.py --force  # rebuilds all of them

Each ``v<N>.db`` (N = 1 .. latest-1) is created with the pinned cipher profile, migrated to
exactly version N with the migration files of that version, and filled by plain SQL valid for
that version's schema (never through today's repositories, which speak the latest schema).
The files are committed: a fixture built once and kept is what an upgrading user has on disk,
so the upgrade test also catches an edited old migration or a changed cipher profile. When a
new migration ships, run this script once to add the fixture of the version it replaces.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from storage import LATEST_VERSION, PINNED, CipherProfile, Connection, connect  # noqa: E402
from storage.migrations import migrate  # noqa: E402

PASSPHRASE = "burrow fixture passphrase"

ME = "a1" * 32
FRIEND = "b2" * 32
GROUP = bytes.fromhex("c3" * 32)
NOSTR_GROUP = "d4" * 32
# What the upgrade test expects to find after migrating a fixture to the latest version.
EXPECTED_MESSAGES = ("hello from the past", "a reply with umlauts: grüße", "")
SEARCH_WORD = "umlauts"


def fixture_path(version: int) -> Path:
    return HERE / f"v{version}.db"


def fill(conn: Connection, version: int) -> None:
    """Sample rows touching every aggregate that exists at ``version``."""
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO account (id, pubkey, secret_key, profile, created_at)"
        ' VALUES (1, ?, ?, \'{"name":"Fixture"}\', 1700000000)',
        (ME, bytes(range(32))),
    )
    conn.execute("INSERT INTO settings VALUES ('theme', '\"dark\"')")
    conn.execute("INSERT INTO contacts VALUES (?, 'Friend', 0, 1700000001, 1700000001)", (FRIEND,))
    conn.execute(
        'INSERT INTO relay_lists VALUES (?, 10050, \'[["ws://127.0.0.1:7777",""]]\','
        " 1700000002, NULL, 1700000002)",
        (ME,),
    )
    conn.execute(
        "INSERT INTO key_packages (ref, d_slot, key_package, private_material, event_id,"
        " created_at, published_at) VALUES (x'0102', 'slot-1', x'beef', x'5ec7', ?, 1, 2)",
        ("e1" * 32,),
    )
    _fill_group(conn)
    _fill_messages(conn)
    conn.execute(
        "INSERT INTO processed_events (event_id, kind, created_at, mls_group_id, epoch, outcome,"
        " processed_at) VALUES (?, 445, 1700000100, ?, 3, 'processed', 1700000101)",
        ("f1" * 32, GROUP),
    )
    conn.execute(
        "INSERT INTO outbox (event_id, event_json, relays, purpose, mls_group_id, state,"
        " next_attempt_at, created_at, updated_at) VALUES (?, '{}', '[\"ws://127.0.0.1:7777\"]',"
        " 'message', ?, 'pending', 1700000200, 1700000200, 1700000200)",
        ("f2" * 32, GROUP),
    )
    if version >= 3:
        conn.execute("INSERT INTO drafts VALUES (?, 'unsent words', NULL, 1700000300)", (GROUP,))
    conn.execute("COMMIT")


def _fill_group(conn: Connection) -> None:
    conn.execute(
        "INSERT INTO groups (mls_group_id, nostr_group_id, name, admins, relays, marmot_data,"
        " state, epoch, our_leaf, mls_state, state_format, created_at, updated_at)"
        " VALUES (?, ?, 'Old friends', ?, '[\"ws://127.0.0.1:7777\"]', x'f2ee', 'active', 3, 0,"
        " x'0001020304', 1, 1700000010, 1700000010)",
        (GROUP, NOSTR_GROUP, f'["{ME}"]'),
    )
    conn.execute(
        "INSERT INTO group_members VALUES (?, 0, ?), (?, 1, ?)", (GROUP, ME, GROUP, FRIEND)
    )
    conn.execute(
        "INSERT INTO group_epoch_secrets VALUES (?, 3, 'group-event', zeroblob(32))", (GROUP,)
    )


def _fill_messages(conn: Connection) -> None:
    rows = [
        ("01", "e1", EXPECTED_MESSAGES[0], None, None),
        ("02", "e2", EXPECTED_MESSAGES[1], "01", None),
        ("03", "e3", EXPECTED_MESSAGES[2], None, 1700000060),  # deleted: content dropped
    ]
    for n, (rumor, event, content, reply_to, deleted_at) in enumerate(rows):
        conn.execute(
            "INSERT INTO messages (mls_group_id, rumor_id, event_id, kind, author, content,"
            " reply_to, created_at, epoch, status, received_at, deleted_at)"
            " VALUES (?, ?, ?, 9, ?, ?, ?, ?, 3, 'received', ?, ?)",
            (
                GROUP,
                rumor * 32,
                event * 32,
                FRIEND,
                content,
                None if reply_to is None else reply_to * 32,
                1700000050 + n,
                1700000050 + n,
                deleted_at,
            ),
        )
    conn.execute(
        "INSERT INTO reactions VALUES (?, ?, ?, ?, '+', 1700000070)",
        (GROUP, "a7" * 32, "01" * 32, ME),
    )


def build(path: Path, version: int, *, profile: CipherProfile = PINNED) -> None:
    path.unlink(missing_ok=True)
    conn = connect(path, PASSPHRASE, create=True, migrate=False, profile=profile)
    try:
        migrate(conn, target=version)
        fill(conn, version)
        conn.execute("VACUUM")
        conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild existing fixtures too")
    args = parser.parse_args()
    for version in range(1, LATEST_VERSION):
        path = fixture_path(version)
        if args.force or not path.exists():
            build(path, version)
            print(f"built {path.name} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
