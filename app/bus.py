"""EventBus: one place where services publish `AppEvent`s and front ends listen.

Listeners are plain callables run synchronously in publish order (the Qt bridge turns each
into a signal; it runs on the same loop thread). `stream` gives an async iterator with its
own queue, registered at creation so nothing published afterwards is missed (the CLI's
``listen``). A failing listener is logged and never breaks the publisher.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from app.events import AppEvent

log = logging.getLogger(__name__)

E = TypeVar("E", bound=AppEvent)
Listener = Callable[[AppEvent], None]


class EventStream:
    """Async iterator over events published after its creation; ``close()`` ends it."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[AppEvent | None] = asyncio.Queue()

    def push(self, event: AppEvent | None) -> None:
        self._queue.put_nowait(event)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> AppEvent:
        event = await self._queue.get()
        if event is None:
            self._queue.put_nowait(None)
            raise StopAsyncIteration
        return event

    async def next(self, timeout: float) -> AppEvent | None:
        """The next event, or None after ``timeout`` seconds (or once closed)."""
        try:
            async with asyncio.timeout(timeout):
                return await self.__anext__()
        except (TimeoutError, StopAsyncIteration):
            return None

    def close(self) -> None:
        self._bus._streams.discard(self)
        self.push(None)


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._streams: set[EventStream] = set()
        self.published = 0

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every event; returns the function that unsubscribes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def on(self, kind: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Like `subscribe`, for one event class (and its subclasses) only."""

        def listener(event: AppEvent) -> None:
            if isinstance(event, kind):
                handler(event)

        return self.subscribe(listener)

    def stream(self) -> EventStream:
        stream = EventStream(self)
        self._streams.add(stream)
        return stream

    def publish(self, event: AppEvent) -> None:
        self.published += 1
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a front end's bug must not break the service that published
                log.exception("bus listener failed on %s", type(event).__name__)
        for stream in list(self._streams):
            stream.push(event)

    def close(self) -> None:
        for stream in list(self._streams):
            stream.close()
        self._listeners.clear()
