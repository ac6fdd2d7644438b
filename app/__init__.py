"""The service layer: asyncio orchestration of accounts, relays, groups and messages; no Qt.

Front ends (the GUI bridge, the CLI) construct one `Services` and talk to the
`AccountSession` of each unlocked account; everything that happens is published as typed
events (`app.events`) on one `EventBus`.
"""

from __future__ import annotations

from app import events, models
from app.bus import EventBus, EventStream
from app.clock import Clock, FixedClock, SystemClock
from app.config import AppConfig, Timeouts
from app.errors import (
    AccountExists,
    Ambiguous,
    AppError,
    InvalidInput,
    InviteTooLarge,
    NetworkError,
    NoKeyPackage,
    NotAllowed,
    NotFound,
    ProtocolFailure,
    StorageFailure,
    WrongPassphrase,
)
from app.services import Services
from app.session import AccountSession

__all__ = [
    "Services",
    "AccountSession",
    "AppConfig",
    "Timeouts",
    "EventBus",
    "EventStream",
    "Clock",
    "SystemClock",
    "FixedClock",
    "events",
    "models",
    "AppError",
    "InvalidInput",
    "Ambiguous",
    "NotFound",
    "NotAllowed",
    "InviteTooLarge",
    "WrongPassphrase",
    "AccountExists",
    "NetworkError",
    "NoKeyPackage",
    "StorageFailure",
    "ProtocolFailure",
]
