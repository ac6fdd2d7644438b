"""Picking people (issue 18): tick boxes in the member picker, an empty contact list that
says what to do, and someone new added by a pasted npub where members are picked."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend, fake_pubkey
from tests.gui.helpers import enter
from tests.gui.scenes import PASSPHRASE, Demo
from tests.gui.test_groups import open_details, shown
from ui.delegates.item import check_rect
from ui.dialogs.new_chat import NewChatDialog
from ui.dialogs.new_group import NewGroupDialog
from ui.main_window import MainWindow
from ui.theme import theme_state
from ui.widgets.contact_picker import ContactPicker

pytestmark = pytest.mark.gui

NEW = "npub1" + "q" * 58


def tick_colour(picker: ContactPicker, pubkey: str) -> QColor:
    """The colour near the top middle of a row's tick box (its fill where ticked, clear of
    the tick and of the rounded corners)."""
    index = picker.proxy.mapFromSource(picker.model.index(picker.model.position(pubkey)))
    box = check_rect(picker.view.visualRect(index))
    image = picker.view.viewport().grab().toImage()
    return image.pixelColor(box.center().x(), box.top() + 4)


def new_group(qtbot: QtBot, window: MainWindow) -> NewGroupDialog:
    window.new_group()
    dialog = shown(qtbot, window, NewGroupDialog)
    assert isinstance(dialog, NewGroupDialog)
    return dialog


def test_the_member_picker_ticks_who_is_picked(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    dialog = new_group(qtbot, window)
    picker = dialog.picker
    qtbot.waitUntil(lambda: picker.model.rowCount() == 2)
    bob, carol = fake_pubkey("Bob Marsh"), fake_pubkey("Carol Diaz")
    picker.pick(bob)
    qtbot.wait(20)
    accent = QColor(theme_state().colors.accent)
    assert tick_colour(picker, bob) == accent
    assert tick_colour(picker, carol) != accent
    picker.pick(carol)
    qtbot.wait(20)
    assert tick_colour(picker, carol) == accent
    assert dialog.count.text() == "2 selected"


def test_an_empty_contact_list_says_what_to_do(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend
) -> None:
    backend.add_account("Alice Moreau", PASSPHRASE, unlocked=True)
    enter(qtbot, window, backend)
    window.new_chat()
    dialog = shown(qtbot, window, NewChatDialog)
    assert isinstance(dialog, NewChatDialog)
    qtbot.waitUntil(lambda: backend.calls_to("list_contacts") != [])
    qtbot.wait(20)
    assert dialog.picker.empty.isVisible() and not dialog.picker.view.isVisible()
    assert "No contacts yet" in dialog.picker.empty.text()
    assert "npub" in dialog.picker.empty.text()


def test_a_filter_that_matches_no_one_says_so(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    dialog = new_group(qtbot, window)
    qtbot.waitUntil(lambda: dialog.picker.model.rowCount() == 2)
    qtbot.keyClicks(dialog.picker.filter, "zed")
    assert dialog.picker.empty.isVisible()
    assert dialog.picker.empty.text() == "No contact matches “zed”."
    dialog.picker.filter.clear()
    assert dialog.picker.view.isVisible()


def test_a_new_group_takes_someone_new_by_pasted_npub(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    dialog = new_group(qtbot, window)
    picker = dialog.picker
    qtbot.waitUntil(lambda: picker.model.rowCount() == 2)
    dialog.name.setText("Climbing")
    picker.filter.setText(NEW)
    assert picker.empty.text() == "Press Enter to add this person."
    qtbot.keyClick(picker.filter, Qt.Key.Key_Return)
    new = fake_pubkey(NEW)
    qtbot.waitUntil(lambda: picker.picked() == [new])
    assert alice.calls_to("add_contact") == [(NEW, "")]
    assert picker.filter.text() == "" and picker.model.rowCount() == 3
    # Enter on the only match of a name picks it, too.
    qtbot.keyClicks(picker.filter, "bob")
    qtbot.keyClick(picker.filter, Qt.Key.Key_Return)
    assert set(picker.picked()) == {new, fake_pubkey("Bob Marsh")}
    dialog.create_button.click()
    qtbot.waitUntil(lambda: alice.calls_to("create_group") != [])
    assert set(alice.calls_to("create_group")[0][1]) == {new, fake_pubkey("Bob Marsh")}


def test_a_pasted_nsec_is_refused_in_the_picker(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    dialog = new_group(qtbot, window)
    qtbot.waitUntil(lambda: dialog.picker.model.rowCount() == 2)
    secret = "nsec1" + "q" * 58
    dialog.picker.filter.setText(secret)
    assert "secret key" in dialog.picker.empty.text()  # said at once, never echoed
    assert secret not in dialog.picker.empty.text()
    qtbot.keyClick(dialog.picker.filter, Qt.Key.Key_Return)
    assert "secret key" in dialog.picker.empty.text()
    assert dialog.picker.filter.text() == ""  # not left on screen
    assert alice.calls_to("add_contact") == []


def test_group_details_add_someone_new_by_pasted_npub(
    qtbot: QtBot, window: MainWindow, demo: Demo, backend: FakeBackend
) -> None:
    dialog = open_details(qtbot, window, demo.hikers.id)
    dialog.add.click()
    qtbot.waitUntil(lambda: dialog.picker.isVisible() and dialog.picker.model.rowCount() == 3)
    dialog.picker.filter.setText(NEW)
    qtbot.keyClick(dialog.picker.filter, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.picker.picked() == [fake_pubkey(NEW)])
    dialog.confirm_add.click()
    qtbot.waitUntil(lambda: dialog.members.rowCount() == 5)
    # Someone already in the group, by key: said so, not picked twice.
    dialog.add.click()
    qtbot.waitUntil(dialog.picker.isVisible)
    bob_npub = backend.me.contacts[fake_pubkey("Bob Marsh")].npub
    dialog.picker.filter.setText(bob_npub)
    qtbot.keyClick(dialog.picker.filter, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "already in this group" in dialog.error.text())
