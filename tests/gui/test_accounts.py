"""Onboarding, unlocking (with a calm wrong-passphrase message), account switching, settings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from tests.gui.fake_accounts import FAKE_OFFER
from tests.gui.fake_backend import FakeBackend
from tests.gui.helpers import click_confirm, enter, open_chat
from tests.gui.qr_decode import decode
from tests.gui.scenes import PASSPHRASE
from ui.dialogs.settings import SettingsDialog
from ui.main_window import MainWindow
from ui.tasks import spawn
from ui.theme import theme_state
from ui.views import SignerStatus, Theme

pytestmark = pytest.mark.gui


def start(qtbot: QtBot, window: MainWindow) -> None:
    """Run the window's start-up to its end (the first page is chosen only then)."""
    qtbot.waitUntil(spawn(window.start()).done)
    assert window.pages.currentWidget() is not window.split


def test_first_run_creates_an_identity(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend
) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    start(qtbot, window)
    page = window.onboarding
    assert window.pages.currentWidget() is page
    assert not page.back.isVisible()  # nowhere to go back to
    page.set_avatar(None)
    page.import_tab.click()
    assert page.nsec.hasFocus()  # the chosen form's first field takes the keyboard
    page.create_tab.click()
    # Keyboard only: the name field has it; type, Enter moves to the next field, Enter in
    # the last one submits.
    for text, field in ((" Alice Moreau", page.name), (PASSPHRASE, page.passphrase)):
        assert field.hasFocus()
        qtbot.keyClicks(field, text)
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert page.repeat.hasFocus() and backend.calls_to("create_account") == []
    qtbot.keyClicks(page.repeat, PASSPHRASE)
    qtbot.keyClick(page.repeat, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split)
    assert window.sidebar.search.hasFocus()  # not the account button: typing finds chats
    assert backend.calls_to("create_account") == [("Alice Moreau",)]
    assert backend.me.passphrase == PASSPHRASE
    assert window.windowTitle() == "Burrow"
    assert page.passphrase.text() == page.repeat.text() == ""  # secrets not kept in widgets
    assert page.name.text() == "" and page.avatar is None  # "add account" starts afresh


@pytest.mark.parametrize(
    "case",
    [
        ("", PASSPHRASE, PASSPHRASE, "Please tell us your name"),
        ("Alice", "short", "short", "at least 8 characters"),
        ("Alice", PASSPHRASE, PASSPHRASE + "x", "not the same"),
    ],
    ids=["no-name", "short", "mismatch"],
)
def test_onboarding_explains_bad_input_inline(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend, case: tuple[str, str, str, str]
) -> None:
    name, passphrase, repeat, message = case
    start(qtbot, window)
    page = window.onboarding
    page.name.setText(name)
    page.passphrase.setText(passphrase)
    page.repeat.setText(repeat)
    page.submit.click()
    qtbot.waitUntil(page.error.isVisible)
    assert message in page.error.text()
    assert backend.calls_to("create_account") == []
    assert window.pages.currentWidget() is page


def test_import_nsec_shows_backend_errors_inline(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend
) -> None:
    start(qtbot, window)
    page = window.onboarding
    page.import_tab.click()
    assert page.submit.text() == "Import key"
    page.nsec.setText("nsec1tooshort")
    page.passphrase.setText(PASSPHRASE)
    page.repeat.setText(PASSPHRASE)
    page.submit.click()
    qtbot.waitUntil(page.error.isVisible)
    assert "doesn't look like an nsec" in page.error.text()
    page.nsec.setText("nsec1" + "q" * 58)
    page.submit.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split)
    assert len(backend.calls_to("import_account")) == 2


def test_wrong_passphrase_is_a_calm_inline_message(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend
) -> None:
    backend.add_account("Alice Moreau", PASSPHRASE)
    start(qtbot, window)
    page = window.unlock
    assert window.pages.currentWidget() is page
    assert not page.chooser.isVisible()  # one account: nothing to choose
    qtbot.keyClicks(page.passphrase, "wrong one")
    qtbot.keyClick(page.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(page.error.isVisible)
    assert page.error.text() == "That passphrase didn't work. Please try again."
    assert page.passphrase.selectedText() == "wrong one"  # ready to retype
    assert not any(
        isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets()
    )
    assert window.pages.currentWidget() is page
    qtbot.keyClicks(page.passphrase, PASSPHRASE)  # typing replaces the selection
    assert not page.error.isVisible()
    qtbot.keyClick(page.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split)
    assert page.passphrase.text() == ""


def test_several_accounts_choose_add_and_switch(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend
) -> None:
    backend.add_account("Alice Moreau", PASSPHRASE)
    bob = backend.add_account("Bob Marsh", "bobs passphrase")
    start(qtbot, window)
    page = window.unlock
    assert page.chooser.isVisibleTo(window) and page.chooser.count() == 2
    page.chooser.setCurrentIndex(1)
    assert page.name.text() == "Bob Marsh"
    page.passphrase.setText("bobs passphrase")
    page.unlock_button.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split)
    assert window.session.account is not None and window.session.account.pubkey == bob.pubkey
    # Add a third account from the account menu, then switch back to Bob without a passphrase.
    window.show_onboarding()
    assert window.onboarding.back.isVisibleTo(window)
    window.onboarding.name.setText("Carol Diaz")
    window.onboarding.passphrase.setText(PASSPHRASE)
    window.onboarding.repeat.setText(PASSPHRASE)
    window.onboarding.submit.click()
    qtbot.waitUntil(lambda: len(window.accounts) == 3)
    unlocked_bob = next(a for a in window.accounts if a.pubkey == bob.pubkey)
    qtbot.waitUntil(spawn(window._switch(unlocked_bob)).done)
    assert window.session.account is not None and window.session.account.name == "Bob Marsh"
    assert window.pages.currentWidget() is window.split
    assert backend.calls_to("switch_account") == [(bob.pubkey,)]
    # A locked account goes through the unlock page with that account chosen.
    alice = next(a for a in window.accounts if a.name == "Alice Moreau")
    qtbot.waitUntil(spawn(window._switch(alice)).done)
    assert window.pages.currentWidget() is window.unlock
    assert window.unlock.account is not None and window.unlock.account.name == "Alice Moreau"


def test_a_slow_entry_never_undoes_a_later_switch(qtbot: QtBot, qloop: object) -> None:
    """Entering an account awaits the backend several times; a switch asked for meanwhile
    waits its turn, so the account asked for last is the one shown."""
    backend = FakeBackend(latency=0.03)
    window = MainWindow(backend)
    qtbot.addWidget(window)
    carol = backend.add_account("Carol Diaz", PASSPHRASE, unlocked=True)
    bob = backend.add_account("Bob Marsh", "bobs passphrase", unlocked=True)
    alice = backend.add_account("Alice Moreau", PASSPHRASE)
    entering = window.enter(carol.view())
    switching = spawn(window._switch(bob.view()))
    locking = spawn(window._switch(alice.view()))
    qtbot.waitUntil(lambda: entering.done() and switching.done() and locking.done())
    assert window.session.account is not None and window.session.account.pubkey == bob.pubkey
    assert window.pages.currentWidget() is window.unlock
    assert window.unlock.account is not None and window.unlock.account.pubkey == alice.pubkey
    window.session.close()


def open_settings(qtbot: QtBot, window: MainWindow) -> SettingsDialog:
    window.settings()
    dialog = window.dialog
    assert isinstance(dialog, SettingsDialog)
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_change_theme(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend, qapp: QApplication
) -> None:
    dialog = open_settings(qtbot, window)
    assert dialog.light.isChecked()
    dialog.dark.click()
    qtbot.waitUntil(lambda: alice.theme_value is Theme.DARK)
    assert theme_state().theme is Theme.DARK
    assert "#131417" in qapp.styleSheet()
    assert qapp.palette().window().color().name() == "#131417"
    dialog.light.click()
    qtbot.waitUntil(lambda: alice.theme_value is Theme.LIGHT)
    assert theme_state().theme is Theme.LIGHT


def test_change_passphrase(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    dialog = open_settings(qtbot, window)
    dialog.old.setText("not my passphrase")
    dialog.new.setText("a new passphrase")
    dialog.repeat.setText("a new passphrase")
    dialog.change.click()
    qtbot.waitUntil(dialog.passphrase_note.isVisible)
    assert "not right" in dialog.passphrase_note.text()
    dialog.old.setText(PASSPHRASE)
    dialog.change.click()
    qtbot.waitUntil(lambda: dialog.passphrase_note.text() == "Passphrase changed.")
    assert alice.me.passphrase == "a new passphrase"
    assert dialog.old.text() == dialog.new.text() == ""


def test_reveal_nsec_needs_the_passphrase(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    dialog = open_settings(qtbot, window)
    assert not dialog.nsec.isVisible()
    dialog.reveal_passphrase.setText("guess")
    dialog.reveal.click()
    qtbot.waitUntil(dialog.nsec_note.isVisible)
    assert not dialog.nsec.isVisible()
    dialog.reveal_passphrase.setText(PASSPHRASE)
    dialog.reveal.click()
    qtbot.waitUntil(dialog.nsec.isVisible)
    assert dialog.nsec.text().startswith("nsec1")
    dialog.copy_nsec.click()
    assert QGuiApplication.clipboard().text() == dialog.nsec.text()
    QGuiApplication.clipboard().clear()


def test_delete_all_data_after_confirmation(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    dialog = open_settings(qtbot, window)
    dialog.delete.click()
    click_confirm(qtbot, dialog, "Cancel")
    assert alice.calls_to("delete_all_data") == []
    dialog.delete.click()
    click_confirm(qtbot, dialog, "Delete everything")
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.onboarding)
    assert alice.accounts == {}
    assert window.session.chats.rowCount() == 0
    assert not window.onboarding.back.isVisible()


def test_unlock_then_enter_loads_lists(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend
) -> None:
    backend.add_account("Alice Moreau", PASSPHRASE, unlocked=True)
    backend.add_fake_contact("Bob Marsh")
    backend.make_chat("Bob Marsh", ["Bob Marsh"], is_dm=True)
    backend.invite_from("Carol Diaz", "Book club")
    enter(qtbot, window, backend)
    assert window.session.chats.rowCount() == 1
    assert window.session.invites.rowCount() == 1
    assert window.sidebar.invite_banner.text() == "1 pending invite"
    assert window.sidebar.footer.text == "Connected to 1 relay"


def test_switching_accounts_keeps_the_unsent_text_with_its_own_account(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend
) -> None:
    bob = backend.add_account("Bob Marsh", "bobs passphrase", unlocked=True)
    alice = backend.add_account("Alice Moreau", PASSPHRASE, unlocked=True)
    backend.add_fake_contact("Carol Diaz")
    chat = backend.make_chat("Carol Diaz", ["Carol Diaz"], is_dm=True)
    enter(qtbot, window, backend)
    open_chat(qtbot, window, chat.id)
    qtbot.keyClicks(window.chat.composer, "half a thought")
    qtbot.waitUntil(spawn(window._switch(bob.view())).done)
    assert window.session.account is not None and window.session.account.pubkey == bob.pubkey
    # Saved to Alice's chat before the switch, not to Bob after it ("no longer exists").
    assert alice.chats[chat.id].draft == "half a thought"
    qtbot.waitUntil(lambda: not window.chat._draft_timer.isActive())
    assert not window.toast.isVisible()
    # Back to Alice: the text is there; "Add account…" saves it at once, while Alice is the
    # active account (not when the typing pause ends, maybe after the new one is made).
    qtbot.waitUntil(spawn(window._switch(alice.view())).done)
    open_chat(qtbot, window, chat.id)
    assert window.chat.composer.text == "half a thought"
    qtbot.keyClicks(window.chat.composer, ", more")
    window.show_onboarding()
    assert not window.chat._draft_timer.isActive()
    qtbot.waitUntil(lambda: alice.chats[chat.id].draft == "half a thought, more")


def test_remote_signer_tab_shows_a_scannable_nostrconnect_code(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend
) -> None:
    start(qtbot, window)
    page = window.onboarding
    page.signer_tab.click()
    assert page.submit.text() == "Connect" and page.forms.currentIndex() == 2
    page.submit.click()  # no passphrase, no bunker string: told, nothing asked
    qtbot.waitUntil(page.error.isVisible)
    assert backend.calls_to("import_account") == []
    page.passphrase.setText(PASSPHRASE)
    page.repeat.setText(PASSPHRASE)
    page.submit.click()
    qtbot.waitUntil(lambda: "bunker://" in page.error.text())
    page.show_code.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split)
    assert backend.calls_to("offer_connection") and backend.calls_to("accept_connection")
    assert page.code_text.text() == "" and not page.code.isVisibleTo(page)  # cleared after


def test_nostrconnect_code_decodes_to_the_offer(qtbot: QtBot, window: MainWindow) -> None:
    start(qtbot, window)
    page = window.onboarding
    page.signer_tab.click()
    page._show_offer(FAKE_OFFER)
    assert page.code.isVisibleTo(page) and page.code_text.text() == FAKE_OFFER
    assert page.code.code is not None
    data, *_ = decode([list(row) for row in page.code.code.modules])
    assert data.decode() == FAKE_OFFER
    page._show_offer("nostrconnect://" + "x" * 300)  # too long for a code: text only
    assert not page.code.isVisibleTo(page) and page.code_text.isVisibleTo(page)


def test_footer_shows_the_remote_signer_and_its_approval_link(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    start(qtbot, window)
    footer = window.sidebar.footer
    assert not footer.signer.isVisibleTo(footer)  # a local key shows nothing
    opened: list[str] = []
    monkeypatch.setattr(
        "ui.widgets.status_bar.QDesktopServices.openUrl", lambda url: opened.append(url.toString())
    )
    url = "https://signer.example/approve?id=1"
    alice.emit(SignerStatus("waiting_approval", "Remote signer: approve the request", url))
    qtbot.waitUntil(lambda: footer.signer.isVisibleTo(footer))
    assert footer.signer.toolTip() == url
    footer.signer.click()
    assert opened == [url]
    alice.emit(SignerStatus("offline", "Remote signer offline: changes wait until it is back"))
    qtbot.waitUntil(lambda: "offline" in footer.signer.text())
    footer.signer.click()
    assert opened == [url]  # no link to open any more
