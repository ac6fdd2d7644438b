"""What a ``RelaySession`` reports: typed, past-tense events and counters."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from nostr.event import Event
from nostr.messages import MachineReadablePrefix


class DropReason(Enum):
    MALFORMED = "malformed"  # not a NIP-01 relay message
    OVERSIZED = "oversized"  # longer than the session's maximum
    INVALID_EVENT = "invalid-event"  # bad id or signature: forged or corrupted
    FILTER_MISMATCH = "filter-mismatch"  # an event we did not ask for
    UNKNOWN_SUBSCRIPTION = "unknown-subscription"  # late events after CLOSE, or junk


@dataclass(frozen=True, slots=True)
class EventReceived:
    """A verified event that matches the subscription's filters."""

    subscription_id: str
    event: Event


@dataclass(frozen=True, slots=True)
class EoseReceived:
    """The relay has sent all stored events for the subscription (once per connection)."""

    subscription_id: str


@dataclass(frozen=True, slots=True)
class SubscriptionClosed:
    """The relay ended a subscription for good (it is no longer replayed)."""

    subscription_id: str
    message: str
    prefix: MachineReadablePrefix | None


@dataclass(frozen=True, slots=True)
class OkReceived:
    """The relay's verdict on an event we published."""

    event_id: str
    accepted: bool
    message: str
    prefix: MachineReadablePrefix | None


@dataclass(frozen=True, slots=True)
class NoticeReceived:
    message: str


@dataclass(frozen=True, slots=True)
class AuthChallenged:
    """The relay wants NIP-42 AUTH: sign a kind-22242 event and ``authenticate()``."""

    challenge: str


@dataclass(frozen=True, slots=True)
class AuthSucceeded:
    """The relay accepted our AUTH; subscriptions waiting for it were re-sent."""


@dataclass(frozen=True, slots=True)
class AuthFailed:
    """AUTH was refused or impossible; subscriptions waiting for it were closed."""

    message: str


@dataclass(frozen=True, slots=True)
class MessageDropped:
    """Input that was ignored, and why (also counted in ``SessionStats``)."""

    reason: DropReason
    detail: str
    event_id: str | None = None


SessionEvent = (
    EventReceived
    | EoseReceived
    | SubscriptionClosed
    | OkReceived
    | NoticeReceived
    | AuthChallenged
    | AuthSucceeded
    | AuthFailed
    | MessageDropped
)


@dataclass(slots=True)
class SessionStats:
    """Counters of one relay session, kept across reconnects."""

    messages: int = 0
    events: int = 0
    invalid_events: int = 0
    malformed: int = 0
    oversized: int = 0
    mismatched: int = 0
    unknown_subscription: int = 0
    notices: int = 0
    rate_limited: int = 0
    pages: int = 0
    """Older pages asked for because a stored phase looked cut off (``nostr.paging``)."""

    @property
    def dropped(self) -> int:
        return (
            self.invalid_events
            + self.malformed
            + self.oversized
            + self.mismatched
            + self.unknown_subscription
        )
