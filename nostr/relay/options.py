"""Tunables of the relay pool and its connections."""

from __future__ import annotations

from dataclasses import dataclass, field

from nostr.backoff import Backoff
from nostr.paging import DEFAULT_PAGE_THRESHOLD
from nostr.relay.guard import loopback_only
from nostr.session import DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_SINCE_MARGIN


@dataclass(frozen=True, slots=True)
class PoolOptions:
    connect_timeout: float = 10.0
    """Seconds for TCP + TLS + websocket handshake."""
    ping_interval: float | None = 20.0
    """Websocket keepalive: a ping this often; ``None`` disables it."""
    ping_timeout: float | None = 20.0
    """A pong must come back within this many seconds or the connection is dropped."""
    close_timeout: float = 2.0
    reconnect: Backoff = field(default_factory=Backoff)
    """Delay before reconnect attempt ``n`` (reset once a connection stayed up)."""
    stable_after: float = 10.0
    """A connection that lasted this long resets the reconnect backoff."""
    rate_limit: Backoff = field(default_factory=lambda: Backoff(base=1.0, cap=16.0))
    """Delay before re-sending an event a relay answered ``rate-limited``."""
    publish_timeout: float = 10.0
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    """Relay messages longer than this (bytes) are dropped one by one and counted; the
    connection stays (``nostr.relay.frames``)."""
    since_margin: int = DEFAULT_SINCE_MARGIN
    """Resubscriptions ask for ``since = newest seen - margin`` (per subscription too)."""
    page_threshold: int = DEFAULT_PAGE_THRESHOLD
    """A filter's stored phase with this many events is taken as cut off by the relay's
    cap and paged backwards with ``until`` (see ``nostr.paging``); keep it at or below the
    smallest cap of the relays in use."""
    dedupe_capacity: int = 50_000
    """Event ids remembered per subscription to drop copies from other relays."""
    verified_capacity: int = 20_000
    """Verified events remembered pool-wide to skip re-checking identical copies."""
    loopback_only: bool = field(default_factory=loopback_only)
    """Refuse relays off this machine (``BURROW_LOOPBACK_ONLY=1``; see ``guard``)."""
