"""Time as a seam: services ask a `Clock`, tests pass a `FakeClock`-like object."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """Unix seconds (Nostr ``created_at`` resolution)."""
        ...


class SystemClock:
    """The wall clock."""

    __slots__ = ()

    def now(self) -> int:
        return int(time.time())


class FixedClock:
    """A settable clock for tests and benchmarks (``advance`` moves it forward)."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def now(self) -> int:
        return self.value

    def advance(self, seconds: int) -> None:
        self.value += seconds
