"""RelayPool: many relays behind one API for the service layer.

    pool = RelayPool(signer=KeySigner(secret))         # signer optional (NIP-42 AUTH)
    await pool.add_relay("wss://relay.example")
    sub = await pool.subscribe([Filter(kinds={445}, tags={"h": {gid}})])
    async for relay_url, event in sub.events(): ...    # verified, deduplicated
    result = await pool.publish(event)                 # PublishResult, per-relay OK
    async for change in pool.status_events(): ...      # RelayStatusChanged
    await pool.close()

Subscriptions survive reconnects (each relay's session replays them from its cursor);
events are deduplicated by id per subscription across relays; every event is verified
before delivery, and invalid ones are dropped and counted (``pool.stats()``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType, TracebackType
from typing import Self

from nostr.errors import RelayRejected, RelayUnavailable, UsageError
from nostr.event import Event
from nostr.filters import Filter
from nostr.messages import MachineReadablePrefix
from nostr.relay.connection import RelayConnection
from nostr.relay.options import PoolOptions
from nostr.relay.status import RelayStatus, RelayStatusChanged
from nostr.relay.subscription import Subscription, SubscriptionItem
from nostr.relay_url import normalize_relay_url
from nostr.session import VerifiedEvents
from nostr.session_events import (
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


class PublishOutcome(Enum):
    ACCEPTED = "accepted"  # OK true (including "duplicate:")
    REJECTED = "rejected"  # OK false
    TIMED_OUT = "timed-out"  # no OK before the deadline (or never connected)
    PENDING = "pending"  # still trying when the result was returned (wait_all=False)


@dataclass(frozen=True, slots=True)
class RelayResponse:
    outcome: PublishOutcome
    message: str = ""
    prefix: MachineReadablePrefix | None = None


@dataclass(frozen=True, slots=True)
class PublishResult:
    """Each target relay's answer; a success once at least one relay accepted."""

    event_id: str
    responses: MappingProxyType[str, RelayResponse] = field(hash=False)

    @property
    def success(self) -> bool:
        return bool(self.accepted)

    @property
    def accepted(self) -> tuple[str, ...]:
        return tuple(u for u, r in self.responses.items() if r.outcome is PublishOutcome.ACCEPTED)

    def raise_for_failure(self) -> None:
        """Raise ``RelayRejected`` (first refusal) or ``RelayUnavailable`` if none accepted."""
        if self.success:
            return
        for url, response in self.responses.items():
            if response.outcome is PublishOutcome.REJECTED:
                prefix = response.prefix.value if response.prefix else None
                raise RelayRejected(url, response.message, prefix)
        raise RelayUnavailable(",".join(self.responses) or "(no relays)", "no relay answered")


class _StatusStream:
    """An async iterator of status changes, registered at creation (nothing is missed)."""

    def __init__(self, streams: set[_StatusStream]) -> None:
        self._queue: asyncio.Queue[RelayStatusChanged | None] = asyncio.Queue()
        self._streams = streams
        streams.add(self)

    def push(self, change: RelayStatusChanged | None) -> None:
        self._queue.put_nowait(change)

    def __aiter__(self) -> _StatusStream:
        return self

    async def __anext__(self) -> RelayStatusChanged:
        change = await self._queue.get()
        if change is None:
            self._queue.put_nowait(None)
            raise StopAsyncIteration
        return change

    async def aclose(self) -> None:
        self._streams.discard(self)
        self.push(None)


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
        self._streams: set[_StatusStream] = set()
        self._background: set[asyncio.Task[OkReceived | None]] = set()
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
        if self._closed:
            raise UsageError("the relay pool is closed")
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
            if sub.relays is None:
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
        conns = [self._connection(u) for u in relays] if relays is not None else self._conns()
        results = await asyncio.gather(*(c.wait_connected(timeout) for c in conns))
        return all(results)

    def set_signer(self, signer: Signer | None) -> None:
        """Attach (or detach) the account's signer used for NIP-42 AUTH."""
        self._signer = signer
        for conn in self._relays.values():
            conn.set_signer(signer)

    def _conns(self) -> list[RelayConnection]:
        return list(self._relays.values())

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
        return lambda: self._listeners.remove(listener)

    def status_events(self) -> _StatusStream:
        """An async iterator of every status change from now on (``aclose()`` to stop)."""
        return _StatusStream(self._streams)

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

        ``since_margin`` (seconds) widens the resume window after a reconnect; use at least
        two days for gift wraps, whose ``created_at`` is randomised into the past.
        """
        if self._closed:
            raise UsageError("the relay pool is closed")
        sub_id = id or secrets.token_hex(8)
        bound = frozenset(normalize_relay_url(u) for u in relays) if relays is not None else None
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
        if bound is not None:
            for url in bound:
                self._connection(url)  # UsageError for a relay outside the pool
        old = self._subs.pop(sub_id, None)
        if old is not None:
            old.end()
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
        for conn in self._conns():
            conn.session.unsubscribe(subscription_id)
            await conn.send_pending()

    async def fetch(
        self, filters: Iterable[Filter], *, relays: Iterable[str] | None = None, timeout: float = 10
    ) -> list[Event]:
        """Stored events matching ``filters``: subscribe, wait for EOSE everywhere, close."""
        found: list[Event] = []

        def collect(item: SubscriptionItem) -> None:
            if hasattr(item, "event"):
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
            log.debug(
                "relay %s: dropped %s (%s) %s",
                url,
                event.reason.value,
                event.detail,
                event.event_id or "",
            )
        elif isinstance(event, NoticeReceived):
            log.info("relay %s: NOTICE %s", url, event.message[:200])

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
        if self._closed:
            raise UsageError("the relay pool is closed")
        conns = [self._connection(u) for u in relays] if relays is not None else self._conns()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.options.publish_timeout if timeout is None else timeout)
        tasks = {asyncio.ensure_future(conn.publish(event, deadline)): conn.url for conn in conns}
        responses: dict[str, RelayResponse] = {}
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                responses[tasks[task]] = _response(task)
            if not wait_all and any(
                r.outcome is PublishOutcome.ACCEPTED for r in responses.values()
            ):
                break
        for task in pending:
            responses[tasks[task]] = RelayResponse(PublishOutcome.PENDING)
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        ordered = {conn.url: responses[conn.url] for conn in conns}
        return PublishResult(event.id, MappingProxyType(ordered))

    async def close(self) -> None:
        """Close every subscription, connection and status stream."""
        if self._closed:
            return
        self._closed = True
        for sub in list(self._subs.values()):
            sub.end()
        self._subs.clear()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*(c.close() for c in self._conns()), return_exceptions=True)
        self._relays.clear()
        for stream in list(self._streams):
            stream.push(None)
        self._streams.clear()


def _response(task: asyncio.Task[OkReceived | None]) -> RelayResponse:
    if task.cancelled():
        return RelayResponse(PublishOutcome.TIMED_OUT, "cancelled")
    exc = task.exception()
    if exc is not None:
        return RelayResponse(PublishOutcome.TIMED_OUT, repr(exc))
    ok = task.result()
    if ok is None:
        return RelayResponse(PublishOutcome.TIMED_OUT)
    outcome = PublishOutcome.ACCEPTED if ok.accepted else PublishOutcome.REJECTED
    return RelayResponse(outcome, ok.message, ok.prefix)
