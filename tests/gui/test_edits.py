"""Editing our own messages in the chat view (groups of Marmot v2, ``ChatRow.can_edit``): the
menu's "Edit", Up in the empty composer, the edit bar with Esc, the "edited" mark, drafts
kept aside, and nothing of it where the group's protocol has no edits."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend
from tests.gui.fake_chats import FakeChat
from tests.gui.helpers import open_chat
from ui.delegates import message_layout as ml
from ui.format import message_time
from ui.main_window import MainWindow
from ui.views import ChatUpdated, MessageRow, MessageStatus, MessageUpdated

pytestmark = pytest.mark.gui


def group(backend: FakeBackend, *, can_edit: bool = True) -> FakeChat:
    chat = backend.make_chat("Hikers", ["Bob Marsh"])
    chat.can_edit = can_edit
    chat.protocol = "Marmot v2 (Dark Matter)" if can_edit else "Marmot v1"
    backend.emit(ChatUpdated(chat.row()))
    return chat


def labels(window: MainWindow, row: MessageRow | None) -> list[str]:
    assert row is not None
    return [a.text() for a in window.chat.message_menu(row).actions()]


def trigger(window: MainWindow, row: MessageRow, text: str) -> None:
    next(a for a in window.chat.message_menu(row).actions() if a.text() == text).trigger()


def seeded(backend: FakeBackend, chat: FakeChat) -> tuple[MessageRow, MessageRow]:
    now = int(time.time())
    theirs = backend.receive(chat.id, "Bob Marsh", "Saturday at 8?", at=now - 60, silent=True)
    mine = backend.seed_own(chat.id, "Count me inn", now - 30)
    return theirs, mine


def test_edit_is_offered_on_own_messages_only_where_the_group_has_edits(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    v2, v1 = group(alice), group(alice, can_edit=False)
    theirs, mine = seeded(alice, v2)
    _, old_mine = seeded(alice, v1)
    failed = alice.seed_own(v2.id, "lost on the way", mine.created_at + 1)
    failed = replace(failed, status=MessageStatus.FAILED)
    v2.store(failed)
    open_chat(qtbot, window, v2.id)
    assert "Edit" in labels(window, mine)
    assert "Edit" not in labels(window, theirs)
    assert "Edit" not in labels(window, failed)  # it never reached anyone
    open_chat(qtbot, window, v1.id)
    assert "Edit" not in labels(window, old_mine)  # Marmot v1: no edits at all
    assert "Reply" in labels(window, old_mine) and "Delete for everyone" in labels(window, old_mine)
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Up)
    assert window.chat.edits.editing is None and not window.chat.edits.bar.isVisible()
    assert window.chat.composer.text == ""
    assert alice.calls_to("edit") == []


def test_edit_from_the_menu_replaces_the_text_and_marks_it_edited(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = group(alice)
    _, mine = seeded(alice, chat)
    open_chat(qtbot, window, chat.id)
    view = window.chat
    trigger(window, mine, "Edit")
    assert view.edits.bar.isVisible() and view.edits.bar.quote.text() == "Count me inn"
    assert view.composer.text == "Count me inn" and view.composer.hasFocus()
    qtbot.keyClick(view.composer, Qt.Key.Key_Backspace)
    qtbot.keyClicks(view.composer, "! I'll bring the map")
    qtbot.keyClick(view.composer, Qt.Key.Key_Return)
    assert not view.edits.bar.isVisible() and view.composer.text == ""
    qtbot.waitUntil(lambda: view.model.get(mine.id).edited)  # type: ignore[union-attr]
    row = view.model.get(mine.id)
    assert row is not None and row.text == "Count me in! I'll bring the map"
    assert alice.calls_to("edit") == [(chat.id, mine.id, "Count me in! I'll bring the map")]
    assert alice.calls_to("send") == []  # an edit, not a new message
    assert view.model.rowCount() == 2
    assert ml.meta_text(row) == f"edited {message_time(row.created_at)}"
    preview = window.session.chats.get(chat.id)
    assert preview is not None and preview.preview == "You: Count me in! I'll bring the map"


def test_up_in_the_empty_composer_edits_the_newest_own_message(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = group(alice)
    _, first = seeded(alice, chat)
    newest = alice.seed_own(chat.id, "see you at the car park", first.created_at + 5)
    alice.receive(chat.id, "Bob Marsh", "great", at=newest.created_at + 5, silent=True)
    open_chat(qtbot, window, chat.id)
    composer = window.chat.composer
    qtbot.keyClicks(composer, "typing")
    qtbot.keyClick(composer, Qt.Key.Key_Up)  # not empty: Up only moves the cursor
    assert window.chat.edits.editing is None and composer.text == "typing"
    composer.clear()
    qtbot.keyClick(composer, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)  # selects
    assert window.chat.edits.editing is None
    qtbot.keyClick(composer, Qt.Key.Key_Up, Qt.KeyboardModifier.KeypadModifier)
    editing = window.chat.edits.editing
    assert editing is not None and editing.id == newest.id  # ours, not Bob's newer one
    assert composer.text == "see you at the car park"


def test_escape_cancels_the_edit_and_gives_the_draft_back(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = group(alice)
    _, mine = seeded(alice, chat)
    open_chat(qtbot, window, chat.id)
    view = window.chat
    qtbot.keyClicks(view.composer, "half a thought")
    view.edits.start(mine.id)
    assert view.composer.text == "Count me inn"
    view.save_draft()  # the draft stays what was typed before, not the edit
    qtbot.waitUntil(lambda: alice.calls_to("save_draft") != [])
    assert alice.calls_to("save_draft")[-1] == (chat.id, "half a thought")
    qtbot.keyClicks(view.composer, " changed")
    qtbot.keyClick(view.composer, Qt.Key.Key_Escape)
    assert not view.edits.bar.isVisible() and view.edits.editing is None
    assert view.composer.text == "half a thought"
    assert alice.calls_to("edit") == []
    # The bar's close button does the same; an unchanged text sends nothing.
    view.edits.start(mine.id)
    view.edits.bar.close_button.click()
    assert view.composer.text == "half a thought"
    view.composer.clear()
    view.edits.start(mine.id)
    qtbot.keyClick(view.composer, Qt.Key.Key_Return)
    qtbot.wait(20)
    assert alice.calls_to("edit") == [] and not view.edits.bar.isVisible()


def test_a_reply_or_another_chat_ends_the_edit(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat, other = group(alice), group(alice)
    theirs, mine = seeded(alice, chat)
    open_chat(qtbot, window, chat.id)
    view = window.chat
    view.edits.start(mine.id)
    view.start_reply_to(theirs.id)
    assert view.edits.editing is None and view.replying_to is not None
    assert view.composer.text == ""
    view.edits.start(mine.id)
    assert view.replying_to is None and view.edits.editing is not None
    open_chat(qtbot, window, other.id)
    assert view.edits.editing is None and not view.edits.bar.isVisible()
    assert view.composer.text == ""
    assert all(call[1] != "Count me inn" for call in alice.calls_to("save_draft"))


def test_a_refused_edit_is_said_and_offered_again(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = group(alice)
    _, mine = seeded(alice, chat)
    open_chat(qtbot, window, chat.id)
    view = window.chat
    chat.can_edit = False  # the backend refuses (as the app does for a Marmot v1 group)
    view.edits.start(mine.id)
    view.composer.set_text("Count me in")
    qtbot.keyClick(view.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(window.toast.isVisible)
    assert window.toast.text() == "Messages in this group cannot be edited."
    assert view.edits.editing is not None and view.composer.text == "Count me in"
    assert view.model.get(mine.id).text == "Count me inn"  # type: ignore[union-attr]


def test_an_edit_by_someone_else_shows_as_edited_and_ends_an_edit_of_a_deleted_one(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = group(alice)
    theirs, mine = seeded(alice, chat)
    open_chat(qtbot, window, chat.id)
    view = window.chat
    changed = replace(theirs, text="Saturday at 9?", edited=True)
    alice.emit(MessageUpdated(changed))
    row = view.model.get(theirs.id)
    assert row is not None and row.edited and row.text == "Saturday at 9?"
    view.edits.start(mine.id)
    gone = replace(mine, text="", deleted=True)
    alice.emit(MessageUpdated(gone))  # deleted from another of our devices meanwhile
    assert view.edits.editing is None and view.composer.text == ""


def test_the_edited_mark_widens_the_bubble_not_the_text(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = group(alice)
    _, mine = seeded(alice, chat)
    open_chat(qtbot, window, chat.id)
    view = window.chat.list
    fonts = ml.Fonts.from_base(view.font())
    plain = ml.compute(mine, ml.RUN_START, 800, fonts)
    edited = ml.compute(replace(mine, edited=True), ml.RUN_START, 800, fonts)
    assert edited.meta.width() > plain.meta.width()
    assert edited.bubble.width() >= plain.bubble.width()
    assert edited.bubble.right() == plain.bubble.right()  # still on our side
    deleted = replace(mine, edited=True, deleted=True, text="")
    assert ml.meta_text(deleted) == message_time(mine.created_at)  # nothing left to mark
    option = QStyleOptionViewItem()
    option.font = view.font()
    assert view.bubbles.layout_for(window.chat.model.index(1), option) is not None
