"""MIP-05 inside groups: sending our 447/448/449, taking in others', and the triggers.

Token gossip rides in ordinary kind 445 application messages. Ours go through the outbox
like chat messages (the state advance, the event and the processed mark in one
transaction) but leave no message row; received ones are handed over by the group inbox
(its ``control`` handlers) once the event is processed, and are never shown as messages.

Triggers: when one of our chat messages is queued, the tokens of the other members are
gift-wrapped to their notification servers and queued *behind the message's outbox
entry*, so they leave exactly when a relay accepted the message (and never if it was
refused for good), and a restart in between loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from app.context import Context
from app.group_records import OwnEvent, record_own_event
from app.group_store import state_write
from app.groups import Groups
from app.push_models import PushChanged
from app.push_policy import (
    ReplyPolicy,
    list_entries,
    notification_tokens,
    reply_delay,
    response_tokens,
)
from app.relays import Relays
from marmot import operations
from marmot.errors import InvalidPushMessage, MarmotError
from marmot.inbound import ApplicationReceived
from marmot.push import (
    TOKENS_PER_64K_WRAP,
    NotificationBatch,
    TokenList,
    TokenRemoval,
    TokenRequest,
    build_notification_batches,
    build_token_list,
    parse_token_message,
)
from mls.errors import MlsError
from nostr.event import UnsignedEvent
from storage import Conflict, Connection
from storage.repos import groups as groups_repo
from storage.repos import outbox as outbox_repo
from storage.repos import push as push_repo
from storage.rows import GroupPushToken, OutboxState, RelayListKind
from storage.rows import GroupState as Lifecycle

log = logging.getLogger(__name__)

GOSSIP = "push-gossip"
TRIGGER = "push-trigger"


class Gossip:
    def __init__(self, ctx: Context, groups: Groups, relays: Relays) -> None:
        self._ctx = ctx
        self._groups = groups
        self._relays = relays
        self.policy = ReplyPolicy()
        self.tasks: set[asyncio.Task[None]] = set()
        self._hurry = asyncio.Event()
        self.delay: Callable[[], float] = lambda: reply_delay(ctx.rng)
        """Seconds before answering a 447 (a seam for tests)."""
        self.triggers_queued = 0
        self.replies_sent = 0
        self.replies_skipped = 0

    def spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.ensure_future(self._guarded(coro, what))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _guarded(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:  # a background step: log it, the session carries on
            log.exception("MIP-05 %s failed", what)

    async def settle(self) -> None:
        """Send waiting replies now and finish every task (a CLI process about to exit)."""
        self._hurry.set()
        try:
            while self.tasks:
                await asyncio.gather(*list(self.tasks), return_exceptions=True)
        finally:
            self._hurry.clear()

    # --- sending -----------------------------------------------------------------------

    async def send(self, gid: bytes, rumor: UnsignedEvent) -> int:
        """Queue ``rumor`` as an application message of the group; returns the entry id."""
        async with self._groups.lock(gid):
            try:
                entry_id = await self._store(gid, rumor)
            except Conflict:  # the outbox merged our commit meanwhile: on the new epoch
                entry_id = await self._store(gid, rumor)
        self._ctx.outbox.kick()
        return entry_id

    async def _store(self, gid: bytes, rumor: UnsignedEvent) -> int:
        ctx = self._ctx
        loaded = await self._groups.store.load_to_send(gid)
        at = loaded.stamp(ctx.now())
        out = operations.create_message(loaded.marmot, rumor, now=at, rng=ctx.rng)
        write = state_write(gid, loaded.revision, out.group, epoch_changed=False)
        own = OwnEvent(gid, out.event, loaded.data.relays, GOSSIP, state=write)
        entry_id, revision = await ctx.db.transact(_record, own, ctx.now())
        self._groups.store.remember(gid, revision, out.group)
        return entry_id

    # --- receiving ---------------------------------------------------------------------

    async def received(self, gid: bytes, outcome: ApplicationReceived) -> None:
        """A 447, 448 or 449 another leaf sent (the group inbox calls this)."""
        try:
            message = parse_token_message(outcome.rumor)
        except InvalidPushMessage as exc:
            log.debug("MIP-05 message from leaf %d refused: %s", outcome.sender_leaf, exc)
            return
        ctx = self._ctx
        leaf, author = outcome.sender_leaf, outcome.rumor.pubkey
        if isinstance(message, TokenRequest):
            token = message.tokens[0]  # one token per leaf (whitenoise-rs#705)
            row = GroupPushToken(
                gid,
                leaf,
                author,
                token.encrypted_token,
                token.server_pubkey.hex,
                token.relay_hint,
                ctx.now(),
            )
            await ctx.db.run(push_repo.put_token, row)
            if self.policy.want_reply(gid, outcome.rumor.id, leaf, ctx.now()):
                self.spawn(self._reply_later(gid, outcome.rumor.id), "token list reply")
        elif isinstance(message, TokenList):
            self.policy.answered(gid, message.request_id)
            await self._merge_list(gid, message)
        elif isinstance(message, TokenRemoval):
            await ctx.db.run(push_repo.remove_token, gid, leaf)
        await self._changed(gid)

    async def _merge_list(self, gid: bytes, message: TokenList) -> None:
        ctx = self._ctx
        group = await self._groups.store.get(gid)
        members = await self.members(gid)
        entries = list_entries(message.tokens, members, group.our_leaf)
        rows = [
            GroupPushToken(
                gid, leaf, pubkey, t.encrypted_token, t.server_pubkey.hex, t.relay_hint, ctx.now()
            )
            for leaf, pubkey, t in entries
        ]
        await ctx.db.transact(_put_all, rows)

    async def members(self, gid: bytes) -> dict[int, str]:
        found = await self._ctx.db.run(groups_repo.members, gid)
        return {m.leaf_index: m.pubkey for m in found}

    async def _changed(self, gid: bytes) -> None:
        group = await self._groups.store.get(gid)
        self._ctx.emit(PushChanged(self._ctx.pubkey, group.metadata.nostr_group_id))

    # --- replies -----------------------------------------------------------------------

    async def _reply_later(self, gid: bytes, request_id: str) -> None:
        try:
            async with asyncio.timeout(self.delay()):
                await self._hurry.wait()
        except TimeoutError:
            pass
        if not self.policy.answered(gid, request_id):
            self.replies_skipped += 1  # someone else answered first
            return
        if await self.reply(gid, request_id):
            self.replies_sent += 1

    async def reply(self, gid: bytes, request_id: str) -> bool:
        """Send the group's token list answering ``request_id`` (nothing if we know none)."""
        ctx = self._ctx
        group = await self._groups.store.get(gid)
        if group.state is not Lifecycle.ACTIVE:
            return False
        rows = await ctx.db.run(push_repo.tokens, gid)
        tokens = response_tokens(rows, await self.members(gid))
        if not tokens:
            return False
        rumor = build_token_list(ctx.pubkey, ctx.now(), request_id, tokens)
        try:
            await self.send(gid, rumor)
        except (MarmotError, MlsError) as exc:
            log.warning("MIP-05 token list not sent: %s", exc)
            return False
        return True

    # --- triggers ----------------------------------------------------------------------

    async def notify(self, nostr_group_id: str, event_id: str) -> int:
        """Queue the triggers for our message carried by ``event_id``; returns how many."""
        ctx = self._ctx
        group = await self._groups.store.by_nostr_id(nostr_group_id)
        if group is None:
            return 0
        gid = group.mls_group_id
        rows = await ctx.db.run(push_repo.tokens, gid)
        tags = notification_tokens(rows, await self.members(gid), ctx.pubkey)
        entry = await ctx.db.run(outbox_repo.by_event_id, event_id)
        if not tags or entry is None or entry.state is OutboxState.FAILED:
            return 0
        # A relay refuses events over 64 KiB: a 25-token wrap is 77 KB, so 19 per wrap.
        batches = build_notification_batches(
            tags, now=ctx.now(), rng=ctx.rng, max_tokens=TOKENS_PER_64K_WRAP
        )
        queued = 0
        for batch in batches:
            relays = await self._server_inbox(batch)
            for wrap in batch.events:
                await ctx.enqueue(wrap, relays, TRIGGER, after_id=entry.id)
                queued += 1
        self.triggers_queued += queued
        return queued

    async def _server_inbox(self, batch: NotificationBatch) -> tuple[str, ...]:
        """The server's 10050 relays (looked up via the token hints), else the hints."""
        lists = await self._relays.lists_of(batch.server_pubkey.hex, hints=batch.relay_hints)
        return lists[RelayListKind.INBOX] or batch.relay_hints


def _record(conn: Connection, own: OwnEvent, now: int) -> tuple[int, int]:
    entry_id = record_own_event(conn, own, now)
    return entry_id, groups_repo.load_state(conn, own.gid).revision


def _put_all(conn: Connection, rows: list[GroupPushToken]) -> None:
    for row in rows:
        push_repo.put_token(conn, row)
