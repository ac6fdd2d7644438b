"""Relay connection status, its change event, and a stream of changes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import Enum


class RelayStatus(Enum):
    INITIALIZED = "initialized"  # added, not started
    CONNECTING = "connecting"  # a connection attempt is under way
    CONNECTED = "connected"  # the websocket is open
    DISCONNECTED = "disconnected"  # lost or refused; a retry is scheduled
    TERMINATED = "terminated"  # removed from the pool or the pool closed; no retries

    @property
    def is_connected(self) -> bool:
        return self is RelayStatus.CONNECTED

    @property
    def can_connect(self) -> bool:
        return self is not RelayStatus.TERMINATED


@dataclass(frozen=True, slots=True)
class RelayStatusChanged:
    """A relay moved from ``previous`` to ``status``."""

    relay_url: str
    status: RelayStatus
    previous: RelayStatus
    error: str | None = None
    """Why the connection failed or ended, when it did."""
    retry_in: float | None = None
    """Seconds until the next connection attempt (``DISCONNECTED`` only)."""


class StatusStream:
    """An async iterator of status changes, registered on creation so nothing is missed.

    Returned by ``RelayPool.status_events()``; ``aclose()`` stops it, and it ends by itself
    when the pool closes.
    """

    def __init__(self, streams: set[StatusStream]) -> None:
        self._queue: asyncio.Queue[RelayStatusChanged | None] = asyncio.Queue()
        self._streams = streams
        streams.add(self)

    def push(self, change: RelayStatusChanged | None) -> None:
        self._queue.put_nowait(change)

    def __aiter__(self) -> StatusStream:
        return self

    async def __anext__(self) -> RelayStatusChanged:
        change = await self._queue.get()
        if change is None:
            self._queue.put_nowait(None)  # every later call ends too
            raise StopAsyncIteration
        return change

    async def aclose(self) -> None:
        self._streams.discard(self)
        self.push(None)
