"""Forms a new user reads first (issue 18): the passphrase rule said before it fails, the
inviter's key in the invites dialog, and the contacts' add fields wide enough to read."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend, fake_npub, fake_pubkey
from tests.gui.test_accounts import open_settings
from tests.gui.test_groups import shown
from ui.dialogs.contacts import ContactsDialog
from ui.dialogs.invites import InvitesDialog
from ui.main_window import MainWindow
from ui.tasks import spawn

pytestmark = pytest.mark.gui


def test_the_passphrase_rule_is_shown_before_it_fails(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend
) -> None:
    spawn(window.start())
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.onboarding)
    page = window.onboarding
    assert page.rule.isVisible() and page.rule.text() == "At least 8 characters."
    assert not page.error.isVisible()
    qtbot.keyClicks(page.passphrase, "abc")
    assert page.rule.text() == "At least 8 characters. 5 more to go."
    qtbot.keyClicks(page.passphrase, "defgh")
    assert page.rule.text() == "Long enough."
    qtbot.keyClicks(page.repeat, "abcx")
    assert page.rule.text() == "Long enough. The repeated passphrase is not the same yet."
    page.repeat.setText("abcdefgh")
    assert page.rule.text() == "Long enough, and both are the same."
    assert not page.error.isVisible()  # nothing failed on the way


def test_the_new_passphrase_field_in_settings_says_the_rule(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    dialog = open_settings(qtbot, window)
    assert "at least 8 characters" in dialog.new.placeholderText()


def test_the_invites_dialog_shows_the_inviters_key(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    alice.invite_from("Mallory", "Free money")
    window.invites()
    dialog = shown(qtbot, window, InvitesDialog)
    assert isinstance(dialog, InvitesDialog)
    npub = fake_npub(fake_pubkey("Mallory"))
    assert dialog.inviter_key.isVisible()
    assert dialog.inviter_label.text() == "Mallory's key"
    assert dialog.inviter_key.text() == npub and dialog.inviter_key.isReadOnly()


def readable(field: QLineEdit) -> bool:
    """The whole placeholder fits inside the field (with its padding)."""
    need = field.fontMetrics().horizontalAdvance(field.placeholderText())
    return field.width() >= need + 24


def test_the_contacts_add_fields_are_wide_enough_to_read(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    window.contacts()
    dialog = shown(qtbot, window, ContactsDialog)
    assert isinstance(dialog, ContactsDialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2)
    qtbot.wait(20)
    assert readable(dialog.npub), (dialog.npub.width(), dialog.npub.placeholderText())
    assert readable(dialog.nickname), dialog.nickname.width()


def test_a_pending_invite_follows_its_groups_new_name_without_a_second_alert(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    from dataclasses import replace

    from ui.views import InviteAdded

    invite = alice.invite_from("Bob Marsh", "Climbing")
    assert window.notifier.last == ("New invite", "Bob Marsh invited you to Climbing")
    window.notifier.last = None
    alice.emit(InviteAdded(replace(invite, group_name="Bouldering")))
    row = window.session.invites.get(invite.id)
    assert row is not None and row.group_name == "Bouldering"
    assert window.notifier.last is None  # the same invite: no new notification
