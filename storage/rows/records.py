"""Rows of the other aggregates: account, contacts, relays, key packages, invites,
processed events, outbox, push, drafts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from storage.rows.messages import Tags


class Outcome(StrEnum):
    PROCESSED = "processed"
    FAILED = "failed"  # never retried
    RETRYABLE = "retryable"  # kept with its JSON and retried (e.g. a commit from a future epoch)


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # given up (or its dependency failed)


class InviteState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class RelayListKind(IntEnum):
    NIP65 = 10002
    INBOX = 10050
    KEY_PACKAGES = 10051


class PushPlatform(StrEnum):
    APNS = "apns"
    FCM = "fcm"


@dataclass(frozen=True, slots=True)
class Account:
    pubkey: str
    secret_key: bytes | None = field(repr=False)
    """None when a remote signer holds the key (then ``remote_signer`` says how to reach it)."""
    created_at: int
    profile: str | None = None
    profile_created_at: int | None = None
    remote_signer: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Contact:
    pubkey: str
    petname: str | None
    blocked: bool
    added_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class Profile:
    pubkey: str
    content: str
    created_at: int
    event_id: str
    fetched_at: int


@dataclass(frozen=True, slots=True)
class FollowList:
    event_id: str
    created_at: int
    tags: Tags
    content: str = ""


@dataclass(frozen=True, slots=True)
class RelayEntry:
    url: str
    marker: str = ""  # NIP-65 "read" / "write" / "" (both)


@dataclass(frozen=True, slots=True)
class RelayList:
    owner: str
    kind: RelayListKind
    entries: tuple[RelayEntry, ...]
    created_at: int
    event_id: str | None = None
    fetched_at: int = 0


@dataclass(frozen=True, slots=True)
class RelayStatusRecord:
    url: str
    status: str
    last_error: str | None
    last_connected_at: int | None
    updated_at: int


@dataclass(frozen=True, slots=True)
class KeyPackageRecord:
    id: int
    ref: bytes
    d_slot: str
    key_package: bytes
    private_material: bytes | None = field(repr=False)
    event_id: str | None
    relays: tuple[str, ...]
    created_at: int
    published_at: int | None
    consumed_at: int | None
    relay_deleted_at: int | None
    material_deleted_at: int | None

    @property
    def is_live(self) -> bool:
        """Published, not consumed by a Welcome and not deleted from the relays."""
        return (
            self.published_at is not None
            and self.consumed_at is None
            and self.relay_deleted_at is None
        )


@dataclass(frozen=True, slots=True)
class Invite:
    wrapper_event_id: str
    rumor_id: str
    inviter: str
    welcome: bytes = field(repr=False)
    received_at: int
    mls_group_id: bytes | None = None
    nostr_group_id: str | None = None
    group_name: str = ""
    key_package_ref: bytes | None = None
    relays: tuple[str, ...] = ()
    state: InviteState = InviteState.PENDING
    decided_at: int | None = None


@dataclass(frozen=True, slots=True)
class ProcessedEvent:
    event_id: str
    kind: int
    created_at: int
    outcome: Outcome
    reason: str
    attempts: int
    processed_at: int
    mls_group_id: bytes | None = None
    epoch: int | None = None
    event_json: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    event_id: str
    event_json: str
    relays: tuple[str, ...]
    purpose: str
    mls_group_id: bytes | None
    after_id: int | None
    state: OutboxState
    attempts: int
    next_attempt_at: int
    last_error: str | None
    accepted_by: tuple[str, ...]
    created_at: int
    updated_at: int
    sent_at: int | None


@dataclass(frozen=True, slots=True)
class PushRegistration:
    platform: PushPlatform
    device_token: bytes = field(repr=False)
    server_pubkey: str = ""
    relay_hint: str | None = None
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class GroupPushToken:
    mls_group_id: bytes
    leaf_index: int
    pubkey: str
    token: bytes = field(repr=False)
    server_pubkey: str = ""
    relay_hint: str = ""
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class Draft:
    mls_group_id: bytes
    content: str
    reply_to: str | None
    updated_at: int
