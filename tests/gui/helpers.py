"""Helpers for the GUI tests: reach the chats page, open a chat, answer a confirmation."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend
from ui.main_window import MainWindow


def enter(qtbot: QtBot, window: MainWindow, backend: FakeBackend) -> None:
    """Show the chats of the backend's active account, as after unlocking."""
    window.enter(backend.me.view())
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split)


def open_chat(qtbot: QtBot, window: MainWindow, chat_id: str) -> None:
    window.open_chat(chat_id)
    qtbot.waitUntil(lambda: window.chat.loaded == chat_id)


def click_confirm(qtbot: QtBot, parent: QWidget, text: str) -> None:
    """Press the button labelled ``text`` on the confirmation box shown over ``parent``."""

    def box() -> QMessageBox | None:
        shown = [b for b in parent.findChildren(QMessageBox) if b.isVisible()]
        return shown[-1] if shown else None

    qtbot.waitUntil(lambda: box() is not None)
    found = box()
    assert found is not None
    next(b for b in found.findChildren(QPushButton) if b.text() == text).click()
