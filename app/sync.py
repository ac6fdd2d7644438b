"""Sync: subscriptions by purpose, catch-up from stored cursors, one ordered work queue.

What is asked of each relay, by purpose (inbox, groups, discovery), is `app.sync_plan`.
On start and after every reconnect of a relay, `catch_up` fetches what it stored since the
cursors minus a safety margin and queues it in timestamp order. Live events go to the same
queue, so one worker processes everything of the account in order.

A cursor never passes an event we have not processed:

* it moves only once everything fetched before it was processed, and only for the
  cursors the fetch covered (a group joined meanwhile is caught up on its own);
* a fetch a relay did not answer up to its EOSE fails the catch-up (retried with backoff);
* an event whose processing raised holds every cursor back until it is processed (or
  given up after ``MAX_FAILURES``);
* an event no key opens yet (a commit of an epoch we have not reached, say) does not hold
  them: anyone can post such events, so each group keeps a bounded number of them
  (``storage.repos.unopened``) and retries them from storage after each commit;
* between catch-ups, cursors follow the live stream only while the relay stays connected
  and its subscriptions open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from app.context import Context
from app.events import ErrorRaised, SyncProgressed
from app.relays import Relays
from app.sync_plan import (
    INBOX_MARGIN,
    MARGIN,
    GroupTarget,
    Incoming,
    IncompleteFetch,
    Planner,
    Purpose,
    Router,
    fetch_all,
    replayable,
    subscription_id,
)
from nostr.backoff import Backoff
from nostr.event import Event
from nostr.relay import (
    ClosedByRelay,
    ReceivedEvent,
    RelayStatus,
    RelayStatusChanged,
    SubscriptionItem,
)
from storage.repos import processed
from storage.repos import relays as relays_repo
from storage.rows import Outcome

__all__ = ["INBOX_MARGIN", "MARGIN", "GroupTarget", "Incoming", "Purpose", "SyncEngine"]

log = logging.getLogger(__name__)

LIVE_CHECKPOINT = 30.0
RETRY = Backoff(base=2.0, factor=2.0, cap=60.0, jitter=0.25)
"""Seconds before a failed catch-up (or a closed live subscription) is tried again."""
MAX_FAILURES = 5
"""Processing attempts that raised before an event is given up (its cursor hold ends)."""


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
        self._planner = Planner(ctx, relays, groups, authors)
        self._queue: asyncio.Queue[Incoming | _Marker] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._catching_up: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._failures: dict[str, int] = {}
        self._closures: dict[str, int] = {}
        self._caught: dict[str, list[str]] = {}
        """Per connected relay, the cursors caught up and since followed live."""
        self._subs: dict[tuple[str, Purpose], str] = {}
        self._replaying: dict[str, list[Incoming]] = {}
        self._held: int | None = None
        """created_at of the oldest event whose failure could not even be recorded."""
        self._started = False
        self._progress = [0, 0]
        self.processed = 0

    # --- lifecycle -------------------------------------------------------------------

    async def start(self, *, live: bool = True) -> None:
        """Start the worker, open live subscriptions (``live``) and catch up every relay."""
        self._started = True
        self._spawn(self._work())
        await self.replay_waiting()
        if live:
            await self.resubscribe()
            self._spawn(self._checkpoints())
        for url in self._ctx.pool.relays:
            self.schedule_catch_up(url)

    async def replay_waiting(self) -> None:
        """Events kept for a retry are queued again from what we stored of them: the relays
        that had them may have dropped them, and catch-up alone would never retry them."""
        for item in replayable(await self._ctx.db.run(processed.retryable, limit=500)):
            self._queue.put_nowait(item)

    def on_status(self, change: RelayStatusChanged) -> None:
        """Pool status listener: a (re)connected relay is caught up again."""
        if change.status is RelayStatus.CONNECTED and self._started:
            self._closures.pop(change.relay_url, None)
            self.schedule_catch_up(change.relay_url)
        elif change.status is not RelayStatus.CONNECTED:
            self._caught.pop(change.relay_url, None)
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
        """Wait until no catch-up runs and the queue is empty; False on timeout or when
        the last catch-up of a relay failed (it is retried later)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    running = [t for t in self._catching_up.values() if not t.done()]
                    if running:
                        await asyncio.wait(running)
                        continue
                    await self._queue.join()
                    if not any(not t.done() for t in self._catching_up.values()):
                        return not self._failures
        except TimeoutError:
            return False

    # --- live subscriptions --------------------------------------------------------------

    async def resubscribe(self, relay: str | None = None) -> None:
        """(Re)open the live subscriptions (of one relay, or all) from the current targets."""
        plan = await self._planner.plan(live=True, relay=relay)
        pool = self._ctx.pool
        for (url, purpose), filters in plan.filters.items():
            sub_id = subscription_id(purpose, url)
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
                return
            if buffer is not None:  # EOSE, or the relay closed the subscription
                buffer.sort(key=lambda i: (i.event.created_at, i.event.id))
                for incoming in buffer:
                    self._queue.put_nowait(incoming)
                self._replaying.pop(sub_id, None)
            if isinstance(item, ClosedByRelay):
                self._lost_live(item)

        return deliver

    def _lost_live(self, item: ClosedByRelay) -> None:
        """The relay ended a live subscription: nothing new arrives from it, so its
        cursors stay where they are until it is subscribed and caught up again."""
        url = item.relay_url
        log.warning("%s closed a live subscription: %s", url, item.message)
        self._caught.pop(url, None)
        self._closures[url] = self._closures.get(url, 0) + 1
        if self._started:
            self._spawn(self._recover(url))

    async def _recover(self, url: str) -> None:
        await asyncio.sleep(self._delay(self._closures.get(url, 1)))
        if self._started and url in self._ctx.pool.relays:
            await self.resubscribe(url)
            self.schedule_catch_up(url)

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
            self._failures[url] = self._failures.get(url, 0) + 1
            if self._started:
                self._spawn(self._catch_up_later(url))
        finally:
            self._progress[0] += 1
            done, total = self._progress
            self._ctx.emit(SyncProgressed(self._ctx.pubkey, min(done, total), total))

    async def _catch_up_later(self, url: str) -> None:
        await asyncio.sleep(self._delay(self._failures.get(url, 1)))
        if self._started and url in self._ctx.pool.relays:
            self.schedule_catch_up(url)

    def _delay(self, failures: int) -> float:
        draw = int.from_bytes(self._ctx.rng(2), "big") / 0xFFFF
        return RETRY.delay(max(0, failures - 1), draw)

    async def catch_up(self, url: str) -> int:
        """Fetch what ``url`` stored since our cursors; returns how many events were queued.

        A request the relay did not answer in full (`IncompleteFetch`) keeps its cursors
        where they are; the rest is processed, then the error is raised (to retry later)."""
        ctx = self._ctx
        if url not in ctx.pool.relays or not await self._relays.connected([url]):
            return 0
        started = ctx.now()
        plan = await self._planner.plan(live=False, relay=url)
        found: list[Incoming] = []
        held: set[str] = set()
        failure: IncompleteFetch | None = None
        for (relay, purpose), filters in plan.filters.items():
            for flt in filters:
                try:
                    events = await fetch_all(ctx, flt, relay)
                except IncompleteFetch as exc:
                    failure = exc
                    held.update(plan.covered(purpose, flt))
                    continue
                found.extend(Incoming(purpose, relay, event) for event in events)
        order = {Purpose.DISCOVERY: 0, Purpose.INBOX: 1, Purpose.GROUPS: 2}
        found.sort(key=lambda i: (order[i.purpose], i.event.created_at, i.event.id))
        for item in found:
            self._queue.put_nowait(item)
        keys = [k for k in plan.keys.get(url, []) if k not in held]
        await self._run_marker(lambda: self._advance(url, started, keys))
        if failure is not None:
            raise failure
        self._failures.pop(url, None)
        if ctx.pool.status(url).is_connected:
            self._caught[url] = keys
        return len(found)

    async def _run_marker(self, action: Callable[[], Awaitable[None]]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Marker(action, done))
        await done

    async def _advance(self, url: str, to: int, keys: Iterable[str]) -> None:
        """Move these cursors of ``url`` to ``to``, but not past an unprocessed event."""
        ctx = self._ctx
        oldest = await ctx.db.run(processed.oldest_retryable)
        bound = min(b for b in (to, oldest, self._held) if b is not None)
        now = ctx.now()
        for key in keys:
            await ctx.db.run(relays_repo.advance_cursor, key, url, bound, now=now)

    async def _checkpoints(self) -> None:
        """While connected, cursors follow the live stream (a crash re-fetches less)."""
        while True:
            await asyncio.sleep(LIVE_CHECKPOINT)
            if not self._queue.empty():
                continue
            for url, keys in list(self._caught.items()):
                running = self._catching_up.get(url)
                if running is None or running.done():
                    await self._run_marker(self._advancer(url, keys))

    def _advancer(self, url: str, keys: list[str]) -> Callable[[], Awaitable[None]]:
        async def advance() -> None:
            if self._caught.get(url) is keys:  # still connected and followed since
                await self._advance(url, self._ctx.now() - MARGIN, keys)

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
            failures = await self._set_aside(item.event, exc)
            if failures < MAX_FAILURES and self._started:
                self._spawn(self._route_later(item, failures))

    async def _set_aside(self, event: Event, exc: Exception) -> int:
        """Processing raised: keep the event as *retryable* (every cursor waits for it)
        until it failed `MAX_FAILURES` times; returns how often it failed so far."""
        ctx = self._ctx
        try:
            if await ctx.db.run(processed.is_done, event.id):
                return MAX_FAILURES  # it was stored; what raised came after
            record = await ctx.db.run(processed.get, event.id)
            failures = 1 if record is None else record.attempts + 1
            outcome = Outcome.FAILED if failures >= MAX_FAILURES else Outcome.RETRYABLE
            await ctx.mark(event, outcome, f"processing raised: {exc}"[:200], keep=True)
        except Exception:  # not even recorded: hold the cursors for this session at least
            log.exception("could not record the failure of %s", event.id)
            held = event.created_at
            self._held = held if self._held is None else min(self._held, held)
            return 1
        return failures

    async def _route_later(self, item: Incoming, failures: int) -> None:
        await asyncio.sleep(self._delay(failures))
        self._queue.put_nowait(item)

    def submit(self, items: Iterable[Incoming]) -> None:
        """Queue events obtained elsewhere (a one-off fetch) for ordered processing."""
        for item in items:
            self._queue.put_nowait(item)
