"""Saves a PNG of each main screen to ``screenshots/`` (git-ignored) for a person to look at.

The test also checks that each capture is a real, non-blank picture of the expected size.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend, fake_pubkey
from tests.gui.helpers import open_chat, save
from tests.gui.scenes import PASSPHRASE, Demo
from ui.dialogs.group_details import GroupDetailsDialog
from ui.main_window import MainWindow
from ui.tasks import spawn
from ui.theme import apply_theme
from ui.views import Theme

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
