"""Helpers for the GUI tests: reach the chats page, open a chat, answer a confirmation, save a
screenshot."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget
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


def png(colour: str, size: int = 300) -> bytes:
    """A picture file (PNG bytes) of one colour, twice as wide as high."""
    image = QImage(size, size // 2, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return data.data()


OUT = Path(__file__).resolve().parents[2] / "screenshots"


def save(widget: QWidget, name: str) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.png"
    QApplication.processEvents()  # let pending re-layouts land before the capture
    image = widget.grab().toImage()
    assert image.save(str(path))
    check = QImage(str(path))
    assert check.width() == widget.width() and check.height() == widget.height()
    # Not blank: a real screen has text, icons and several surface colours.
    step = 5
    colours = {
        check.pixel(x, y)
        for x in range(0, check.width(), step)
        for y in range(0, check.height(), step)
    }
    assert len(colours) > 6
    return path
