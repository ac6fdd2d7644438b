"""The only I/O of the Nostr layer: websocket connections to relays and the relay pool."""

from __future__ import annotations

from nostr.relay.options import PoolOptions
from nostr.relay.pool import RelayPool
from nostr.relay.publish import PublishOutcome, PublishResult, RelayResponse
from nostr.relay.status import RelayStatus, RelayStatusChanged, StatusStream
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
    "StatusStream",
    "ClosedByRelay",
    "EndOfStoredEvents",
    "ReceivedEvent",
    "Subscription",
    "SubscriptionItem",
]
