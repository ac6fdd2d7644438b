"""The contacts aggregate: people we added or blocked, the kind 0 cache, our raw follow list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.repos._json import dump_tags, load_tags
from storage.rows import Contact, FollowList, Profile
from storage.types import Connection

_CONTACT = "SELECT pubkey, petname, blocked, added_at, updated_at FROM contacts"


def _contact(row: Any) -> Contact:
    return Contact(row[0], row[1], bool(row[2]), row[3], row[4])


def add(conn: Connection, pubkey: str, *, now: int, petname: str | None = None) -> Contact:
    """Add (or refresh) a contact; a given petname replaces the old one, ``None`` keeps it."""
    conn.execute(
        "INSERT INTO contacts (pubkey, petname, added_at, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (pubkey) DO UPDATE SET"
        " petname = coalesce(excluded.petname, petname), updated_at = excluded.updated_at",
        (pubkey, petname, now, now),
    )
    contact = get(conn, pubkey)
    assert contact is not None
    return contact


def get(conn: Connection, pubkey: str) -> Contact | None:
    row = conn.execute(_CONTACT + " WHERE pubkey = ?", (pubkey,)).fetchone()
    return None if row is None else _contact(row)


def list_contacts(conn: Connection, *, include_blocked: bool = False) -> list[Contact]:
    where = "" if include_blocked else " WHERE blocked = 0"
    return [_contact(row) for row in conn.execute(_CONTACT + where + " ORDER BY added_at, pubkey")]


def set_petname(conn: Connection, pubkey: str, petname: str | None, *, now: int) -> bool:
    cur = conn.execute(
        "UPDATE contacts SET petname = ?, updated_at = ? WHERE pubkey = ?", (petname, now, pubkey)
    )
    return cur.rowcount > 0


def set_blocked(conn: Connection, pubkey: str, blocked: bool, *, now: int) -> None:
    """Block or unblock; blocking someone who is not a contact records them as one."""
    conn.execute(
        "INSERT INTO contacts (pubkey, blocked, added_at, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (pubkey) DO UPDATE SET"
        " blocked = excluded.blocked, updated_at = excluded.updated_at",
        (pubkey, int(blocked), now, now),
    )


def is_blocked(conn: Connection, pubkey: str) -> bool:
    row = conn.execute("SELECT blocked FROM contacts WHERE pubkey = ?", (pubkey,)).fetchone()
    return row is not None and bool(row[0])


def blocked(conn: Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT pubkey FROM contacts WHERE blocked = 1")}


def remove(conn: Connection, pubkey: str) -> bool:
    return conn.execute("DELETE FROM contacts WHERE pubkey = ?", (pubkey,)).rowcount > 0


def save_profile(conn: Connection, profile: Profile) -> bool:
    """Cache a kind 0; an older one than the stored one is ignored. True when stored."""
    cur = conn.execute(
        "INSERT INTO profiles (pubkey, content, created_at, event_id, fetched_at)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (pubkey) DO UPDATE SET content = excluded.content,"
        " created_at = excluded.created_at, event_id = excluded.event_id,"
        " fetched_at = excluded.fetched_at"
        " WHERE excluded.created_at > profiles.created_at",
        (profile.pubkey, profile.content, profile.created_at, profile.event_id, profile.fetched_at),
    )
    return cur.rowcount > 0


def profile(conn: Connection, pubkey: str) -> Profile | None:
    row = conn.execute(
        "SELECT pubkey, content, created_at, event_id, fetched_at FROM profiles WHERE pubkey = ?",
        (pubkey,),
    ).fetchone()
    return None if row is None else Profile(*row)


def profiles(conn: Connection, pubkeys: Sequence[str]) -> dict[str, Profile]:
    found: dict[str, Profile] = {}
    for start in range(0, len(pubkeys), 500):  # stay under SQLite's bound-parameter limit
        chunk = list(pubkeys[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            "SELECT pubkey, content, created_at, event_id, fetched_at FROM profiles"  # noqa: S608 (placeholders only)
            f" WHERE pubkey IN ({marks})",
            chunk,
        ):
            found[row[0]] = Profile(*row)
    return found


def save_follow_list(conn: Connection, follows: FollowList) -> bool:
    """Keep our newest kind 3 verbatim (all tags, even ones the UI ignores). True when stored."""
    cur = conn.execute(
        "INSERT INTO follow_list (id, event_id, created_at, tags, content) VALUES (1, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET event_id = excluded.event_id,"
        " created_at = excluded.created_at, tags = excluded.tags, content = excluded.content"
        " WHERE excluded.created_at > follow_list.created_at",
        (follows.event_id, follows.created_at, dump_tags(follows.tags), follows.content),
    )
    return cur.rowcount > 0


def follow_list(conn: Connection) -> FollowList | None:
    row = conn.execute("SELECT event_id, created_at, tags, content FROM follow_list").fetchone()
    return None if row is None else FollowList(row[0], row[1], load_tags(row[2]), row[3])
