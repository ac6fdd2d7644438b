"""The notification server's I/O: relays in, delivery backend out.

On start it connects to its inbox relays (answering NIP-42 AUTH with its own key, which
relays that only show gift wraps to their recipient require), publishes its kind-10050
inbox relay list there and on the announce relays, and subscribes to kind 1059 ``#p`` its
key. Gift wraps are backdated by up to two days (NIP-59), so the subscription looks back
two days plus ``max_age``; the processor drops what is stale or already handled.

One worker task opens wraps in arrival order (pure CPU, fast); deliveries run as separate
tasks, at most ``MAX_IN_FLIGHT`` at a time, so a slow webhook never holds up decryption.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import IO

from nostr.filters import Filter
from nostr.keys import PublicKey
from nostr.kinds import Kind
from nostr.nip59 import TIMESTAMP_TWEAK
from nostr.relay import PoolOptions, ReceivedEvent, RelayPool, Subscription, SubscriptionItem
from nostr.relay_lists import inbox_relays_event
from nostr.signer import KeySigner
from push_server.backends import DeliveryBackend
from push_server.config import ServerConfig
from push_server.processor import (
    MAX_FUTURE_SKEW,
    Notification,
    SeenTriggers,
    ServerStats,
    TriggerProcessor,
)

log = logging.getLogger("push_server")

MAX_IN_FLIGHT = 256
STATS_INTERVAL = 60.0
ANNOUNCE_RETRY = (5.0, 300.0)
"""First and longest wait before publishing the 10050 again to relays that missed it."""


class NotificationServer:
    def __init__(
        self,
        config: ServerConfig,
        backend: DeliveryBackend,
        *,
        clock: Callable[[], float] = time.time,
        options: PoolOptions | None = None,
    ) -> None:
        self.config = config
        self.backend = backend
        self._clock = clock
        self.stats = ServerStats()
        self._state: IO[str] | None = None
        seen = SeenTriggers(config.max_age + MAX_FUTURE_SKEW, on_add=self._remember)
        self.processor = TriggerProcessor(
            config.secret, max_age=config.max_age, seen=seen, stats=self.stats
        )
        self.pool = RelayPool(signer=KeySigner(config.secret), options=options, clock=clock)
        self._queue: asyncio.Queue[ReceivedEvent] = asyncio.Queue()
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._deliveries: set[asyncio.Task[None]] = set()
        self._sub: Subscription | None = None
        self.announced: set[str] = set()

    @property
    def public_key(self) -> PublicKey:
        return self.config.secret.public_key()

    def _now(self) -> int:
        return int(self._clock())

    async def start(self, *, eose_timeout: float = 10.0) -> None:
        """Connect, announce, subscribe; returns once stored wraps are in (or the timeout)."""
        self._open_state()
        for url in (*self.config.relays, *self.config.announce_relays):
            await self.pool.add_relay(url)
        self._spawn(self._announce())
        self._spawn(self._work())
        self._spawn(self._log_stats())
        window = TIMESTAMP_TWEAK + self.config.max_age
        wraps = Filter(
            kinds={Kind.GIFT_WRAP}, tags={"p": {self.public_key.hex}}, since=self._now() - window
        )
        self._sub = await self.pool.subscribe(
            [wraps], relays=self.config.relays, since_margin=window, on_item=self._on_item
        )
        await self._sub.wait_eose(eose_timeout)

    async def close(self, *, drain_timeout: float = 10.0) -> None:
        """Stop reading, finish what was received (up to ``drain_timeout``), shut down."""
        if self._sub is not None:
            await self._sub.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(drain_timeout):
                await self._queue.join()
                while self._deliveries:
                    await asyncio.gather(*self._deliveries)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._deliveries, return_exceptions=True)
        await self.pool.close()
        await self.backend.aclose()
        if self._state is not None:
            self._state.close()
        log.info("stopped; stats %s", json.dumps(self.stats.as_dict()))

    # --- reading -----------------------------------------------------------------------

    def _on_item(self, item: SubscriptionItem) -> None:
        if isinstance(item, ReceivedEvent):
            self._queue.put_nowait(item)

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                notes = self.processor.process(item.event, item.relay_url, self._now())
                if notes:
                    await self._in_flight.acquire()
                    task = asyncio.create_task(self._deliver(notes))
                    self._deliveries.add(task)
                    task.add_done_callback(self._delivery_done)
            except Exception:  # the loop boundary: one bad event must not stop the server
                log.exception("failed to process gift wrap %s", item.event.id)
            finally:
                self._queue.task_done()

    def _delivery_done(self, task: asyncio.Task[None]) -> None:
        self._deliveries.discard(task)
        self._in_flight.release()

    async def _deliver(self, notes: list[Notification]) -> None:
        try:
            delivered = await self.backend.deliver(notes)
        except Exception:  # a backend bug or outage: count it, keep serving
            log.exception("delivery backend failed for trigger %s", notes[0].trigger_id)
            delivered = 0
        self.stats.delivered += delivered
        self.stats.delivery_failures += len(notes) - delivered
        log.debug("trigger %s: %d of %d delivered", notes[0].trigger_id, delivered, len(notes))

    # --- announcing ----------------------------------------------------------------------

    async def _announce(self) -> None:
        """Publish the 10050 until every relay took it (replaceable, so once is enough)."""
        targets = (*self.config.relays, *self.config.announce_relays)
        event = inbox_relays_event(
            self.public_key, self.config.relays, created_at=self._now()
        ).sign(self.config.secret)
        delay = ANNOUNCE_RETRY[0]
        while True:
            missing = [u for u in targets if u not in self.announced]
            if not missing:
                return
            result = await self.pool.publish(event, relays=missing, wait_all=True)
            self.announced.update(result.accepted)
            if len(self.announced) < len(targets):
                log.warning("inbox relay list not yet on %s", ", ".join(missing))
                await asyncio.sleep(delay)
                delay = min(delay * 2, ANNOUNCE_RETRY[1])

    # --- bookkeeping ---------------------------------------------------------------------

    async def _log_stats(self) -> None:
        last: dict[str, int] = {}
        while True:
            await asyncio.sleep(STATS_INTERVAL)
            current = self.stats.as_dict()
            if current != last:
                log.info("stats %s", json.dumps(current))
                last = current

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        self._tasks.add(asyncio.create_task(coro))

    def _open_state(self) -> None:
        """Load handled trigger ids, rewrite the file without expired ones, keep appending."""
        path = self.config.state_file
        if path is None:
            return
        self.processor.seen.load(_read_state(path), self._now())
        tmp = path.with_suffix(path.suffix + ".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for rumor_id, created_at in self.processor.seen.entries():
                out.write(json.dumps({"id": rumor_id, "created_at": created_at}) + "\n")
        tmp.replace(path)
        self._state = path.open("a", encoding="utf-8")

    def _remember(self, rumor_id: str, created_at: int) -> None:
        if self._state is not None:
            self._state.write(json.dumps({"id": rumor_id, "created_at": created_at}) + "\n")
            self._state.flush()


def _read_state(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
            entries.append((str(data["id"]), int(data["created_at"])))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash
    return entries
