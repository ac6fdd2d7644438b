"""Which Marmot version a new group uses, said in the new group dialog once people are
picked (their key packages decide), and what the group then shows and offers."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend, fake_pubkey
from tests.gui.helpers import open_chat
from ui.dialogs.group_details import GroupDetailsDialog
from ui.dialogs.new_group import NewGroupDialog
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui

V1, V2 = "Marmot v1", "Marmot v2 (Dark Matter)"


def dialog_of(qtbot: QtBot, window: MainWindow) -> NewGroupDialog:
    window.new_group()
    dialog = window.dialog
    assert isinstance(dialog, NewGroupDialog)
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.picker.model.rowCount() >= 2)
    return dialog


def said(qtbot: QtBot, dialog: NewGroupDialog, text: str) -> None:
    qtbot.waitUntil(lambda: dialog.protocol.text() == text, timeout=3000)
    assert dialog.protocol.isVisible()


def test_the_dialog_says_which_version_the_picked_people_share(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    bob, carol = fake_pubkey("Bob Marsh"), fake_pubkey("Carol Diaz")
    alice.speaks = {bob: (V1, V2), carol: (V1,)}
    dialog = dialog_of(qtbot, window)
    assert not dialog.protocol.isVisible()  # no one picked: nothing to say
    dialog.picker.pick(bob)
    assert dialog.protocol.text().startswith("Checking")
    said(qtbot, dialog, f"This group will use {V2}.")
    dialog.picker.pick(carol)  # Carol's app speaks only v1: the group is v1 for everyone
    said(qtbot, dialog, f"This group will use {V1}.")
    assert alice.calls_to("group_protocol")[-1] == ((bob, carol),)
    alice.speaks[carol] = (V2,)
    alice.speaks[bob] = (V1,)
    dialog.picker.view.clearSelection()
    dialog.picker.pick(carol)
    dialog.picker.pick(bob)
    said(qtbot, dialog, "These people cannot be in one group: make a group for each.")
    dialog.picker.view.selectionModel().clearSelection()
    qtbot.waitUntil(lambda: not dialog.protocol.isVisible())
    looked_up = len(alice.calls_to("group_protocol"))
    qtbot.wait(500)
    assert len(alice.calls_to("group_protocol")) == looked_up  # nothing left to look up


def test_a_group_of_marmot_v2_people_offers_edits_and_says_so(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    bob = fake_pubkey("Bob Marsh")
    alice.speaks = {bob: (V1, V2)}
    dialog = dialog_of(qtbot, window)
    dialog.name.setText("Climbing")
    dialog.picker.pick(bob)
    said(qtbot, dialog, f"This group will use {V2}.")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: window.chat.loaded is not None)
    chat = window.chat.chat
    assert chat is not None and chat.can_edit
    mine = alice.seed_own(chat.id, "Tuesday at 7?", 1_700_000_000)
    open_chat(qtbot, window, chat.id)
    window.chat.close_chat()
    open_chat(qtbot, window, chat.id)
    row = window.chat.model.get(mine.id)
    assert row is not None
    assert "Edit" in [a.text() for a in window.chat.message_menu(row).actions()]
    window.group_details(chat.id)
    details = window.dialog
    assert isinstance(details, GroupDetailsDialog)
    qtbot.waitUntil(lambda: details.details is not None)
    assert details.protocol.text() == V2
