"""MIP-05 push: our device registration and the tokens other members shared per group."""

from __future__ import annotations

from collections.abc import Mapping

from storage.rows import GroupPushToken, PushPlatform, PushRegistration
from storage.types import Connection


def set_registration(conn: Connection, registration: PushRegistration | None) -> None:
    """Store this device's registration; None removes it."""
    if registration is None:
        conn.execute("DELETE FROM push_registration")
        return
    conn.execute(
        "INSERT OR REPLACE INTO push_registration (id, platform, device_token, server_pubkey,"
        " relay_hint, updated_at) VALUES (1, ?, ?, ?, ?, ?)",
        (
            str(registration.platform),
            registration.device_token,
            registration.server_pubkey,
            registration.relay_hint,
            registration.updated_at,
        ),
    )


def registration(conn: Connection) -> PushRegistration | None:
    row = conn.execute(
        "SELECT platform, device_token, server_pubkey, relay_hint, updated_at"
        " FROM push_registration"
    ).fetchone()
    return None if row is None else PushRegistration(PushPlatform(row[0]), *row[1:])


def put_token(conn: Connection, token: GroupPushToken) -> None:
    """Cache (or replace) the token of one leaf (a 447 from that leaf, or a 448 entry)."""
    conn.execute(
        "INSERT OR REPLACE INTO group_push_tokens (mls_group_id, leaf_index, pubkey, token,"
        " server_pubkey, relay_hint, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            token.mls_group_id,
            token.leaf_index,
            token.pubkey,
            token.token,
            token.server_pubkey,
            token.relay_hint,
            token.updated_at,
        ),
    )


def remove_token(conn: Connection, mls_group_id: bytes, leaf_index: int) -> bool:
    """A 449 from that leaf."""
    return (
        conn.execute(
            "DELETE FROM group_push_tokens WHERE mls_group_id = ? AND leaf_index = ?",
            (mls_group_id, leaf_index),
        ).rowcount
        > 0
    )


def tokens(conn: Connection, mls_group_id: bytes) -> list[GroupPushToken]:
    return [
        GroupPushToken(*row)
        for row in conn.execute(
            "SELECT mls_group_id, leaf_index, pubkey, token, server_pubkey, relay_hint, updated_at"
            " FROM group_push_tokens WHERE mls_group_id = ? ORDER BY leaf_index",
            (mls_group_id,),
        )
    ]


def drop_stale(conn: Connection, mls_group_id: bytes, members: Mapping[int, str]) -> int:
    """After a commit: drop tokens of leaves that left or now hold another identity."""
    stale = [
        (mls_group_id, leaf)
        for leaf, pubkey in conn.execute(
            "SELECT leaf_index, pubkey FROM group_push_tokens WHERE mls_group_id = ?",
            (mls_group_id,),
        ).fetchall()
        if members.get(leaf) != pubkey
    ]
    conn.executemany(
        "DELETE FROM group_push_tokens WHERE mls_group_id = ? AND leaf_index = ?", stale
    )
    return len(stale)


def groups_with_tokens(conn: Connection) -> dict[bytes, int]:
    """How many tokens are cached per group (the notifications page)."""
    return dict(
        conn.execute(
            "SELECT mls_group_id, count(*) FROM group_push_tokens GROUP BY mls_group_id"
        ).fetchall()
    )
