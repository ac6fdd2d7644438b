"""One local server per address for all of this user's Burrow processes (the embedded relay,
the embedded Blossom store): whoever holds the store's lock file serves; the others poll
and take over when it goes away. The kernel drops the lock however the holder exits."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

TAKEOVER_POLL = 1.0
"""Seconds between checks whether the serving process went away."""
LOCK_FILE = "serving.lock"


class Server(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=Server)


def can_bind(host: str, port: int) -> bool:
    """Whether nothing listens on the address any more (TIME_WAIT leftovers are fine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1" if host == "localhost" else host, port))
        except OSError:
            return False
    return True


def try_lock(path: Path) -> int | None:
    """An exclusive, non-blocking lock on ``path`` (its fd), or None when another holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


class SharedServer(Generic[S]):
    """Serves (``make()``) on ``host:port`` from ``store`` whenever no other process does."""

    def __init__(
        self, what: str, address: tuple[str, int], store: Path, make: Callable[[], S], poll: float
    ) -> None:
        self.what = what
        self.host, self.port = address
        self.store = store
        self.poll = poll
        self.server: S | None = None
        self._make = make
        self._lock: int | None = None
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve now if nobody does; keep watching to take over when the server leaves."""
        await self.try_serve()
        if self._watch is None:
            self._watch = asyncio.ensure_future(self._watching())

    async def try_serve(self) -> bool:
        if self.server is not None:
            return True
        lock = try_lock(self.store / LOCK_FILE)
        if lock is None:
            return False  # another Burrow process serves (or is starting to)
        if not can_bind(self.host, self.port):  # something that is not Burrow serves it
            os.close(lock)
            return False
        server = self._make()
        try:
            await server.start()
        except Exception as exc:  # the port was taken in between, or the store refused
            log.warning("could not start the %s on %s:%d: %s", self.what, self.host, self.port, exc)
            os.close(lock)
            return False
        self.server, self._lock = server, lock
        return True

    async def _watching(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            try:
                await self.try_serve()
            except OSError as exc:  # the store's folder is unusable: say so, keep trying
                log.warning("%s store %s: %s", self.what, self.store, exc)

    async def stop(self) -> None:
        """Stop watching and serving; the lock goes once the port is free again."""
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        server, self.server = self.server, None
        if server is not None:
            await server.stop()
        lock, self._lock = self._lock, None
        if lock is not None:
            os.close(lock)
