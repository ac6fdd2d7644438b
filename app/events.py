"""Typed, past-tense events the services publish on the bus for the front ends.

Every event names the account it concerns (hex public key), so one bus serves several
unlocked accounts. Payloads are the secret-free views of `app.models`; ``to_dict`` gives the
JSON form the CLI's ``listen`` prints, one object per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.models import GroupInfo, InviteInfo, MessageInfo, UploadInfo, to_jsonable


@dataclass(frozen=True, slots=True)
class AppEvent:
    account: str

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": type(self).__name__}
        data.update(to_jsonable(self))
        return data


@dataclass(frozen=True, slots=True)
class AccountUnlocked(AppEvent):
    name: str


@dataclass(frozen=True, slots=True)
class AccountLocked(AppEvent):
    pass


@dataclass(frozen=True, slots=True)
class MessageReceived(AppEvent):
    """A message from someone else was stored (chat text, or a message of another kind)."""

    message: MessageInfo


@dataclass(frozen=True, slots=True)
class MessageQueued(AppEvent):
    """One of our own messages was stored and is on its way (status ``sending``)."""

    message: MessageInfo


@dataclass(frozen=True, slots=True)
class MessageStatusChanged(AppEvent):
    group_id: str
    message_id: str
    status: str
    """``sending``, ``sent``, ``failed`` or ``invalidated`` (its epoch lost a commit race)."""


@dataclass(frozen=True, slots=True)
class MessageUpdated(AppEvent):
    """Reactions changed, or the message was deleted by its author."""

    message: MessageInfo


@dataclass(frozen=True, slots=True)
class MessagesExpired(AppEvent):
    """Disappearing messages whose time came were deleted here (``app.disappearing``)."""

    group_id: str
    message_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MembersChanged(AppEvent):
    """A commit changed who is in the group or who administers it."""

    group: GroupInfo
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupUpdated(AppEvent):
    """A group appeared (created, joined) or changed name, description, relays or state."""

    group: GroupInfo


@dataclass(frozen=True, slots=True)
class GroupRemoved(AppEvent):
    """We left or were removed: the chat stays readable but is inactive."""

    group_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class InviteReceived(AppEvent):
    invite: InviteInfo


@dataclass(frozen=True, slots=True)
class InviteRemoved(AppEvent):
    invite_id: str
    state: str


@dataclass(frozen=True, slots=True)
class ContactUpdated(AppEvent):
    pubkey: str


@dataclass(frozen=True, slots=True)
class RelayStatusChanged(AppEvent):
    url: str
    status: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SyncProgressed(AppEvent):
    """Catch-up after start or a reconnect: ``done`` of ``total`` steps (equal when idle)."""

    done: int
    total: int


@dataclass(frozen=True, slots=True)
class CommitRaceResolved(AppEvent):
    """A better commit for an epoch we had left arrived: the group was rolled back to it."""

    group_id: str
    epoch: int
    winner: str
    loser: str


@dataclass(frozen=True, slots=True)
class UploadChanged(AppEvent):
    """An attachment was queued, failed an attempt, was sent or cancelled."""

    upload: UploadInfo


@dataclass(frozen=True, slots=True)
class TransferProgressed(AppEvent):
    """Bytes of an attachment moved: ``transfer`` is ``upload:<id>`` or
    ``download:<file hash>``."""

    transfer: str
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class ErrorRaised(AppEvent):
    """Something failed that no pending action reports itself."""

    message: str
    where: str = ""


@dataclass(frozen=True, slots=True)
class SignerStatusChanged(AppEvent):
    """The account's NIP-46 remote signer changed state: ``connecting``, ``ready``,
    ``waiting_approval`` (open ``auth_url`` to approve), ``offline`` or ``refused``.
    Work that needs it waits in the outbox (or is retried) meanwhile."""

    state: str
    detail: str
    auth_url: str | None = None
