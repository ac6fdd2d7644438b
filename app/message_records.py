"""Messages as rows: mapping rumors to stored records, our own outgoing rows, timeline
pages, and the outbox hook that tracks delivery status.

Pure functions over rows, or plain repository calls run inside the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from app.group_records import OwnEvent, record_own_event
from app.models import ReactionInfo
from app.outbox import Attempt
from app.timeline import TIMELINE
from nostr import nip19
from nostr.errors import DecodeError
from nostr.event import UnsignedEvent
from nostr.keys import PublicKey
from nostr.kinds import Kind
from storage import Applied, Connection, IncomingChange, apply_incoming
from storage.repos import groups as groups_repo
from storage.repos import messages as messages_repo
from storage.rows import (
    Deletion,
    DeliveryStatus,
    Message,
    NewMessage,
    OutboxEntry,
    PageCursor,
    Reaction,
)

FAILED_AFTER = 3
"""Attempts after which the front ends show a message as failed (sending goes on)."""
REACTION = 7
CHAT = Kind.CHAT_MESSAGE


class StatusSink(Protocol):
    def status_changed(self, gid: bytes, rumor_id: str, status: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Records:
    """What one incoming rumor adds to storage, and which messages it changes."""

    messages: tuple[NewMessage, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    deletions: tuple[Deletion, ...] = ()
    targets: tuple[str, ...] = ()


def reply_target(tags: Iterable[Sequence[str]]) -> str | None:
    """The rumor id a chat message replies to: its ``q`` tag (NIP-C7), else its last
    ``e`` tag (how whitenoise-rs reads and older White Noise writes replies)."""
    last_e = None
    for tag in tags:
        if len(tag) > 1 and tag[0] == "q":
            return tag[1]
        if len(tag) > 1 and tag[0] == "e":
            last_e = tag[1]
    return last_e


def reaction_target(rumor: UnsignedEvent) -> str:
    """A reaction's target: its first ``e`` tag, as White Noise reads it."""
    return rumor.tag_values("e")[0]


def citation(event_id: str, author: str, kind: int) -> str:
    """The NIP-C7 ``nostr:nevent1...`` citation of a replied-to event."""
    pointer = nip19.EventPointer(event_id, author=PublicKey.from_hex(author), kind=kind)
    return "nostr:" + nip19.encode_event(pointer)


_CITATION = re.compile(r"nostr:(nevent1|note1)[02-9ac-hj-np-z]+")


def displayed_text(content: str, reply_to: str | None) -> str:
    """The text to show: a reply without its leading or trailing citation of the
    replied-to event (other citations are the author's words and stay)."""
    if reply_to is None:
        return content
    stripped = content.strip()
    for found in (_CITATION.match(stripped), _last_citation(stripped)):
        if found is not None and _cites(found.group(), reply_to):
            stripped = (stripped[: found.start()] + stripped[found.end() :]).strip()
    return stripped


def _last_citation(text: str) -> re.Match[str] | None:
    found = [m for m in _CITATION.finditer(text) if m.end() == len(text)]
    return found[-1] if found else None


def _cites(uri: str, event_id: str) -> bool:
    try:
        entity = nip19.decode(uri.removeprefix("nostr:"))
    except (DecodeError, ValueError):
        return False
    if isinstance(entity, nip19.EventPointer):
        return entity.event_id == event_id
    return entity == event_id


def incoming_records(
    gid: bytes,
    rumor: UnsignedEvent,
    event_id: str,
    epoch: int,
    *,
    own: bool,
    expires_at: int | None = None,
) -> Records:
    """Map an application rumor to rows: kind 9 a message, 7 a reaction to its first ``e``
    target, 5 a deletion of each ``e`` target (storage applies it only to the author's
    own rows), any other kind a message of that kind."""
    if rumor.kind == REACTION:
        target = reaction_target(rumor)
        reaction = Reaction(rumor.id, target, rumor.pubkey, rumor.content, rumor.created_at)
        return Records(reactions=(reaction,), targets=(target,))
    if rumor.kind == Kind.DELETION:
        targets = tuple(dict.fromkeys(rumor.tag_values("e")))
        deletions = tuple(Deletion(t, rumor.pubkey, rumor.id, rumor.created_at) for t in targets)
        return Records(deletions=deletions, targets=targets)
    read = own or rumor.kind != CHAT
    return Records(
        messages=(
            _row(
                gid,
                rumor,
                event_id,
                epoch,
                status=DeliveryStatus.RECEIVED,
                is_read=read,
                expires_at=expires_at,
            ),
        )
    )


def _row(
    gid: bytes,
    rumor: UnsignedEvent,
    event_id: str,
    epoch: int,
    *,
    status: DeliveryStatus,
    is_read: bool,
    expires_at: int | None = None,
) -> NewMessage:
    reply = reply_target(rumor.tags) if rumor.kind == CHAT else None
    return NewMessage(
        gid,
        rumor.id,
        rumor.kind,
        rumor.pubkey,
        rumor.content,
        rumor.created_at,
        status,
        event_id,
        rumor.tags,
        reply,
        epoch,
        is_read=is_read,
        expires_at=expires_at,
    )


def aggregate(reactions: Sequence[Reaction], me: str) -> tuple[ReactionInfo, ...]:
    by_emoji: dict[str, list[str]] = {}
    for reaction in reactions:
        by_emoji.setdefault(reaction.content, []).append(reaction.author)
    return tuple(ReactionInfo(e, tuple(a), me in a) for e, a in by_emoji.items())


def own_rows(
    gid: bytes,
    rumor: UnsignedEvent,
    event_id: str,
    epoch: int,
    resend: Message | None,
    *,
    expires_at: int | None = None,
) -> tuple[NewMessage, ...]:
    if resend is not None or rumor.kind in (REACTION, Kind.DELETION):
        return ()
    row = _row(
        gid, rumor, event_id, epoch, status=DeliveryStatus.SENDING, is_read=True,
        expires_at=expires_at,
    )  # fmt: skip
    return (row,)


def own_reactions(rumor: UnsignedEvent) -> tuple[Reaction, ...]:
    if rumor.kind != REACTION:
        return ()
    target = reaction_target(rumor)
    return (Reaction(rumor.id, target, rumor.pubkey, rumor.content, rumor.created_at),)


def own_deletions(rumor: UnsignedEvent) -> tuple[Deletion, ...]:
    if rumor.kind != Kind.DELETION:
        return ()
    return tuple(
        Deletion(t, rumor.pubkey, rumor.id, rumor.created_at) for t in rumor.tag_values("e")
    )


class EpochMoved(Exception):
    """Attachments were encrypted for an epoch the group has left."""


@dataclass(frozen=True, slots=True)
class MediaSend:
    """A message with attachments: the epoch they were encrypted for, and a write that
    belongs to the message's transaction (given the rumor id)."""

    epoch: int
    also: Callable[[Connection, str], None]
    secret: bytes | None = field(default=None, repr=False)
    """Profile B: the media secret they were sealed with (a reorg keeps the epoch number)."""


def record(
    conn: Connection,
    own: OwnEvent,
    resend: Message | None,
    now: int,
    also: Callable[[Connection, str], None] | None = None,
) -> tuple[int, int]:
    entry_id = record_own_event(conn, own, now)
    if also is not None:
        also(conn, own.messages[0].rumor_id)
    if resend is not None:
        messages_repo.set_status(
            conn, own.gid, resend.rumor_id, DeliveryStatus.SENDING, event_id=own.event.id
        )
    revision = groups_repo.load_state(conn, own.gid).revision
    return entry_id, revision


def find_message(conn: Connection, gid: bytes, ref: str) -> Message | None:
    exact = messages_repo.by_rumor_id(conn, gid, ref)
    if exact is not None:
        return exact
    carrier = messages_repo.by_event_id(conn, ref)
    if carrier is not None and carrier.mls_group_id == gid:
        return carrier
    if len(ref) < 6:
        return None
    matches = [m for m in recent(conn, gid) if m.rumor_id.startswith(ref)]
    return matches[0] if len(matches) == 1 else None


def recent(conn: Connection, gid: bytes) -> list[Message]:
    return messages_repo.page(conn, gid, limit=2000)


def page(
    conn: Connection,
    gid: bytes,
    before: PageCursor | None,
    limit: int,
    chat_only: bool,
    *,
    with_changes: bool = False,
) -> list[Message]:
    """A page of the timeline; ``chat_only`` keeps kind 9 messages that were not
    invalidated (a lost commit race, or a removed member's late words), and with
    ``with_changes`` also the group's own changes (``app.timeline``)."""
    if not chat_only:
        return messages_repo.page(conn, gid, before=before, limit=limit)
    kinds = (CHAT, TIMELINE) if with_changes else (CHAT,)
    out: list[Message] = []
    cursor = before
    while len(out) < limit:
        batch = messages_repo.page(conn, gid, before=cursor, limit=limit * 2)
        if not batch:
            break
        out[:0] = [m for m in batch if m.kind in kinds and m.status is not HIDDEN]
        cursor = batch[0].cursor
    return out[-limit:]


HIDDEN = DeliveryStatus.INVALIDATED


def own_invalidated(conn: Connection, gid: bytes, me: str) -> list[Message]:
    return [
        m
        for m in messages_repo.page(conn, gid, limit=500)
        if m.author == me and m.status is DeliveryStatus.INVALIDATED
    ]


def apply_reviving(conn: Connection, change: IncomingChange, now: int) -> Applied:
    """`apply_incoming`; a message we hid when a commit race rolled its branch back, which
    its author re-sent on the winning branch, is shown again (its seq is reported as new)."""
    applied = apply_incoming(conn, change, now=now)
    gid = change.mls_group_id
    if applied.duplicate or gid is None:
        return applied
    revived = []
    for message in change.messages:
        known = messages_repo.by_rumor_id(conn, gid, message.rumor_id)
        if known is None or known.status is not HIDDEN or known.event_id == message.event_id:
            continue
        status = DeliveryStatus.RECEIVED
        messages_repo.set_status(conn, gid, known.rumor_id, status, event_id=message.event_id)
        revived.append(known.seq)
    if not revived:
        return applied
    return replace(applied, message_seqs=(*applied.message_seqs, *revived))


class MessageHook:
    def __init__(self, messages: StatusSink) -> None:
        self._messages = messages

    def on_sent(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        found = messages_repo.by_event_id(conn, entry.event_id)
        if found is None or found.status is DeliveryStatus.SENT:
            return None
        messages_repo.set_status(conn, found.mls_group_id, found.rumor_id, DeliveryStatus.SENT)
        return (found.mls_group_id, found.rumor_id, "sent")

    def on_failed(self, conn: Connection, entry: OutboxEntry, attempt: Attempt, now: int) -> Any:
        found = messages_repo.by_event_id(conn, entry.event_id)
        failing = attempt.final or entry.attempts + 1 >= FAILED_AFTER
        if found is None or not failing or found.status is DeliveryStatus.FAILED:
            return None
        messages_repo.set_status(conn, found.mls_group_id, found.rumor_id, DeliveryStatus.FAILED)
        return (found.mls_group_id, found.rumor_id, "failed")

    def after(self, entry: OutboxEntry, attempt: Attempt, result: Any) -> None:
        if result is not None:
            gid, rumor_id, status = result
            self._messages.status_changed(gid, rumor_id, status)
