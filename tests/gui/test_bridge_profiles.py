"""The bridge's mappings for the two Marmot generations (issue 16): the group's protocol in
words, edits (offered, marked), and every timeline row kind worded, those only Marmot v2
records (admins, picture, retention, disbanded) included."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app import timeline
from app.models import GroupInfo, MemberInfo, MessageInfo
from app.words import protocol_name
from ui.bridge.convert import chat_row, group_details, message_row

pytestmark = pytest.mark.gui

ME, BOB, CAROL = "a" * 64, "b" * 64, "c" * 64
NAMES = {BOB: "Bob", CAROL: "Carol"}


def group(**changes: object) -> GroupInfo:
    members = (
        MemberInfo(ME, "npub1me", "Alice", True, (0,), True),
        MemberInfo(BOB, "npub1bob", "Bob", False, (1,)),
        MemberInfo(CAROL, "npub1carol", "Carol", False, (2,)),
    )
    base = GroupInfo("g" * 64, "Hikers", "", "active", 3, (ME,), ("ws://r",), members)
    return replace(base, **changes)  # type: ignore[arg-type]


def message(author: str, text: str, **changes: object) -> MessageInfo:
    base = MessageInfo("m" * 64, "g" * 64, author, 9, text, 1_700_000_000, "received")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_group_details_name_the_protocol_in_plain_words() -> None:
    assert group_details(group()).protocol == "Marmot v1"  # the default: Profile A
    assert group_details(group(profile="mip")).protocol == "Marmot v1"
    v2 = group_details(group(profile="darkmatter", can_edit=True))
    assert v2.protocol == "Marmot v2 (Dark Matter)"
    assert protocol_name("") == ""
    assert protocol_name("future") == "Marmot (future)"  # never a blank for a new one


def test_chat_rows_offer_edits_only_where_the_group_has_them() -> None:
    assert not chat_row(group(), None, {}).can_edit
    assert chat_row(group(profile="darkmatter", can_edit=True), None, {}).can_edit


def test_an_edited_message_is_marked_unless_it_was_deleted() -> None:
    assert not message_row(message(BOB, "Saturday at 8?"), NAMES).edited
    edited = message_row(message(BOB, "Saturday at 9?", edited_at=1_700_000_100), NAMES)
    assert edited.edited and edited.text == "Saturday at 9?"
    assert edited.created_at == 1_700_000_000  # it keeps its place in the chat
    gone = message_row(message(BOB, "x", edited_at=1_700_000_100, deleted=True), NAMES)
    assert not gone.edited and gone.deleted and gone.text == ""


def line(what: str, actor: str, subject: str = "", value: str = "") -> str:
    info = message(actor, timeline.Change(what, actor, subject, value).to_json())
    row = message_row(replace(info, kind=timeline.TIMELINE), NAMES, me=ME)
    assert row.text == "" and row.author_name == ""  # a line, not a bubble
    return row.system


@pytest.mark.parametrize(
    ("what", "actor", "subject", "value", "text"),
    [
        (timeline.RENAMED, BOB, "", "Ridge crew", "Bob renamed the group to “Ridge crew”"),
        (timeline.DESCRIBED, ME, "", "Saturdays", "You changed the group description"),
        (timeline.ADDED, ME, CAROL, "", "You added Carol"),
        (timeline.REMOVED, BOB, ME, "", "Bob removed you"),
        (timeline.LEFT, CAROL, "", "", "Carol left"),
        (timeline.JOINED, BOB, "", "", "Bob joined"),
        (timeline.TIMER, BOB, "", "3600", "Bob set disappearing messages to 1 hour"),
        (timeline.TIMER, ME, "", "", "You turned off disappearing messages"),
        # Marmot v2 only:
        ("admins", ME, BOB, "granted", "You made Bob an admin"),
        ("admins", BOB, ME, "revoked", "Bob took admin rights from you"),
        ("picture", BOB, "", "ab" * 32, "Bob changed the group picture"),
        ("picture", ME, "", "", "You changed the group picture"),
        ("retention", BOB, "", "86400", "Bob set disappearing messages to 1 day"),
        ("retention", BOB, "", "0", "Bob turned off disappearing messages"),
        ("disbanded", BOB, "", "", "Bob closed the group"),
        # A kind of a newer version of the app reads as something changed, never blank.
        ("someday", BOB, "", "", "Bob changed the group"),
        ("admins", BOB, CAROL, "", "Bob changed who the admins are"),
    ],
)
def test_every_timeline_row_kind_is_worded(
    what: str, actor: str, subject: str, value: str, text: str
) -> None:
    assert line(what, actor, subject, value) == text


def test_someone_unknown_is_named_by_their_key() -> None:
    stranger = "d" * 64
    assert line("admins", BOB, stranger, "granted") == f"Bob made {stranger[:8]}… an admin"
