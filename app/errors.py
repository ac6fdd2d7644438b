"""User-presentable errors of the service layer (architecture section 4.4).

Every error a front end can receive from ``app`` is an `AppError`: ``message`` is meant for
a person, the subclass and the fields are for code. Lower layers' errors are translated at
the service boundary by `translate`; a broad ``except Exception`` exists only in the loop
tasks, which turn anything unexpected into an ``ErrorRaised`` event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import marmot.errors as marmot_errors
import mls.errors as mls_errors
import nostr.errors as nostr_errors
import storage.errors as storage_errors
from nostr.keys import PublicKey


class AppError(Exception):
    """Base class of every error ``app`` raises; ``str(err)`` is for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(AppError):
    """Something the user typed cannot be used (a malformed npub, URL, name ...)."""


class NotFound(AppError):
    """The named account, group, message, invite or contact does not exist here."""


class Ambiguous(InvalidInput):
    """A prefix names more than one thing."""

    def __init__(self, message: str, candidates: tuple[str, ...]) -> None:
        super().__init__(message)
        self.candidates = candidates


class NotAllowed(AppError):
    """The action is not permitted (not an admin, someone else's message, a blocked user)."""


class WrongPassphrase(AppError):
    """The passphrase does not open this account."""


class AccountExists(AppError):
    """An account with this key is already stored in the data folder."""


class NetworkError(AppError):
    """No relay accepted what we sent, or none answered in time."""

    def __init__(
        self, message: str, *, relay_url: str | None = None, prefix: str | None = None
    ) -> None:
        super().__init__(message)
        self.relay_url = relay_url
        self.prefix = prefix


def _npub(pubkey: str) -> str:
    try:
        npub = PublicKey.from_hex(pubkey).to_bech32()
    except nostr_errors.NostrError:
        return pubkey[:16] + "…"
    return f"{npub[:14]}…{npub[-6:]}"


class NoKeyPackage(NetworkError):
    """An invitee has no usable KeyPackage on any relay we know of."""

    def __init__(self, pubkey: str, relays: Sequence[str] = ()) -> None:
        where = ", ".join(relays) if relays else "any relay we know of"
        super().__init__(
            f"{_npub(pubkey)} has no key package on {where}, so they cannot be invited yet: "
            "their app publishes one to their own relays; ask them for their nprofile "
            "(it names those relays) or to add one of yours"
        )
        self.pubkey = pubkey
        self.relays = tuple(relays)


class InviteTooLarge(NotAllowed):
    """A Welcome (it carries the whole ratchet tree) does not fit in one Nostr event: the
    group has too many members to invite someone new to through relays."""

    def __init__(self, members: int, size: int | None, limit: int) -> None:
        kib = limit // 1024
        why = (
            "larger than NIP-44 can encrypt in one gift wrap"
            if size is None
            else f"{size / 1024:.0f} KiB, over the {kib} KiB relays commonly accept"
        )
        super().__init__(
            f"This group has too many members ({members}) to invite anyone new: the "
            f"invitation carries the whole group and would be {why}. Nothing was changed."
        )
        self.members = members
        self.size = size
        self.limit = limit


class MediaError(AppError):
    """An attachment could not be sent or fetched: ``reason`` is ``hash_mismatch`` (the
    blob is not what the message names), ``undecryptable``, ``unavailable`` (no server
    has it, or none is configured) or ``too_large``."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class SignerOffline(NetworkError):
    """The account's remote signer did not answer in time (it is offline or unreachable)."""


class SignerRefused(NotAllowed):
    """The account's remote signer refused a request (or the connection)."""


class StorageFailure(AppError):
    """The local database cannot be used (disk full, damaged, in use, schema too new)."""


class ProtocolFailure(AppError):
    """Our own group state refused an operation (a bug or a corrupted state, not the user's)."""


_SIMPLE: tuple[tuple[type[BaseException], Callable[[BaseException], AppError]], ...] = (
    (marmot_errors.NotAdmin, lambda e: NotAllowed(f"only group admins can do that ({e})")),
    (marmot_errors.UsageError, lambda e: NotAllowed(str(e))),
    (marmot_errors.MarmotError, lambda e: ProtocolFailure(f"group operation failed: {e}")),
    (storage_errors.WrongPassphrase, lambda e: WrongPassphrase("wrong passphrase")),
    (storage_errors.InvalidPassphrase, lambda e: InvalidInput(str(e))),
    (storage_errors.NotFound, lambda e: NotFound(str(e))),
    (storage_errors.StorageError, lambda e: StorageFailure(f"local storage failed: {e}")),
    (nostr_errors.RelayUnavailable, lambda e: NetworkError(f"no relay reachable ({e})")),
    (nostr_errors.SignerUnavailable, lambda e: SignerOffline(str(e))),
    (nostr_errors.RemoteSignerError, lambda e: SignerRefused(str(e))),
    (nostr_errors.DecodeError, lambda e: InvalidInput(str(e))),
    (nostr_errors.InvalidKey, lambda e: InvalidInput(str(e))),
    (mls_errors.MlsError, lambda e: ProtocolFailure(f"group operation failed: {e}")),
)


def translate(exc: BaseException) -> AppError:
    """The `AppError` for an exception from a lower layer (an `AppError` passes through)."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, nostr_errors.RelayRejected):
        return NetworkError(
            f"relay {exc.relay_url} refused: {exc.message}",
            relay_url=exc.relay_url,
            prefix=exc.prefix,
        )
    for kind, make in _SIMPLE:
        if isinstance(exc, kind):
            return make(exc)
    return AppError(f"unexpected error: {exc!r}")
