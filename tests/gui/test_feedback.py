"""Slow operations (each a commit or a Welcome going through the relays) say that they are
under way, and a second click cannot start them twice."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend, fake_pubkey
from tests.gui.helpers import click_confirm, open_chat
from tests.gui.scenes import Demo
from ui.dialogs.contacts import ContactsDialog
from ui.dialogs.devices import DevicesDialog
from ui.dialogs.group_details import GroupDetailsDialog
from ui.dialogs.invites import InvitesDialog
from ui.dialogs.new_group import NewGroupDialog
from ui.main_window import MainWindow
from ui.tasks import BUG_MESSAGE
from ui.views import DeviceRow
from ui.widgets.confirm import confirm

pytestmark = pytest.mark.gui

SLOW = 0.3  # seconds per backend call: long enough to look at the dialog meanwhile


def details(qtbot: QtBot, window: MainWindow, chat_id: str) -> GroupDetailsDialog:
    open_chat(qtbot, window, chat_id)
    window.group_details(chat_id)
    dialog = window.dialog
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.details is not None)
    return dialog


def test_joining_shows_progress_and_answers_once(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    alice.invite_from("Bob Marsh", "Climbing")
    window.invites()
    dialog = window.dialog
    assert isinstance(dialog, InvitesDialog)
    qtbot.waitUntil(dialog.isVisible)
    alice.latency = SLOW
    dialog.accept_button.click()
    qtbot.waitUntil(lambda: dialog.error.text() == "Joining Climbing…")
    assert not dialog.accept_button.isEnabled() and not dialog.decline.isEnabled()
    dialog.accept_button.click()  # impatient: nothing more happens
    dialog.accept_selected()
    qtbot.waitUntil(lambda: window.chat.loaded is not None)
    assert len(alice.calls_to("accept_invite")) == 1
    assert window.chat.header.title.text() == "Climbing"


def test_a_declined_invite_leaves_the_others_answerable(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    alice.invite_from("Bob Marsh", "Climbing")
    alice.invite_from("Dan Okafor", "Chess")
    window.invites()
    dialog = window.dialog
    assert isinstance(dialog, InvitesDialog)
    qtbot.waitUntil(dialog.isVisible)
    alice.latency = SLOW
    dialog.decline.click()
    qtbot.waitUntil(lambda: dialog.error.text() == "Declining…")
    assert not dialog.decline.isEnabled()
    qtbot.waitUntil(lambda: window.session.invites.rowCount() == 1)
    qtbot.waitUntil(lambda: not dialog.is_working)
    assert dialog.error.text() == ""
    dialog.view.setCurrentIndex(window.session.invites.index(0))
    assert dialog.accept_button.isEnabled() and dialog.decline.isEnabled()


def test_group_changes_run_one_at_a_time_with_a_note(
    qtbot: QtBot, window: MainWindow, demo: Demo, backend: FakeBackend
) -> None:
    dialog = details(qtbot, window, demo.hikers.id)
    bob = fake_pubkey("Bob Marsh")
    dialog.select(bob)
    backend.latency = SLOW
    dialog.promote.click()
    qtbot.waitUntil(lambda: dialog.error.text() == "Making them an admin…")
    assert not any(action.isEnabled() for action in dialog.group_actions)
    dialog.promote.click()
    dialog.remove.click()
    qtbot.waitUntil(lambda: dialog.members.get(bob).admin)  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: not dialog.is_working)
    assert backend.calls_to("promote") == [(demo.hikers.id, bob)]
    assert backend.calls_to("remove_members") == []
    assert dialog.error.text() == "" and dialog.remove.isEnabled()
    dialog.select(bob)
    dialog.remove.click()
    click_confirm(qtbot, dialog, "Remove")
    qtbot.waitUntil(lambda: dialog.error.text() == "Removing Bob Marsh…")
    qtbot.waitUntil(lambda: dialog.members.rowCount() == 3)


def test_save_is_offered_for_a_real_change_and_enter_saves(
    qtbot: QtBot, window: MainWindow, demo: Demo, backend: FakeBackend
) -> None:
    dialog = details(qtbot, window, demo.hikers.id)
    assert not dialog.save.isEnabled()  # nothing changed yet
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    dialog.name.setText("   ")
    assert not dialog.save.isEnabled()  # a group needs a name
    dialog.name.setText("Weekend hikers")
    dialog.description.setText(demo.hikers.description + " ")  # the same, once trimmed
    assert not dialog.save.isEnabled()
    dialog.description.setText("Saturdays only")
    assert dialog.save.isEnabled()
    backend.latency = SLOW
    qtbot.keyClick(dialog.description, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.text() == "Saving…")
    qtbot.keyClick(dialog.description, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.details.description == "Saturdays only")  # type: ignore[union-attr]
    assert backend.calls_to("rename_group") == [
        (demo.hikers.id, "Weekend hikers", "Saturdays only")
    ]
    assert not dialog.save.isEnabled()  # saved: nothing left to save


def test_removing_a_device_says_so(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    alice.me.devices["old"] = DeviceRow("old", "Old laptop", False, 1, 2, 1_600_000_000)
    window.devices()
    dialog = window.dialog
    assert isinstance(dialog, DevicesDialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2)
    dialog.view.setCurrentIndex(dialog.model.index(dialog.model.position("old")))
    alice.latency = SLOW
    dialog.remove.click()
    click_confirm(qtbot, dialog, "Remove")
    qtbot.waitUntil(lambda: dialog.error.text() == "Removing “Old laptop” from your groups…")
    assert not dialog.remove.isEnabled()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1)
    assert dialog.error.text() == ""


def test_a_confirmation_shows_a_name_in_its_title_as_typed(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    title = "Remove <i>Zoe</i> & <b>co</b>?"
    box = confirm(parent, title, "They will no longer receive messages.", "Remove", lambda: None)
    assert QTextDocumentFragment.fromHtml(box.text()).toPlainText() == title
    box.reject()


def test_messages_quoting_input_show_it_as_typed(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    """The app's messages quote what was typed ("Not an npub or nprofile: …") or names."""
    window.contacts()
    dialog = window.dialog
    assert isinstance(dialog, ContactsDialog)
    dialog.error.show_error("Not an npub or nprofile: <b>npub1</b>…")
    window.toast.show_message("Could not reach <i>wss://relay</i>.")
    for label in (dialog.error, window.toast):
        assert label.textFormat() is Qt.TextFormat.PlainText
    qtbot.waitUntil(lambda: not dialog._tasks)  # its contacts and profile loaded


def test_a_click_that_fails_with_a_bug_says_it_did_not_happen(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("a bug below the UI")

    monkeypatch.setattr(alice, "create_group", broken)
    window.new_group()
    dialog = window.dialog
    assert isinstance(dialog, NewGroupDialog)
    qtbot.waitUntil(lambda: dialog.picker.model.rowCount() == 2)
    dialog.name.setText("Climbing")
    dialog.picker.pick(fake_pubkey("Bob Marsh"))
    with qtbot.capture_exceptions() as caught:  # the bug is still logged
        dialog.create_button.click()
        qtbot.waitUntil(window.toast.isVisible)
    assert [type(error) for _kind, error, _tb in caught] == [RuntimeError]
    assert window.toast.text() == BUG_MESSAGE
    assert dialog.create_button.isEnabled()  # and it can be tried again
