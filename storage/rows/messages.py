"""Rows of the message aggregate: messages, reactions, deletions, search hits."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

Tags = tuple[tuple[str, ...], ...]


class DeliveryStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    RECEIVED = "received"
    INVALIDATED = "invalidated"  # its epoch lost a commit race


@dataclass(frozen=True, slots=True)
class NewMessage:
    mls_group_id: bytes
    rumor_id: str
    kind: int
    author: str
    content: str
    created_at: int
    status: DeliveryStatus = DeliveryStatus.RECEIVED
    event_id: str | None = None
    tags: Tags = ()
    reply_to: str | None = None
    epoch: int | None = None
    is_read: bool = False
    expires_at: int | None = None  # deleted here once due (disappearing messages)


@dataclass(frozen=True, slots=True, order=True)
class PageCursor:
    """A position in a chat's timeline (messages sort by created_at, then arrival)."""

    created_at: int
    seq: int


@dataclass(frozen=True, slots=True)
class Message:
    seq: int
    mls_group_id: bytes
    rumor_id: str
    event_id: str | None
    kind: int
    author: str
    content: str
    tags: Tags
    reply_to: str | None
    created_at: int
    epoch: int | None
    status: DeliveryStatus
    is_read: bool
    received_at: int
    edited_at: int | None
    deleted_at: int | None

    @property
    def cursor(self) -> PageCursor:
        return PageCursor(self.created_at, self.seq)


@dataclass(frozen=True, slots=True)
class Reaction:
    rumor_id: str
    target_rumor_id: str
    author: str
    content: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Deletion:
    """A kind 5 request by ``author`` to delete ``target_rumor_id`` (a message or reaction)."""

    target_rumor_id: str
    author: str
    rumor_id: str
    created_at: int


@dataclass(frozen=True, slots=True)
class SearchHit:
    message: Message
    snippet: str
