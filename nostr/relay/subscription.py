"""A pool subscription: merged, deduplicated events from many relays, plus EOSE tracking.

Iterate it (``async for item in sub``) for every item, or ``sub.events()`` for just
``(relay_url, event)`` pairs; or pass ``on_item`` to ``RelayPool.subscribe`` to be called
instead of queueing.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

from nostr.event import Event
from nostr.filters import Filter
from nostr.messages import MachineReadablePrefix


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """A verified, matching event seen first on ``relay_url`` (later copies are dropped)."""

    relay_url: str
    event: Event

    def __iter__(self) -> Iterator[str | Event]:
        yield self.relay_url
        yield self.event


@dataclass(frozen=True, slots=True)
class EndOfStoredEvents:
    """``relay_url`` has sent every stored event, pages past its cap included.

    What follows is live; live events may also come before it while older pages load.
    """

    relay_url: str


@dataclass(frozen=True, slots=True)
class ClosedByRelay:
    """``relay_url`` ended this subscription (the other relays carry on)."""

    relay_url: str
    message: str
    prefix: MachineReadablePrefix | None


SubscriptionItem = ReceivedEvent | EndOfStoredEvents | ClosedByRelay
_END = object()


class Subscription:
    """Created by ``RelayPool.subscribe``; see the module docstring."""

    def __init__(
        self,
        subscription_id: str,
        filters: tuple[Filter, ...],
        relays: frozenset[str] | None,
        *,
        since_margin: int,
        dedupe_capacity: int,
        on_item: Callable[[SubscriptionItem], None] | None,
        unsubscribe: Callable[[str], Awaitable[None]],
        relay_done: Callable[[str], bool],
        relay_urls: Callable[[], tuple[str, ...]],
    ) -> None:
        self.id = subscription_id
        self.filters = filters
        self.relays = relays
        """The relays this subscription is bound to; ``None`` means every pool relay."""
        self.since_margin = since_margin
        self.duplicates = 0
        self._capacity = dedupe_capacity
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._on_item = on_item
        self._queue: asyncio.Queue[SubscriptionItem | object] = asyncio.Queue()
        self._unsubscribe = unsubscribe
        self._relay_done = relay_done
        self._relay_urls = relay_urls
        self._eose: set[str] = set()
        self._changed = asyncio.Event()
        self.closed = False

    # --- fed by the pool -------------------------------------------------------------

    def targets(self) -> tuple[str, ...]:
        urls = self._relay_urls()
        return urls if self.relays is None else tuple(u for u in urls if u in self.relays)

    def deliver_event(self, relay_url: str, event: Event) -> None:
        if event.id in self._seen:
            self.duplicates += 1
            self._seen.move_to_end(event.id)
            return
        self._seen[event.id] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        self._deliver(ReceivedEvent(relay_url, event))

    def deliver_eose(self, relay_url: str) -> None:
        self._eose.add(relay_url)
        self._deliver(EndOfStoredEvents(relay_url))
        self._changed.set()

    def deliver_closed(
        self, relay_url: str, message: str, prefix: MachineReadablePrefix | None
    ) -> None:
        self._eose.add(relay_url)  # nothing more will come from there
        self._deliver(ClosedByRelay(relay_url, message, prefix))
        self._changed.set()

    def relay_changed(self) -> None:
        self._changed.set()

    def _deliver(self, item: SubscriptionItem) -> None:
        if self.closed:
            return
        if self._on_item is not None:
            self._on_item(item)
        else:
            self._queue.put_nowait(item)

    def end(self) -> None:
        """No more items (closed by us or by the pool)."""
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(_END)
            self._changed.set()

    # --- consumer API ------------------------------------------------------------------

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> SubscriptionItem:
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # every later call ends too
            raise StopAsyncIteration
        assert isinstance(item, ReceivedEvent | EndOfStoredEvents | ClosedByRelay)
        return item

    async def events(self) -> AsyncIterator[tuple[str, Event]]:
        """Only the events, as ``(relay_url, event)``."""
        async for item in self:
            if isinstance(item, ReceivedEvent):
                yield item.relay_url, item.event

    def eose_complete(self) -> bool:
        """Every target relay sent EOSE or CLOSED, or is not reachable right now."""
        return self.closed or all(
            url in self._eose or self._relay_done(url) for url in self.targets()
        )

    async def wait_eose(self, timeout: float | None = None) -> bool:
        """Wait until stored events are in from every reachable target relay."""
        try:
            async with asyncio.timeout(timeout):
                while not self.eose_complete():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Close on every relay and end iteration."""
        if not self.closed:
            self.end()
            await self._unsubscribe(self.id)
