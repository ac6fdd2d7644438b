"""The account aggregate: the identity (one row per database) and its settings."""

from __future__ import annotations

import json
from typing import Any

from storage.errors import NotFound
from storage.repos._json import dumps
from storage.rows import Account
from storage.types import Connection


def create(
    conn: Connection,
    pubkey: str,
    secret_key: bytes | None,
    *,
    now: int,
    remote_signer: str | None = None,
) -> Account:
    """Store the identity (a secret key, or a remote signer's JSON description); a database
    holds exactly one (a second call is a `StorageBug`)."""
    conn.execute(
        "INSERT INTO account (id, pubkey, secret_key, created_at, remote_signer)"
        " VALUES (1, ?, ?, ?, ?)",
        (pubkey, secret_key, now, remote_signer),
    )
    return Account(pubkey, secret_key, now, remote_signer=remote_signer)


def get(conn: Connection) -> Account | None:
    row = conn.execute(
        "SELECT pubkey, secret_key, created_at, profile, profile_created_at, remote_signer"
        " FROM account"
    ).fetchone()
    return None if row is None else Account(*row)


def set_remote_signer(conn: Connection, description: str) -> None:
    """Where the remote signer is now (its relays can change)."""
    cur = conn.execute(
        "UPDATE account SET remote_signer = ? WHERE secret_key IS NULL", (description,)
    )
    if cur.rowcount == 0:
        raise NotFound("this account has no remote signer")


def require(conn: Connection) -> Account:
    account = get(conn)
    if account is None:
        raise NotFound("this database holds no account yet")
    return account


def set_profile(conn: Connection, content: str, created_at: int) -> None:
    """Our own kind 0 content, as last published."""
    cur = conn.execute(
        "UPDATE account SET profile = ?, profile_created_at = ?", (content, created_at)
    )
    if cur.rowcount == 0:
        raise NotFound("this database holds no account yet")


def get_setting(conn: Connection, key: str, default: Any = None) -> Any:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return default if row is None else json.loads(row[0])


def set_setting(conn: Connection, key: str, value: Any) -> None:
    """Store any JSON-serialisable value; ``None`` removes the setting."""
    if value is None:
        conn.execute("DELETE FROM settings WHERE key = ?", (key,))
        return
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, dumps(value)),
    )


def settings(conn: Connection) -> dict[str, Any]:
    return {
        key: json.loads(value) for key, value in conn.execute("SELECT key, value FROM settings")
    }
