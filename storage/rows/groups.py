"""Rows of the group aggregate: the opaque MLS state and what is stored beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class GroupState(StrEnum):
    PENDING = "pending"  # joined from a Welcome the user has not accepted yet
    ACTIVE = "active"
    INACTIVE = "inactive"  # we left or were removed


@dataclass(frozen=True, slots=True)
class MlsState:
    """An opaque MLS group state blob and the version of its format."""

    format: int
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class GroupMetadata:
    """The Marmot group data (0xF2EE) as the app decoded it, plus the raw bytes.

    The raw bytes hold the group image key and upload seed, so they stay out of ``repr``.
    """

    nostr_group_id: str
    name: str = ""
    description: str = ""
    admins: tuple[str, ...] = ()
    relays: tuple[str, ...] = ()
    marmot_data: bytes = field(default=b"", repr=False)


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
    profile: str = "mip"
    """``marmot.profiles.Profile`` value: ``mip`` (Profile A) or ``darkmatter`` (B)."""


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
    profile: str = "mip"


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
