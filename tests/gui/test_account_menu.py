"""The account menu and appearance (issue 18): "Lock now" and "Quit", an account without a
name yet, and a theme that follows the desktop's light or dark setting."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend
from tests.gui.helpers import open_chat
from tests.gui.scenes import PASSPHRASE, Demo
from tests.gui.test_accounts import open_settings
from ui import theme as theme_module
from ui.dialogs.profile import ProfileDialog
from ui.main_window import MainWindow
from ui.tasks import spawn
from ui.theme import theme_state
from ui.views import Theme

pytestmark = pytest.mark.gui


def action(window: MainWindow, text: str) -> QAction:
    menu = window.account_menu()
    found = [a for a in menu.actions() if a.text().split("\t")[0] == text]
    assert found, [a.text() for a in menu.actions()]
    return found[0]


def test_lock_now_asks_for_the_passphrase_again(
    qtbot: QtBot, window: MainWindow, demo: Demo, backend: FakeBackend
) -> None:
    open_chat(qtbot, window, demo.hikers.id)
    window.chat.composer.set_text("half a thought")
    action(window, "Lock now").trigger()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.unlock)
    assert backend.calls_to("lock") == [()]
    assert backend.calls_to("save_draft")[-1] == (demo.hikers.id, "half a thought")
    assert window.session.chats.rowCount() == 0  # nothing of the chats stays on screen
    assert window.windowTitle() == "Burrow"
    assert window.unlock.name.text() == "Alice Moreau"
    window.unlock.passphrase.setText(PASSPHRASE)
    window.unlock.unlock_button.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split)
    qtbot.waitUntil(lambda: window.session.chats.rowCount() == 5)


def test_ctrl_l_locks_and_quit_closes_the_window(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.unlock)
    window.unlock.passphrase.setText(PASSPHRASE)
    window.unlock.unlock_button.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split)
    action(window, "Quit").trigger()
    qtbot.waitUntil(lambda: not window.isVisible())


def test_an_account_without_a_name_has_a_menu_entry(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    alice.me.name = ""
    qtbot.waitUntil(lambda: window.accounts != [])
    window.accounts = [alice.me.view()]
    entry = window.account_menu().actions()[0]
    assert entry.text().startswith("npub1") and "…" in entry.text()


def test_the_theme_can_follow_the_desktop(
    qtbot: QtBot,
    window: MainWindow,
    alice: FakeBackend,
    qapp: QApplication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scheme = Qt.ColorScheme.Light
    monkeypatch.setattr(theme_module, "system_scheme", lambda: scheme)
    dialog = open_settings(qtbot, window)
    assert dialog.system.text() == "System" and dialog.light.isChecked()
    dialog.system.click()
    qtbot.waitUntil(lambda: alice.theme_value is Theme.SYSTEM)
    assert theme_state().theme is Theme.LIGHT
    # The desktop turns dark (an evening schedule): Burrow follows.
    scheme = Qt.ColorScheme.Dark
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    qtbot.waitUntil(lambda: theme_state().theme is Theme.DARK)
    assert qapp.palette().window().color().name() == "#131417"
    # A fixed choice no longer follows it.
    dialog.light.click()
    qtbot.waitUntil(lambda: alice.theme_value is Theme.LIGHT)
    scheme = Qt.ColorScheme.Dark
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    qtbot.wait(20)
    assert theme_state().theme is Theme.LIGHT
    dialog.close()
    window.settings()
    qtbot.waitUntil(lambda: window.dialog is not None)


def icon_image(window: MainWindow) -> QImage:
    return window.sidebar.account_button.icon().pixmap(28, 28).toImage()


def test_an_imported_key_asks_for_a_name_and_the_header_follows(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend
) -> None:
    spawn(window.start())
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.onboarding)
    page = window.onboarding
    page.import_tab.click()
    page.nsec.setText("nsec1" + "q" * 58)
    page.passphrase.setText(PASSPHRASE)
    page.repeat.setText(PASSPHRASE)
    page.submit.click()
    qtbot.waitUntil(lambda: isinstance(window.dialog, ProfileDialog))
    dialog = window.dialog
    assert isinstance(dialog, ProfileDialog)
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.profile is not None)
    assert dialog.heading.text() == "Choose your name"
    entry = window.account_menu().actions()[0].text()
    assert entry.startswith("npub1")  # not an empty entry
    unnamed = icon_image(window)
    qtbot.keyClicks(dialog.name, "Nadia Petrova")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.saved.text() == "Saved and published.")
    assert window.sidebar.account_button.toolTip() == "Nadia Petrova: accounts and profile"
    assert icon_image(window) != unnamed  # initials "NP" instead of "?"
    assert window.account_menu().actions()[0].text() == "Nadia Petrova"
    assert window.session.account is not None and window.session.account.name == "Nadia Petrova"


def test_a_created_account_is_not_asked_for_its_name_again(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    qtbot.wait(20)
    assert window.dialog is None


def test_our_own_profile_change_does_not_list_us_among_contacts(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    from ui.dialogs.contacts import ContactsDialog
    from ui.views import ContactRow, ContactUpdated

    window.contacts()
    dialog = window.dialog
    assert isinstance(dialog, ContactsDialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2)
    me = alice.me.view()
    alice.emit(ContactUpdated(ContactRow(me.pubkey, me.npub, "Alice M.")))
    assert dialog.model.rowCount() == 2 and dialog.model.get(me.pubkey) is None
