"""The values the repositories take and return: frozen dataclasses, one per row shape.

Secret-bearing fields (keys, MLS state, private key material, tokens) are kept out of
``repr`` so a row printed in a log or a test failure never shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

Tags = tuple[tuple[str, ...], ...]


class GroupState(StrEnum):
    PENDING = "pending"  # joined from a Welcome the user has not accepted yet
    ACTIVE = "active"
    INACTIVE = "inactive"  # we left or were removed


class Outcome(StrEnum):
    PROCESSED = "processed"
    FAILED = "failed"  # never retried
    RETRYABLE = "retryable"  # kept with its JSON and retried (e.g. a commit from a future epoch)


class DeliveryStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    RECEIVED = "received"
    INVALIDATED = "invalidated"  # its epoch lost a commit race


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
    secret_key: bytes = field(repr=False)
    created_at: int
    profile: str | None = None
    profile_created_at: int | None = None


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
class MlsState:
    """An opaque MLS group state blob and the version of its format."""

    format: int
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class GroupMetadata:
    """The Marmot group data (0xF2EE) as the app decoded it, plus the raw bytes."""

    nostr_group_id: str
    name: str = ""
    description: str = ""
    admins: tuple[str, ...] = ()
    relays: tuple[str, ...] = ()
    marmot_data: bytes = b""


@dataclass(frozen=True, slots=True)
class Member:
    leaf_index: int
    pubkey: str


@dataclass(frozen=True, slots=True)
class ExporterSecret:
    epoch: int
    label: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Group:
    """A group without its secrets (the MLS state is loaded separately)."""

    mls_group_id: bytes
    metadata: GroupMetadata
    state: GroupState
    epoch: int
    our_leaf: int | None
    revision: int
    has_pending_commit: bool
    pin_order: int | None
    archived_at: int | None
    muted_until: int | None
    created_at: int
    updated_at: int
    last_self_update_at: int | None


@dataclass(frozen=True, slots=True)
class NewGroup:
    mls_group_id: bytes
    metadata: GroupMetadata
    state: GroupState
    epoch: int
    our_leaf: int | None
    mls_state: MlsState
    members: tuple[Member, ...] = ()
    exporter_secrets: tuple[ExporterSecret, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredState:
    """The current MLS state with the revision a later write must name."""

    mls_group_id: bytes
    state: MlsState
    epoch: int
    revision: int


@dataclass(frozen=True, slots=True)
class PendingCommit:
    data: bytes = field(repr=False)
    event_id: str = ""
    created_at: int = 0


@dataclass(frozen=True, slots=True)
class CommitKey:
    """A commit's identity for MIP-03 race ordering: earliest created_at, then smallest id."""

    created_at: int
    event_id: str
    content_hash: bytes = b""


@dataclass(frozen=True, slots=True)
class Snapshot:
    mls_group_id: bytes
    epoch: int
    commit: CommitKey
    taken_at: int


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


@dataclass(frozen=True, slots=True)
class StateWrite:
    """A new MLS state for a group and everything that changed with it, written atomically.

    ``base_revision`` is the revision of the state it was computed from: if another write
    landed in between, the write fails with `Conflict` instead of silently losing one of them.
    Fields left ``None`` keep their stored value. With ``snapshot`` set, the state being
    replaced is first saved under that commit key (commit-race rollback, MIP-03).
    """

    mls_group_id: bytes
    base_revision: int
    state: MlsState
    epoch: int
    our_leaf: int | None
    metadata: GroupMetadata | None = None
    members: tuple[Member, ...] | None = None
    exporter_secrets: tuple[ExporterSecret, ...] = ()
    group_state: GroupState | None = None
    snapshot: CommitKey | None = None
    clear_pending_commit: bool = False
