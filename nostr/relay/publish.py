"""What ``RelayPool.publish`` returns: every relay's answer to one event."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from nostr.errors import RelayRejected, RelayUnavailable
from nostr.messages import MachineReadablePrefix
from nostr.session_events import OkReceived


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

    @classmethod
    def from_ok(cls, ok: OkReceived | None) -> RelayResponse:
        if ok is None:
            return cls(PublishOutcome.TIMED_OUT)
        outcome = PublishOutcome.ACCEPTED if ok.accepted else PublishOutcome.REJECTED
        return cls(outcome, ok.message, ok.prefix)


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
