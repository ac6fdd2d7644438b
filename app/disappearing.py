"""Disappearing messages: a group's timer (Marmot 0xF2EE v3 ``disappearing_message_secs``)
and NIP-40 expiration, honoured here.

Every message gets a local end of life when stored: the earlier of the NIP-40 expiration
of the kind 445 that carried it and its time plus the group's timer (either may be
missing). What we send carries the expiration already (``marmot.operations`` tags every
445 of a disappearing group). ``sweep`` deletes what is due, with the decrypted copies of
its files no other message carries, all in one transaction, and tells the front ends which
messages went. The sweep runs every ``SWEEP_SECONDS`` and at
start; a message may outlive its time by at most that much on this device.
"""

from __future__ import annotations

from app.context import Context
from app.events import MessagesExpired
from app.models import attachments_of
from nostr.event import Event
from storage import Connection
from storage.repos import groups as groups_repo
from storage.repos import media as media_repo
from storage.repos import messages as messages_repo

SWEEP_SECONDS = 10.0
TIMER_CHOICES = (0, 300, 3600, 8 * 3600, 86400, 7 * 86400, 28 * 86400)
"""Off, 5 minutes, an hour, 8 hours, a day, a week, 4 weeks (what the window offers)."""


def expiry(event: Event | None, timer: int | None, written_at: int) -> int | None:
    """When a message stops being kept here (None: kept)."""
    tagged = event.first_tag_value("expiration") if event is not None else None
    candidates = []
    if tagged is not None and tagged.isdigit():
        candidates.append(int(tagged))
    if timer:
        candidates.append(written_at + timer)
    return min(candidates) if candidates else None


class Disappearing:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def sweep(self) -> int:
        """Delete every message that is due; how many went."""
        ctx = self._ctx
        gone = await ctx.db.transact(delete_expired, ctx.now())
        by_group: dict[bytes, list[str]] = {}
        for gid, rumor_id in gone:
            by_group.setdefault(gid, []).append(rumor_id)
        for gid, ids in by_group.items():
            group = await ctx.db.run(groups_repo.get, gid)
            if group is not None:
                nostr_id = group.metadata.nostr_group_id
                ctx.emit(MessagesExpired(ctx.pubkey, nostr_id, tuple(ids)))
        return len(gone)


def delete_expired(conn: Connection, now: int) -> list[tuple[bytes, str]]:
    """Delete what is due and, in the same transaction, the decrypted copies of its files
    that no other message still carries; the (group, rumor id) of each message."""
    files = [
        bytes.fromhex(a.file_hash)
        for m in messages_repo.expiring(conn, now)
        for a in attachments_of(m.tags)
    ]
    gone = messages_repo.delete_expired(conn, now)
    media_repo.cache_forget(conn, files)
    return gone
