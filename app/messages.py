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
from functools import partial

from app import engine
from app.context import Context
from app.disappearing import expiry
from app.dm.service import DarkMatter
from app.errors import InvalidInput, NotAllowed, NotFound, translate
from app.events import MessageQueued, MessageStatusChanged, MessageUpdated
from app.group_records import OwnEvent
from app.group_store import stamp_after, state_write
from app.groups import Groups
from app.message_records import (
    CHAT,
    REACTION,
    EpochMoved,
    MediaSend,
    MessageHook,
    aggregate,
    citation,
    displayed_text,
    find_message,
    own_deletions,
    own_invalidated,
    own_reactions,
    own_rows,
    page,
    record,
    reply_target,
)
from app.models import MessageInfo, SearchResult, attachments_of
from marmot import operations
from marmot.errors import MarmotError
from marmot.profile_b.payloads import PayloadKind
from marmot.profiles import Profile
from mls.errors import MlsError
from nostr.event import UnsignedEvent
from nostr.kinds import Kind
from storage import Conflict
from storage.repos import accounts as accounts_repo
from storage.repos import contacts as contacts_repo
from storage.repos import drafts as drafts_repo
from storage.repos import messages as messages_repo
from storage.repos import outbox as outbox_repo
from storage.repos import search as search_repo
from storage.rows import (
    DeliveryStatus,
    Group,
    Message,
    OutboxState,
)
from storage.rows import GroupState as Lifecycle

MESSAGE = "message"
REMEMBERED = 1000
EDIT = PayloadKind.EDIT


RESEND_HELD = "resend_held_for_removed"
"""Setting: per group (hex), the identities a lost race's discarded branch had removed
and the winning branch readmitted; our voided messages wait until none is a member."""


class Messages:
    def __init__(self, ctx: Context, groups: Groups) -> None:
        self._ctx = ctx
        self._groups = groups
        self._outgoing: dict[str, tuple[Group, UnsignedEvent, int]] = {}
        self._nostr_ids: dict[bytes, str] = {}
        ctx.outbox.register(MESSAGE, MessageHook(self))

    # --- sending ---------------------------------------------------------------------

    async def send(self, ref: str, text: str, *, reply_to: str | None = None) -> MessageInfo:
        if not text.strip():
            raise InvalidInput("a message needs some text")
        group = await self._active(ref)
        tags: list[tuple[str, ...]] = []
        if reply_to:
            target = await self._find(group, reply_to)
            tags.append(("q", target.rumor_id, "", target.author))
            text = f"{citation(target.rumor_id, target.author, target.kind)}\n{text}"
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

    async def edit(self, ref: str, message_id: str, text: str) -> MessageInfo:
        """Replace the text of one of our chat messages (Profile B groups only: kind
        1009); `NotAllowed` in a Profile A group, which has no edits."""
        if not text.strip():
            raise InvalidInput("an edit needs some text")
        group = await self._active(ref)
        if group.profile != Profile.B.value:
            raise NotAllowed("messages of a Marmot v1 (MIP) group cannot be edited")
        target = await self._find(group, message_id)
        if target.author != self._ctx.pubkey or target.kind != CHAT:
            raise NotAllowed("you can only edit your own messages")
        if target.deleted_at is not None:
            raise NotAllowed("a deleted message cannot be edited")
        stamp = max(await self._stamp(group), (target.edited_at or target.created_at) + 1)
        tags = [("e", target.rumor_id)]
        rumor = UnsignedEvent.create(self._ctx.pubkey, stamp, EDIT, text, tags)
        await self._send_rumor(group, rumor)  # announces the edited message (MessageUpdated)
        return await self._info(await self._find(group, target.rumor_id))

    async def _delete_rumors(self, group: Group, ids: Sequence[str], kind: int) -> MessageInfo:
        tags = [*(("e", i) for i in ids), ("k", str(kind))]
        stamp = await self._stamp(group)
        rumor = UnsignedEvent.create(self._ctx.pubkey, stamp, Kind.DELETION, "", tags)
        return await self._send_rumor(group, rumor)

    async def _stamp(self, group: Group) -> int:
        """Now, but after the newest message of the chat (up to a minute ahead): messages
        sent within one second still sort in the order they were written. (Its carrier
        is dated after every group event we have seen, `Loaded.stamp`.)"""
        latest = await self._ctx.db.run(messages_repo.latest, group.mls_group_id)
        now = self._ctx.now()
        return now if latest is None else stamp_after(now, latest.created_at)

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

    async def resend_invalidated(self, gid: bytes) -> int | None:
        """After a lost commit race: our messages of the discarded branch go out again.

        None (nothing sent, try again after the next commit) while the group holds a
        member the discarded branch had removed: they were written for a group without
        that member and never go to one with it.
        """
        ctx = self._ctx
        group = await self._groups.store.get(gid)
        if group.state is not Lifecycle.ACTIVE:
            return 0  # the winning commit removed us: nowhere to send them
        held = await ctx.db.run(accounts_repo.get_setting, RESEND_HELD, {})
        waiting_for = set(held.get(gid.hex(), ()))
        if waiting_for:
            members = {
                m.pubkey for m in engine.members((await self._groups.store.load(gid)).marmot)
            }
            if waiting_for & members:
                return None
            held.pop(gid.hex())
            await ctx.db.run(accounts_repo.set_setting, RESEND_HELD, held or None)
        found = await ctx.db.run(own_invalidated, gid, ctx.pubkey)
        for message in found:
            rumor = UnsignedEvent(
                message.author, message.created_at, message.kind, message.tags, message.content
            )
            await self._send_rumor(group, rumor, resend=message)
        return len(found)

    async def send_media(
        self, ref: str, text: str, tags: Sequence[tuple[str, ...]], media: MediaSend
    ) -> MessageInfo:
        """A message carrying attachments encrypted for ``media.epoch``: stored in the
        transaction of ``media.also`` (which marks the upload done), or `EpochMoved` when
        the group has left that epoch (encrypt again)."""
        group = await self._active(ref)
        stamp = await self._stamp(group)
        rumor = UnsignedEvent.create(self._ctx.pubkey, stamp, CHAT, text, tags)
        info = await self._send_rumor(group, rumor, media=media)
        self._ctx.emit(MessageQueued(self._ctx.pubkey, info))
        return info

    async def _send_rumor(
        self,
        group: Group,
        rumor: UnsignedEvent,
        *,
        resend: Message | None = None,
        media: MediaSend | None = None,
    ) -> MessageInfo:
        gid = group.mls_group_id
        if group.profile == Profile.B.value:
            if media is not None:
                raise NotAllowed("attachments: not available in Marmot v2 (Dark Matter) groups yet")
            entry_id = await self._dark_matter().send_rumor(group, rumor, again=resend is not None)
        else:
            async with self._groups.lock(gid):
                try:
                    entry_id = await self._store_rumor(gid, rumor, resend, media)
                except Conflict:  # the outbox merged our commit meanwhile: on the new epoch
                    entry_id = await self._store_rumor(gid, rumor, resend, media)
        self._outgoing[rumor.id] = (group, rumor, entry_id)
        while len(self._outgoing) > REMEMBERED:  # only recent sends are waited for
            del self._outgoing[next(iter(self._outgoing))]
        self._ctx.outbox.kick()
        return await self._outgoing_info(group, rumor, entry_id)

    async def _store_rumor(
        self, gid: bytes, rumor: UnsignedEvent, resend: Message | None, media: MediaSend | None
    ) -> int:
        """Protect ``rumor`` in the current epoch and store it with the advanced state (the
        group locked); returns its outbox entry id."""
        ctx = self._ctx
        loaded = await self._groups.store.load_to_send(gid)
        if media is not None and loaded.marmot.epoch != media.epoch:
            raise EpochMoved(f"the group moved on to epoch {loaded.marmot.epoch}")
        try:
            # A fresh message's carrier shares its (strictly increasing) timestamp, so
            # catch-up, which orders by it, processes our messages in sending order.
            now = ctx.now() if resend is not None else max(ctx.now(), rumor.created_at)
            now = loaded.stamp(now)  # and after every group event we have seen
            out = operations.create_message(loaded.marmot, rumor, now=now, rng=ctx.rng)
        except (MlsError, MarmotError) as exc:
            raise translate(exc) from exc
        own = OwnEvent(
            gid,
            out.event,
            loaded.data.relays,
            MESSAGE,
            state=state_write(gid, loaded.revision, out.group, epoch_changed=False),
            messages=own_rows(
                gid,
                rumor,
                out.event.id,
                loaded.marmot.epoch,
                resend,
                expires_at=expiry(
                    out.event, engine.disappearing_secs(loaded.group.metadata), rumor.created_at
                ),
            ),
            reactions=own_reactions(rumor),
            deletions=own_deletions(rumor),
        )
        also = media.also if media is not None else None
        entry_id, revision = await ctx.db.transact(record, own, resend, ctx.now(), also)
        self._groups.store.remember(gid, revision, out.group)
        return entry_id

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
        reply = reply_target(rumor.tags) if rumor.kind == CHAT else None
        return MessageInfo(
            rumor.id,
            group.metadata.nostr_group_id,
            rumor.pubkey,
            rumor.kind,
            displayed_text(rumor.content, reply),
            rumor.created_at,
            status,
            own=True,
            event_id=entry.event_id if entry else None,
            reply_to=reply if rumor.kind == CHAT else (targets[0] if targets else None),
            attachments=attachments_of(rumor.tags),
        )

    # --- reading ---------------------------------------------------------------------------

    async def list_messages(
        self,
        ref: str,
        *,
        limit: int = 50,
        before: str | None = None,
        chat_only: bool = True,
        with_changes: bool = False,
    ) -> list[MessageInfo]:
        """Up to ``limit`` messages older than ``before`` (or the newest), oldest first;
        ``with_changes``: with the group's own changes among them (``app.timeline``)."""
        group = await self._groups.store.resolve(ref)
        gid = group.mls_group_id
        cursor = None
        if before is not None:
            cursor = (await self._find(group, before)).cursor
        read = partial(page, with_changes=with_changes)
        found = await self._ctx.db.run(read, gid, cursor, limit, chat_only)
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

    def _dark_matter(self) -> DarkMatter:
        if self._groups.dark_matter is None:
            raise NotAllowed("Marmot v2 (Dark Matter) groups are not available here")
        return self._groups.dark_matter

    async def _active(self, ref: str) -> Group:
        group = await self._groups.store.resolve(ref)
        if group.state is not Lifecycle.ACTIVE:
            raise NotAllowed("this group is not active: you left or were removed")
        return group

    async def _find(self, group: Group, message_id: str) -> Message:
        found = await self._ctx.db.run(find_message, group.mls_group_id, message_id.strip().lower())
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
                displayed_text(m.content, m.reply_to),
                m.created_at,
                str(m.status),
                own=m.author == me,
                event_id=m.event_id,
                reply_to=m.reply_to,
                deleted=m.deleted_at is not None,
                is_read=m.is_read,
                reactions=aggregate(reactions.get(m.rumor_id, []), me),
                seq=m.seq,
                attachments=attachments_of(m.tags),
                edited_at=m.edited_at,
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
