"""Units of work: one incoming or outgoing event applied as a single transaction.

Run them through the executor so they commit or roll back as a whole::

    applied = await db.transact(apply_incoming, change, now=clock.now())

`apply_incoming` stores everything one incoming event produced (the group's next MLS state,
the messages, reactions and deletions it carried, and its processed mark) so a crash can
never leave, say, a new epoch without its processed mark or a message without its epoch.
`record_outgoing` does the same for something we send: the advanced state (our sender
ratchet moved), the message row and the outbox entry, all before the first publish.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.errors import StorageBug
from storage.repos import groups, messages, outbox, processed
from storage.rows import Deletion, NewMessage, Outcome, Reaction, StateWrite
from storage.types import Connection


@dataclass(frozen=True, slots=True)
class IncomingChange:
    """What processing one relay event produced."""

    event_id: str
    kind: int
    created_at: int
    outcome: Outcome
    reason: str = ""
    mls_group_id: bytes | None = None
    epoch: int | None = None
    event_json: str | None = None  # kept for a retry unless the outcome is processed
    state: StateWrite | None = None
    messages: tuple[NewMessage, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    deletions: tuple[Deletion, ...] = ()


@dataclass(frozen=True, slots=True)
class Applied:
    duplicate: bool  # the event was already final: nothing was written
    revision: int | None = None  # the group's new revision when the state changed
    message_seqs: tuple[int, ...] = ()  # seqs of newly stored messages (duplicates skipped)


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    event_id: str
    event_json: str
    relays: tuple[str, ...]
    purpose: str  # "message", "commit", "welcome", "key_package", ...
    after_id: int | None = None  # publish only once that stored outbox entry was sent
    after_index: int | None = None  # ... or once the event at this position of the same call


@dataclass(frozen=True, slots=True)
class Recorded:
    outbox_ids: tuple[int, ...]
    revision: int | None = None
    message_seqs: tuple[int, ...] = ()


def _require_transaction(conn: Connection) -> None:
    if not conn.in_transaction:
        raise StorageBug("a unit of work must run inside a transaction (db.transact)")


def apply_incoming(conn: Connection, change: IncomingChange, *, now: int) -> Applied:
    """Apply one processed event atomically; a final duplicate changes nothing."""
    _require_transaction(conn)
    if processed.is_done(conn, change.event_id):
        return Applied(duplicate=True)
    revision = None
    if change.state is not None:
        revision = groups.write_state(conn, change.state, now=now)
    seqs = []
    for message in change.messages:
        seq = messages.insert(conn, message, now=now)
        if seq is not None:
            seqs.append(seq)
    _apply_annotations(conn, change)
    processed.mark(
        conn,
        change.event_id,
        kind=change.kind,
        created_at=change.created_at,
        outcome=change.outcome,
        now=now,
        reason=change.reason,
        mls_group_id=change.mls_group_id,
        epoch=change.epoch,
        event_json=change.event_json,
    )
    return Applied(duplicate=False, revision=revision, message_seqs=tuple(seqs))


def _apply_annotations(conn: Connection, change: IncomingChange) -> None:
    if not (change.reactions or change.deletions):
        return
    gid = change.mls_group_id
    if gid is None:
        raise StorageBug("reactions and deletions need the event's group")
    for reaction in change.reactions:
        messages.add_reaction(conn, gid, reaction)
    for deletion in change.deletions:
        messages.apply_deletion(conn, gid, deletion)


def record_outgoing(
    conn: Connection,
    events: tuple[OutgoingEvent, ...],
    *,
    now: int,
    state: StateWrite | None = None,
    new_messages: tuple[NewMessage, ...] = (),
    mls_group_id: bytes | None = None,
) -> Recorded:
    """Store what we are about to publish, with the state that produced it, atomically.

    The state must be durable before the event leaves: publishing first and crashing would
    reuse a sender-ratchet generation (a nonce) on the next start. A commit and the Welcomes
    that must wait for its relay OK go in one call (the Welcomes with ``after_index``), so a
    crash can never keep the commit and lose its Welcomes.
    """
    _require_transaction(conn)
    revision = None if state is None else groups.write_state(conn, state, now=now)
    seqs = tuple(
        seq for seq in (messages.insert(conn, m, now=now) for m in new_messages) if seq is not None
    )
    ids: list[int] = []
    for event in events:
        after = event.after_id
        if event.after_index is not None:
            if not 0 <= event.after_index < len(ids):
                raise StorageBug("after_index must name an earlier event of the same call")
            after = ids[event.after_index]
        ids.append(
            outbox.enqueue(
                conn,
                event_id=event.event_id,
                event_json=event.event_json,
                relays=event.relays,
                purpose=event.purpose,
                now=now,
                mls_group_id=mls_group_id,
                after_id=after,
            )
        )
    return Recorded(outbox_ids=tuple(ids), revision=revision, message_seqs=seqs)
