"""The notifications dialog (MIP-05): register, change and remove the push registration;
the groups' view follows gossip while the dialog is open."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend
from tests.gui.helpers import click_confirm, save
from ui.dialogs.notifications import NotificationsDialog
from ui.main_window import MainWindow
from ui.models.roles import ItemRole

pytestmark = pytest.mark.gui

SERVER = "ab" * 32
TOKEN = "fcm-token-0123456789"


def _open(qtbot: QtBot, window: MainWindow) -> NotificationsDialog:
    window.notifications()
    dialog = window.dialog
    assert isinstance(dialog, NotificationsDialog)
    qtbot.waitUntil(lambda: dialog.settings is not None)
    return dialog


def _fill(dialog: NotificationsDialog, token: str, server: str, relay: str) -> None:
    dialog.token.setText(token)
    dialog.server.setText(server)
    dialog.relay.setText(relay)


def test_register_then_change_then_remove(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = alice.make_chat("Climbing", ["Bob Marsh"])
    dialog = _open(qtbot, window)
    assert "not registered" in dialog.status.text()
    assert not dialog.remove.isEnabled() and dialog.register.text() == "Register"
    assert dialog.model.rowCount() == 1

    _fill(dialog, TOKEN, SERVER, "wss://push.example")
    dialog.register.click()
    qtbot.waitUntil(lambda: "shared with 1 group" in dialog.error.text())
    assert alice.calls_to("register_push") == [("fcm", TOKEN, SERVER, "wss://push.example")]
    assert dialog.token.text() == ""  # not left on screen
    assert TOKEN not in dialog.status.text()
    assert "FCM token fcm-…6789" in dialog.status.text()
    assert dialog.remove.isEnabled() and dialog.register.text() == "Save"
    index = dialog.model.index(dialog.model.position(chat.id))
    assert index.data(ItemRole.BADGE) == "Shared"

    assert index.data(ItemRole.SUBTITLE) == "No member shared a device token"
    alice.members_share_tokens(chat.id, 1)  # Bob's 447 arrives while the dialog is open
    qtbot.waitUntil(lambda: index.data(ItemRole.SUBTITLE) == "Your messages wake 1 member device")

    dialog.apns.click()
    _fill(dialog, "00ff" * 16, SERVER, "")
    dialog.register.click()
    qtbot.waitUntil(lambda: "Not shared" in dialog.status.text())
    assert "Set a relay" in dialog.error.text()
    assert dialog.model.index(0).data(ItemRole.BADGE) == ""
    save(dialog, "notifications")

    dialog.remove.click()
    click_confirm(qtbot, dialog, "Remove")
    qtbot.waitUntil(lambda: "not registered" in dialog.status.text())
    assert alice.calls_to("remove_push") == [()]
    assert not dialog.remove.isEnabled() and dialog.server.text() == ""


def test_checks_and_backend_refusals_show_inline(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    dialog = _open(qtbot, window)
    dialog.register.click()
    qtbot.waitUntil(dialog.error.isVisible)
    assert "device token" in dialog.error.text()
    dialog.token.setText(TOKEN)
    dialog.register.click()
    qtbot.waitUntil(lambda: "server" in dialog.error.text())
    assert alice.calls_to("register_push") == []
    _fill(dialog, TOKEN, "not-a-key", "")
    dialog.register.click()
    qtbot.waitUntil(lambda: "64 hex" in dialog.error.text())
    dialog.apns.click()
    _fill(dialog, "zz", SERVER, "")
    dialog.register.click()
    qtbot.waitUntil(lambda: "hex" in dialog.error.text() and "APNs" in dialog.error.text())
    assert "not registered" in dialog.status.text()


def test_menu_opens_the_dialog_with_the_saved_registration(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    dialog = _open(qtbot, window)
    dialog.apns.click()
    _fill(dialog, "00ff" * 16, SERVER, "wss://push.example")
    dialog.register.click()
    qtbot.waitUntil(dialog.remove.isEnabled)
    dialog.close()
    again = _open(qtbot, window)
    assert again.apns.isChecked()
    assert (again.server.text(), again.relay.text()) == (SERVER, "wss://push.example")
    assert again.token.text() == ""
