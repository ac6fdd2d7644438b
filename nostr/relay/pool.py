"""RelayPool: many relays behind one API for the service layer.

    pool = RelayPool(signer=KeySigner(secret))         # signer optional (NIP-42 AUTH)
    await pool.add_relay("wss://relay.example")
    sub = await pool.subscribe([Filter(kinds={445}, tags={"h": {gid}})])
    async for relay_url, event in sub.events(): ...    # verified, deduplicated
    result = await pool.publish(event)                 # PublishResult, per-relay OK
    async for change in pool.status_events(): ...      # RelayStatusChanged
    await pool.close()

Subscriptions survive reconnects (each relay's session replays them from its cursor), and
stored events beyond a relay's per-filter cap are paged in with ``until`` before that
relay's EOSE (``PoolOptions.page_threshold``); events are deduplicated by id per
subscription across relays; every event is verified before delivery, and invalid ones are
dropped and counted (``pool.stats()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from types import MappingProxyType, TracebackType
from typing import Self

from nostr.errors import UsageError
from nostr.event import Event
from nostr.filters import Filter
from nostr.relay.connection import RelayConnection
from nostr.relay.options import PoolOptions
from nostr.relay.publish import PublishOutcome, PublishResult, RelayResponse
from nostr.relay.status import RelayStatus, RelayStatusChanged, StatusStream
from nostr.relay.subscription import ReceivedEvent, Subscription, SubscriptionItem
from nostr.relay_url import normalize_relay_url
from nostr.session import VerifiedEvents
from nostr.session_events import (
    AuthFailed,
    EoseReceived,
    EventReceived,
    MessageDropped,
    NoticeReceived,
    OkReceived,
    SessionEvent,
    SessionStats,
    SubscriptionClosed,
)
from nostr.signer import Signer

log = logging.getLogger(__name__)

_PublishTask = asyncio.Task[OkReceived | None]


class RelayPool:
    """See the module docstring."""

    def __init__(
        self,
        *,
        signer: Signer | None = None,
        options: PoolOptions | None = None,
        on_status: Callable[[RelayStatusChanged], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.options = options or PoolOptions()
        self._signer = signer
        self._clock = clock
        self._relays: dict[str, RelayConnection] = {}
        self._subs: dict[str, Subscription] = {}
        self._verified = VerifiedEvents(self.options.verified_capacity)
        self._listeners: list[Callable[[RelayStatusChanged], None]] = []
        if on_status is not None:
            self._listeners.append(on_status)
        self._streams: set[StatusStream] = set()
        self._background: set[_PublishTask] = set()
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- relays ------------------------------------------------------------------------

    @property
    def relays(self) -> tuple[str, ...]:
        return tuple(self._relays)

    def status(self, url: str) -> RelayStatus:
        return self._connection(url).status

    def stats(self, url: str | None = None) -> SessionStats:
        """Counters of one relay, or summed over all relays."""
        if url is not None:
            return self._connection(url).session.stats
        total = SessionStats()
        for conn in self._relays.values():
            for name in SessionStats.__slots__:
                setattr(total, name, getattr(total, name) + getattr(conn.session.stats, name))
        return total

    async def add_relay(self, url: str) -> str:
        """Connect to ``url`` (kept retrying in the background); returns its normal form."""
        self._check_open()
        url = normalize_relay_url(url)
        if url in self._relays:
            return url
        conn = RelayConnection(
            url,
            options=self.options,
            signer=self._signer,
            verified=self._verified,
            on_event=self._on_session_event,
            on_status=self._on_status,
            clock=self._clock,
        )
        self._relays[url] = conn
        for sub in self._subs.values():
            if sub.relays is None or url in sub.relays:
                conn.session.subscribe(sub.id, sub.filters, since_margin=sub.since_margin)
        conn.start()
        return url

    async def remove_relay(self, url: str) -> None:
        conn = self._relays.pop(normalize_relay_url(url), None)
        if conn is not None:
            await conn.close()
            for sub in self._subs.values():
                sub.relay_changed()

    async def wait_connected(
        self, relays: Iterable[str] | None = None, timeout: float = 10
    ) -> bool:
        """Wait until every given relay (default: all) is connected."""
        conns = self._targets(relays)
        return all(await asyncio.gather(*(c.wait_connected(timeout) for c in conns)))

    def set_signer(self, signer: Signer | None) -> None:
        """Attach (or detach) the account's signer used for NIP-42 AUTH."""
        self._signer = signer
        for conn in self._relays.values():
            conn.set_signer(signer)

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError("the relay pool is closed")

    def _targets(self, relays: Iterable[str] | None) -> list[RelayConnection]:
        if relays is None:
            return list(self._relays.values())
        return [self._connection(u) for u in relays]

    def _connection(self, url: str) -> RelayConnection:
        try:
            return self._relays[normalize_relay_url(url)]
        except KeyError:
            raise UsageError(f"relay {url} is not in the pool") from None

    def _relay_done(self, url: str) -> bool:
        conn = self._relays.get(url)
        return conn is None or conn.status in (RelayStatus.DISCONNECTED, RelayStatus.TERMINATED)

    # --- status --------------------------------------------------------------------------

    def add_status_listener(
        self, listener: Callable[[RelayStatusChanged], None]
    ) -> Callable[[], None]:
        """Call ``listener`` on every status change; returns a function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def status_events(self) -> StatusStream:
        """An async iterator of every status change from now on (``aclose()`` to stop)."""
        return StatusStream(self._streams)

    def _on_status(self, change: RelayStatusChanged) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:  # a listener's bug must not break the connection
                log.exception("relay status listener failed")
        for stream in list(self._streams):
            stream.push(change)
        for sub in self._subs.values():
            sub.relay_changed()

    # --- subscriptions -------------------------------------------------------------------

    async def subscribe(
        self,
        filters: Iterable[Filter],
        *,
        relays: Iterable[str] | None = None,
        id: str | None = None,
        since_margin: int | None = None,
        on_item: Callable[[SubscriptionItem], None] | None = None,
    ) -> Subscription:
        """Open a subscription on ``relays`` (default: every relay, including later ones).

        Reusing an ``id`` replaces that subscription. ``since_margin`` (seconds) widens the
        resume window after a reconnect; use more than two days for gift wraps, whose
        ``created_at`` is randomised into the past. With ``on_item`` items are passed to
        the callback instead of being queued for iteration.
        """
        self._check_open()
        bound = frozenset(self._connection(u).url for u in relays) if relays is not None else None
        sub_id = id or secrets.token_hex(8)
        await self.unsubscribe(sub_id)
        sub = Subscription(
            sub_id,
            tuple(filters),
            bound,
            since_margin=self.options.since_margin if since_margin is None else since_margin,
            dedupe_capacity=self.options.dedupe_capacity,
            on_item=on_item,
            unsubscribe=self.unsubscribe,
            relay_done=self._relay_done,
            relay_urls=lambda: self.relays,
        )
        self._subs[sub_id] = sub
        for url in sub.targets():
            conn = self._relays[url]
            conn.session.subscribe(sub_id, sub.filters, since_margin=sub.since_margin)
            await conn.send_pending()
        return sub

    async def unsubscribe(self, subscription_id: str) -> None:
        sub = self._subs.pop(subscription_id, None)
        if sub is None:
            return
        sub.end()
        for conn in list(self._relays.values()):
            conn.session.unsubscribe(subscription_id)
            await conn.send_pending()

    async def fetch(
        self, filters: Iterable[Filter], *, relays: Iterable[str] | None = None, timeout: float = 10
    ) -> list[Event]:
        """Stored events matching ``filters``: subscribe, wait for EOSE everywhere, close."""
        found: list[Event] = []

        def collect(item: SubscriptionItem) -> None:
            if isinstance(item, ReceivedEvent):
                found.append(item.event)

        sub = await self.subscribe(filters, relays=relays, on_item=collect)
        try:
            await sub.wait_eose(timeout)
        finally:
            await sub.close()
        return found

    def _on_session_event(self, url: str, event: SessionEvent) -> None:
        if isinstance(event, EventReceived | EoseReceived | SubscriptionClosed):
            sub = self._subs.get(event.subscription_id)
            if sub is None:
                return
            if isinstance(event, EventReceived):
                sub.deliver_event(url, event.event)
            elif isinstance(event, EoseReceived):
                sub.deliver_eose(url)
            else:
                sub.deliver_closed(url, event.message, event.prefix)
        elif isinstance(event, MessageDropped):
            log.debug("relay %s dropped %s: %s", url, event.reason.value, event.detail)
        elif isinstance(event, NoticeReceived):
            log.info("relay %s NOTICE: %s", url, event.message[:200])
        elif isinstance(event, AuthFailed):
            log.warning("relay %s refused AUTH: %s", url, event.message[:200])

    # --- publishing -----------------------------------------------------------------------

    async def publish(
        self,
        event: Event,
        *,
        relays: Iterable[str] | None = None,
        timeout: float | None = None,
        wait_all: bool = False,
    ) -> PublishResult:
        """Send ``event`` to ``relays`` (default: all) and collect each relay's ``OK``.

        Returns as soon as one relay accepted (the rest keep trying in the background and
        show as ``PENDING``), or when every relay answered or timed out. ``wait_all`` waits
        for every relay.
        """
        self._check_open()
        conns = self._targets(relays)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.options.publish_timeout if timeout is None else timeout)
        tasks = {asyncio.create_task(c.publish(event, deadline)): c.url for c in conns}
        responses: dict[str, RelayResponse] = {}
        pending = set(tasks)
        while pending and (wait_all or not _any_accepted(responses)):
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            responses.update((tasks[t], RelayResponse.from_ok(_result(t))) for t in done)
        for task in pending:
            responses[tasks[task]] = RelayResponse(PublishOutcome.PENDING)
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return PublishResult(event.id, MappingProxyType({c.url: responses[c.url] for c in conns}))

    async def close(self) -> None:
        """Close every subscription, connection and status stream."""
        if self._closed:
            return
        self._closed = True
        for sub in self._subs.values():
            sub.end()
        self._subs.clear()
        background = list(self._background)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in self._relays.values()), return_exceptions=True)
        self._relays.clear()
        for stream in list(self._streams):
            stream.push(None)
        self._streams.clear()


def _any_accepted(responses: dict[str, RelayResponse]) -> bool:
    return any(r.outcome is PublishOutcome.ACCEPTED for r in responses.values())


def _result(task: _PublishTask) -> OkReceived | None:
    """A finished publish task's ``OK``; a crashed task counts as no answer."""
    if task.cancelled():
        return None
    exc = task.exception()
    if exc is not None:
        log.error("publish task failed", exc_info=exc)
        return None
    return task.result()
