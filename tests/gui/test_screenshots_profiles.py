"""Screenshots (``screenshots/``, git-ignored) of what issue 16 changed: a Marmot v2 group's
chat with an edited message, its changes as lines and the composer in edit mode, and its
details naming the protocol; light and dark. The lines are worded by the bridge itself."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app import timeline
from app.words import change_text
from tests.gui.fake_backend import FakeBackend, fake_pubkey
from tests.gui.helpers import open_chat, save
from tests.gui.scenes import Demo
from ui.dialogs.group_details import GroupDetailsDialog
from ui.dialogs.new_group import NewGroupDialog
from ui.main_window import MainWindow
from ui.theme import apply_theme
from ui.views import ChatUpdated, Theme

pytestmark = pytest.mark.gui


@pytest.fixture(params=[Theme.LIGHT, Theme.DARK], ids=["light", "dark"])
def theme(request: pytest.FixtureRequest, qapp: QApplication) -> Theme:
    apply_theme(qapp, request.param)
    yield request.param
    apply_theme(qapp, Theme.LIGHT)


def worded(backend: FakeBackend, what: str, actor: str, subject: str = "", value: str = "") -> str:
    names = {fake_pubkey(n): n.split()[0] for n in ("Bob Marsh", "Carol Diaz", "Dan Okafor")}
    change = timeline.Change(
        what, fake_pubkey(actor), fake_pubkey(subject) if subject else "", value
    )
    return change_text(change, names, backend.me.pubkey)


def test_a_marmot_v2_group_with_an_edit(
    qtbot: QtBot, window: MainWindow, demo: Demo, theme: Theme
) -> None:
    backend = window.backend
    assert isinstance(backend, FakeBackend)
    chat = demo.hikers
    chat.can_edit, chat.protocol = True, "Marmot v2 (Dark Matter)"
    backend.emit(ChatUpdated(chat.row()))
    now = int(time.time())
    for at, (what, actor, subject, value) in enumerate(
        [
            ("admins", "Carol Diaz", "Bob Marsh", "granted"),
            ("picture", "Bob Marsh", "", "ab" * 32),
            ("retention", "Bob Marsh", "", "604800"),
        ]
    ):
        backend.seed_change(chat.id, worded(backend, what, actor, subject, value), now - 900 + at)
    edited = backend.seed_own(chat.id, "Parking is full by 8:30, let's say 7:45", now - 600)
    chat.store(replace(edited, edited=True))
    newest = backend.seed_own(chat.id, "I'll bring the mpa", now - 60)
    open_chat(qtbot, window, chat.id)
    view = window.chat
    view.edits.start(newest.id)
    view.composer.set_text("I'll bring the map")
    qtbot.wait(50)
    assert view.edits.bar.isVisible()
    save(window, f"chat-edit-v2-{theme.value}")
    view.edits.cancel()

    window.group_details(chat.id)
    dialog = window.dialog
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.members.rowCount() == 4)
    assert dialog.protocol.text() == "Marmot v2 (Dark Matter)"
    save(dialog, f"group-details-v2-{theme.value}")
    dialog.close()


def test_a_new_group_says_its_version(
    qtbot: QtBot, window: MainWindow, demo: Demo, theme: Theme
) -> None:
    backend = window.backend
    assert isinstance(backend, FakeBackend)
    bob = fake_pubkey("Bob Marsh")
    backend.speaks = {bob: ("Marmot v1", "Marmot v2 (Dark Matter)")}
    window.new_group()
    dialog = window.dialog
    assert isinstance(dialog, NewGroupDialog)
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.picker.model.rowCount() >= 2)
    dialog.name.setText("Climbing")
    dialog.picker.pick(bob)
    qtbot.waitUntil(lambda: dialog.protocol.text().startswith("This group will use"))
    save(dialog, f"new-group-v2-{theme.value}")
    dialog.close()
