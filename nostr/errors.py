"""The errors of the Nostr package: one base class, split by who is at fault.

Remote faults (the peer or relay sent something unacceptable): ``DecodeError``,
``InvalidEvent`` / ``InvalidSignature``, ``DecryptionError``. Local faults (a bug on our
side): ``UsageError``. Relay outcomes the caller must handle: ``RelayRejected``,
``RelayUnavailable``; Blossom ones: ``BlossomError`` (``BlobMismatch``, ``BlobTooLarge``);
NIP-46 ones: ``SignerUnavailable`` (no answer in time), ``RemoteSignerError`` (it said no).
"""

from __future__ import annotations


class NostrError(Exception):
    """Base class of every error raised by ``nostr``."""


class DecodeError(NostrError):
    """Text or bytes do not parse: bad JSON shape, hex, bech32 checksum, TLV, base64."""


class InvalidKey(NostrError):
    """A secret key out of range or a public key that is not on secp256k1."""


class InvalidEvent(NostrError):
    """A well-formed event that must not be trusted (its id does not match its content)."""

    def __init__(self, message: str, event_id: str | None = None) -> None:
        super().__init__(message)
        self.event_id = event_id


class InvalidSignature(InvalidEvent):
    """The BIP-340 signature of an event does not verify."""


class DecryptionError(NostrError):
    """A NIP-44 payload or NIP-59 wrap that does not open (version, MAC, padding, author)."""


class UsageError(NostrError):
    """The caller asked for something illegal: a bug on our side, never the peer's."""


class RelayRejected(NostrError):
    """A relay refused an event or subscription (``OK false`` / ``CLOSED``)."""

    def __init__(self, relay_url: str, message: str, prefix: str | None = None) -> None:
        super().__init__(f"{relay_url}: {message}")
        self.relay_url = relay_url
        self.message = message
        self.prefix = prefix


class RelayUnavailable(NostrError):
    """No connection to the relay (never connected, closed, or the pool is shut down)."""

    def __init__(self, relay_url: str, reason: str = "not connected") -> None:
        super().__init__(f"{relay_url}: {reason}")
        self.relay_url = relay_url
        self.reason = reason


class BlossomError(NostrError):
    """A Blossom server refused a request, could not be reached, or served bad bytes."""

    def __init__(self, server: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{server}: {message}")
        self.server = server
        self.message = message
        self.status = status


class BlobMismatch(BlossomError):
    """A downloaded blob's SHA-256 is not the one asked for (corrupt or hostile server)."""


class BlobTooLarge(BlossomError):
    """A blob larger than the caller's size cap (sent or served)."""


class SignerUnavailable(NostrError):
    """The remote signer did not answer in time (offline, or its relays are unreachable)."""

    def __init__(self, method: str, reason: str) -> None:
        super().__init__(f"the remote signer did not answer {method}: {reason}")
        self.method = method
        self.reason = reason


class RemoteSignerError(NostrError):
    """The remote signer answered with an error (refused, or could not do it)."""

    def __init__(self, method: str, message: str) -> None:
        super().__init__(f"the remote signer refused {method}: {message}")
        self.method = method
        self.message = message
