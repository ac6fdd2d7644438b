"""Reconnect and retry delays: exponential backoff with jitter, as a pure function.

The random draw is a parameter, so the schedule is testable; the driver passes
``random.random()``. "Equal jitter" keeps at least half of each delay, so a flapping
relay is never hammered, while the random half spreads many clients apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from nostr.errors import UsageError


@dataclass(frozen=True, slots=True)
class Backoff:
    """``delay(n) = min(cap, base * factor**n) * (1 - jitter * draw)`` for attempt ``n``."""

    base: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.cap < self.base:
            raise UsageError("backoff needs base > 0, factor >= 1 and cap >= base")
        if not 0 <= self.jitter <= 1:
            raise UsageError("backoff jitter is a fraction in [0, 1]")

    def ceiling(self, attempt: int) -> float:
        """The delay before jitter for the zero-based ``attempt``."""
        if attempt < 0:
            raise UsageError("attempt numbers start at 0")
        # Bound the exponent so huge attempt counts cannot overflow a float.
        exponent = min(attempt, 64)
        return float(min(self.cap, self.base * self.factor**exponent))

    def delay(self, attempt: int, draw: float) -> float:
        """The delay for ``attempt`` given a uniform ``draw`` in [0, 1)."""
        if not 0 <= draw < 1:
            raise UsageError("the jitter draw must lie in [0, 1)")
        return self.ceiling(attempt) * (1 - self.jitter * draw)
