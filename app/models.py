"""What the services return to front ends: frozen, secret-free views of the stored state.

Ids are lowercase hex: a group is its ``nostr_group_id`` (the only id relays ever see), a
message the id of its inner (rumor) event, which replies and reactions also name, a person
their x-only public key. `to_jsonable` turns any of these into plain JSON values (the CLI's
``--json`` output and ``listen`` lines).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from marmot.errors import InvalidMedia
from marmot.media import MediaReference, parse_imeta_tag
from marmot.profile_b.components import BLOSSOM_LOCATOR
from marmot.profile_b.media import MediaReference as MediaReferenceB
from marmot.profile_b.media import parse_media_tag as parse_media_tag_b


@dataclass(frozen=True, slots=True)
class AccountInfo:
    pubkey: str
    npub: str
    name: str
    unlocked: bool = False


@dataclass(frozen=True, slots=True)
class ProfileInfo:
    pubkey: str
    npub: str
    name: str = ""
    about: str = ""
    picture: str = ""
    nprofile: str = ""
    nip05: str = ""
    """The name@domain address of the profile (as written there)."""
    nip05_verified: bool = False
    """Its domain's nostr.json names this key (checked over HTTPS)."""


@dataclass(frozen=True, slots=True)
class ContactInfo:
    pubkey: str
    npub: str
    name: str
    petname: str | None = None
    about: str = ""
    blocked: bool = False
    following: bool = True
    nip05: str = ""
    nip05_verified: bool = False
    picture: str = ""
    """The profile's picture URL (https, or a small data: URL)."""


@dataclass(frozen=True, slots=True)
class RelayInfo:
    url: str
    status: str
    lists: tuple[str, ...] = ()
    """Which of our lists name it: ``nip65``, ``inbox``, ``key_packages``, ``group``."""
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class KeyPackageInfo:
    event_id: str | None
    ref: str
    device: str
    created_at: int
    published_at: int | None
    consumed_at: int | None
    relays: tuple[str, ...] = ()
    live: bool = False


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One install of our identity: its key-package slot and its leaves in groups."""

    id: str
    current: bool
    key_packages: int
    groups: int
    leaves: tuple[tuple[str, int], ...] = ()
    """(group id, leaf index) of every leaf this device holds, as far as we know."""
    last_active: int | None = None
    removed: bool = False
    """We removed it: it is not added to groups any more (it may still hold leaves in
    groups where we are not an admin)."""


@dataclass(frozen=True, slots=True)
class MemberInfo:
    pubkey: str
    npub: str
    name: str
    admin: bool
    leaves: tuple[int, ...] = ()
    is_self: bool = False

    @property
    def devices(self) -> int:
        return len(self.leaves)


@dataclass(frozen=True, slots=True)
class GroupDevice:
    """One of our leaves in a group and the device holding it (``unknown`` if we cannot
    tell; see `app.device_map`)."""

    leaf: int
    device: str
    current: bool = False


@dataclass(frozen=True, slots=True)
class GroupInfo:
    id: str
    name: str
    description: str
    state: str
    epoch: int
    admins: tuple[str, ...]
    relays: tuple[str, ...]
    members: tuple[MemberInfo, ...] = ()
    epoch_authenticator: str = ""
    """Hex; equal at every member in the same epoch (compare to detect a fork)."""
    is_dm: bool = False
    i_am_admin: bool = False
    unread: int = 0
    last_message: str = ""
    last_activity: int | None = None
    pinned: bool = False
    archived: bool = False
    muted: bool = False
    draft: str = ""
    my_devices: tuple[GroupDevice, ...] = ()
    """Our own leaves, one per device of ours in the group (this one first)."""
    image: str = ""
    """Hex SHA-256 of the group picture's encrypted blob (MIP-01), "" without one (only
    filled where members are: ``info`` with members)."""
    invited: tuple[str, ...] = ()
    """Members added whose joining was not seen yet (``app.timeline``)."""
    disappearing_secs: int = 0
    """The group's disappearing-message timer (0xF2EE v3); 0 when messages stay."""
    profile: str = "mip"
    """The Marmot generation the group was created with: ``marmot.profiles.Profile.A.value``
    (``"mip"``, Marmot v1) or ``Profile.B.value`` (``"darkmatter"``, Marmot v2)."""
    can_edit: bool = False
    """Messages can be edited (Profile B: kind 1009 edits)."""


@dataclass(frozen=True, slots=True)
class UnopenedEvents:
    """A group's kind 445 events that no key of ours opened: kept for a retry (they may be
    early), and dropped to stay within the limits (anyone who knows the group's ``h`` tag
    can post them)."""

    kept: int
    kept_bytes: int
    dropped: int
    dropped_bytes: int
    limit: int
    limit_bytes: int


@dataclass(frozen=True, slots=True)
class ReactionInfo:
    emoji: str
    authors: tuple[str, ...]
    mine: bool = False

    @property
    def count(self) -> int:
        return len(self.authors)


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """One MIP-04 attachment of a message (its ``imeta`` tag), without the keys."""

    filename: str
    mime_type: str
    file_hash: str
    """Hex SHA-256 of the decrypted file (``x``): how `Media` fetches and caches it."""
    url: str
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None
    duration: str | None = None
    """Seconds (``12.345``) of a voice message or video, when the sender said."""

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


Reference = MediaReference | MediaReferenceB


def parse_attachment(tag: Sequence[str]) -> Reference:
    """One ``imeta`` tag: MIP-04 (``v mip04-v2``) or Profile B's ``encrypted-media-v1/-v2``
    (the ``v`` field tells them apart); `InvalidMedia` when malformed."""
    if any(f.startswith("v encrypted-media-") for f in tag[1:]):
        # Loopback http as for MIP-04 (our embedded Blossom store is on 127.0.0.1); only
        # v1 asks, v2 takes any http(s) locator anyway.
        return parse_media_tag_b(tag, allow_loopback_http=True)
    return parse_imeta_tag(tag)


def attachments(tags: Sequence[Sequence[str]]) -> list[Reference]:
    """The valid ``imeta`` references of a rumor in tag order (malformed ones are skipped,
    as MDK does): what `attachments_of` shows and index ``i`` fetches."""
    out: list[Reference] = []
    for tag in tags:
        if tag and tag[0] == "imeta":
            with contextlib.suppress(InvalidMedia):
                out.append(parse_attachment(tag))
    return out


def _info_b(ref: MediaReferenceB) -> AttachmentInfo:
    width, _, height = (ref.dim or "").partition("x")
    size = (int(width), int(height)) if width.isdigit() and height.isdigit() else (None, None)
    url = next((loc.value for loc in ref.locators if loc.kind == BLOSSOM_LOCATOR), "")
    return AttachmentInfo(ref.file_name, ref.media_type, ref.plaintext_sha256.lower(), url, *size)


def attachments_of(tags: Sequence[Sequence[str]]) -> tuple[AttachmentInfo, ...]:
    """The valid ``imeta`` attachments of a rumor, without their keys."""
    out = []
    for ref in attachments(tags):
        if isinstance(ref, MediaReferenceB):
            out.append(_info_b(ref))
            continue
        w, h = ref.dimensions or (None, None)
        out.append(
            AttachmentInfo(
                ref.filename,
                ref.mime_type,
                ref.file_hash.hex(),
                ref.url,
                w,
                h,
                ref.blurhash,
                ref.duration,
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class UploadInfo:
    """A file on its way: queued, uploading, sent (``message_id``), failed or cancelled."""

    id: int
    group_id: str
    filename: str
    mime_type: str
    size: int
    state: str
    attempts: int = 0
    last_error: str = ""
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A decrypted attachment, held in memory (and in the encrypted cache) only."""

    filename: str
    mime_type: str
    file_hash: str
    data: bytes = field(repr=False)
    thumbnail: bytes | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class MessageInfo:
    id: str
    group_id: str
    author: str
    kind: int
    content: str
    created_at: int
    status: str
    own: bool = False
    event_id: str | None = None
    reply_to: str | None = None
    deleted: bool = False
    is_read: bool = False
    reactions: tuple[ReactionInfo, ...] = ()
    seq: int = 0
    attachments: tuple[AttachmentInfo, ...] = ()
    edited_at: int | None = None
    """When the shown ``content`` is an edit's text: that edit's time (the author's newest
    edit wins); ``content`` is always the text to show."""


@dataclass(frozen=True, slots=True)
class InviteInfo:
    id: str
    group_id: str | None
    group_name: str
    inviter: str
    inviter_name: str
    received_at: int
    state: str
    member_count: int = 0
    description: str = ""
    inviter_npub: str = ""
    """The inviter's key as people compare it (bech32), to tell a stranger from a friend."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    message: MessageInfo
    snippet: str


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one ``sync`` run did."""

    relays: tuple[str, ...]
    events: int
    caught_up: bool
    outbox_pending: int
    seconds: float


def to_jsonable(value: Any) -> Any:
    """Plain JSON values for dataclasses, enums, bytes (hex), tuples and mappings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in ("count", "devices"):  # derived properties worth printing
            if hasattr(type(value), name) and isinstance(getattr(type(value), name), property):
                out[name] = getattr(value, name)
        return out
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value
