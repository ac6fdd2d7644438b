"""A chat with 100,000 messages opens with one page and grows a page per scroll to the top."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from tests.gui.fake_backend import FakeBackend, fake_pubkey
from tests.gui.helpers import open_chat
from ui.main_window import MainWindow
from ui.views import ChatUpdated, MessageRow
from ui.widgets.chat_view import PAGE

pytestmark = pytest.mark.gui

TOTAL = 100_000
T0 = 1_600_000_000


def big_chat(backend: FakeBackend) -> tuple[str, list[MessageRow]]:
    chat = backend.make_chat("Everything ever said", ["Bob Marsh", "Carol Diaz"])
    me = backend.me.pubkey
    people = [(fake_pubkey("Bob Marsh"), "Bob Marsh"), (fake_pubkey("Carol Diaz"), "Carol Diaz")]
    rows = []
    for i in range(TOTAL):
        own = i % 5 == 0
        author, name = (me, "Alice Moreau") if own else people[i % 2]
        text = f"message {i}" + (" with a longer tail to wrap onto a second line" * (i % 3))
        rows.append(MessageRow(f"{i:064x}", chat.id, author, name, own, text, T0 + i * 37))
    chat.extend_sorted(rows)
    backend.emit(ChatUpdated(chat.row()))
    return chat.id, rows


def bubble_top(window: MainWindow, message_id: str) -> float:
    """The y of a message's bubble in the viewport (its row may also hold a day separator)."""
    view = window.chat.list
    index = window.chat.model.index(window.chat.model.position(message_id))
    option = QStyleOptionViewItem()
    option.rect = view.visualRect(index)
    option.font = view.font()
    layout = view.bubbles.layout_for(index, option)
    assert layout is not None
    return option.rect.top() + layout.bubble.top()


def test_huge_chat_loads_page_by_page(qtbot: QtBot, window: MainWindow, alice: FakeBackend) -> None:
    chat_id, rows = big_chat(alice)
    alice.fetched_rows = 0
    open_chat(qtbot, window, chat_id)
    model, view = window.chat.model, window.chat.list
    bar = view.verticalScrollBar()
    assert alice.fetched_rows == PAGE and model.rowCount() == PAGE
    assert model.rows[-1].id == rows[-1].id  # newest at the bottom
    qtbot.waitUntil(lambda: bar.value() == bar.maximum() > 0)  # opened at the bottom
    pages = 6
    for page in range(2, pages + 1):
        top_id = model.rows[0].id
        bar.setValue(0)  # the reader reaches the top
        seen = bubble_top(window, top_id)
        qtbot.waitUntil(lambda page=page: model.rowCount() == page * PAGE)
        # What the reader saw is still where it was: the view did not jump.
        assert abs(bubble_top(window, top_id) - seen) <= 1
        assert bar.value() > 0
    assert alice.fetched_rows == pages * PAGE
    assert [r.id for r in model.rows] == [r.id for r in rows[-pages * PAGE :]]
    assert len(alice.calls_to("messages")) == pages  # one request per page, no duplicates
    # Laying out ever more rows stays cheap: sizes are cached per message and width.
    before = view.bubbles.layouts_computed
    view.scheduleDelayedItemsLayout()
    view.executeDelayedItemsLayout()
    assert view.bubbles.layouts_computed == before


def test_new_message_while_reading_history_does_not_jump(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat_id, _ = big_chat(alice)
    open_chat(qtbot, window, chat_id)
    bar = window.chat.list.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() == bar.maximum() > 0)
    alice.receive(chat_id, "Bob Marsh", "newest")  # at the bottom: follow it
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())
    assert window.chat.model.rows[-1].text == "newest"
    bar.setValue(bar.maximum() // 2)
    reading = bar.value()
    alice.receive(chat_id, "Carol Diaz", "even newer")  # scrolled up: stay put
    qtbot.wait(20)
    assert bar.value() == reading
    assert window.chat.model.rows[-1].text == "even newer"


def test_short_chat_is_fully_loaded_without_paging(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    chat = alice.make_chat("Small talk", ["Bob Marsh"])
    for i in range(PAGE + 5):  # one page and a bit: a tall window needs both
        alice.receive(chat.id, "Bob Marsh", f"m{i}", at=T0 + i, silent=True)
    alice.emit(ChatUpdated(chat.row()))
    window.resize(1100, 4000)
    open_chat(qtbot, window, chat.id)
    qtbot.waitUntil(lambda: window.chat.model.rowCount() == PAGE + 5)
    assert not window.chat.model.has_older
    assert len(alice.calls_to("messages")) == 2


def test_search_hit_deep_in_history_is_revealed(
    qtbot: QtBot, window: MainWindow, alice: FakeBackend
) -> None:
    _, rows = big_chat(alice)
    target = rows[-7 * PAGE - 3]  # eight pages back
    window.sidebar.search.setText(target.text)
    qtbot.waitUntil(lambda: window.sidebar.results.rowCount() > 0)
    hit = window.sidebar.results.rows[0]
    assert hit.message_id == target.id
    window.sidebar._open_hit(window.sidebar.results.index(0))
    qtbot.waitUntil(lambda: window.chat.selected_message() == target)
    assert window.chat.model.rowCount() == 8 * PAGE
    rect = window.chat.list.visualRect(
        window.chat.model.index(window.chat.model.position(target.id))
    )
    assert window.chat.list.viewport().rect().intersects(rect)  # scrolled into view
