"""Messages: send kind 9 text (replies with a NIP-C7 ``q`` tag), reactions (kind 7) and
deletions (kind 5, own messages only); history in timeline order; delivery status; read
state and unread counts; drafts; search.

A message is named by the id of its inner (rumor) event, which replies and reactions also
use. Sending protects the rumor in the current epoch and stores, in one transaction, the
advanced state, the message (status ``sending``) and the kind 445 in the outbox. The
outbox marks it ``sent`` on the first relay OK; after three failed attempts it shows as
``failed`` while the outbox keeps trying, and `retry` re-sends it in the current epoch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.context import Context
from app.errors import InvalidInput, NotAllowed, NotFound, translate
from app.events import MessageQueued, MessageStatusChanged, MessageUpdated
from app.group_records import OwnEvent, record_own_event
from app.group_store import state_write
from app.groups import Groups
from app.models import MessageInfo, ReactionInfo, SearchResult
from app.outbox import Attempt
from marmot import operations
from marmot.errors import MarmotError
from mls.errors import MlsError
from nostr.event import UnsignedEvent
from nostr.kinds import Kind
from storage import Connection
from storage.repos import contacts as contacts_repo
from storage.repos import drafts as drafts_repo
from storage.repos import groups as groups_repo
from storage.repos import messages as messages_repo
from storage.repos import outbox as outbox_repo
from storage.repos import search as search_repo
from storage.rows import (
    Deletion,
    DeliveryStatus,
    Group,
    Message,
    NewMessage,
    OutboxEntry,
    OutboxState,
    PageCursor,
    Reaction,
)
from storage.rows import GroupState as Lifecycle

MESSAGE = "message"
FAILED_AFTER = 3
"""Attempts after which the front ends show a message as failed (sending goes on)."""
REACTION = 7
MAX_AHEAD = 60
CHAT = Kind.CHAT_MESSAGE


@dataclass(frozen=True, slots=True)
class Records:
    """What one incoming rumor adds to storage, and which messages it changes."""

    messages: tuple[NewMessage, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    deletions: tuple[Deletion, ...] = ()
    targets: tuple[str, ...] = ()


def reply_target(tags: Iterable[Sequence[str]]) -> str | None:
    """The rumor id a chat message replies to: its ``q`` tag (NIP-C7)."""
    for tag in tags:
        if len(tag) > 1 and tag[0] == "q":
            return tag[1]
    return None


def incoming_records(
    gid: bytes, rumor: UnsignedEvent, event_id: str, epoch: int, *, own: bool
) -> Records:
    """Map an application rumor to rows: kind 9 a message, 7 a reaction to its last ``e``
    target, 5 a deletion of each ``e`` target (storage applies it only to the author's
    own rows), any other kind a message of that kind."""
    if rumor.kind == REACTION:
        target = rumor.tag_values("e")[-1]
        reaction = Reaction(rumor.id, target, rumor.pubkey, rumor.content, rumor.created_at)
        return Records(reactions=(reaction,), targets=(target,))
    if rumor.kind == Kind.DELETION:
        targets = tuple(dict.fromkeys(rumor.tag_values("e")))
        deletions = tuple(Deletion(t, rumor.pubkey, rumor.id, rumor.created_at) for t in targets)
        return Records(deletions=deletions, targets=targets)
    message = NewMessage(
        gid,
        rumor.id,
        rumor.kind,
        rumor.pubkey,
        rumor.content,
        rumor.created_at,
        DeliveryStatus.RECEIVED,
        event_id,
        rumor.tags,
        reply_target(rumor.tags) if rumor.kind == CHAT else None,
        epoch,
        is_read=own or rumor.kind != CHAT,
    )
    return Records(messages=(message,))


class Messages:
    def __init__(self, ctx: Context, groups: Groups) -> None:
        self._ctx = ctx
        self._groups = groups
        self._outgoing: dict[str, tuple[Group, UnsignedEvent, int]] = {}
        self._nostr_ids: dict[bytes, str] = {}
        ctx.outbox.register(MESSAGE, _MessageHook(self))

    # --- sending ---------------------------------------------------------------------

    async def send(self, ref: str, text: str, *, reply_to: str | None = None) -> MessageInfo:
        if not text.strip():
            raise InvalidInput("a message needs some text")
        group = await self._active(ref)
        tags: list[tuple[str, ...]] = []
        if reply_to:
            target = await self._find(group, reply_to)
            tags.append(("q", target.rumor_id, "", target.author))
        stamp = await self._stamp(group)
        rumor = UnsignedEvent.create(self._ctx.pubkey, stamp, CHAT, text, tags)
        info = await self._send_rumor(group, rumor)
        await self._ctx.db.run(drafts_repo.clear, group.mls_group_id)
        self._ctx.emit(MessageQueued(self._ctx.pubkey, info))
        return info

    async def react(self, ref: str, message_id: str, emoji: str) -> MessageInfo:
        if not emoji.strip():
            raise InvalidInput("a reaction needs an emoji")
        group = await self._active(ref)
        target = await self._find(group, message_id)
        tags = [("e", target.rumor_id), ("p", target.author), ("k", str(target.kind))]
        stamp = await self._stamp(group)
        rumor = UnsignedEvent.create(self._ctx.pubkey, stamp, REACTION, emoji, tags)
        return await self._send_rumor(group, rumor)

    async def unreact(self, ref: str, message_id: str, emoji: str) -> MessageInfo | None:
        """Withdraw our reaction: a deletion of our kind 7."""
        group = await self._active(ref)
        target = await self._find(group, message_id)
        found = await self._ctx.db.run(
            messages_repo.reactions, group.mls_group_id, [target.rumor_id]
        )
        mine = [
            r
            for r in found.get(target.rumor_id, [])
            if r.author == self._ctx.pubkey and r.content == emoji
        ]
        if not mine:
            return None
        return await self._delete_rumors(group, [r.rumor_id for r in mine], REACTION)

    async def delete(self, ref: str, message_id: str) -> MessageInfo:
        group = await self._active(ref)
        target = await self._find(group, message_id)
        if target.author != self._ctx.pubkey:
            raise NotAllowed("you can only delete your own messages")
        return await self._delete_rumors(group, [target.rumor_id], target.kind)

    async def _delete_rumors(self, group: Group, ids: Sequence[str], kind: int) -> MessageInfo:
        tags = [*(("e", i) for i in ids), ("k", str(kind))]
        stamp = await self._stamp(group)
        rumor = UnsignedEvent.create(self._ctx.pubkey, stamp, Kind.DELETION, "", tags)
        return await self._send_rumor(group, rumor)

    async def _stamp(self, group: Group) -> int:
        """Now, but after the newest message of the chat (up to a minute ahead): messages
        sent within one second still sort in the order they were written."""
        now = self._ctx.now()
        latest = await self._ctx.db.run(messages_repo.latest, group.mls_group_id)
        if latest is None:
            return now
        return max(now, min(latest.created_at + 1, now + MAX_AHEAD))

    async def retry(self, ref: str, message_id: str) -> MessageInfo:
        """Send one of our messages again, protected in the current epoch."""
        group = await self._active(ref)
        target = await self._find(group, message_id)
        if target.author != self._ctx.pubkey:
            raise NotAllowed("only your own messages can be re-sent")
        if target.status is DeliveryStatus.SENT:
            return await self._info(target)
        rumor = UnsignedEvent(
            target.author, target.created_at, target.kind, target.tags, target.content
        )
        return await self._send_rumor(group, rumor, resend=target)

    async def resend_invalidated(self, gid: bytes) -> int:
        """After a lost commit race: our messages of the discarded branch go out again."""
        ctx = self._ctx
        group = await self._groups.store.get(gid)
        found = await ctx.db.run(_own_invalidated, gid, ctx.pubkey)
        for message in found:
            rumor = UnsignedEvent(
                message.author, message.created_at, message.kind, message.tags, message.content
            )
            await self._send_rumor(group, rumor, resend=message)
        return len(found)

    async def _send_rumor(
        self, group: Group, rumor: UnsignedEvent, *, resend: Message | None = None
    ) -> MessageInfo:
        ctx = self._ctx
        gid = group.mls_group_id
        async with self._groups.lock(gid):
            loaded = await self._groups.store.load(gid)
            try:
                # A fresh message's carrier shares its (strictly increasing) timestamp, so
                # catch-up, which orders by it, processes our messages in sending order.
                now = ctx.now() if resend is not None else max(ctx.now(), rumor.created_at)
                out = operations.create_message(loaded.marmot, rumor, now=now, rng=ctx.rng)
            except (MlsError, MarmotError) as exc:
                raise translate(exc) from exc
            own = OwnEvent(
                gid,
                out.event,
                loaded.data.relays,
                MESSAGE,
                state=state_write(gid, loaded.revision, out.group, epoch_changed=False),
                messages=_own_rows(gid, rumor, out.event.id, loaded.marmot.epoch, resend),
                reactions=_own_reactions(rumor),
                deletions=_own_deletions(rumor),
            )
            entry_id, revision = await ctx.db.transact(_record, own, resend, ctx.now())
            self._groups.store.remember(gid, revision, out.group)
        self._outgoing[rumor.id] = (group, rumor, entry_id)
        ctx.outbox.kick()
        return await self._outgoing_info(group, rumor, entry_id)

    async def wait_sent(self, info: MessageInfo, timeout: float) -> MessageInfo:
        """Wait for the first delivery attempt of a message we sent; returns its new view
        (``sent``, or still ``sending`` / ``failed`` while the outbox keeps trying)."""
        outgoing = self._outgoing.get(info.id)
        if outgoing is None:
            return info
        group, rumor, entry_id = outgoing
        await self._ctx.outbox.wait(entry_id, timeout, first_attempt=True)
        return await self._outgoing_info(group, rumor, entry_id)

    async def _outgoing_info(
        self, group: Group, rumor: UnsignedEvent, entry_id: int
    ) -> MessageInfo:
        """Our message's view: its row (kind 9), else the rumor with the outbox's state."""
        stored = await self._ctx.db.run(messages_repo.by_rumor_id, group.mls_group_id, rumor.id)
        if stored is not None:
            return await self._info(stored)
        entry = await self._ctx.db.run(outbox_repo.get, entry_id)
        state = entry.state if entry is not None else OutboxState.PENDING
        status = {OutboxState.SENT: "sent", OutboxState.FAILED: "failed"}.get(state, "sending")
        targets = rumor.tag_values("e")
        return MessageInfo(
            rumor.id,
            group.metadata.nostr_group_id,
            rumor.pubkey,
            rumor.kind,
            rumor.content,
            rumor.created_at,
            status,
            own=True,
            event_id=entry.event_id if entry else None,
            reply_to=targets[-1] if targets else None,
        )

    # --- reading ---------------------------------------------------------------------------

    async def list_messages(
        self,
        ref: str,
        *,
        limit: int = 50,
        before: str | None = None,
        chat_only: bool = True,
    ) -> list[MessageInfo]:
        """Up to ``limit`` messages older than ``before`` (or the newest), oldest first."""
        group = await self._groups.store.resolve(ref)
        gid = group.mls_group_id
        cursor = None
        if before is not None:
            cursor = (await self._find(group, before)).cursor
        found = await self._ctx.db.run(_page, gid, cursor, limit, chat_only)
        return await self._infos(group, found)

    async def info_by_seq(self, seq: int) -> MessageInfo | None:
        found = await self._ctx.db.run(messages_repo.by_seq, seq)
        return None if found is None else await self._info(found)

    async def info_by_rumor(self, gid: bytes, rumor_id: str) -> MessageInfo | None:
        found = await self._ctx.db.run(messages_repo.by_rumor_id, gid, rumor_id)
        return None if found is None else await self._info(found)

    async def mark_read(self, ref: str) -> int:
        group = await self._groups.store.resolve(ref)
        return await self._ctx.db.run(messages_repo.mark_read, group.mls_group_id)

    async def unread_counts(self) -> dict[str, int]:
        counts = await self._ctx.db.run(messages_repo.unread_counts)
        return {await self._nostr_id(gid): n for gid, n in counts.items()}

    async def save_draft(self, ref: str, text: str, reply_to: str | None = None) -> None:
        group = await self._groups.store.resolve(ref)
        await self._ctx.db.run(
            drafts_repo.save, group.mls_group_id, text, now=self._ctx.now(), reply_to=reply_to
        )

    async def draft(self, ref: str) -> str:
        group = await self._groups.store.resolve(ref)
        found = await self._ctx.db.run(drafts_repo.get, group.mls_group_id)
        return found.content if found else ""

    async def search(
        self, text: str, *, group: str | None = None, limit: int = 20
    ) -> list[SearchResult]:
        gid = (await self._groups.store.resolve(group)).mls_group_id if group else None
        hits = await self._ctx.db.run(
            search_repo.search, text, mls_group_id=gid, limit=limit, highlight=("[", "]")
        )
        return [SearchResult(await self._info(h.message), h.snippet) for h in hits]

    async def is_blocked(self, pubkey: str) -> bool:
        return await self._ctx.db.run(contacts_repo.is_blocked, pubkey)

    # --- helpers -------------------------------------------------------------------------

    async def _active(self, ref: str) -> Group:
        group = await self._groups.store.resolve(ref)
        if group.state is not Lifecycle.ACTIVE:
            raise NotAllowed("this group is not active: you left or were removed")
        return group

    async def _find(self, group: Group, message_id: str) -> Message:
        found = await self._ctx.db.run(
            _find_message, group.mls_group_id, message_id.strip().lower()
        )
        if found is None:
            raise NotFound(f"no message {message_id} in this group")
        return found

    async def _nostr_id(self, gid: bytes) -> str:
        if gid not in self._nostr_ids:
            group = await self._groups.store.get(gid)
            self._nostr_ids[gid] = group.metadata.nostr_group_id
        return self._nostr_ids[gid]

    async def _info(self, message: Message) -> MessageInfo:
        group = await self._groups.store.get(message.mls_group_id)
        return (await self._infos(group, [message]))[0]

    async def _infos(self, group: Group, found: Sequence[Message]) -> list[MessageInfo]:
        gid = group.mls_group_id
        me = self._ctx.pubkey
        reactions = await self._ctx.db.run(
            messages_repo.reactions, gid, [m.rumor_id for m in found]
        )
        return [
            MessageInfo(
                m.rumor_id,
                group.metadata.nostr_group_id,
                m.author,
                m.kind,
                m.content,
                m.created_at,
                str(m.status),
                own=m.author == me,
                event_id=m.event_id,
                reply_to=m.reply_to,
                deleted=m.deleted_at is not None,
                is_read=m.is_read,
                reactions=_aggregate(reactions.get(m.rumor_id, []), me),
                seq=m.seq,
            )
            for m in found
        ]

    def status_changed(self, gid: bytes, rumor_id: str, status: str) -> None:
        async def emit() -> None:
            nostr_id = await self._nostr_id(gid)
            self._ctx.emit(MessageStatusChanged(self._ctx.pubkey, nostr_id, rumor_id, status))

        self._ctx.spawn(emit(), "message status")

    def updated(self, gid: bytes, rumor_ids: Iterable[str]) -> None:
        async def emit() -> None:
            for rumor_id in rumor_ids:
                info = await self.info_by_rumor(gid, rumor_id)
                if info is not None:
                    self._ctx.emit(MessageUpdated(self._ctx.pubkey, info))

        self._ctx.spawn(emit(), "message update")


def _aggregate(reactions: Sequence[Reaction], me: str) -> tuple[ReactionInfo, ...]:
    by_emoji: dict[str, list[str]] = {}
    for reaction in reactions:
        by_emoji.setdefault(reaction.content, []).append(reaction.author)
    return tuple(ReactionInfo(e, tuple(a), me in a) for e, a in by_emoji.items())


def _own_rows(
    gid: bytes, rumor: UnsignedEvent, event_id: str, epoch: int, resend: Message | None
) -> tuple[NewMessage, ...]:
    if resend is not None or rumor.kind in (REACTION, Kind.DELETION):
        return ()
    reply = reply_target(rumor.tags) if rumor.kind == CHAT else None
    return (
        NewMessage(
            gid,
            rumor.id,
            rumor.kind,
            rumor.pubkey,
            rumor.content,
            rumor.created_at,
            DeliveryStatus.SENDING,
            event_id,
            rumor.tags,
            reply,
            epoch,
            is_read=True,
        ),
    )


def _own_reactions(rumor: UnsignedEvent) -> tuple[Reaction, ...]:
    if rumor.kind != REACTION:
        return ()
    target = rumor.tag_values("e")[-1]
    return (Reaction(rumor.id, target, rumor.pubkey, rumor.content, rumor.created_at),)


def _own_deletions(rumor: UnsignedEvent) -> tuple[Deletion, ...]:
    if rumor.kind != Kind.DELETION:
        return ()
    return tuple(
        Deletion(t, rumor.pubkey, rumor.id, rumor.created_at) for t in rumor.tag_values("e")
    )


def _record(conn: Connection, own: OwnEvent, resend: Message | None, now: int) -> tuple[int, int]:
    entry_id = record_own_event(conn, own, now)
    if resend is not None:
        messages_repo.set_status(
            conn, own.gid, resend.rumor_id, DeliveryStatus.SENDING, event_id=own.event.id
        )
    revision = groups_repo.load_state(conn, own.gid).revision
    return entry_id, revision


def _find_message(conn: Connection, gid: bytes, ref: str) -> Message | None:
    exact = messages_repo.by_rumor_id(conn, gid, ref)
    if exact is not None:
        return exact
    carrier = messages_repo.by_event_id(conn, ref)
    if carrier is not None and carrier.mls_group_id == gid:
        return carrier
    if len(ref) < 6:
        return None
    matches = [m for m in _recent(conn, gid) if m.rumor_id.startswith(ref)]
    return matches[0] if len(matches) == 1 else None


def _recent(conn: Connection, gid: bytes) -> list[Message]:
    return messages_repo.page(conn, gid, limit=2000)


def _page(
    conn: Connection, gid: bytes, before: PageCursor | None, limit: int, chat_only: bool
) -> list[Message]:
    """A page of the timeline; ``chat_only`` keeps kind 9 messages that were not
    invalidated (a lost commit race, or a removed member's late words)."""
    if not chat_only:
        return messages_repo.page(conn, gid, before=before, limit=limit)
    out: list[Message] = []
    cursor = before
    while len(out) < limit:
        batch = messages_repo.page(conn, gid, before=cursor, limit=limit * 2)
        if not batch:
            break
        out[:0] = [m for m in batch if m.kind == CHAT and m.status is not _HIDDEN]
        cursor = batch[0].cursor
    return out[-limit:]


_HIDDEN = DeliveryStatus.INVALIDATED


def _own_invalidated(conn: Connection, gid: bytes, me: str) -> list[Message]:
    return [
        m
        for m in messages_repo.page(conn, gid, limit=500)
        if m.author == me and m.status is DeliveryStatus.INVALIDATED
    ]


class _MessageHook:
    def __init__(self, messages: Messages) -> None:
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
