"""The CLI's side of the two Marmot generations (issue 16): the group's protocol in words,
``messages edit GROUP ID TEXT``, edited messages marked, the group's changes worded
(``messages --changes``), ``group create --profile``."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from app import timeline
from app.models import GroupInfo, MessageInfo
from app.words import change_text, protocol_name
from cli.commands import COMMANDS, Needs
from cli.main import main
from cli.output import render
from cli.parser import build_parser
from cli.words import group, message

ME, BOB, CAROL = "a" * 64, "b" * 64, "c" * 64
NAMES = {BOB: "Bob", CAROL: "Carol"}


def test_messages_edit_parses_into_its_own_command() -> None:
    args = build_parser().parse_args(["messages", "edit", "ab12", "m1", "Saturday at 9?"])
    assert (args.command, args.action) == ("messages", "edit")
    assert (args.group, args.message, args.text) == ("ab12", "m1", "Saturday at 9?")
    assert COMMANDS[("messages", "edit")].needs is Needs.NETWORK  # it sends an event
    listing = build_parser().parse_args(["messages", "ab12", "--limit", "5", "--changes"])
    assert (listing.action, listing.group, listing.limit, listing.changes) == (
        None,
        "ab12",
        5,
        True,
    )
    assert COMMANDS[("messages", None)].needs is Needs.ACCOUNT
    # A group that happens to be called "edit" can still be listed.
    assert build_parser().parse_args(["messages", "edit"]).group == "edit"


@pytest.mark.parametrize(
    "argv",
    [
        ["messages", "ab12", "stray"],  # words after a group that are no edit
        ["messages", "edit", "ab12", "m1"],  # no text
        ["messages", "edit", "ab12", "m1", "two", "texts"],
    ],
)
def test_a_malformed_edit_is_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--json", *argv]) == 2
    out, _ = capsys.readouterr()
    error = json.loads(out)["error"]
    assert error["type"] == "UsageError" and "messages edit GROUP ID TEXT" in error["message"]


def test_group_create_takes_a_profile() -> None:
    args = build_parser().parse_args(["group", "create", "N", "--member", "npub1a"])
    assert args.profile is None  # the invitees' key packages choose
    forced = ["group", "create", "N", "--member", "npub1a", "--profile", "darkmatter"]
    assert build_parser().parse_args(forced).profile == "darkmatter"
    with pytest.raises(Exception, match="invalid choice"):
        build_parser().parse_args([*forced[:-1], "v3"])


def test_a_group_prints_its_protocol_in_words() -> None:
    info = GroupInfo("g" * 64, "Hikers", "", "active", 3, (ME,), ("ws://r",))
    assert group(info)["protocol"] == "Marmot v1"
    assert group(info)["profile"] == "mip" and group(info)["can_edit"] is False
    v2 = group(replace(info, profile="darkmatter", can_edit=True))
    assert (v2["protocol"], v2["can_edit"]) == ("Marmot v2 (Dark Matter)", True)
    assert protocol_name("") == "" and protocol_name("x") == "Marmot (x)"


def chat(author: str, text: str, **changes: object) -> MessageInfo:
    base = MessageInfo("m" * 64, "g" * 64, author, 9, text, 1_700_000_000, "received")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_edited_messages_are_marked() -> None:
    plain = message(chat(BOB, "Saturday at 8?"), NAMES, ME)
    assert plain["edited"] is False and plain["edited_at"] is None and "text" not in plain
    edited = message(chat(BOB, "Saturday at 9?", edited_at=1_700_000_100), NAMES, ME)
    assert (edited["edited"], edited["edited_at"], edited["content"]) == (
        True,
        1_700_000_100,
        "Saturday at 9?",
    )
    gone = message(chat(BOB, "", edited_at=1_700_000_100, deleted=True), NAMES, ME)
    assert gone["edited"] is False


def row(what: str, actor: str, subject: str = "", value: str = "") -> dict[str, object]:
    content = timeline.Change(what, actor, subject, value).to_json()
    return message(chat(actor, content, kind=timeline.TIMELINE), NAMES, ME)


@pytest.mark.parametrize(
    ("what", "actor", "subject", "value", "text"),
    [
        (timeline.RENAMED, BOB, "", "Ridge crew", "Bob renamed the group to “Ridge crew”"),
        (timeline.DESCRIBED, ME, "", "x", "You changed the group description"),
        (timeline.ADDED, ME, CAROL, "", "You added Carol"),
        (timeline.REMOVED, BOB, ME, "", "Bob removed you"),
        (timeline.LEFT, CAROL, "", "", "Carol left"),
        (timeline.JOINED, BOB, "", "", "Bob joined"),
        (timeline.TIMER, BOB, "", "28800", "Bob set disappearing messages to 8 hours"),
        (timeline.TIMER, BOB, "", "", "Bob turned off disappearing messages"),
        ("admins", ME, BOB, "granted", "You made Bob an admin"),
        ("admins", BOB, ME, "revoked", "Bob took admin rights from you"),
        ("picture", BOB, "", "ab" * 32, "Bob changed the group picture"),
        ("picture", BOB, "", "", "Bob changed the group picture"),
        ("retention", ME, "", "604800", "You set disappearing messages to 1 week"),
        ("retention", ME, "", "0", "You turned off disappearing messages"),
        ("disbanded", BOB, "", "", "Bob closed the group"),
        ("someday", BOB, "", "", "Bob changed the group"),
    ],
)
def test_the_groups_changes_are_worded(
    what: str, actor: str, subject: str, value: str, text: str
) -> None:
    printed = row(what, actor, subject, value)
    assert printed["text"] == text and printed["kind"] == timeline.TIMELINE


def test_a_stranger_in_a_change_is_named_by_their_key() -> None:
    stranger = "d" * 64
    change = timeline.Change(timeline.ADDED, BOB, stranger)
    assert change_text(change, NAMES, ME) == f"Bob added {stranger[:8]}…"
    assert row("garbage", BOB)["text"] == "Bob changed the group"
    broken = message(chat(BOB, "not json", kind=timeline.TIMELINE), NAMES, ME)
    assert broken["text"] == ""


def test_the_text_output_says_edited_and_what_changed() -> None:
    edited = message(chat(ME, "Count me in", own=True, edited_at=1_700_000_100), NAMES, ME)
    lines = render({"messages": [edited, row("admins", BOB, ME, "granted")]}, as_json=False)
    assert "    edited: yes" in lines.splitlines()
    assert "    text: Bob made you an admin" in lines.splitlines()
