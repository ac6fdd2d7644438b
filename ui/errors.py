"""Errors a backend raises to the UI: each carries a sentence meant for a person.

Widgets catch ``BackendError`` around each backend call and show ``message`` inline; anything
else is a bug and goes to ``sys.excepthook``.
"""

from __future__ import annotations


class BackendError(Exception):
    """Base class: the requested operation did not happen, for a reason a person can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WrongPassphrase(BackendError):
    def __init__(self, message: str = "That passphrase didn't work. Please try again.") -> None:
        super().__init__(message)


class InvalidInput(BackendError):
    """Bad user input (an npub, a relay URL, an empty name); ``field`` names the input."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class NotAllowed(BackendError):
    """The group's rules forbid it (for example: only admins may remove members)."""


class NotFound(BackendError):
    """The chat, message, contact or invite no longer exists."""


class Unavailable(BackendError):
    """The network or the relays could not complete the operation; it may work later."""
