"""From the service layer's views (``app.models``) to the rows the widgets see (``ui.views``).

Pure functions, except the avatar helpers, which use Qt's image codecs: a picture chosen in
the UI is published in the kind-0 profile as a small ``data:`` URL (profile pictures do not
go through Blossom yet), and such a URL in anyone's profile becomes avatar bytes again.
Pictures behind ``http(s)`` URLs are not fetched (no network access from the UI).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Mapping

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage

from app import timeline
from app.blurhash import decode as blurhash_decode
from app.models import (
    AttachmentInfo,
    ContactInfo,
    DeviceInfo,
    GroupInfo,
    InviteInfo,
    MessageInfo,
    ProfileInfo,
    RelayInfo,
    UploadInfo,
)
from app.words import change_text, protocol_name, short_name
from ui.rich_text import plain
from ui.views import (
    PLACEHOLDER_SIZE,
    AttachmentView,
    ChatRow,
    ContactRow,
    DeviceRow,
    GroupDetails,
    InviteRow,
    MemberRow,
    MessageRow,
    MessageStatus,
    ProfileView,
    Reaction,
    RelayRow,
    RelayStatus,
    ReplyQuote,
    UploadRow,
)

AVATAR_SIZE = 128
_DATA_URL_PREFIX = "data:image/"
MAX_DATA_URL = 48_000
"""Relays refuse events over 64 KiB; a picture keeps well below that."""
DELETED_PREVIEW = "This message was deleted"
UNNAMED_GROUP = "Unnamed group"
YOU = "You"

MESSAGE_STATUS = {
    "sending": MessageStatus.SENDING,
    "sent": MessageStatus.SENT,
    "received": MessageStatus.SENT,
    "failed": MessageStatus.FAILED,
    # Its epoch lost a commit race (or a removed member's late words): not delivered.
    "invalidated": MessageStatus.FAILED,
}


def message_status(status: str) -> MessageStatus:
    return MESSAGE_STATUS.get(status, MessageStatus.SENDING)


def relay_status(status: str, error: str | None = None) -> RelayStatus:
    """The pool's states (initialized, connecting, connected, disconnected, terminated)."""
    if status == "connected":
        return RelayStatus.CONNECTED
    if status in ("connecting", "initialized"):
        return RelayStatus.CONNECTING
    if status == "disconnected" and error:
        return RelayStatus.FAILED
    return RelayStatus.DISCONNECTED


# --- messages --------------------------------------------------------------------------------


def upload_row(info: UploadInfo) -> UploadRow:
    return UploadRow(info.id, info.group_id, info.filename, info.size, info.state, info.last_error)


def attachment_views(found: tuple[AttachmentInfo, ...]) -> tuple[AttachmentView, ...]:
    out = []
    for index, a in enumerate(found):
        placeholder = None
        if a.is_image and a.blurhash:
            with contextlib.suppress(ValueError):  # a malformed hash: no placeholder
                placeholder = blurhash_decode(a.blurhash, *PLACEHOLDER_SIZE)
        duration = float(a.duration) if a.duration else None
        view = AttachmentView(
            index, a.filename, a.mime_type, a.file_hash, a.width, a.height, placeholder, duration
        )
        out.append(view)
    return tuple(out)


def attachment_label(info: MessageInfo) -> str:
    """How a message that is only a file reads in the chat list."""
    if not info.attachments:
        return ""
    first = info.attachments[0]
    return "Photo" if first.is_image else first.filename


def quote_of(target: MessageInfo | None, target_id: str, names: Mapping[str, str]) -> ReplyQuote:
    if target is None:
        return ReplyQuote(target_id, "", "")
    text = "" if target.deleted else target.content
    # As in Signal: a quote of one of our own messages says "You", not our own name.
    author = YOU if target.own else names.get(target.author, short_name(target.author))
    return ReplyQuote(target.id, author, text)


def message_row(
    info: MessageInfo, names: Mapping[str, str], quote: ReplyQuote | None = None, me: str = ""
) -> MessageRow:
    if info.kind == timeline.TIMELINE:
        change = timeline.parse(None, info.content, info.author)
        text = change_text(change, names, me) if change is not None else ""
        return MessageRow(
            info.id, info.group_id, info.author, "", False, "", info.created_at, system=text
        )
    return MessageRow(
        id=info.id,
        chat_id=info.group_id,
        author=info.author,
        author_name=names.get(info.author, short_name(info.author)),
        own=info.own,
        text="" if info.deleted else info.content,
        created_at=info.created_at,
        reply=quote,
        reactions=tuple(Reaction(r.emoji, r.count, r.mine) for r in info.reactions),
        deleted=info.deleted,
        status=message_status(info.status),
        attachments=() if info.deleted else attachment_views(info.attachments),
        edited=info.edited_at is not None and not info.deleted,
    )


# --- chats and groups ------------------------------------------------------------------------


def dm_peer(info: GroupInfo) -> str | None:
    """The other person of a 1:1 chat."""
    if not info.is_dm:
        return None
    others = [m.pubkey for m in info.members if not m.is_self]
    return others[0] if others else None


def preview(last: MessageInfo | None, names: Mapping[str, str], is_dm: bool) -> str:
    if last is None:
        return ""
    if last.deleted:
        return DELETED_PREVIEW
    # words, not Markdown markers; a file alone is named by its kind or name
    text = " ".join(plain(last.content).split())[:120] or attachment_label(last)
    if last.own:
        return f"You: {text}"
    if is_dm:
        return text
    return f"{names.get(last.author, short_name(last.author))}: {text}"


def chat_row(
    info: GroupInfo,
    last: MessageInfo | None,
    names: Mapping[str, str],
    avatar: bytes | None = None,
) -> ChatRow:
    peer = dm_peer(info)
    members = {m.pubkey: m.name for m in info.members}
    everyone = {**members, **names}
    title = info.name or UNNAMED_GROUP
    if peer is not None:
        title = everyone.get(peer, short_name(peer))
    return ChatRow(
        id=info.id,
        title=title,
        preview=preview(last, everyone, peer is not None),
        time=last.created_at if last is not None else info.last_activity,
        unread=info.unread,
        pinned=info.pinned,
        archived=info.archived,
        muted=info.muted,
        is_dm=peer is not None,
        avatar_seed=peer or info.id,
        member_count=len(info.members),
        draft=info.draft,
        active=info.state == "active",
        avatar=avatar,
        waiting=peer is not None and peer in info.invited,
        disappearing_secs=info.disappearing_secs,
        can_edit=info.can_edit,
    )


def group_details(info: GroupInfo) -> GroupDetails:
    invited = set(info.invited)
    members = tuple(
        MemberRow(
            m.pubkey, m.name, m.admin, max(1, m.devices), m.is_self, invited=m.pubkey in invited
        )
        for m in info.members
    )
    return GroupDetails(
        chat_id=info.id,
        name=info.name,
        description=info.description,
        members=members,
        is_dm=dm_peer(info) is not None,
        epoch=info.epoch,
        relays=info.relays,
        disappearing_secs=info.disappearing_secs,
        protocol=protocol_name(info.profile),
    )


def invite_row(info: InviteInfo) -> InviteRow:
    # The app's rule for a 1:1 chat (GroupInfo.is_dm): no name, at most two members.
    is_dm = not info.group_name and info.member_count <= 2
    return InviteRow(
        id=info.id,
        group_name=info.group_name or UNNAMED_GROUP,
        inviter=info.inviter,
        inviter_name=info.inviter_name,
        member_count=info.member_count,
        received_at=info.received_at,
        description=info.description,
        is_dm=is_dm,
        inviter_npub=info.inviter_npub,
    )


# --- people, devices, relays -----------------------------------------------------------------


def contact_row(info: ContactInfo) -> ContactRow:
    return ContactRow(
        info.pubkey,
        info.npub,
        info.name,
        info.about,
        info.blocked,
        nip05=info.nip05,
        nip05_verified=info.nip05_verified,
    )


def profile_view(
    info: ProfileInfo, fallback_name: str = "", avatar: bytes | None = None
) -> ProfileView:
    """``avatar``: the fetched https picture (a data: URL one is decoded here)."""
    return ProfileView(
        info.pubkey,
        info.npub,
        info.name or fallback_name,
        info.about,
        info.nprofile,
        avatar_from_picture(info.picture) or avatar,
        info.nip05,
        info.nip05_verified,
    )


def device_row(info: DeviceInfo) -> DeviceRow:
    """App devices have no label: this one, an unknown one, or one named by its slot id."""
    if info.current:
        label = "This computer"
    elif info.id == "unknown":
        label = "Unknown device"
    else:
        label = f"Device {info.id[:8]}"
    return DeviceRow(info.id, label, info.current, info.key_packages, info.groups, info.last_active)


def relay_row(info: RelayInfo) -> RelayRow:
    return RelayRow(info.url, relay_status(info.status, info.last_error))


# --- avatars ---------------------------------------------------------------------------------


def avatar_from_picture(picture: str) -> bytes | None:
    """The image inside a ``data:image/...;base64,`` profile picture, else None."""
    if not picture.startswith(_DATA_URL_PREFIX) or len(picture) > MAX_DATA_URL * 2:
        return None
    _, _, payload = picture.partition(";base64,")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data or None


def _square(data: bytes) -> QImage | None:
    image = QImage.fromData(QByteArray(data))
    if image.isNull():
        return None
    side = min(image.width(), image.height())
    return image.copy((image.width() - side) // 2, (image.height() - side) // 2, side, side).scaled(
        AVATAR_SIZE,
        AVATAR_SIZE,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


def avatar_bytes(data: bytes) -> bytes | None:
    """A picture as a small square JPEG (a group picture in the chat list)."""
    square = _square(data)
    if square is None:
        return None
    encoded = QByteArray()
    buffer = QBuffer(encoded)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    square.save(buffer, "JPEG", 85)  # type: ignore[call-overload]  # stubs say bytes; runtime wants str
    return bytes(encoded.data())


def picture_from_avatar(data: bytes) -> str | None:
    """A small JPEG ``data:`` URL of an image (None if Qt cannot read it)."""
    square = _square(data)
    if square is None:
        return None
    encoded = QByteArray()
    buffer = QBuffer(encoded)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    for quality in (85, 60, 35):
        encoded.clear()
        buffer.seek(0)
        square.save(buffer, "JPEG", quality)  # type: ignore[call-overload]  # stubs say bytes; runtime wants str
        url = "data:image/jpeg;base64," + base64.b64encode(encoded.data()).decode()
        if len(url) <= MAX_DATA_URL:
            return url
    return None
