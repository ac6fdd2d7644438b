"""Repositories: plain synchronous functions over a connection, one module per aggregate.

Each function takes the connection first and never opens a transaction of its own, so the
caller decides what is atomic: ``await db.run(messages.page, group_id)`` for one statement,
``await db.transact(fn)`` to apply several writes together.
"""

from __future__ import annotations

from storage.repos import (
    accounts,
    contacts,
    drafts,
    groups,
    invites,
    key_packages,
    messages,
    outbox,
    processed,
    push,
    relays,
    search,
    snapshots,
    unopened,
)

__all__ = [
    "accounts",
    "contacts",
    "drafts",
    "groups",
    "invites",
    "key_packages",
    "messages",
    "outbox",
    "processed",
    "push",
    "relays",
    "search",
    "snapshots",
    "unopened",
]
