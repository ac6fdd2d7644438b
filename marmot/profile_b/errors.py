"""Profile B's refusals: each a :class:`marmot.errors.MarmotError` with a ``reason``."""

from __future__ import annotations

from marmot.errors import MarmotError


class InvalidComponent(MarmotError):
    """App component bytes (0x8001 ...) that are not the canonical encoding of a valid state.

    ``code`` names the rule for the cases the reference's fixtures name (e.g.
    ``duplicate_relay``); it is ``None`` for the others."""

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.code = code


class InvalidIdentityProof(MarmotError):
    """A leaf's 0x8009 account identity proof is missing, malformed or does not verify."""


class InvalidKeyPackage(MarmotError):
    """A Profile B KeyPackage (or its 30443 event) that breaks a rule."""


class InvalidPayload(MarmotError):
    """An inner application payload (kind 9, 1009, 1210, 7, 5) that breaks its rules."""


class InvalidTransportEvent(MarmotError):
    """A 444 or 445 event that breaks the Nostr binding's rules."""
