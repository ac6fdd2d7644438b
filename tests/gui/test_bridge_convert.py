"""The bridge's pure mappings: statuses, chat rows, errors as sentences, avatars as data URLs,
search excerpts."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QImage

import app.errors as app_errors
from app.models import GroupInfo, InviteInfo, MemberInfo, MessageInfo, ReactionInfo
from ui import errors as ui_errors
from ui.bridge.chats import excerpt
from ui.bridge.convert import (
    MAX_DATA_URL,
    avatar_from_picture,
    chat_row,
    device_row,
    invite_row,
    message_row,
    message_status,
    picture_from_avatar,
    quote_of,
    relay_status,
)
from ui.bridge.core import to_backend_error
from ui.views import MessageStatus, RelayStatus

pytestmark = pytest.mark.gui

ME, BOB = "a" * 64, "b" * 64


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("sending", MessageStatus.SENDING),
        ("sent", MessageStatus.SENT),
        ("received", MessageStatus.SENT),
        ("failed", MessageStatus.FAILED),
        ("invalidated", MessageStatus.FAILED),  # lost a commit race: not delivered
    ],
)
def test_message_status(status: str, shown: MessageStatus) -> None:
    assert message_status(status) is shown


def test_relay_status() -> None:
    assert relay_status("connected") is RelayStatus.CONNECTED
    assert relay_status("initialized") is RelayStatus.CONNECTING
    assert relay_status("disconnected") is RelayStatus.DISCONNECTED
    assert relay_status("disconnected", "connection refused") is RelayStatus.FAILED
    assert relay_status("terminated") is RelayStatus.DISCONNECTED


def group(**changes: object) -> GroupInfo:
    members = (
        MemberInfo(ME, "npub1me", "Alice", True, (0,), True),
        MemberInfo(BOB, "npub1bob", "Bob", False, (1, 2)),
    )
    base = GroupInfo("g" * 64, "", "", "active", 3, (ME,), (), members, is_dm=True, unread=2)
    return replace(base, **changes)  # type: ignore[arg-type]


def message(author: str, text: str, **changes: object) -> MessageInfo:
    base = MessageInfo("m" * 64, "g" * 64, author, 9, text, 1_700_000_000, "received")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_chat_rows_of_a_dm_and_a_group() -> None:
    dm = chat_row(group(), message(BOB, "see you\nthere"), {})
    assert (dm.title, dm.preview, dm.is_dm, dm.avatar_seed) == ("Bob", "see you there", True, BOB)
    assert (dm.unread, dm.member_count, dm.time) == (2, 2, 1_700_000_000)
    named = chat_row(group(is_dm=False, name="Hikers"), message(BOB, "hi"), {})
    assert (named.title, named.preview, named.is_dm) == ("Hikers", "Bob: hi", False)
    own = chat_row(group(is_dm=False, name="Hikers"), message(ME, "yo", own=True), {})
    assert own.preview == "You: yo"
    gone = chat_row(group(state="inactive"), message(BOB, "x", deleted=True), {})
    assert (gone.active, gone.preview) == (False, "This message was deleted")
    assert chat_row(group(is_dm=False), None, {}).title == "Unnamed group"


def test_invites_to_a_group_and_to_a_one_to_one_chat() -> None:
    base = InviteInfo("i" * 64, None, "Hikers", BOB, "Bob", 1_700_000_000, "pending", 3)
    to_group = invite_row(base)
    assert (to_group.is_dm, to_group.title) == (False, "Hikers")
    assert to_group.summary == "Bob invited you to Hikers"
    to_chat = invite_row(replace(base, group_name="", member_count=2))  # the app's 1:1 rule
    assert (to_chat.is_dm, to_chat.title) == (True, "Bob")
    assert to_chat.summary == "Bob wants to chat with you"
    unnamed = invite_row(replace(base, group_name=""))  # three people: a group after all
    assert (unnamed.is_dm, unnamed.summary) == (False, "Bob invited you to Unnamed group")


def test_message_rows_carry_names_reactions_and_deletion() -> None:
    reactions = (ReactionInfo("👍", (ME, BOB), True),)
    row = message_row(message(BOB, "hello", reactions=reactions), {BOB: "Bob"})
    assert (row.author_name, row.text, row.own) == ("Bob", "hello", False)
    assert [(r.emoji, r.count, r.mine) for r in row.reactions] == [("👍", 2, True)]
    deleted = message_row(message(ME, "secret", own=True, deleted=True), {})
    assert deleted.deleted and deleted.text == "" and deleted.author_name == ME[:8] + "…"


def test_a_quote_of_our_own_message_says_you() -> None:
    names = {ME: "Alice", BOB: "Bob"}
    mine = quote_of(message(ME, "8:00 at the trailhead?", own=True), "m" * 64, names)
    assert (mine.author_name, mine.text) == ("You", "8:00 at the trailhead?")
    theirs = quote_of(message(BOB, "I'm in"), "m" * 64, names)
    assert theirs.author_name == "Bob"
    assert quote_of(None, "x" * 64, names).author_name == ""  # not loaded: no name at all


def test_devices_get_labels() -> None:
    from app.models import DeviceInfo

    assert device_row(DeviceInfo("s" * 64, True, 1, 2)).label == "This computer"
    assert device_row(DeviceInfo("unknown", False, 0, 1)).label == "Unknown device"
    assert device_row(DeviceInfo("c0ffee" + "0" * 58, False, 1, 0)).label == "Device c0ffee00"


@pytest.mark.parametrize(
    ("error", "kind", "text"),
    [
        (app_errors.WrongPassphrase("wrong passphrase"), ui_errors.WrongPassphrase, "didn't work"),
        (app_errors.InvalidInput("not an npub"), ui_errors.InvalidInput, "Not an npub."),
        (app_errors.NotAllowed("only admins"), ui_errors.NotAllowed, "Only admins."),
        (app_errors.NoKeyPackage("b" * 64), ui_errors.Unavailable, "has no key package on"),
        (app_errors.AccountExists("exists"), ui_errors.InvalidInput, "already on this computer"),
        (app_errors.StorageFailure("disk full"), ui_errors.BackendError, "Disk full."),
    ],
)
def test_app_errors_become_sentences(
    error: app_errors.AppError, kind: type[ui_errors.BackendError], text: str
) -> None:
    shown = to_backend_error(error)
    assert type(shown) is kind and text in shown.message


def test_avatars_travel_as_small_data_urls(qapp: object) -> None:
    image = QImage(640, 320, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366cc"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    picture = picture_from_avatar(data.data())
    assert picture is not None and picture.startswith("data:image/jpeg;base64,")
    assert len(picture) <= MAX_DATA_URL
    back = QImage.fromData(avatar_from_picture(picture))  # type: ignore[arg-type]
    assert (back.width(), back.height()) == (128, 128)
    assert picture_from_avatar(b"not an image") is None
    assert avatar_from_picture("https://example.org/me.png") is None
    assert avatar_from_picture("data:image/png;base64,@@@") is None
    assert avatar_from_picture("data:image/png;base64," + base64.b64encode(b"x").decode()) == b"x"


def test_search_excerpt_centres_the_match() -> None:
    text = "word " * 40 + "needle" + " word" * 40
    cut = excerpt(text, "NEEDLE")
    assert "needle" in cut and cut.startswith("…") and cut.endswith("…") and len(cut) <= 92
    assert excerpt("short\ntext", "x") == "short text"


def test_attachments_become_views_with_a_painted_placeholder() -> None:
    from app.models import AttachmentInfo, UploadInfo
    from ui.bridge.convert import attachment_label, attachment_views, upload_row
    from ui.views import PLACEHOLDER_SIZE

    picture = AttachmentInfo(
        "a.jpg", "image/jpeg", "ab" * 32, "u", 640, 480, "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
    )
    broken = AttachmentInfo("b.jpg", "image/jpeg", "cd" * 32, "u", None, None, "not a hash")
    document = AttachmentInfo("c.pdf", "application/pdf", "ef" * 32, "u")
    views = attachment_views((picture, broken, document))
    assert [v.index for v in views] == [0, 1, 2]
    assert views[0].placeholder is not None
    assert len(views[0].placeholder) == PLACEHOLDER_SIZE[0] * PLACEHOLDER_SIZE[1] * 3
    assert views[1].placeholder is None and views[2].placeholder is None  # no crash either
    assert (views[0].width, views[0].height, views[2].is_image) == (640, 480, False)
    only_file = MessageInfo("m", "g", "a" * 64, 9, "", 1, "sent", attachments=(document,))
    assert attachment_label(only_file) == "c.pdf"
    assert attachment_label(replace(only_file, attachments=(picture,))) == "Photo"
    row = message_row(replace(only_file, deleted=True), {})
    assert row.attachments == ()  # a deleted message shows no files
    upload = upload_row(UploadInfo(3, "g", "c.pdf", "application/pdf", 10, "failed", 2, "refused"))
    assert (upload.id, upload.state, upload.error) == (3, "failed", "refused")


def test_a_voice_message_keeps_its_duration() -> None:
    from app.models import attachments_of
    from ui.bridge.convert import attachment_views

    tag = (
        "imeta",
        "url https://blossom.example/" + "ab" * 32,
        "m audio/ogg",
        "filename voice.ogg",
        "x " + "11" * 32,
        "n " + "22" * 12,
        "v mip04-v2",
        "duration 12.5",
        "waveform 0 40 80 40",
    )  # White Noise's order: the audio fields after v
    [view] = attachment_views(attachments_of([tag]))
    assert (view.duration, view.is_image, view.filename) == (12.5, False, "voice.ogg")
