"""Groups, invites, contacts, devices, relays and the profile, through their dialogs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend, fake_pubkey
from tests.gui.helpers import click_confirm, open_chat, png
from tests.gui.qr_decode import decode
from tests.gui.scenes import Demo
from ui.avatar import MAX_PICTURE_BYTES, picture_problem
from ui.dialogs.base import Dialog
from ui.dialogs.contacts import ContactsDialog
from ui.dialogs.devices import DevicesDialog
from ui.dialogs.group_details import GroupDetailsDialog
from ui.dialogs.invites import InvitesDialog
from ui.dialogs.new_chat import NewChatDialog
from ui.dialogs.new_group import NewGroupDialog
from ui.dialogs.profile import ProfileDialog
from ui.dialogs.relays import RelaysDialog
from ui.main_window import MainWindow
from ui.views import DeviceRow, RelayStatus

pytestmark = pytest.mark.gui

NPUB = "npub1" + "x" * 58


def shown(qtbot: QtBot, window: MainWindow, kind: type[Dialog]) -> Dialog:
    dialog = window.dialog
    assert isinstance(dialog, kind)
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_create_group(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    window.new_group()
    dialog = shown(qtbot, window, NewGroupDialog)
    assert isinstance(dialog, NewGroupDialog)
    qtbot.waitUntil(lambda: dialog.picker.model.rowCount() == 2)
    dialog.create_button.click()
    qtbot.waitUntil(dialog.error.isVisible)
    assert "name" in dialog.error.text()
    dialog.name.setText("Climbing")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: "at least one" in dialog.error.text())
    for name in ("Bob Marsh", "Carol Diaz"):
        dialog.picker.pick(fake_pubkey(name))
    assert dialog.count.text() == "2 selected"
    dialog.description.setText("Tuesdays at the gym")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: window.chat.loaded is not None)
    (name, members, description) = alice.calls_to("create_group")[0]
    assert (name, set(members), description) == (
        "Climbing",
        {fake_pubkey("Bob Marsh"), fake_pubkey("Carol Diaz")},
        "Tuesdays at the gym",
    )
    assert window.chat.header.title.text() == "Climbing"
    assert window.chat.header.subtitle.text().startswith("3 members")
    assert window.session.chats.rowCount() == 1


def test_new_direct_chat_by_npub_or_contact(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    window.new_chat()
    dialog = shown(qtbot, window, NewChatDialog)
    assert isinstance(dialog, NewChatDialog)
    dialog.npub.setText("not a key")
    dialog.start.click()
    qtbot.waitUntil(dialog.error.isVisible)
    assert "npub" in dialog.error.text()
    dialog.npub.setText(NPUB)
    dialog.start.click()
    qtbot.waitUntil(lambda: window.chat.loaded is not None)
    assert window.chat.chat is not None and window.chat.chat.is_dm
    assert alice.calls_to("add_contact")[-1] == (NPUB, "")
    # The same person again from the contact list: the existing chat, not a new one.
    window.new_chat()
    dialog = shown(qtbot, window, NewChatDialog)
    assert isinstance(dialog, NewChatDialog)
    qtbot.waitUntil(lambda: dialog.picker.model.rowCount() == 3)
    dialog.picker.pick(fake_pubkey(NPUB))
    dialog.start.click()
    qtbot.waitUntil(lambda: window.dialog is None)
    assert window.session.chats.rowCount() == 1


def open_details(qtbot: QtBot, window: MainWindow, chat_id: str) -> GroupDetailsDialog:
    open_chat(qtbot, window, chat_id)
    window.chat.header.details.click()
    dialog = shown(qtbot, window, GroupDetailsDialog)
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.details is not None)
    return dialog


def test_group_details_add_promote_demote_remove_rename(
    qtbot: QtBot, window: MainWindow, demo: Demo, backend: FakeBackend
) -> None:
    dialog = open_details(qtbot, window, demo.hikers.id)
    assert dialog.members.rowCount() == 4
    assert dialog.members.index(0).data() == "Alice Moreau (you)"
    assert dialog.add.isVisible() and dialog.save.isVisible()
    dialog.select(backend.me.pubkey)
    assert not dialog.remove.isVisible()  # not on ourselves
    dialog.add.click()
    qtbot.waitUntil(lambda: dialog.picker.isVisible() and dialog.picker.model.rowCount() == 3)
    dialog.picker.pick(fake_pubkey("Erin Walsh"))
    dialog.confirm_add.click()
    qtbot.waitUntil(lambda: dialog.members.rowCount() == 5)
    assert not dialog.picker.isVisible()
    erin = fake_pubkey("Erin Walsh")
    dialog.select(erin)
    assert dialog.promote.isVisible() and not dialog.demote.isVisible()
    dialog.promote.click()
    qtbot.waitUntil(lambda: dialog.members.get(erin).admin)  # type: ignore[union-attr]
    dialog.select(erin)
    assert dialog.demote.isVisible()
    dialog.demote.click()
    qtbot.waitUntil(lambda: not dialog.members.get(erin).admin)  # type: ignore[union-attr]
    dialog.select(erin)
    dialog.remove.click()
    click_confirm(qtbot, dialog, "Remove")
    qtbot.waitUntil(lambda: dialog.members.rowCount() == 4)
    dialog.name.setText("Weekend hikers 🥾")
    dialog.description.setText("Saturdays")
    dialog.save.click()
    qtbot.waitUntil(lambda: window.chat.header.title.text() == "Weekend hikers 🥾")
    assert dialog.details is not None and dialog.details.epoch == 6  # one commit per change
    assert dialog.facts.text() == "4 members · 1 relay"  # no protocol jargon (issue 18)
    assert dialog.protocol.text() == "Marmot v1"  # but the protocol's name (issue 16)
    assert backend.calls_to("rename_group") == [(demo.hikers.id, "Weekend hikers 🥾", "Saturdays")]


def test_group_details_follow_remote_changes_and_rules(
    qtbot: QtBot, window: MainWindow, demo: Demo, backend: FakeBackend
) -> None:
    dialog = open_details(qtbot, window, demo.book_club.id)
    assert not dialog.add.isVisible() and not dialog.save.isVisible()  # we are not an admin
    assert dialog.name.isReadOnly()
    dialog.select(fake_pubkey("Grace Kim"))
    assert not dialog.remove.isVisible()
    # Someone else's commit arrives while the dialog is open.
    demo.book_club.members.pop(fake_pubkey("Erin Walsh"))
    backend._membership_changed(demo.book_club)
    assert dialog.members.rowCount() == 3


def test_leave_group(qtbot: QtBot, window: MainWindow, demo: Demo, backend: FakeBackend) -> None:
    dialog = open_details(qtbot, window, demo.hikers.id)
    dialog.leave.click()
    click_confirm(qtbot, dialog, "Leave")
    qtbot.waitUntil(lambda: window.dialog is None)
    assert backend.calls_to("leave_group") == [(demo.hikers.id,)]
    qtbot.waitUntil(window.chat.inactive.isVisible)
    assert not window.chat.composer_bar.isVisible()


def test_accept_and_decline_invites(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    alice.invite_from("Bob Marsh", "Climbing", ["Carol Diaz"])
    decline_me = alice.invite_from("Dan Okafor", "Crypto memes")
    assert window.sidebar.invite_banner.text() == "2 pending invites"
    assert window.notifier.last == ("New invite", "Dan Okafor invited you to Crypto memes")
    window.sidebar.invite_banner.click()
    dialog = shown(qtbot, window, InvitesDialog)
    assert isinstance(dialog, InvitesDialog)
    assert dialog.detail.text() == "Bob Marsh invited you to Climbing."
    dialog.view.setCurrentIndex(
        window.session.invites.index(window.session.invites.position(decline_me.id))
    )
    dialog.decline.click()
    qtbot.waitUntil(lambda: window.session.invites.rowCount() == 1)
    assert window.sidebar.invite_banner.text() == "1 pending invite"
    dialog.view.setCurrentIndex(window.session.invites.index(0))
    dialog.accept_button.click()
    qtbot.waitUntil(lambda: window.chat.loaded is not None)
    assert window.chat.header.title.text() == "Climbing"
    assert not window.sidebar.invite_banner.isVisible()
    assert window.chat.composer_bar.isVisible()


def test_contacts_add_profile_qr_and_block(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    window.contacts()
    dialog = shown(qtbot, window, ContactsDialog)
    assert isinstance(dialog, ContactsDialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2)
    dialog.npub.setText("npub1short")
    dialog.add.click()
    qtbot.waitUntil(dialog.error.isVisible)
    dialog.npub.setText(NPUB)
    dialog.nickname.setText("Zoe")
    dialog.add.click()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 3)
    contact = dialog.selected()
    assert contact is not None and contact.name == "Zoe"
    qtbot.waitUntil(lambda: dialog.card.profile is not None and dialog.card.profile.name == "Zoe")
    code = dialog.card.qr.code
    assert code is not None
    assert decode(code.modules)[0] == contact.npub.encode()  # the QR really holds the npub
    dialog.card.copy.click()
    assert QGuiApplication.clipboard().text() == contact.npub
    dialog.block.click()
    qtbot.waitUntil(lambda: dialog.block.text() == "Unblock")
    assert not dialog.message.isEnabled()
    dialog.block.click()
    qtbot.waitUntil(lambda: dialog.block.text() == "Block")
    dialog.message.click()
    qtbot.waitUntil(lambda: window.chat.loaded is not None)
    assert window.chat.header.title.text() == "Zoe"


def test_nothing_or_a_secret_key_is_refused_before_the_backend_and_enter_adds(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    nsec = "nsec1" + "q" * 58
    window.contacts()
    dialog = shown(qtbot, window, ContactsDialog)
    assert isinstance(dialog, ContactsDialog)
    qtbot.keyClicks(dialog.nickname, "Zoe")
    qtbot.keyClick(dialog.nickname, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.text() == "Paste their npub or nprofile first.")
    dialog.npub.setText(nsec)
    qtbot.keyClick(dialog.npub, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "secret key" in dialog.error.text())
    assert "q" * 10 not in dialog.error.text()
    assert alice.calls_to("add_contact") == []
    dialog.npub.setText(NPUB)
    qtbot.keyClick(dialog.nickname, Qt.Key.Key_Return)  # Enter in the name field adds too
    qtbot.waitUntil(lambda: alice.calls_to("add_contact") == [(NPUB, "Zoe")])
    dialog.reject()
    window.new_chat()
    chooser = shown(qtbot, window, NewChatDialog)
    assert isinstance(chooser, NewChatDialog)
    chooser.npub.setText(f"  {nsec.upper()}")
    qtbot.keyClick(chooser.npub, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "secret key" in chooser.error.text())
    assert len(alice.calls_to("add_contact")) == 1


def test_own_profile(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    window.profile()
    dialog = shown(qtbot, window, ProfileDialog)
    assert isinstance(dialog, ProfileDialog)
    qtbot.waitUntil(lambda: dialog.name.text() == "Alice Moreau")
    assert decode(dialog.card.qr.code.modules)[0].startswith(b"npub1")  # type: ignore[union-attr]
    dialog.name.setText("")
    dialog.save.click()
    qtbot.waitUntil(dialog.error.isVisible)
    dialog.name.setText("Alice M.")
    dialog.about.setText("Hiker, reader")
    initials = dialog.card.avatar.pixmap().toImage()
    dialog.set_picture(png("#20a060"))  # as if chosen in the file dialog
    assert dialog.card.avatar.pixmap().toImage() != initials  # previewed before saving
    assert dialog.saved.text() == "Save to publish your new picture."
    qtbot.keyClick(dialog.about, Qt.Key.Key_Return)  # Enter saves
    qtbot.waitUntil(lambda: dialog.saved.text() == "Saved and published.")
    assert (alice.me.name, alice.me.about) == ("Alice M.", "Hiker, reader")
    assert alice.me.avatar == png("#20a060")
    assert dialog.card.name.text() == "Alice M."


def test_only_readable_pictures_of_at_most_2_mb() -> None:
    assert picture_problem(png("#20a060")) == ""
    assert "not a picture" in picture_problem(b"GIF89a but not really")
    assert "larger than 2 MB" in picture_problem(b"\0" * (MAX_PICTURE_BYTES + 1))


def test_devices_remove_a_lost_one(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    alice.me.devices["old"] = DeviceRow("old", "Old laptop", False, 1, 2, 1_600_000_000)
    window.devices()
    dialog = shown(qtbot, window, DevicesDialog)
    assert isinstance(dialog, DevicesDialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2)
    dialog.view.setCurrentIndex(dialog.model.index(dialog.model.position("this")))
    assert not dialog.remove.isEnabled()  # never this device
    dialog.view.setCurrentIndex(dialog.model.index(dialog.model.position("old")))
    dialog.remove.click()
    click_confirm(qtbot, dialog, "Remove")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1)
    assert alice.calls_to("remove_device") == [("old",)]


def test_relays_add_remove_and_live_status(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    window.sidebar.footer.relays.click()
    dialog = shown(qtbot, window, RelaysDialog)
    assert isinstance(dialog, RelaysDialog)
    dialog.url.setText("http://nope")
    dialog.add.click()
    qtbot.waitUntil(dialog.error.isVisible)
    assert "wss://" in dialog.error.text()
    dialog.url.setText("wss://relay.example.org")
    dialog.add.click()
    qtbot.waitUntil(lambda: window.session.relays.rowCount() == 2)
    assert window.session.relays.get("wss://relay.example.org").status is RelayStatus.CONNECTING  # type: ignore[union-attr]
    alice.set_relay_status("wss://relay.example.org", RelayStatus.CONNECTED)
    assert window.sidebar.footer.text == "Connected to 2 relays"
    dialog.view.setCurrentIndex(
        window.session.relays.index(window.session.relays.position("wss://relay.example.org"))
    )
    alice.latency = 0.05
    dialog.remove.click()
    qtbot.wait(10)
    dialog.remove.click()  # clicked again before the answer: removed once
    qtbot.waitUntil(lambda: window.session.relays.rowCount() == 1)
    assert alice.calls_to("remove_relay") == [("wss://relay.example.org",)]
    assert not dialog.error.isVisible()
