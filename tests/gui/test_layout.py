"""Layout that must follow the window: bubble heights after a resize, the composer's height."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend
from tests.gui.fake_core import fake_pubkey
from tests.gui.helpers import enter, open_chat
from tests.gui.scenes import PASSPHRASE, Demo
from ui.dialogs.group_details import GroupDetailsDialog
from ui.main_window import MainWindow
from ui.views import AccountView
from ui.widgets.composer import MAX_LINES

pytestmark = pytest.mark.gui


def stale_rows(window: MainWindow) -> list[int]:
    """Rows laid out for another width: the next row does not start where this one's
    bubble (as measured now) ends, so they overlap or leave a gap."""
    view = window.chat.list
    model = window.chat.model
    rects = [view.visualRect(model.index(i)) for i in range(model.rowCount())]
    return [i for i in range(len(rects) - 1) if rects[i].bottom() + 1 != rects[i + 1].top()]


def test_bubbles_are_measured_again_when_only_the_width_changes(
    qtbot: QtBot, window: MainWindow, demo: Demo
) -> None:
    open_chat(qtbot, window, demo.hikers.id)
    qtbot.waitUntil(lambda: not stale_rows(window))
    bar = window.chat.list.verticalScrollBar()
    for width in (720, 1100):  # narrower wraps more lines, wider fewer
        window.resize(width, window.height())
        qtbot.waitUntil(lambda: not stale_rows(window))
        assert bar.value() == bar.maximum()  # still at the newest message


def test_composer_grows_with_wrapped_lines_up_to_a_limit(
    qtbot: QtBot, window: MainWindow, demo: Demo
) -> None:
    open_chat(qtbot, window, demo.hikers.id)
    composer = window.chat.composer
    bar = composer.verticalScrollBar()
    one_line = composer.height()
    qtbot.keyClicks(composer, "word " * 30)  # wraps onto a second line
    qtbot.waitUntil(lambda: composer.height() > one_line)
    assert bar.maximum() == 0  # everything typed is in view: no scrolling
    grown = composer.height()
    window.resize(760, window.height())  # narrower: more wrapped lines, a taller box
    qtbot.waitUntil(lambda: composer.height() > grown)
    assert bar.maximum() == 0
    qtbot.keyClicks(composer, "word " * 300)  # beyond the limit it scrolls instead
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    lines = (composer.height() - one_line) / composer.fontMetrics().height() + 1
    assert round(lines) == MAX_LINES
    composer.clear()
    qtbot.waitUntil(lambda: composer.height() == one_line)
    qtbot.keyClick(composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert composer.height() > one_line


LONG = " ".join(["The extraordinarily long named weekend hiking and camping association"] * 4)


def test_a_long_name_is_cut_instead_of_widening_the_window(
    qtbot: QtBot, window: MainWindow, backend: FakeBackend
) -> None:
    """Group and person names are chosen by others: the header, the reply bar and the
    unlock page cut them with "…" (whole in the tooltip) and show them as plain text."""
    backend.add_account("Alice Moreau", PASSPHRASE, unlocked=True)
    backend.add_fake_contact("Bob Marsh")
    chat = backend.make_chat(f"<b>{LONG}</b>", ["Bob Marsh"])
    row = backend.receive(chat.id, LONG, "x" * 400, at=int(time.time()), silent=True)
    enter(qtbot, window, backend)
    open_chat(qtbot, window, chat.id)
    window.chat.start_reply_to(row.id)
    window.resize(window.minimumSize())
    qtbot.waitUntil(lambda: window.chat.header.title.width() < 400)
    assert window.minimumSizeHint().width() <= window.minimumWidth()
    title = window.chat.header.title
    assert title.text() == f"<b>{LONG}</b>"  # whole, and not bold markup
    assert title.textFormat() is Qt.TextFormat.PlainText
    assert title.elided().endswith("…") and title.toolTip() == title.text()
    assert window.chat.reply_bar.quote.elided().endswith("…")
    window.unlock.set_accounts([AccountView(fake_pubkey(LONG), "npub1x", LONG)])
    assert window.unlock.minimumSizeHint().width() < window.minimumWidth()


def test_onboarding_scrolls_in_a_small_window_instead_of_squeezing_its_fields(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.show_onboarding()
    window.resize(window.minimumSize())
    page = window.onboarding
    fields = (page.avatar_preview, page.name, page.passphrase, page.repeat, page.submit)
    qtbot.waitUntil(lambda: page.submit.height() > 0)
    boxes = [QRect(f.mapTo(page, QPoint(0, 0)), f.size()) for f in fields]
    for field in fields:
        assert field.height() >= field.minimumSizeHint().height()
    for i, box in enumerate(boxes):
        assert not any(box.intersects(other) for other in boxes[i + 1 :])
    bar = page.scroller.verticalScrollBar()
    assert bar.maximum() > 0  # the rest is a scroll away


def test_group_details_with_the_member_picker_fit_a_laptop_screen(
    qtbot: QtBot, window: MainWindow, demo: Demo
) -> None:
    """A 1366x768 screen leaves about 700 px below its panel and the title bar."""
    window.group_details(demo.hikers.id)
    dialog = window.dialog
    assert isinstance(dialog, GroupDetailsDialog)
    qtbot.waitUntil(lambda: dialog.details is not None)
    dialog.add.click()
    qtbot.waitUntil(dialog.picker.isVisible)
    assert dialog.minimumSizeHint().height() <= 700
    assert dialog.view.minimumHeight() > 100  # members still readable beside it
