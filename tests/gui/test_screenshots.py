"""Saves a PNG of each main screen to ``screenshots/`` (git-ignored) for a person to look at.

The test also checks that each capture is a real, non-blank picture of the expected size.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend, fake_pubkey
from tests.gui.helpers import enter, open_chat, save
from tests.gui.scenes import PASSPHRASE, Demo
from ui.dialogs.group_details import GroupDetailsDialog
from ui.dialogs.new_chat import NewChatDialog
from ui.dialogs.new_group import NewGroupDialog
from ui.main_window import MainWindow
from ui.tasks import spawn
from ui.theme import apply_theme
from ui.views import MemberRow, Theme

pytestmark = pytest.mark.gui


@pytest.fixture(params=[Theme.LIGHT, Theme.DARK], ids=["light", "dark"])
def theme(request: pytest.FixtureRequest, qapp: QApplication) -> Theme:
    apply_theme(qapp, request.param)
    yield request.param
    apply_theme(qapp, Theme.LIGHT)


def test_onboarding_and_unlock(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend, theme: Theme
) -> None:
    backend.theme_value = theme
    spawn(window.start())
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.onboarding)
    window.onboarding.name.setText("Alice Moreau")
    save(window, f"onboarding-{theme.value}")
    backend.add_account("Alice Moreau", PASSPHRASE)
    spawn(window.start())
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.unlock)
    window.unlock.passphrase.setText("not it")
    window.unlock.unlock_button.click()
    qtbot.waitUntil(window.unlock.error.isVisible)
    save(window, f"unlock-wrong-passphrase-{theme.value}")


def test_chats_and_chat_view(qtbot: QtBot, window: MainWindow, demo: Demo, theme: Theme) -> None:
    window.right.setCurrentWidget(window.empty)
    save(window, f"chat-list-{theme.value}")
    open_chat(qtbot, window, demo.hikers.id)
    qtbot.wait(50)
    save(window, f"chat-view-{theme.value}")


def test_group_details_and_settings(
    qtbot: QtBot, window: MainWindow, demo: Demo, theme: Theme
) -> None:
    open_chat(qtbot, window, demo.hikers.id)
    window.group_details(demo.hikers.id)
    dialog = window.dialog
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.members.rowCount() == 4)
    dialog.select(fake_pubkey("Bob Marsh"))  # a member an admin can act on
    save(dialog, f"group-details-{theme.value}")
    dialog.close()
    window.settings()
    assert window.dialog is not None
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible())
    save(window.dialog, f"settings-{theme.value}")


def test_chat_with_pictures_files_and_an_upload(
    qtbot: QtBot, window: MainWindow, demo: Demo, backend: FakeBackend, theme: Theme
) -> None:
    from tests.gui.helpers import png

    chat = demo.hikers
    wide, tall = png("#4a7fb5", 400), png("#b5654a", 160)
    backend.receive_file(chat.id, "ridge.png", wide, "Top of the ridge!", size=(400, 200))
    backend.receive_file(chat.id, "route.pdf", b"%PDF-1.4 route", author="Carol Diaz")
    backend.receive_file(chat.id, "hut.png", tall, own=True, size=(160, 80))
    backend.hold_uploads = True
    open_chat(qtbot, window, chat.id)
    spawn(backend.send_file(chat.id, "panorama.jpg", b"\xff\xd8" + b"x" * 250_000))
    media = window.chat.media
    qtbot.waitUntil(lambda: media.uploads.line("upload:1") is not None)
    rows = [r for r in window.chat.model.rows if r.attachments]
    qtbot.waitUntil(
        lambda: all(
            media.thumbs.get(r.attachments[0].file_hash) is not None
            for r in rows
            if r.attachments[0].is_image
        )
    )
    window.chat.list.scroll_to_end()
    qtbot.wait(50)
    save(window, f"chat-images-{theme.value}")


def test_pickers(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend, demo: Demo, theme: Theme
) -> None:
    """The member picker with tick boxes, someone new just added by npub (issue 18)."""
    window.new_group()
    dialog = window.dialog
    assert isinstance(dialog, NewGroupDialog)
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.picker.model.rowCount() == 6)
    dialog.name.setText("Climbing")
    for name in ("Bob Marsh", "Dan Okafor"):
        dialog.picker.pick(fake_pubkey(name))
    save(dialog, f"new-group-picker-{theme.value}")
    dialog.picker.filter.setText("npub1" + "q" * 58)
    save(dialog, f"new-group-paste-npub-{theme.value}")
    dialog.close()


def test_new_chat_without_contacts(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend, theme: Theme
) -> None:
    backend.add_account("Alice Moreau", PASSPHRASE, unlocked=True)
    enter(qtbot, window, backend)
    window.new_chat()
    dialog = window.dialog
    assert isinstance(dialog, NewChatDialog)
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.picker.empty.isVisible())
    save(dialog, f"new-chat-empty-{theme.value}")


def test_account_menu(qtbot: QtBot, window: MainWindow, demo: Demo, theme: Theme) -> None:
    """The account menu with "Lock now" and "Quit" (issue 18)."""
    menu = window.account_menu()
    menu.adjustSize()  # drawn without popping up (offscreen has no popup grabs)
    save(menu, f"account-menu-{theme.value}")
    menu.deleteLater()


def test_contacts_and_invites(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend, demo: Demo, theme: Theme
) -> None:
    """Contacts with the add fields on their own rows; an invite with the inviter's key."""
    window.contacts()
    dialog = window.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    qtbot.wait(30)
    save(dialog, f"contacts-{theme.value}")
    dialog.close()
    backend.invite_from("Grace Kim", "Climbing", ["Carol Diaz"])
    window.invites()
    invites = window.dialog
    assert invites is not None
    qtbot.waitUntil(invites.isVisible)
    save(invites, f"invites-{theme.value}")
    invites.close()


def test_markdown_and_links(qtbot: QtBot, window: MainWindow, demo: Demo, theme: Theme) -> None:
    """White Noise's Markdown in bubbles, links underlined (issue 18)."""
    backend = window.backend
    assert isinstance(backend, FakeBackend)
    backend.receive(
        demo.hikers.id,
        "Carol Diaz",
        "**Packing list** for Saturday:\n- water, *lots* of it\n- the `ridge-loop` map: "
        "[trail notes](https://trails.example.org/ridge)\n~~tent~~ not needed",
        silent=True,
    )
    backend.seed_own(
        demo.hikers.id, "On it, see https://weather.example.org/ridge", int(time.time())
    )
    open_chat(qtbot, window, demo.hikers.id)
    qtbot.wait(50)
    save(window, f"chat-markdown-{theme.value}")


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")
def test_emoji_picker(qtbot: QtBot, window: MainWindow, demo: Demo, theme: Theme) -> None:
    """The full emoji picker over the composer, and a search in it (issue 18)."""
    open_chat(qtbot, window, demo.hikers.id)
    picker = window.chat.composer_emoji()
    qtbot.waitUntil(picker.isVisible)
    picker.show_group("Smileys & people")
    qtbot.wait(30)
    save(picker, f"emoji-picker-{theme.value}")
    picker.search.setText("heart")
    qtbot.wait(30)
    save(picker, f"emoji-picker-search-{theme.value}")
    picker.close()


def test_timeline_lines_and_an_invited_member(
    qtbot: QtBot, window: MainWindow, demo: Demo, theme: Theme
) -> None:
    """The group's changes as lines in the chat, and a member who has not joined yet."""
    backend = window.backend
    assert isinstance(backend, FakeBackend)
    chat = demo.hikers
    now = int(time.time())
    backend.seed_change(chat.id, "You renamed the group to “Weekend hikers”", now - 300)
    backend.seed_change(chat.id, "You added Erin Walsh", now - 200)
    backend.seed_change(chat.id, "You set disappearing messages to 1 day", now - 100)
    chat.disappearing_secs = 86400
    erin = fake_pubkey("Erin Walsh")
    chat.members[erin] = MemberRow(erin, "Erin Walsh", False, 1, invited=True)
    open_chat(qtbot, window, chat.id)
    qtbot.wait(50)
    save(window, f"chat-timeline-{theme.value}")
    window.group_details(chat.id)
    dialog = window.dialog
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.members.rowCount() == 5)
    dialog.view.scrollToBottom()
    save(dialog, f"group-details-invited-{theme.value}")
    dialog.close()
