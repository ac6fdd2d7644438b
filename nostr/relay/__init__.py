"""The only I/O of the Nostr layer: websocket connections to relays and the relay pool."""

from __future__ import annotations

from nostr.relay.options import PoolOptions
from nostr.relay.pool import PublishOutcome, PublishResult, RelayPool, RelayResponse
from nostr.relay.status import RelayStatus, RelayStatusChanged
from nostr.relay.subscription import (
    ClosedByRelay,
    EndOfStoredEvents,
    ReceivedEvent,
    Subscription,
    SubscriptionItem,
)

__all__ = [
    "PoolOptions",
    "PublishOutcome",
    "PublishResult",
    "RelayPool",
    "RelayResponse",
    "RelayStatus",
    "RelayStatusChanged",
    "ClosedByRelay",
    "EndOfStoredEvents",
    "ReceivedEvent",
    "Subscription",
    "SubscriptionItem",
]
