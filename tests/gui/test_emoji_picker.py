"""The full emoji picker (issue 18): every emoji by name or group, for reactions (beyond the
six quick ones) and in the composer."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend
from tests.gui.helpers import open_chat
from tests.gui.test_chat import dm
from ui.emoji import all_emoji, search
from ui.main_window import MainWindow
from ui.widgets.emoji_picker import RECENT, EmojiPicker, recent
from ui.widgets.reaction_picker import ReactionPicker

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)"),
]


def texts(found: list[object]) -> list[str]:
    return [e.text for e in found]  # type: ignore[attr-defined]


def test_every_emoji_is_there_by_name(qapp: QApplication) -> None:
    everything = all_emoji()
    assert len(everything) > 1200
    assert len({e.text for e in everything}) == len(everything)
    assert "👍" in texts(search("thumbs up"))
    assert "👍" in texts(search("thu up"))  # word starts are enough
    assert "⛺\ufe0f" in texts(search("tent"))  # a text-default symbol drawn as emoji
    assert "❤\ufe0f" in texts(search("heavy black heart"))
    assert len(search("heart")) > 10
    assert search("no such emoji at all") == []


def no_picker() -> bool:
    return not any(
        isinstance(w, EmojiPicker) and w.isVisible() for w in QApplication.topLevelWidgets()
    )


def picker_open(qtbot: QtBot) -> EmojiPicker:
    def find() -> EmojiPicker | None:
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, EmojiPicker)]
        return next((w for w in shown if w.isVisible()), None)

    qtbot.waitUntil(lambda: find() is not None)
    found = find()
    assert found is not None
    return found


def test_react_with_any_emoji_from_the_quick_row(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = dm(alice)
    message = alice.receive(chat.id, "Bob Marsh", "Camping this weekend?", silent=True)
    open_chat(qtbot, window, chat.id)
    window.chat.list.bubbles.reactMenuRequested.emit(message.id, QPointF(300, 300))
    quick = next(w for w in QApplication.topLevelWidgets() if isinstance(w, ReactionPicker))
    qtbot.waitUntil(quick.isVisible)
    quick.more.click()
    picker = picker_open(qtbot)
    assert picker.heading.text() == RECENT
    qtbot.keyClicks(picker.search, "tent")
    assert picker.shown()[0] == "⛺\ufe0f"
    qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: alice.calls_to("react") == [(chat.id, message.id, "⛺\ufe0f")])
    qtbot.waitUntil(no_picker)  # closed once picked
    assert recent()[0] == "⛺\ufe0f"  # offered first next time


def test_the_composer_takes_an_emoji_at_the_cursor(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = dm(alice)
    open_chat(qtbot, window, chat.id)
    window.chat.composer.set_text("New boots ")
    window.chat.emoji_button.click()
    picker = picker_open(qtbot)
    picker.show_group("Smileys & people")
    assert "😂" in picker.shown()
    qtbot.keyClicks(picker.search, "hiking")
    index = picker.model.index(picker.shown().index("🥾"))
    rect = picker.view.visualRect(index)
    qtbot.mouseClick(picker.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(no_picker)
    assert window.chat.composer.text == "New boots 🥾"
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: alice.calls_to("send") != [])
    assert alice.calls_to("send")[0][1] == "New boots 🥾"


def test_groups_show_their_emoji(qtbot: QtBot, window: MainWindow) -> None:
    picker = EmojiPicker(window)
    picker.show_at(QPoint(400, 400))
    picker.group_buttons["Travel & places"].click()
    assert picker.heading.text() == "Travel & places" and "🚀" in picker.shown()
    picker.group_buttons[RECENT].click()
    assert picker.shown()[:2] == recent()[:2]
    picker.close()
