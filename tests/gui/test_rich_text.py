"""Message text as shown (issue 18): White Noise's Markdown rendered, links clickable and
opened only on a click, and nothing of it ever HTML or fetched."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QPointF, QRect, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from tests.gui.helpers import open_chat
from tests.gui.scenes import Demo
from ui.delegates import message_layout as ml
from ui.delegates.message import MessageDelegate
from ui.main_window import MainWindow
from ui.models.messages import MessageListModel
from ui.rich_text import Style, parse, plain, safe_url
from ui.views import AttachmentView, MessageRow

pytestmark = pytest.mark.gui

T0 = 1_700_000_000


def shown(text: str) -> list[tuple[str, Style, str]]:
    rich = parse(text)
    return [(rich.text[s.start : s.start + s.length], s.style, s.url) for s in rich.spans]


def test_markdown_styles_drop_their_markers() -> None:
    assert parse("Bring **the stove** and *coffee*").text == "Bring the stove and coffee"
    assert shown("Bring **the stove** and *coffee*") == [
        ("the stove", Style.BOLD, ""),
        ("coffee", Style.ITALIC, ""),
    ]
    assert shown("~~gone~~ `code`") == [("gone", Style.STRIKE, ""), ("code", Style.CODE, "")]
    assert parse("# Plan\n- ridge\n- lake").text == "Plan\n• ridge\n• lake"
    assert parse("```\nlet **x** = 1\n```\nok").text == "let **x** = 1\nok"  # code is literal
    assert shown("```\nlet **x** = 1\n```")[0][1] == Style.CODE


def test_snake_case_and_lone_stars_stay_as_typed() -> None:
    for text in ("my_file_name.txt", "2 * 3 * 4", "a*b", "__init__.py"):
        assert parse(text).text == text, text


def test_links_bare_labelled_and_in_angle_brackets() -> None:
    assert shown("map: https://maps.example.org/ridge.") == [
        ("https://maps.example.org/ridge", Style.LINK, "https://maps.example.org/ridge")
    ]
    assert shown("[the map](https://maps.example.org)") == [
        ("the map", Style.LINK, "https://maps.example.org")
    ]
    assert shown("<https://x.org/a>") == [("https://x.org/a", Style.LINK, "https://x.org/a")]
    assert shown("(see https://en.wikipedia.org/wiki/Tor_(network))")[0][2] == (
        "https://en.wikipedia.org/wiki/Tor_(network)"
    )
    assert shown("www.example.org")[0][2] == "https://www.example.org"


def test_nothing_unsafe_becomes_a_link_or_markup() -> None:
    assert parse("[win](javascript:alert(1))").links == ()
    assert parse("[x](file:///etc/passwd)").links == ()
    assert safe_url("javascript:alert(1)") == "" and safe_url("mailto:") == ""
    html = '<img src="https://tracker.example/p.gif"> <b>hi</b>'
    assert parse(html).text == html  # shown as typed, never as HTML (its URL is a mere link)
    # An image is not fetched: a link labelled with its alt text, opened only on a click.
    image = parse("![our tent](https://photos.example/tent.jpg)")
    assert image.text == "🖼 our tent"
    assert image.links[0].url == "https://photos.example/tent.jpg"


def test_previews_and_quotes_show_words_not_markers() -> None:
    assert plain("**Saturday** at _8:00_") == "Saturday at 8:00"


def row(text: str) -> MessageRow:
    return MessageRow("m1", "c1", "a" * 64, "Bob Marsh", False, text, T0)


def option() -> QStyleOptionViewItem:
    opt = QStyleOptionViewItem()
    opt.rect = QRect(0, 0, 700, 40)
    opt.font = QFont()
    return opt


def char_point(lay: ml.MessageLayout, position: int) -> QPointF:
    """The middle of the character at ``position``, relative to the row."""
    line = lay.text.lineForTextPosition(position)
    x = (line.cursorToX(position)[0] + line.cursorToX(position + 1)[0]) / 2
    return lay.text_origin + QPointF(x, line.y() + line.height() / 2)


def test_the_bubble_draws_styles_and_a_click_on_a_link_reports_it(qtbot: QtBot) -> None:
    delegate = MessageDelegate()
    model = MessageListModel()
    message = row("**Map** here: https://maps.example.org/ridge and more")
    model.reset("c1", [message], is_group=False, has_older=False)
    lay = delegate.layout_for(model.index(0), option())
    assert lay is not None and lay.rich.text.startswith("Map here: ")
    bold = [f for f in lay.text.formats() if f.format.fontWeight() == QFont.Weight.DemiBold]
    assert [(f.start, f.length) for f in bold] == [(0, 3)]
    link = lay.rich.links[0]
    flags = ml.SHOW_DAY | ml.RUN_START  # a chat's first message
    assert any(f.format.fontUnderline() for f in lay.text.formats())
    with qtbot.waitSignal(delegate.linkClicked) as blocker:
        assert delegate.click(message, flags, option(), char_point(lay, link.start + 3), QPointF())
    assert blocker.args == ["https://maps.example.org/ridge"]
    with qtbot.assertNotEmitted(delegate.linkClicked):
        assert not delegate.click(message, flags, option(), char_point(lay, 1), QPointF())


def test_a_bubble_with_a_picture_and_a_markdown_caption_has_both(qtbot: QtBot) -> None:
    """Media and rich text together: the preview above, the caption styled below it, and a
    click reaches the picture or the link, whichever is under it."""
    delegate = MessageDelegate()
    model = MessageListModel()
    photo = AttachmentView(0, "ridge.png", "image/png", "f" * 64, 400, 200)
    message = replace(row("**Ridge** at https://maps.example.org/r"), attachments=(photo,))
    model.reset("c1", [message], is_group=False, has_older=False)
    lay = delegate.layout_for(model.index(0), option())
    assert lay is not None and lay.rich.text == "Ridge at https://maps.example.org/r"
    [(index, picture)] = lay.attachments
    assert index == 0 and picture.width() > 100
    assert lay.text_origin.y() >= picture.bottom()  # the caption under the picture
    assert lay.bubble.contains(picture) and lay.bubble.bottom() > lay.text_origin.y()
    bold = [f for f in lay.text.formats() if f.format.fontWeight() == QFont.Weight.DemiBold]
    assert [(f.start, f.length) for f in bold] == [(0, 5)]
    flags = ml.SHOW_DAY | ml.RUN_START
    with qtbot.waitSignal(delegate.attachmentClicked) as clicked:
        assert delegate.click(message, flags, option(), picture.center(), QPointF())
    assert clicked.args == ["m1", 0]
    with qtbot.waitSignal(delegate.linkClicked) as linked:
        spot = char_point(lay, lay.rich.links[0].start + 3)
        assert delegate.click(message, flags, option(), spot, QPointF())
    assert linked.args == ["https://maps.example.org/r"]


def test_clicking_a_link_in_the_chat_opens_it_in_the_browser(
    qtbot: QtBot, window: MainWindow, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    open_chat(qtbot, window, demo.hikers.id)
    view = window.chat.list
    model = window.chat.model
    position = next(i for i, r in enumerate(model.rows) if "maps.example.org" in r.text)
    index = model.index(position)
    view.scrollTo(index)
    qtbot.wait(30)
    rect = view.visualRect(index)
    opt = option()
    opt.rect = rect
    opt.font = view.font()
    lay = view.bubbles.layout_for(index, opt)
    assert lay is not None and lay.rich.links
    spot = char_point(lay, lay.rich.links[0].start + 5) + rect.topLeft().toPointF()
    qtbot.mouseMove(view.viewport(), spot.toPoint())
    assert view.viewport().toolTip().startswith("https://maps.example.org/")
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot.toPoint())
    qtbot.waitUntil(lambda: opened != [])
    assert opened == ["https://maps.example.org/trails/ridge-loop-north-7b2f"]
    assert QUrl(opened[0]).scheme() == "https"
