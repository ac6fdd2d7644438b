"""Pending welcomes (invites) waiting for the user's accept or decline."""

from __future__ import annotations

from typing import Any

from storage.errors import NotFound
from storage.repos._json import dump_strings, load_strings
from storage.rows import Invite, InviteState
from storage.types import Connection

_SELECT = (
    "SELECT wrapper_event_id, rumor_id, inviter, welcome, received_at, mls_group_id,"
    " nostr_group_id, group_name, key_package_ref, relays, state, decided_at FROM invites"
)


def _invite(row: Any) -> Invite:
    return Invite(
        wrapper_event_id=row[0],
        rumor_id=row[1],
        inviter=row[2],
        welcome=row[3],
        received_at=row[4],
        mls_group_id=row[5],
        nostr_group_id=row[6],
        group_name=row[7],
        key_package_ref=row[8],
        relays=load_strings(row[9]),
        state=InviteState(row[10]),
        decided_at=row[11],
    )


def add(conn: Connection, invite: Invite) -> bool:
    """Store an invite unless its gift wrap was seen before. True when stored."""
    cur = conn.execute(
        "INSERT INTO invites (wrapper_event_id, rumor_id, inviter, welcome,"
        " received_at, mls_group_id, nostr_group_id, group_name, key_package_ref, relays, state,"
        " decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            invite.wrapper_event_id,
            invite.rumor_id,
            invite.inviter,
            invite.welcome,
            invite.received_at,
            invite.mls_group_id,
            invite.nostr_group_id,
            invite.group_name,
            invite.key_package_ref,
            dump_strings(invite.relays),
            str(invite.state),
            invite.decided_at,
        ),
    )
    return cur.rowcount > 0


def get(conn: Connection, wrapper_event_id: str) -> Invite | None:
    row = conn.execute(_SELECT + " WHERE wrapper_event_id = ?", (wrapper_event_id,)).fetchone()
    return None if row is None else _invite(row)


def list_invites(conn: Connection, state: InviteState | None = InviteState.PENDING) -> list[Invite]:
    if state is None:
        rows = conn.execute(_SELECT + " ORDER BY received_at, wrapper_event_id")
    else:
        rows = conn.execute(
            _SELECT + " WHERE state = ? ORDER BY received_at, wrapper_event_id", (str(state),)
        )
    return [_invite(row) for row in rows]


def decide(conn: Connection, wrapper_event_id: str, state: InviteState, *, now: int) -> None:
    """Record the user's answer. Only a pending invite can be decided."""
    cur = conn.execute(
        "UPDATE invites SET state = ?, decided_at = ? WHERE wrapper_event_id = ?"
        " AND state = 'pending'",
        (str(state), now, wrapper_event_id),
    )
    if cur.rowcount == 0:
        raise NotFound(f"no pending invite {wrapper_event_id}")


def delete(conn: Connection, wrapper_event_id: str) -> bool:
    return (
        conn.execute("DELETE FROM invites WHERE wrapper_event_id = ?", (wrapper_event_id,)).rowcount
        > 0
    )
