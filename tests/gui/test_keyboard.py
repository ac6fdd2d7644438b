"""Keyboard paths through every dialog: Enter in a field does only what that field means
(never a dialog's first button: a file chooser, a destructive confirmation), Escape closes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend
from tests.gui.helpers import png
from tests.gui.scenes import Demo
from ui.avatar import MAX_PICTURE_BYTES
from ui.dialogs.contacts import ContactsDialog
from ui.dialogs.new_chat import NewChatDialog
from ui.dialogs.new_group import NewGroupDialog
from ui.dialogs.profile import ProfileDialog
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui

DIALOGS: dict[str, Callable[[MainWindow, Demo], None]] = {
    "new chat": lambda w, d: w.new_chat(),
    "new group": lambda w, d: w.new_group(),
    "group details": lambda w, d: w.group_details(d.hikers.id),
    "invites": lambda w, d: w.invites(),
    "contacts": lambda w, d: w.contacts(),
    "profile": lambda w, d: w.profile(),
    "devices": lambda w, d: w.devices(),
    "relays": lambda w, d: w.relays(),
    "notifications": lambda w, d: w.notifications(),
    "settings": lambda w, d: w.settings(),
}


def confirmations() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]


@pytest.mark.parametrize("name", DIALOGS)
def test_enter_in_each_field_stays_in_the_dialog_and_escape_closes_it(
    qtbot: QtBot, window: MainWindow, demo: Demo, name: str
) -> None:
    DIALOGS[name](window, demo)
    dialog = window.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.isVisible() and not dialog._tasks)
    fields = [f for f in dialog.findChildren(QLineEdit) if f.isVisible() and not f.isReadOnly()]
    for field in [*fields, dialog]:
        # The autouse guard fails the test if a file chooser or exec() is reached.
        qtbot.keyClick(field, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not dialog._tasks)
        assert not [b for b in dialog.findChildren(QMessageBox) if b.isVisible()], field
    assert not [b for b in confirmations() if b.isVisible()]
    if window.dialog is dialog:  # Enter may legitimately finish it (nothing did here)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: not dialog.isVisible())
    assert window.dialog is None


def test_change_picture_reads_the_chosen_file_or_says_why_not(
    qtbot: QtBot, window: MainWindow, demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen: list[str] = []
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *_a: (chosen.pop() if chosen else "", "")
    )
    window.profile()
    dialog = window.dialog
    assert isinstance(dialog, ProfileDialog)
    qtbot.waitUntil(lambda: dialog.profile is not None)
    for name, data, problem in (
        ("big.png", b"\0" * (MAX_PICTURE_BYTES + 1), "larger than 2 MB"),
        ("notes.png", b"not a picture", "not a picture"),
        ("gone.png", None, "could not be read"),
    ):
        if data is not None:
            (tmp_path / name).write_bytes(data)
        chosen.append(str(tmp_path / name))
        dialog.picture.click()
        assert problem in dialog.error.text() and dialog.avatar is None
    dialog.picture.click()  # cancelled: nothing changes, no message
    assert dialog.error.text() == "" and dialog.avatar is None
    (tmp_path / "me.png").write_bytes(png("#20a060"))
    chosen.append(str(tmp_path / "me.png"))
    dialog.picture.click()
    assert dialog.avatar == png("#20a060") and dialog.saved.text().startswith("Save")


def test_enter_moves_through_the_new_group_form(
    qtbot: QtBot, window: MainWindow, demo: Demo
) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.new_group()
    dialog = window.dialog
    assert isinstance(dialog, NewGroupDialog)
    qtbot.waitUntil(lambda: dialog.isActiveWindow() and dialog.name.hasFocus())
    qtbot.keyClicks(dialog.name, "Climbing")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    assert dialog.description.hasFocus()
    qtbot.keyClick(dialog.description, Qt.Key.Key_Return)
    assert dialog.picker.filter.hasFocus()


def test_escape_in_a_contact_search_clears_it_before_closing_the_form(
    qtbot: QtBot, window: MainWindow, demo: Demo
) -> None:
    window.new_group()
    dialog = window.dialog
    assert isinstance(dialog, NewGroupDialog)
    qtbot.waitUntil(lambda: dialog.picker.model.rowCount() > 0)
    dialog.name.setText("Climbing")
    search = dialog.picker.filter
    qtbot.keyClicks(search, "gra")
    assert dialog.picker.proxy.rowCount() == 1
    qtbot.keyClick(search, Qt.Key.Key_Escape)
    assert dialog.isVisible() and search.text() == "" and dialog.name.text() == "Climbing"
    assert dialog.picker.proxy.rowCount() == dialog.picker.model.rowCount()
    qtbot.keyClick(search, Qt.Key.Key_Escape)  # empty: Escape closes as anywhere else
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_enter_on_a_contact_starts_the_chat(
    qtbot: QtBot, window: MainWindow, demo: Demo, backend: FakeBackend
) -> None:
    window.new_chat()
    dialog = window.dialog
    assert isinstance(dialog, NewChatDialog)
    view = dialog.picker.view
    qtbot.waitUntil(lambda: view.model().rowCount() > 0)
    view.setFocus()
    view.setCurrentIndex(view.model().index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None and window.chat.loaded is not None)
    assert len(backend.calls_to("create_dm")) == 1


def test_enter_on_a_contact_in_contacts_writes_to_them_unless_blocked(
    qtbot: QtBot, window: MainWindow, demo: Demo, backend: FakeBackend
) -> None:
    window.contacts()
    dialog = window.dialog
    assert isinstance(dialog, ContactsDialog)
    qtbot.waitUntil(lambda: dialog.selected() is not None and not dialog._tasks)
    contact = dialog.selected()
    assert contact is not None
    dialog.block.click()
    qtbot.waitUntil(lambda: dialog.block.text() == "Unblock")
    qtbot.keyClick(dialog.view, Qt.Key.Key_Return)  # blocked: nothing
    qtbot.waitUntil(lambda: not dialog._tasks)
    assert backend.calls_to("create_dm") == []
    dialog.block.click()
    qtbot.waitUntil(lambda: dialog.block.text() == "Block" and dialog.message.isEnabled())
    qtbot.keyClick(dialog.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None and window.chat.loaded is not None)
    assert backend.calls_to("create_dm") == [(contact.pubkey,)]
