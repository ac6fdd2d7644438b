"""Relay connection status and its change event."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class RelayStatus(Enum):
    INITIALIZED = "initialized"  # added, not started
    CONNECTING = "connecting"  # a connection attempt is under way
    CONNECTED = "connected"  # the websocket is open
    DISCONNECTED = "disconnected"  # lost or refused; a retry is scheduled
    TERMINATED = "terminated"  # removed from the pool or the pool closed; no retries

    @property
    def is_connected(self) -> bool:
        return self is RelayStatus.CONNECTED

    @property
    def can_connect(self) -> bool:
        return self is not RelayStatus.TERMINATED


@dataclass(frozen=True, slots=True)
class RelayStatusChanged:
    """A relay moved from ``previous`` to ``status``."""

    relay_url: str
    status: RelayStatus
    previous: RelayStatus
    error: str | None = None
    """Why the connection failed or ended, when it did."""
    retry_in: float | None = None
    """Seconds until the next connection attempt (``DISCONNECTED`` only)."""
