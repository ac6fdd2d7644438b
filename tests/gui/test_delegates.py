"""The painting delegates: cached sizes, geometry rules, every state painted, click targets."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from PySide6.QtCore import QPointF, QRect
from PySide6.QtGui import QFont, QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from ui.delegates import message_layout as ml
from ui.delegates.chat import ROW_HEIGHT, ChatDelegate
from ui.delegates.item import ItemDelegate
from ui.delegates.message import MessageDelegate
from ui.models.chats import ChatListModel
from ui.models.messages import MessageListModel
from ui.models.people import MemberListModel, RelayListModel
from ui.views import (
    ChatRow,
    MemberRow,
    MessageRow,
    MessageStatus,
    Reaction,
    RelayRow,
    RelayStatus,
    ReplyQuote,
)

pytestmark = pytest.mark.gui

T0 = 1_700_000_000
WIDTH = 700


def option(width: int = WIDTH, top: int = 0) -> QStyleOptionViewItem:
    opt = QStyleOptionViewItem()
    opt.rect = QRect(0, top, width, 40)
    opt.font = QFont()
    return opt


def row(**changes: object) -> MessageRow:
    base = MessageRow("m1", "c1", "a" * 64, "Bob Marsh", False, "Hello there", T0)
    return replace(base, **changes)  # type: ignore[arg-type]


def model_with(*rows: MessageRow, group: bool = True) -> MessageListModel:
    model = MessageListModel()
    model.reset("c1", list(rows), is_group=group, has_older=False)
    return model


def test_size_is_cached_per_message_and_width() -> None:
    delegate = MessageDelegate()
    model = model_with(row())
    index = model.index(0)
    first = delegate.sizeHint(option(), index)
    computed = delegate.layouts_computed
    assert delegate.sizeHint(option(), index) == first
    assert delegate.layouts_computed == computed  # served from the cache
    narrow = delegate.sizeHint(option(260), index)
    assert delegate.layouts_computed == computed + 1 and narrow.width() == 260
    model.update(row(reactions=(Reaction("👍", 2, False),)))  # a changed row is re-measured
    taller = delegate.sizeHint(option(260), index)
    assert taller.height() > narrow.height()


def test_short_text_keeps_time_on_its_line_and_long_words_wrap() -> None:
    fonts = ml.Fonts.from_base(QFont())
    short = ml.compute(row(), ml.RUN_START, WIDTH, fonts)
    assert (
        abs(short.meta.bottom() - (short.text_origin.y() + short.text.boundingRect().height())) < 2
    )
    url = "https://example.org/" + "x" * 400
    long = ml.compute(row(text=url), ml.RUN_START, WIDTH, fonts)
    assert long.bubble.width() <= ml.MAX_BUBBLE + 0.5
    assert long.bubble.height() > 4 * short.bubble.height() / 2
    assert long.text.lineCount() > 3


def test_own_messages_sit_right_and_others_left() -> None:
    fonts = ml.Fonts.from_base(QFont())
    own = ml.compute(row(own=True), 0, WIDTH, fonts)
    other = ml.compute(row(), 0, WIDTH, fonts)
    assert own.bubble.right() == pytest.approx(WIDTH - ml.SIDE)
    assert other.bubble.left() == pytest.approx(ml.SIDE)
    assert own.react_action is not None and own.react_action.right() < own.bubble.left()
    assert other.react_action is not None and other.react_action.left() > other.bubble.right()


def test_day_separator_author_and_quote_add_height() -> None:
    fonts = ml.Fonts.from_base(QFont())
    plain = ml.compute(row(), 0, WIDTH, fonts).height
    with_day = ml.compute(row(), ml.SHOW_DAY, WIDTH, fonts)
    assert with_day.day is not None and with_day.height == plain + ml.DAY_HEIGHT
    named = ml.compute(row(), ml.SHOW_AUTHOR, WIDTH, fonts)
    assert named.author is not None and named.height > plain
    assert named.author_text == "Bob Marsh"
    long = ml.compute(row(author_name="Bob " * 80), ml.SHOW_AUTHOR, WIDTH, fonts)
    assert long.author is not None and long.author_text.endswith("…")  # cut, not clipped
    width = QFontMetricsF(fonts.bold).horizontalAdvance(long.author_text)
    assert width <= long.author.width() <= ml.MAX_BUBBLE
    quoted = ml.compute(row(reply=ReplyQuote("m0", "Carol", "What time?")), 0, WIDTH, fonts)
    assert quoted.quote is not None and quoted.quote.bottom() < quoted.text_origin.y()


STATES = list(
    itertools.product(
        [False, True],  # own
        [False, True],  # deleted
        [None, ReplyQuote("m0", "Carol Diaz", "Can you bring the map?\nAnd a torch.")],
        [(), (Reaction("👍", 1, True), Reaction("❤️", 3, False))],
        list(MessageStatus),
        [False, True],  # in a group (sender names shown)
    )
)


@pytest.mark.parametrize("state", STATES, ids=[f"s{i}" for i in range(len(STATES))])
def test_every_state_paints(state: tuple[object, ...]) -> None:
    own, deleted, reply, reactions, status, group = state
    message = row(
        own=own,
        deleted=deleted,
        reply=reply,
        reactions=reactions,
        status=status,
        text="" if deleted else "Line one\nline two with more words than fit " * 3,
    )
    delegate = MessageDelegate()
    model = model_with(row(id="m0", created_at=T0 - 86_400), message, group=bool(group))
    index = model.index(1)
    size = delegate.sizeHint(option(), index)
    image = QImage(WIDTH, size.height(), QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    opt = option()
    opt.rect = QRect(0, 0, WIDTH, size.height())
    delegate.paint(painter, opt, index)
    painter.end()
    # Something was drawn inside the row and nothing below it.
    assert any(image.pixel(x, y) for x in range(0, WIDTH, 3) for y in range(0, size.height(), 3))
    layout = delegate.layout_for(index, opt)
    assert layout is not None and layout.height == size.height()
    assert (layout.failed is not None) == (own and status is MessageStatus.FAILED)
    assert bool(layout.chips) == (bool(reactions) and not deleted)
    assert (layout.author is not None) == (bool(group) and not own)
    assert layout.day is not None  # the previous message is a day older


def test_clicks_on_chips_retry_quote_and_hover_buttons(qtbot: QtBot) -> None:
    delegate = MessageDelegate()
    message = row(
        own=True,
        status=MessageStatus.FAILED,
        reply=ReplyQuote("m0", "Carol", "What time?"),
        reactions=(Reaction("🎉", 2, True),),
    )
    model = model_with(message)
    opt = option()
    layout = delegate.layout_for(model.index(0), opt)
    assert layout is not None and layout.failed is not None and layout.quote is not None
    flags = ml.SHOW_DAY | ml.RUN_START
    cases = [
        (delegate.reactionClicked, layout.chips[0].rect.center(), ["m1", "🎉", True]),
        (delegate.retryClicked, layout.failed.center(), ["m1"]),
        (delegate.quoteClicked, layout.quote.center(), ["m0"]),
        (delegate.replyClicked, layout.reply_action.center(), ["m1"]),  # type: ignore[union-attr]
    ]
    for signal, where, expected in cases:
        with qtbot.waitSignal(signal) as blocker:
            assert delegate.click(message, flags, opt, where, QPointF())
        assert blocker.args == expected
    with qtbot.waitSignal(delegate.reactMenuRequested):
        assert delegate.click(message, flags, opt, layout.react_action.center(), QPointF(5, 5))  # type: ignore[union-attr]
    assert not delegate.click(message, flags, opt, QPointF(1, 1), QPointF())


def test_chat_rows_paint_with_badges_and_fixed_height() -> None:
    model = ChatListModel()
    model.set_rows(
        [
            ChatRow("c1", "Weekend hikers", "Bob: hi", T0, unread=3, pinned=True),
            ChatRow("c2", "Book club", "", None, unread=1200, muted=True, draft="half a thought"),
        ]
    )
    delegate = ChatDelegate(now=lambda: T0 + 60)
    image = QImage(340, 2 * ROW_HEIGHT, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    for i in range(2):
        opt = option(340, i * ROW_HEIGHT)
        assert delegate.sizeHint(opt, model.index(i)).height() == ROW_HEIGHT
        delegate.paint(painter, opt, model.index(i))
    painter.end()
    assert image.pixel(30, ROW_HEIGHT // 2) != 0  # the avatar
    assert image.pixel(318, ROW_HEIGHT + 49) != 0  # the unread pill at the right


def test_item_rows_paint_avatars_badges_and_relay_dots() -> None:
    members = MemberListModel()
    members.set_rows(
        [MemberRow("p1", "Alice", True, is_self=True), MemberRow("p2", "Bob", False, 2)]
    )
    relays = RelayListModel()
    relays.set_rows([RelayRow("wss://relay.example.org", status) for status in RelayStatus][:1])
    delegate = ItemDelegate()
    image = QImage(400, 200, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    for i, index in enumerate([members.index(0), members.index(1), relays.index(0)]):
        delegate.paint(painter, option(400, i * 60), index)
    painter.end()
    assert image.pixel(30, 30) != 0 and image.pixel(30, 150) != 0
