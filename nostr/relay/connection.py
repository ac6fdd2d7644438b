"""RelayConnection: one websocket to one relay, driving a ``RelaySession``.

It connects with a timeout, keeps the socket alive with pings, and reconnects with
exponential backoff and jitter for as long as it is open. On every (re)connect the session
replays its subscriptions. Publishing waits for the relay's ``OK``, re-sends after a
reconnect, backs off on ``rate-limited`` and authenticates (NIP-42) when the relay demands
it and a signer is attached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from nostr.errors import RelayUnavailable
from nostr.event import Event
from nostr.messages import MachineReadablePrefix
from nostr.nip42 import auth_event
from nostr.relay.frames import FrameFilter
from nostr.relay.guard import LOOPBACK_ENV, is_loopback_url
from nostr.relay.options import PoolOptions
from nostr.relay.status import RelayStatus, RelayStatusChanged
from nostr.session import AuthState, RelaySession, VerifiedEvents
from nostr.session_events import (
    AuthChallenged,
    AuthFailed,
    AuthSucceeded,
    OkReceived,
    SessionEvent,
)
from nostr.signer import Signer

log = logging.getLogger(__name__)

_RATE_LIMITED = MachineReadablePrefix.RATE_LIMITED
_AUTH_REQUIRED = MachineReadablePrefix.AUTH_REQUIRED
_CONNECT_ERRORS = (OSError, TimeoutError, InvalidHandshake, InvalidURI)


class RelayConnection:
    """See the module docstring. Created and owned by ``RelayPool``."""

    def __init__(
        self,
        url: str,
        *,
        options: PoolOptions,
        signer: Signer | None,
        verified: VerifiedEvents,
        on_event: Callable[[str, SessionEvent], None],
        on_status: Callable[[RelayStatusChanged], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.options = options
        self.session = RelaySession(
            url,
            max_message_size=options.max_message_size,
            verified=verified,
            can_authenticate=signer is not None,
            page_threshold=options.page_threshold,
        )
        self.status = RelayStatus.INITIALIZED
        self._signer = signer
        self._on_event = on_event
        self._on_status = on_status
        self._clock = clock
        self._ws: ClientConnection | None = None
        self._generation = 0
        self._connected = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._rate_lock = asyncio.Lock()
        self._ok_waiters: dict[str, list[asyncio.Future[OkReceived]]] = {}
        self._auth_waiters: list[asyncio.Future[bool | None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._closing = False

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        if self._runner is None and not self._closing:
            self._runner = asyncio.create_task(self._run(), name=f"relay {self.url}")

    async def close(self) -> None:
        """Stop for good: close the socket, cancel retries, fail whatever still waits."""
        self._closing = True
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._connection_ended()
        self._set_status(RelayStatus.TERMINATED)

    def set_signer(self, signer: Signer | None) -> None:
        self._signer = signer
        self.session.can_authenticate = signer is not None

    @property
    def is_connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout: float | None = None) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            return False
        return True

    def _set_status(
        self, status: RelayStatus, error: str | None = None, retry_in: float | None = None
    ) -> None:
        previous, self.status = self.status, status
        if previous is not status:
            self._on_status(RelayStatusChanged(self.url, status, previous, error, retry_in))

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            self._set_status(RelayStatus.CONNECTING)
            started = asyncio.get_running_loop().time()
            try:
                error = await self._connect_and_serve()
            except Exception as exc:  # the task boundary: a bug must not end reconnecting
                log.exception("relay %s: connection task failed", self.url)
                error = f"internal error: {exc!r}"
            if asyncio.get_running_loop().time() - started >= self.options.stable_after:
                attempt = 0
            delay = self.options.reconnect.delay(attempt, random.random())  # noqa: S311
            attempt += 1
            self._set_status(RelayStatus.DISCONNECTED, error, delay)
            log.debug("relay %s disconnected (%s); retry in %.2fs", self.url, error, delay)
            await asyncio.sleep(delay)

    async def _connect_and_serve(self) -> str:
        """One connection's life; returns why it ended."""
        opts = self.options
        if opts.loopback_only and not is_loopback_url(self.url):
            log.error("relay %s refused: %s=1 allows loopback relays only", self.url, LOOPBACK_ENV)
            return f"refused: {LOOPBACK_ENV}=1 allows relays on this machine only"
        try:
            ws = await connect(
                self.url,
                open_timeout=opts.connect_timeout,
                ping_interval=opts.ping_interval,
                ping_timeout=opts.ping_timeout,
                close_timeout=opts.close_timeout,
                # Bigger messages never reach websockets: _FilteredConnection drops each one.
                max_size=opts.max_message_size,
                compression=None,  # frames can only be dropped from an uncompressed stream
                create_connection=_FilteredConnection,
                user_agent_header=None,  # no fingerprint beyond what the protocol needs
            )
        except _CONNECT_ERRORS as exc:
            return f"connect failed: {exc!r}"
        try:
            return await self._serve(ws)
        finally:
            self._connection_ended()
            with contextlib.suppress(Exception):
                await ws.close()

    async def _serve(self, ws: ClientConnection) -> str:
        self._ws = ws
        self._generation += 1
        self.session.connection_made()
        self._connected.set()
        self._set_status(RelayStatus.CONNECTED)
        try:
            await self._flush()
            async for frame in ws:
                self._count_dropped(ws)
                text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                self._receive(text)
                await self._flush()
        except ConnectionClosed as exc:
            return f"connection closed: {exc}"
        finally:
            self._count_dropped(ws)
        return "connection closed by relay"

    def _count_dropped(self, ws: ClientConnection) -> None:
        if isinstance(ws, _FilteredConnection):
            self.session.stats.oversized += ws.take_dropped()

    def _connection_ended(self) -> None:
        """Forget the socket; waiters learn the connection is gone and retry later."""
        self._ws = None
        self._connected.clear()
        if self.session.connected:
            self.session.connection_lost()
        for waiters in self._ok_waiters.values():
            for future in waiters:
                if not future.done():
                    future.set_exception(RelayUnavailable(self.url, "connection lost"))
        self._resolve_auth(None)

    # --- frames ----------------------------------------------------------------------

    def _receive(self, text: str) -> None:
        try:
            events = self.session.receive(text, int(self._clock()))
        except Exception:  # the loop boundary: a bug must not kill the connection
            log.exception("relay %s: error while reading a message", self.url)
            return
        self._dispatch(events)

    def _dispatch(self, events: list[SessionEvent]) -> None:
        for event in events:
            try:
                self._handle(event)
            except Exception:  # a consumer's bug must not cost the events after it
                log.exception("relay %s: error while handling %s", self.url, type(event).__name__)

    def _handle(self, event: SessionEvent) -> None:
        if isinstance(event, OkReceived):
            for future in self._ok_waiters.get(event.event_id, ()):
                if not future.done():
                    future.set_result(event)
        elif isinstance(event, AuthChallenged):
            self._spawn(self._authenticate(event.challenge, self._generation))
        elif isinstance(event, AuthSucceeded | AuthFailed):
            self._resolve_auth(isinstance(event, AuthSucceeded))
            self._on_event(self.url, event)
        else:
            self._on_event(self.url, event)

    async def _flush(self) -> None:
        frames = self.session.data_to_send()
        ws = self._ws
        if not frames or ws is None:
            return
        async with self._send_lock:
            try:
                for frame in frames:
                    await ws.send(frame)
            except ConnectionClosed:
                # A closed socket raises without yielding: forget it now, or a retrying
                # sender spins on it before the reader task has seen the close.
                if ws is self._ws:
                    self._connection_ended()
                raise

    async def send_pending(self) -> None:
        """Send frames queued by session commands (``subscribe`` ...); safe when offline."""
        with contextlib.suppress(ConnectionClosed):
            await self._flush()

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- NIP-42 --------------------------------------------------------------------------

    async def _authenticate(self, challenge: str, generation: int) -> None:
        signer = self._signer
        if signer is None:
            self._dispatch(self.session.fail_auth("no signer attached"))
            return
        unsigned = auth_event(signer.public_key, self.url, challenge, created_at=int(self._clock()))
        try:
            event = await signer.sign_event(unsigned)
        except Exception as exc:  # a locked or failing signer is the environment's fault
            log.warning("relay %s: signer failed to sign AUTH: %r", self.url, exc)
            self._dispatch(self.session.fail_auth(f"signer failed: {exc!r}"))
            return
        if generation != self._generation or not self.session.connected:
            return  # the connection this challenge came from is gone
        self.session.authenticate(event)
        await self.send_pending()

    def _resolve_auth(self, result: bool | None) -> None:
        waiters, self._auth_waiters = self._auth_waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(result)

    async def _wait_auth(self, deadline: float) -> bool | None:
        """True when AUTH succeeded, False when it failed, None if the socket dropped."""
        if self.session.auth_state is AuthState.AUTHENTICATED:
            return True
        if self.session.auth_state is AuthState.FAILED:
            return False
        future: asyncio.Future[bool | None] = asyncio.get_running_loop().create_future()
        self._auth_waiters.append(future)
        try:
            async with asyncio.timeout_at(deadline):
                return await future
        except TimeoutError:
            return False

    # --- publishing --------------------------------------------------------------------

    async def publish(self, event: Event, deadline: float) -> OkReceived | None:
        """Send ``event`` until the relay answers ``OK`` or ``deadline`` (loop time) passes.

        Returns the final ``OK`` (accepted or not) or ``None`` on timeout.
        """
        auth_tried = False
        while True:
            ok = await self._attempt(event, deadline)
            if ok is None or ok.accepted:
                return ok
            if ok.prefix is _RATE_LIMITED:
                return await self._publish_throttled(event, deadline, ok)
            if ok.prefix is _AUTH_REQUIRED and self._signer is not None and not auth_tried:
                auth_tried = True
                if await self._wait_auth(deadline) is not False:
                    continue
            return ok

    async def _attempt(self, event: Event, deadline: float) -> OkReceived | None:
        """Send once per connection until an ``OK`` arrives; ``None`` on timeout."""
        loop = asyncio.get_running_loop()
        while True:
            if not await self.wait_connected(max(0.0, deadline - loop.time())):
                return None
            future: asyncio.Future[OkReceived] = loop.create_future()
            waiters = self._ok_waiters.setdefault(event.id, [])
            waiters.append(future)
            try:
                async with asyncio.timeout_at(deadline):
                    self.session.publish(event)
                    await self._flush()
                    return await future
            except TimeoutError:
                return None
            except (RelayUnavailable, ConnectionClosed):
                continue  # dropped before the OK: send again on the next connection
            finally:
                waiters.remove(future)
                if not waiters:
                    self._ok_waiters.pop(event.id, None)

    async def _publish_throttled(
        self, event: Event, deadline: float, last: OkReceived
    ) -> OkReceived | None:
        """Retry a rate-limited event; retries queue one at a time so each gets a slot."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(deadline), self._rate_lock:
                attempt = 0
                while True:
                    delay = self.options.rate_limit.delay(attempt, random.random())  # noqa: S311
                    attempt += 1
                    await asyncio.sleep(min(delay, max(0.0, deadline - loop.time())))
                    ok = await self._attempt(event, deadline)
                    if ok is None or ok.prefix is not _RATE_LIMITED:
                        return ok
                    last = ok
        except TimeoutError:
            return last


class _FilteredConnection(ClientConnection):
    """A client connection whose incoming bytes pass a ``FrameFilter`` (capped at the
    connection's ``max_size``) before websockets parses them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cap = self.protocol.max_message_size
        assert cap is not None
        self._dropped = 0
        self._frames = FrameFilter(cap, self._drop)

    def _drop(self) -> None:
        self._dropped += 1

    def take_dropped(self) -> int:
        """Messages dropped since the last call."""
        dropped, self._dropped = self._dropped, 0
        return dropped

    def data_received(self, data: bytes) -> None:
        kept = self._frames.feed(data)
        if kept:
            super().data_received(kept)
