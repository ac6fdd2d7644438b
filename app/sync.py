"""Sync: subscriptions by purpose, catch-up from stored cursors, one ordered work queue.

Purposes and where they run:

* ``inbox``: kind 1059 gift wraps ``#p`` us, on our inbox (10050) relays; the pool's signer
  answers NIP-42 AUTH. Gift wraps are back-dated up to two days, so their window is widened
  by that much.
* ``groups``: kind 445 ``#h`` each active group's id, on that group's relays.
* ``discovery``: profiles, follow lists and relay lists of the people we know, on our and
  the discovery relays (replaceable events: always fetched whole, no cursor).

On start and after every reconnect of a relay, `catch_up` fetches what it stored since the
cursors minus a safety margin, paging backwards with ``until`` because relays cap every
answer (500 events for the local relay), and queues it in timestamp order. Live events go
to the same queue, so one worker processes everything of the account in order. A cursor
moves only when everything before it was processed, and never past an event that is
waiting for a retry (a commit from a future epoch, say).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from app.context import Context
from app.events import ErrorRaised, SyncProgressed
from app.relays import Relays
from nostr.event import Event
from nostr.filters import Filter
from nostr.kinds import Kind
from nostr.nip59 import TIMESTAMP_TWEAK
from nostr.relay import ReceivedEvent, RelayStatus, RelayStatusChanged, SubscriptionItem
from storage.repos import processed
from storage.repos import relays as relays_repo

log = logging.getLogger(__name__)

MARGIN = 120
"""Seconds re-fetched before a cursor: clock skew and relays that store late."""
INBOX_MARGIN = TIMESTAMP_TWEAK + 600
PAGE = 500
SHORT_PAGE = 100
AUTHORS_PER_FILTER = 60
DISCOVERY_KINDS = (
    Kind.METADATA,
    Kind.FOLLOW_LIST,
    Kind.RELAY_LIST,
    Kind.INBOX_RELAYS,
    Kind.KEY_PACKAGE_RELAYS,
)
LIVE_CHECKPOINT = 30.0


class Purpose(StrEnum):
    INBOX = "inbox"
    GROUPS = "groups"
    DISCOVERY = "discovery"


@dataclass(frozen=True, slots=True)
class GroupTarget:
    """A group to follow: its ``h`` value, relays, and where to start without a cursor."""

    key: str
    nostr_group_id: str
    relays: tuple[str, ...]
    since: int


@dataclass(frozen=True, slots=True)
class Incoming:
    purpose: Purpose
    relay: str
    event: Event


Router = Callable[[Incoming], Awaitable[None]]


@dataclass(slots=True)
class _Marker:
    action: Callable[[], Awaitable[None]]
    done: asyncio.Future[None]


class SyncEngine:
    def __init__(
        self,
        ctx: Context,
        relays: Relays,
        router: Router,
        *,
        groups: Callable[[], Awaitable[list[GroupTarget]]],
        authors: Callable[[], Awaitable[list[str]]],
    ) -> None:
        self._ctx = ctx
        self._relays = relays
        self._router = router
        self._groups = groups
        self._authors = authors
        self._queue: asyncio.Queue[Incoming | _Marker] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._catching_up: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._live: set[str] = set()
        self._subs: dict[tuple[str, Purpose], str] = {}
        self._replaying: dict[str, list[Incoming]] = {}
        self._started = False
        self._progress = [0, 0]
        self.processed = 0

    # --- lifecycle -------------------------------------------------------------------

    async def start(self, *, live: bool = True) -> None:
        """Start the worker, open live subscriptions (``live``) and catch up every relay."""
        self._started = True
        self._spawn(self._work())
        if live:
            await self.resubscribe()
            self._spawn(self._checkpoints())
        for url in self._ctx.pool.relays:
            self.schedule_catch_up(url)

    def on_status(self, change: RelayStatusChanged) -> None:
        """Pool status listener: a (re)connected relay is caught up again."""
        if change.status is RelayStatus.CONNECTED and self._started:
            self.schedule_catch_up(change.relay_url)
        elif change.status is not RelayStatus.CONNECTED:
            self._live.discard(change.relay_url)
            for (url, _), sub_id in self._subs.items():
                if url == change.relay_url:
                    self._replaying.setdefault(sub_id, [])  # the reconnect replays again

    async def stop(self) -> None:
        self._started = False
        tasks = [*self._tasks, *self._catching_up.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._catching_up.clear()

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def idle(self, timeout: float | None = None) -> bool:
        """Wait until no catch-up runs and the queue is empty; False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    running = [t for t in self._catching_up.values() if not t.done()]
                    if running:
                        await asyncio.wait(running)
                        continue
                    await self._queue.join()
                    if not any(not t.done() for t in self._catching_up.values()):
                        return True
        except TimeoutError:
            return False

    # --- live subscriptions --------------------------------------------------------------

    async def resubscribe(self) -> None:
        """(Re)open each relay's live subscriptions from the current targets."""
        plan = await self._plan(live=True)
        pool = self._ctx.pool
        for (url, purpose), filters in plan.items():
            sub_id = _sub_id(purpose, url)
            if url not in pool.relays:
                continue
            if not filters:
                if (url, purpose) in self._subs:
                    await pool.unsubscribe(self._subs.pop((url, purpose)))
                continue
            margin = INBOX_MARGIN if purpose is Purpose.INBOX else MARGIN
            await pool.subscribe(
                filters,
                relays=[url],
                id=sub_id,
                since_margin=margin,
                on_item=self._live_item(purpose, sub_id),
            )
            self._subs[(url, purpose)] = sub_id

    def _live_item(self, purpose: Purpose, sub_id: str) -> Callable[[SubscriptionItem], None]:
        """Live events go straight to the queue; what a relay replays before its EOSE
        (after a subscribe or reconnect, newest first) is queued oldest first at EOSE."""
        self._replaying[sub_id] = []

        def deliver(item: SubscriptionItem) -> None:
            buffer = self._replaying.get(sub_id)
            if isinstance(item, ReceivedEvent):
                incoming = Incoming(purpose, item.relay_url, item.event)
                if buffer is None:
                    self._queue.put_nowait(incoming)
                else:
                    buffer.append(incoming)
            elif buffer is not None:  # EOSE, or the relay closed the subscription
                buffer.sort(key=lambda i: (i.event.created_at, i.event.id))
                for incoming in buffer:
                    self._queue.put_nowait(incoming)
                self._replaying.pop(sub_id, None)

        return deliver

    async def _plan(
        self, *, live: bool, relay: str | None = None
    ) -> dict[tuple[str, Purpose], list[Filter]]:
        """Filters per (relay, purpose); ``live`` ones start now, catch-up ones at cursors."""
        ctx = self._ctx
        now = ctx.now()
        urls = [relay] if relay is not None else list(ctx.pool.relays)
        targets = await self._groups()
        authors = await self._authors()
        plan: dict[tuple[str, Purpose], list[Filter]] = {}
        for url in urls:
            inbox = url in self._relays.inbox
            since = now - INBOX_MARGIN if live else await self._since("inbox", url, INBOX_MARGIN)
            plan[(url, Purpose.INBOX)] = (
                [Filter(kinds=[Kind.GIFT_WRAP], tags={"p": [ctx.pubkey]}, since=since)]
                if inbox
                else []
            )
            plan[(url, Purpose.GROUPS)] = await self._group_filters(
                [t for t in targets if url in t.relays], url, now if live else None
            )
            discovery = url in self._relays.lookup and authors
            since = now - MARGIN if live else None
            plan[(url, Purpose.DISCOVERY)] = (
                [*_author_filters(authors, since=since), _own_key_packages(ctx.pubkey, since)]
                if discovery
                else []
            )
        return plan

    async def _since(self, key: str, url: str, margin: int) -> int | None:
        cursor = await self._ctx.db.run(relays_repo.cursor, key, url)
        return None if cursor is None else max(0, cursor - margin)

    async def _group_filters(
        self, targets: Sequence[GroupTarget], url: str, live_from: int | None
    ) -> list[Filter]:
        if not targets:
            return []
        buckets: dict[int, list[str]] = {}
        for target in targets:
            if live_from is not None:
                since = live_from - MARGIN
            else:
                cursor = await self._ctx.db.run(relays_repo.cursor, target.key, url)
                since = max(0, (cursor if cursor is not None else target.since) - MARGIN)
            buckets.setdefault(since, []).append(target.nostr_group_id)
        return [
            Filter(kinds=[Kind.MLS_GROUP_MESSAGE], tags={"h": ids}, since=since)
            for since, ids in sorted(buckets.items())
        ]

    # --- catch-up ------------------------------------------------------------------------

    def schedule_catch_up(self, url: str) -> None:
        running = self._catching_up.get(url)
        if running is not None and not running.done():
            self._again.add(url)
            return
        self._progress[1] += 1
        self._catching_up[url] = asyncio.ensure_future(self._catch_up_loop(url))

    async def catch_up_all(self) -> None:
        for url in self._ctx.pool.relays:
            self.schedule_catch_up(url)
        await self.idle()

    async def _catch_up_loop(self, url: str) -> None:
        try:
            while True:
                self._again.discard(url)
                await self.catch_up(url)
                if url not in self._again:
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a relay's failure must not stop the others
            log.warning("catch-up of %s failed: %s", url, exc)
        finally:
            self._progress[0] += 1
            done, total = self._progress
            self._ctx.emit(SyncProgressed(self._ctx.pubkey, min(done, total), total))

    async def catch_up(self, url: str) -> int:
        """Fetch what ``url`` stored since our cursors; returns how many events were queued."""
        ctx = self._ctx
        if url not in ctx.pool.relays or not await self._relays.connected([url]):
            return 0
        started = ctx.now()
        plan = await self._plan(live=False, relay=url)
        found: list[Incoming] = []
        for (relay, purpose), filters in plan.items():
            for flt in filters:
                for event in await self.fetch_all(flt, relay):
                    found.append(Incoming(purpose, relay, event))
        order = {Purpose.DISCOVERY: 0, Purpose.INBOX: 1, Purpose.GROUPS: 2}
        found.sort(key=lambda i: (order[i.purpose], i.event.created_at, i.event.id))
        for item in found:
            self._queue.put_nowait(item)
        await self._run_marker(lambda: self._advance(url, started))
        self._live.add(url)
        return len(found)

    async def fetch_all(self, flt: Filter, url: str) -> list[Event]:
        """Every stored event matching ``flt`` on ``url``, paging back with ``until``."""
        pool = self._ctx.pool
        out: dict[str, Event] = {}
        until = flt.until
        while True:
            page = replace(flt, until=until, limit=PAGE)
            batch = await pool.fetch([page], relays=[url], timeout=self._ctx.config.timeouts.fetch)
            fresh = [e for e in batch if e.id not in out]
            out.update((e.id, e) for e in fresh)
            # Relays cap answers at a limit of their own, possibly below ours: a short page
            # (below any cap seen in practice) or one with nothing new proves the end.
            # ``until`` is inclusive, for events sharing the last page's oldest second.
            if not fresh or len(batch) < SHORT_PAGE:
                return list(out.values())
            until = min(e.created_at for e in batch)

    async def _run_marker(self, action: Callable[[], Awaitable[None]]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Marker(action, done))
        await done

    async def _advance(self, url: str, to: int) -> None:
        """Move the cursors of ``url`` to ``to``, but not past an event awaiting a retry."""
        ctx = self._ctx
        oldest = await ctx.db.run(processed.oldest_retryable)
        bound = to if oldest is None else min(to, oldest)
        now = ctx.now()
        keys = ["inbox"] if url in self._relays.inbox else []
        keys += [t.key for t in await self._groups() if url in t.relays]
        for key in keys:
            await ctx.db.run(relays_repo.advance_cursor, key, url, bound, now=now)

    async def _checkpoints(self) -> None:
        """While connected, cursors follow the live stream (a crash re-fetches less)."""
        while True:
            await asyncio.sleep(LIVE_CHECKPOINT)
            if self._queue.empty():
                for url in list(self._live):
                    await self._run_marker(self._advancer(url))

    def _advancer(self, url: str) -> Callable[[], Awaitable[None]]:
        async def advance() -> None:
            await self._advance(url, self._ctx.now() - MARGIN)

        return advance

    # --- the worker ----------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, _Marker):
                    await self._finish_marker(item)
                else:
                    await self._route(item)
            finally:
                self._queue.task_done()

    async def _finish_marker(self, marker: _Marker) -> None:
        try:
            await marker.action()
        except Exception as exc:
            if not marker.done.done():
                marker.done.set_exception(exc)
            return
        if not marker.done.done():
            marker.done.set_result(None)

    async def _route(self, item: Incoming) -> None:
        try:
            await self._router(item)
            self.processed += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one event's failure must not stop the account's sync
            log.exception("processing %s (kind %s) failed", item.event.id, item.event.kind)
            self._ctx.emit(
                ErrorRaised(self._ctx.pubkey, f"could not process an event: {exc}", "sync")
            )

    def submit(self, items: Iterable[Incoming]) -> None:
        """Queue events obtained elsewhere (a one-off fetch) for ordered processing."""
        for item in items:
            self._queue.put_nowait(item)


def _sub_id(purpose: Purpose, url: str) -> str:
    return f"{purpose.value}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def _own_key_packages(pubkey: str, since: int | None) -> Filter:
    """Our own devices' key packages: which device holds which leaf (see app.devices)."""
    return Filter(authors=[pubkey], kinds=[Kind.MLS_KEY_PACKAGE], since=since)


def _author_filters(authors: Sequence[str], *, since: int | None) -> list[Filter]:
    kinds = [int(k) for k in DISCOVERY_KINDS]
    return [
        Filter(authors=authors[i : i + AUTHORS_PER_FILTER], kinds=kinds, since=since)
        for i in range(0, len(authors), AUTHORS_PER_FILTER)
    ]
